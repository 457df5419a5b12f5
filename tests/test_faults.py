"""Faults injected into file-driven runs: the session goes to a safe pause and says why.

These run the real Driver, recognizer, voice and player in-process; only the failing part is
wrapped. Signals are sent to a real `massage-assistant run` process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from assistant.audio import RATE
from assistant.hearing import Ears, make_ears
from assistant.journal import Journal
from assistant.player import Player
from assistant.routine import load_routine
from assistant.runner import Driver, run_file
from assistant.voice import TtsError, Voice, VoiceSettings
from tests.conftest import ROOT, festival, save, timeline

ROUTINE = load_routine(ROOT / "routines" / "lower-back.yaml")


class FlakyEars(Ears):
    """The real hearing of the pocketsphinx engine, raising while the stream is inside
    [start, end) seconds."""

    def __init__(self, start: float, end: float):
        inner = make_ears("pocketsphinx", canceller=None)
        super().__init__(inner.name, inner.frontend, inner.stop, inner.recognizers)
        self.start, self.end = start, end

    def begin(self, t, mic, played=None):
        if self.start <= t < self.end:
            raise RuntimeError("decoder exploded")
        return super().begin(t, mic, played)


class BrokenVoice(Voice):
    """Renders everything except texts containing `fragment`."""

    def __init__(self, fragment: str):
        super().__init__(VoiceSettings(), RATE)
        self.fragment = fragment

    def render(self, text: str):
        if self.fragment in text:
            raise TtsError("espeak-ng vanished")
        return super().render(text)


def events_of(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class Shown(list):
    """A display that keeps what would have been shown as said."""

    def said(self, t: float, text: str) -> None:
        self.append(text)

    def update(self, t, state, actions) -> None:
        pass

    def close(self) -> None:
        pass


def drive(tmp_path, recognizer, voice, mic, shown=None):
    journal = Journal(tmp_path / "j.jsonl")
    driver = Driver(ROUTINE, recognizer, voice, Player(RATE), journal, shown, skip_check=True)
    result = run_file(driver, save(tmp_path / "mic.wav", mic), tmp_path / "speaker.wav")
    journal.close()
    return result, events_of(tmp_path / "j.jsonl")


def test_a_recognizer_error_pauses_safely_and_continue_needs_it_back(tmp_path, capsys):
    mic = timeline(30.0, [(8.0, festival("continue")), (20.0, festival("continue"))], noise_db=-60)
    shown = Shown()
    result, events = drive(tmp_path, FlakyEars(5.0, 10.0), Voice(VoiceSettings(), RATE), mic,
                           shown)
    assert result.reason == "end of microphone input"  # the run went on: no crash
    kinds = [e["event"] for e in events]
    first_error = kinds.index("error")
    assert events[first_error]["source"] == "recognizer"
    assert "decoder exploded" in events[first_error]["message"]
    lost = next(e for e in events if e["event"] == "hearing_lost")
    paused = next(e for e in events if e["event"] == "paused")
    assert paused["reason"] == "hearing" and paused["t"] == lost["t"] == pytest.approx(5.0, abs=0.03)
    assert "recognizer failed" in capsys.readouterr().err
    # the "continue" at 8 s falls in the outage and cannot be heard; the one at 20 s resumes
    back = next(e for e in events if e["event"] == "hearing_back")
    assert back["t"] == pytest.approx(10.0, abs=0.03)
    resumed = [e for e in events if e["event"] == "resumed"]
    assert len(resumed) == 1 and resumed[0]["t"] > 20.0


def test_a_tts_failure_shows_the_text_plays_a_tone_and_goes_on(tmp_path):
    mic = timeline(75.0, [(2.0, festival("next"))], noise_db=-60)
    shown = Shown()
    _, events = drive(tmp_path, make_ears("pocketsphinx", canceller=None), BrokenVoice("Long warming glide"),
                      mic, shown)
    error = next(e for e in events if e["event"] == "error")
    assert error["source"] == "tts" and "Long warming glide" in error["text"]
    assert any(line.startswith("(could not speak) Step one of five") for line in shown)
    say = next(e for e in events if e["event"] == "say" and "Long warming glide" in e["text"])
    assert say["seconds"] == pytest.approx(0.35, abs=0.01)  # the tone, not speech
    audio, _ = sf.read(str(tmp_path / "speaker.wav"), dtype="int16")
    tone = audio[int(say["t"] * RATE):int((say["t"] + 0.35) * RATE)]
    assert np.abs(tone).max() > 5000
    assert [e["n"] for e in events if e["event"] == "rep"][:2] == [1, 2]  # still hearing: it goes on


def _start_realtime_run(tmp_path, seconds: float = 60.0) -> tuple[subprocess.Popen, object]:
    mic = save(tmp_path / "mic.wav", timeline(seconds, [], noise_db=-60))
    journal = tmp_path / "j.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "run", "lower-back", "--mic-file",
                             str(mic), "--journal", str(journal), "--realtime", "--quiet"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (journal.exists() and '"say"' in journal.read_text()):
        time.sleep(0.05)
    return proc, journal


def test_sigterm_ends_with_a_complete_journal(tmp_path):
    proc, journal = _start_realtime_run(tmp_path)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    events = events_of(journal)
    assert [e["event"] for e in events[-2:]] == ["aborted", "summary"]
    assert events[-2]["reason"] == "terminated"


def test_kill_9_leaves_every_written_line_intact(tmp_path):
    proc, journal = _start_realtime_run(tmp_path)
    time.sleep(1.5)
    proc.kill()
    proc.wait(timeout=10)
    text = journal.read_text()
    assert text.endswith("\n")
    events = [json.loads(line) for line in text.splitlines()]  # every line parses
    assert events[0]["event"] == "session" and any(e["event"] == "say" for e in events)
