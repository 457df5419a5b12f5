"""Safety first in every block: a heard stop cuts the voice before anything else that block does.

The rest of the block is made slow on purpose (a recognizer that sleeps), and every part that
could sit between the stop and its cut notes when it ran: the rest of the recognizers, the
journal, the screen and the rendering of the confirmation. The order is checked, not the clock.
"""

from __future__ import annotations

import time

from assistant.audio import RATE
from assistant.hearing import make_canceller, make_ears
from assistant.journal import Journal
from assistant.player import Player
from assistant.routine import load_routine
from assistant.runner import Driver, run_file
from assistant.session import STOP_TEXT
from assistant.voice import Voice, VoiceSettings
from tests.conftest import ROOT, TUNE_STOP, real_clip, save, timeline

ORDER: list[tuple[str, float | str]] = []


class SlowEar:
    """Hears nothing, slowly: a stand-in for a heavy recognizer on the rest of the block."""

    name = "slow"
    safety = False

    def feed(self, block):
        time.sleep(0.005)
        ORDER.append(("rest", round(block.t, 3)))
        return []

    def reset(self):
        pass


class NotingJournal(Journal):
    def write(self, t, event, **data):
        ORDER.append((f"journal {event}", round(t, 3)))
        return super().write(t, event, **data)


class NotingVoice(Voice):
    def render(self, text):
        ORDER.append(("render", text))
        return super().render(text)


class NotingDisplay:
    def said(self, t, text):
        pass

    def update(self, t, state, actions):
        ORDER.append(("screen", round(t, 3)))

    def close(self):
        pass


def test_a_stop_is_cut_before_the_rest_of_its_block(tmp_path):
    ORDER.clear()
    routine = load_routine(ROOT / "routines" / "lower-back.yaml")
    ears = make_ears("embedded", canceller=make_canceller("speex"))
    ears.recognizers.append(SlowEar())
    voice = NotingVoice(VoiceSettings(), RATE)
    journal = NotingJournal(tmp_path / "j.jsonl")
    driver = Driver(routine, ears, voice, Player(RATE), journal, NotingDisplay(), skip_check=True)
    mic = save(tmp_path / "mic.wav", timeline(9.0, [(5.0, real_clip(TUNE_STOP))], noise_db=-60))
    run_file(driver, mic, None)
    journal.close()
    stopped = [t for what, t in ORDER if what == "journal stopped"]
    assert len(stopped) == 1 and 5.0 < stopped[0] < 6.5
    t = stopped[0]
    before = round(t - 0.02, 3)  # the block before ends with its clock tick, drawn on the screen
    block = ORDER[len(ORDER) - ORDER[::-1].index(("screen", before)):]
    cut = block.index(("journal cut", t))
    # nothing of this block ran before the cut: no other journal line, no screen, no render of
    # the confirmation, no recognizer of the rest of the block
    assert block[:cut] == [], block[:cut]
    for later in (("rest", t), ("screen", t), ("render", STOP_TEXT), ("journal heard", t)):
        assert block.index(later) > cut, later
