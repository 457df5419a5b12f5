"""The live path on a real audio stack: PulseAudio with a virtual room, real PortAudio streams.

A private PulseAudio server is started by the fixture; the assistant plays into the room and
hears the room, so it also hears itself, as on a laptop. Spoken commands are played into the
same room with paplay.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from assistant.pulse_rig import PulseRig
from assistant.session import STOPPED_HINT_BEFORE
from tests.conftest import ROOT, SPEECH, TUNE_STOP, festival, save

REAL_STOP = SPEECH / TUNE_STOP
EXE = str(ROOT / ".venv" / "bin" / "massage-assistant")


@pytest.fixture(scope="module")
def room():
    rig = PulseRig().start()
    yield rig
    rig.stop()


class LiveRun:
    def __init__(self, rig: PulseRig, tmp: Path, routine: str = "lower-back"):
        self.journal = tmp / "live.jsonl"
        # --volume 0.1: the room carries the laptop's voice to its microphone 20 dB below a person
        # speaking to it (this rig's room is otherwise a perfect wire from speaker to mic).
        self.proc = subprocess.Popen([EXE, "run", routine, "--journal", str(self.journal), "--quiet",
                                      "--skip-safety-check",
                                      "--volume", "0.1"],
                                     env=rig.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=ROOT)

    def events(self) -> list[dict]:
        if not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines()]

    def wait_for(self, pred, timeout: float = 20.0, after: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events()[after:]:
                if pred(e):
                    return e
            assert self.proc.poll() is None, self.proc.communicate()
            time.sleep(0.02)
        raise AssertionError(f"not seen within {timeout} s: {self.events()}")

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err


def play(rig: PulseRig, wav: Path) -> None:
    rig.play(wav).wait(timeout=20)


def continue_after(run: LiveRun, rig: PulseRig, tmp: Path, told: str, after: int) -> None:
    """Wait for the assistant to finish saying `told`, then say "continue": it must resume."""
    said = run.wait_for(lambda e: e["event"] == "say" and told in e["text"], timeout=15, after=after)
    time.sleep(said["seconds"] + 0.5)  # navigation is spoken when the assistant is quiet
    wav = save(tmp / "continue.wav", festival("continue"))
    mark = len(run.events())
    # Said again if not obeyed, as a person would: this test is about the fault, and the
    # benchmark is where misheard commands are counted.
    for _attempt in range(2):
        play(rig, wav)
        try:
            run.wait_for(lambda e: e["event"] == "resumed", timeout=6, after=mark)
            return
        except AssertionError:
            time.sleep(2.0)  # let any reply to what it misheard finish
    raise AssertionError("'continue', said twice while the assistant was quiet, did not resume")


def test_a_real_stop_over_the_assistant_cuts_it_and_only_continue_resumes(room, tmp_path):
    cont = save(tmp_path / "continue.wav", festival("continue"))
    nxt = save(tmp_path / "repeat.wav", festival("repeat"))
    run = LiveRun(room, tmp_path)
    try:
        run.wait_for(lambda e: e["event"] == "say")
        time.sleep(2.0)  # the assistant is reading its introduction
        mark = len(run.events())
        # A person who is not obeyed says it again. Over the assistant's voice the embedded engine
        # misses about one real stop in four (issue 3; scripts/bench_live.py counts them): four
        # tries keep this a test of the latch, not of recall.
        for _attempt in range(4):
            play(room, REAL_STOP)
            try:
                heard = run.wait_for(lambda e: e["event"] == "heard" and e["command"] in ("stop", "pain"),
                                     timeout=3, after=mark)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("a real 'stop', said four times over the assistant, was not heard")
        assert heard["accepted"]
        first_stop = next(e for e in run.events() if e["event"] == "stopped")
        # stopped in the introduction: there is no step yet to start again
        hint = run.wait_for(lambda e: e["event"] == "say" and e["text"] == STOPPED_HINT_BEFORE, timeout=8)
        # Navigation is only promised when the assistant is quiet: over its own voice the
        # endpointer does not find the end of a command (the hearing issue's work).
        time.sleep(hint["seconds"] + 0.5)
        mark = len(run.events())
        play(room, nxt)  # not a way out of the latch
        time.sleep(1.5)
        assert not [e for e in run.events()[mark:] if e["event"] == "resumed"]
        play(room, cont)
        resumed = run.wait_for(lambda e: e["event"] == "resumed", timeout=6, after=mark)
        latched = [e for e in run.events() if first_stop["t"] <= e["t"] < resumed["t"]]
        assert all(e["kind"] == "stop" for e in latched if e["event"] == "say"), latched
        cut = next(e for e in run.events() if e["event"] == "cut" and e["t"] >= first_stop["t"])
        assert cut["t"] == first_stop["t"]
    finally:
        code, err = run.stop()
    assert code == 0, err
    assert "Traceback" not in err
    last = run.events()[-2:]
    assert [e["event"] for e in last] == ["aborted", "summary"] and last[0]["reason"] == "terminated"


def test_a_dead_microphone_pauses_and_continue_waits_for_audio(room, tmp_path):
    run = LiveRun(room, tmp_path)
    try:
        run.wait_for(lambda e: e["event"] == "say")
        time.sleep(1.0)
        mark = len(run.events())
        room.pactl("suspend-source", "mic", "1")
        t0 = time.monotonic()
        lost = run.wait_for(lambda e: e["event"] == "hearing_lost", timeout=5, after=mark)
        noticed = time.monotonic() - t0
        assert lost["reason"].startswith("no audio")
        assert noticed < 2.0  # MIC_SILENCE_LIMIT is 1 s; the rest is this test's polling
        state = [e for e in run.events() if e["event"] in ("paused", "stopped")]
        assert state, "it no longer hears, so it must not go on instructing"
        time.sleep(1.0)
        room.pactl("suspend-source", "mic", "0")
        run.wait_for(lambda e: e["event"] == "hearing_back", timeout=8, after=mark)
        continue_after(run, room, tmp_path, "hear you again", mark)
    finally:
        code, err = run.stop()
    assert code == 0, err


def test_a_lost_speaker_pauses_with_a_clear_message(room, tmp_path):
    run = LiveRun(room, tmp_path)
    try:
        run.wait_for(lambda e: e["event"] == "say")
        time.sleep(1.0)
        mark = len(run.events())
        room.pactl("suspend-sink", "speaker", "1")  # the output device stops taking audio
        lost = run.wait_for(lambda e: e["event"] == "speaker_lost", timeout=5, after=mark)
        assert lost["reason"]
        state = run.wait_for(lambda e: e["event"] in ("paused", "stopped"), timeout=5, after=mark)
        assert state["event"] == "stopped" or state["reason"] == "speaker"
        time.sleep(1.0)
        room.pactl("suspend-sink", "speaker", "0")
        back = run.wait_for(lambda e: e["event"] == "speaker_back", timeout=10, after=mark)
        assert back["w"] > lost["w"] + 0.9, "not back before the device really is"
        continue_after(run, room, tmp_path, "speaker works again", mark)
    finally:
        code, err = run.stop()
    assert code == 0, err
    assert "The speaker stopped working" in err
