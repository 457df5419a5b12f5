"""Self-hearing: the assistant's own voice, mixed back into the microphone, must never command it,
and a real "stop" said over that voice must still stop it.

`run --echo 30,-12` plays the speaker output into the file microphone 30 ms later, 12 dB down,
with a reverberant tail: a laptop on the table a metre or two from the person. The default
engine hears it through the echo canceller, as in a live session.
"""

from __future__ import annotations

import json

import numpy as np

from assistant.routine import load_routine
from assistant.session import estimate_s
from tests.conftest import ROOT, TUNE_STOP, cli, real_clip, save, timeline

ECHO = "30,-12"


def run_with_echo(tmp_path, routine: str, mic: np.ndarray) -> list[dict]:
    mic_file = save(tmp_path / "mic.wav", mic)
    journal = tmp_path / "journal.jsonl"
    proc = cli("run", routine, "--skip-safety-check", "--echo", ECHO, "--mic-file", str(mic_file),
               "--speaker-file", str(tmp_path / "speaker.wav"), "--journal", str(journal), "--quiet",
               timeout=900)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in journal.read_text().splitlines()]


def test_a_whole_routine_with_echo_and_no_one_speaking_hears_nothing(tmp_path):
    # the routine a newcomer runs first (README); scripts/bench.py's full run plays all four
    routine = "routines/lower-back.yaml"
    length = estimate_s(load_routine(ROOT / routine)) * 1.3 + 60
    events = run_with_echo(tmp_path, routine, timeline(length, [], noise_db=-55))
    # The recognizer may pick words out of the echo; every one must be set aside as the
    # assistant's own voice, none taken for a person's command.
    heard = [e for e in events if e["event"] == "heard"]
    assert [h for h in heard if h.get("ignored") != "own voice" or h["accepted"]] == []
    finished = [e for e in events if e["event"] == "finished"]
    assert finished, "the session did not run to its end"
    steps = {e["id"] for e in events if e["event"] == "step"}
    assert steps == {s.id for s in load_routine(ROOT / routine).steps}


def test_a_real_stop_over_the_assistants_voice_still_stops_it(tmp_path):
    # 12 s in, the introduction is being spoken: the stop arrives mixed with the voice's echo.
    at = 12.0
    events = run_with_echo(tmp_path, "routines/lower-back.yaml",
                           timeline(30.0, [(at, real_clip(TUNE_STOP))], noise_db=-55))
    playing = [e for e in events if e["event"] == "say" and e["t"] < at]
    assert playing and playing[-1]["kind"] == "intro" and playing[-1]["t"] + playing[-1]["seconds"] > at + 1
    # Words picked out of the echo before the stop may be heard, but only as the assistant's own
    # voice, never obeyed; the person's stop is the one command taken.
    own = [e for e in events if e["event"] == "heard" and e.get("ignored") == "own voice"]
    assert not any(e["accepted"] for e in own)
    heard = [e for e in events if e["event"] == "heard" and e not in own]
    assert [h["command"] for h in heard] == ["stop"], heard
    assert heard[0]["accepted"]
    assert at < heard[0]["t"] < at + 1.5
    stopped = [e for e in events if e["event"] == "stopped"]
    assert stopped and stopped[0]["reason"] == "stop" and stopped[0]["t"] == heard[0]["t"]
    cut = [e for e in events if e["event"] == "cut"]
    assert cut and cut[0]["t"] == heard[0]["t"]


def test_a_real_next_said_over_the_assistants_voice_ducks_it_and_is_obeyed(tmp_path):
    # A real person's "next" (speech-to-phrase's speaker) 12 s into the spoken introduction: the
    # voice ducks under it and the session moves on to the first step.
    at = 12.0
    nxt = real_clip("ohf_speech_to_phrase_en/en/next.wav")
    events = run_with_echo(tmp_path, "routines/lower-back.yaml", timeline(25.0, [(at, nxt)], noise_db=-55))
    playing = [e for e in events if e["event"] == "say" and e["t"] < at]
    assert playing[-1]["kind"] == "intro" and playing[-1]["t"] + playing[-1]["seconds"] > at + 2
    ducks = [e for e in events if e["event"] == "duck" and at <= e["t"] < at + 1.0]
    assert ducks and ducks[0]["on"] and ducks[0]["gain_db"] == -20.0
    heard = [e for e in events if e["event"] == "heard" and e.get("ignored") != "own voice"]
    assert [(h["command"], h["accepted"]) for h in heard] == [("next", True)]
    assert ducks[0]["t"] < heard[0]["t"] < at + len(nxt) / 16000 + 1.0
    step = next(e for e in events if e["event"] == "step")
    assert step["index"] == 0 and step["t"] == heard[0]["t"]
