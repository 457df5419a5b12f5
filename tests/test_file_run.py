"""The whole product, file-driven: real recognizer, real pyttsx3 voice, real WAVs in and out.

The microphone WAV holds commands spoken by festival's kal voice (no real recordings of these
words exist here) and a real human "stop" from the Speech Commands test set. This suite checks
what the session does with what it hears, so its commands are said by a voice the recognizer's
heads were trained on (kal, at other durations); how well unseen voices are heard is
test_command_head's and the benchmark's business.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf

from assistant.audio import BLOCK, RATE
from assistant.routine import load_routine
from assistant.session import DOCTOR_TEXT, STOP_TEXT, STOPPED_HINT, intro_text
from assistant.voice import Voice, VoiceSettings
from tests.conftest import ROOT, TUNE_STOP, cli, festival, real_clip, save, timeline

KAL = "voice_kal_diphone"
SCRIPT = [  # (start second, what is said, which step the session should then be on)
    (4.0, "next", 0),
    (12.0, "repeat", 0),
    (20.0, "next", 1),
    (28.0, "back", 0),
    (36.0, "pause", 0),
    (42.0, "continue", 0),
    (50.0, "STOP", 0),
    (56.0, "repeat", 0),
    (61.0, "back", 0),
    (66.0, "next step", 0),
]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return cli(*args, timeout=600)


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    placed = []
    for start, said, _ in SCRIPT:
        clip = real_clip(TUNE_STOP) if said == "STOP" else festival(said, KAL)
        placed.append((start, clip))
    placed.append((72.0, festival("continue", KAL)))
    mic = save(tmp / "mic.wav", timeline(105.0, placed, noise_db=-60))
    speaker, journal = tmp / "speaker.wav", tmp / "journal.jsonl"
    proc = run_cli("run", "routines/lower-back.yaml", "--skip-safety-check", "--mic-file", str(mic),
                   "--speaker-file", str(speaker), "--journal", str(journal), "--quiet")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    audio, rate = sf.read(str(speaker), dtype="int16")
    assert rate == RATE
    return events, audio


def test_commands_move_the_session(scripted_run):
    events, _ = scripted_run
    heard = [e for e in events if e["event"] == "heard"]
    said = [e["command"] for e in heard]
    assert said == ["next", "repeat", "next", "back", "pause", "continue", "stop",
                    "repeat", "back", "next", "continue"], said
    steps = [(e["t"], e["index"]) for e in events if e["event"] == "step"]
    # next (intro -> 0), repeat (0), next (1), back (0); continue-from-pause re-reads step 0
    # without a new step event; the stopped "next step" skips to 1; the last continue is
    # ignored because nothing is paused.
    assert [i for _, i in steps] == [0, 0, 1, 0, 1]
    resumed = [e for e in events if e["event"] == "resumed"]
    assert [e["from"] for e in resumed] == ["paused", "stopped"]
    assert heard[-1]["accepted"] is False and heard[-1]["ignored"] == "not paused"


def test_stop_latches_and_only_leaves_on_an_explicit_command(scripted_run):
    events, _ = scripted_run
    stop = next(e for e in events if e["event"] == "stopped")
    assert stop["reason"] == "stop" and stop["step"] == 0
    after = [e for e in events if e["t"] >= stop["t"]]
    ignored = [e for e in after if e["event"] == "heard" and not e["accepted"]]
    assert [e["command"] for e in ignored][:2] == ["repeat", "back"]
    assert all(e["ignored"] == "stopped" for e in ignored[:2])
    resumed = next(e for e in after if e["event"] == "resumed")
    assert resumed["from"] == "stopped" and resumed.get("skipped") is True


def test_nothing_but_the_confirmation_is_said_after_the_cut(scripted_run):
    events, audio = scripted_run
    stop = next(e for e in events if e["event"] == "stopped")
    cut = next(e for e in events if e["event"] == "cut" and e["t"] >= stop["t"])
    assert cut["playing"], "the stop should have cut the assistant mid-sentence"
    resumed = next(e for e in events if e["event"] == "resumed" and e["t"] > cut["t"])
    says = [e for e in events if e["event"] == "say" and cut["t"] <= e["t"] < resumed["t"]]
    assert [e["text"] for e in says] == [STOP_TEXT, STOPPED_HINT]
    # The speaker WAV: the person's voice ducked the assistant's (by 20 dB, from the block after
    # the duck) before the stop cut it; after the cut, sound only inside the confirmation's spans.
    duck = [e for e in events if e["event"] == "duck" and e["t"] <= cut["t"]][-1]
    assert duck["on"] and cut["t"] - duck["t"] < 1.0
    i_duck, i_cut = round(duck["t"] * RATE), round(cut["t"] * RATE)
    before = np.abs(audio[i_duck - 10 * BLOCK:i_duck]).max()
    ducked = np.abs(audio[i_duck + BLOCK:i_cut]).max()
    assert before > 500 and 0 < ducked < before / 5
    allowed = np.zeros(len(audio), dtype=bool)
    for e in says:
        a = round(e["t"] * RATE)
        allowed[a:a + round(e["seconds"] * RATE) + 1] = True
    window = slice(i_cut, round(resumed["t"] * RATE))
    stray = np.abs(audio[window][~allowed[window]])
    assert stray.max(initial=0) == 0


def test_journal_is_complete(scripted_run):
    events, _ = scripted_run
    kinds = {e["event"] for e in events}
    assert {"session", "started", "say", "heard", "step", "rep", "cut", "stopped", "resumed",
            "paused"} <= kinds
    assert events[-1]["event"] == "summary"
    assert all(isinstance(e["t"], float | int) for e in events)
    times = [e["t"] for e in events]
    assert times == sorted(times)


def test_repetitions_are_counted_on_the_beat(scripted_run):
    events, _ = scripted_run
    reps = [e for e in events if e["event"] == "rep" and e["step"] == 1]
    assert [e["n"] for e in reps][:3] == [1, 2, 3]
    gaps = np.diff([e["t"] for e in reps])
    assert np.allclose(gaps, 4.0, atol=0.021), gaps  # palm circles: 4 s a round, 20 ms blocks
    counts = [e for e in events if e["event"] == "say" and e["kind"] == "count"]
    assert counts[0]["text"].startswith("One.")


# ---- the safety questions, answered by voice ---------------------------------------------------

def test_the_safety_questions_are_asked_and_a_yes_ends_the_session(tmp_path):
    # One real speaker answers (Speech Commands, tuning split). The answers come 3 s into each
    # question, over the assistant's voice, as people do; each answer cuts the question short.
    intro = Voice(VoiceSettings(), RATE).render(intro_text(load_routine(ROOT / "routines/lower-back.yaml")))
    first = len(intro) / RATE + 3.0
    no, yes = (real_clip(f"speech_commands_v0.02_test/{w}/03401e93_nohash_0.wav") for w in ("no", "yes"))
    mic = save(tmp_path / "mic.wav", timeline(first + 30.0, [
        (first, no), (first + 6.0, no), (first + 12.0, yes)], noise_db=-60))
    speaker, journal = tmp_path / "speaker.wav", tmp_path / "journal.jsonl"
    proc = run_cli("run", "lower-back", "--mic-file", str(mic), "--speaker-file", str(speaker),
                   "--journal", str(journal), "--quiet")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    asked = [e["text"] for e in events if e["event"] == "question"]
    assert asked[0].startswith("Has there been surgery") and len(asked) == 3
    assert [e["answer"] for e in events if e["event"] == "safety_answer"] == ["no", "no", "yes"]
    assert not [e for e in events if e["event"] == "step"], "no step may begin after a yes"
    finished = next(e for e in events if e["event"] == "finished")
    assert finished["reason"] == "safety_check"
    advice = next(e for e in events if e["event"] == "say" and e["text"] == DOCTOR_TEXT)
    audio, _ = sf.read(str(speaker), dtype="int16")
    start = round(advice["t"] * RATE)
    assert np.abs(audio[start:start + round(advice["seconds"] * RATE)]).max() > 1000  # it was said
    assert np.abs(audio[start + round(advice["seconds"] * RATE) + BLOCK:]).max(initial=0) == 0


# ---- the memory of pain, across two sessions ---------------------------------------------------

def test_a_step_that_hurt_is_named_at_the_next_session(tmp_path):
    env = {"MASSAGE_ASSISTANT_DATA": str(tmp_path / "data")}  # this test's history
    first = save(tmp_path / "first.wav", timeline(20.0, [
        (3.0, festival("next")), (9.0, festival("it hurts")), (14.0, festival("quit")),
    ], noise_db=-60))
    proc = cli("run", "lower-back", "--skip-safety-check", "--mic-file", str(first), env=env)
    assert proc.returncode == 0, proc.stderr
    # Not a terminal: plain lines say what happened, as well as what was said.
    assert "== Step 1 of 5: Long warming glide (light pressure)" in proc.stdout
    assert "!! STOPPED (pain)." in proc.stdout
    history = cli("history", env=env)
    assert history.returncode == 0, history.stderr
    history = history.stdout
    assert "Lower back relief" in history and "pain: glide x1" in history

    second = save(tmp_path / "second.wav", timeline(3.0, [], noise_db=-60))
    journal = tmp_path / "second.jsonl"
    proc = cli("run", "lower-back", "--mic-file", str(second), "--journal", str(journal), "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    assert next(e for e in events if e["event"] == "started")["hurt_before"] == ["glide"]
    intro = next(e for e in events if e["event"] == "say")
    assert "Last time, long warming glide hurt: keep it light." in intro["text"]
