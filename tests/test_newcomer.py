"""A newcomer's first ten minutes: what each command says and does when something is missing or
mistyped, observed as a user sees it (output, exit code, journal, spoken text)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from assistant import session as S
from assistant.audio import RATE
from assistant.commands import Command
from assistant.routine import load_routine
from assistant.voice import Voice, VoiceSettings
from tests.conftest import ROOT, cli, save, timeline


def no_devices() -> bool:
    from assistant.runner import DeviceError, check_devices

    try:
        check_devices()
    except DeviceError:
        return True
    return False


needs_no_devices = pytest.mark.skipif(not no_devices(), reason=(
    "this machine has a sound card, so a missing one cannot be shown here (CI has none)"))


def test_check_takes_bundled_names_and_names_a_missing_routine():
    out = cli("check", "lower-back", "foam-roller")
    assert out.returncode == 0 and "2 routine file(s) OK" in out.stdout, out.stderr
    out = cli("check", "nosuch")
    assert out.returncode == 2
    assert "nosuch: no such routine file" in out.stderr and "lower-back" in out.stderr
    assert "nosuch:1:" not in out.stderr


def test_run_of_a_routine_that_does_not_exist_lists_the_bundled_ones(tmp_path):
    out = cli("run", "nosuch", "--mic-file", str(save(tmp_path / "m.wav", timeline(1.0, []))))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no such routine" in out.stderr
    for name in ("lower-back", "upper-back", "technique-sampler", "foam-roller"):
        assert name in out.stderr


def test_check_warns_of_a_caution_split_by_a_comma_in_a_flow_list(tmp_path):
    text = (ROOT / "routines" / "lower-back.yaml").read_text().replace(
        'cautions: ["Circle beside the spine, never over it."]',
        "cautions: [Circle beside the spine, never over it.]")
    assert "[Circle beside the spine, never over it.]" in text
    path = tmp_path / "split.yaml"
    path.write_text(text)
    out = cli("check", str(path))
    assert out.returncode == 0, out.stderr  # a warning, not a refusal
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "[Circle beside the spine" in t)
    assert f"{path}:{line}: steps[1].cautions[1]: warning: 'never over it.' looks like half a sentence" \
        in out.stderr
    assert load_routine(path).steps[1].cautions == ("Circle beside the spine", "never over it.")


def test_the_bundled_routines_have_no_split_sentences():
    out = cli("check", *sorted(str(p) for p in (ROOT / "routines").glob("*.yaml")))
    assert out.returncode == 0 and "warning" not in out.stderr, out.stderr
    steps = {s.id: s for s in load_routine(ROOT / "routines" / "lower-back.yaml").steps}
    assert steps["palm-circles"].cautions == ("Circle beside the spine, never over it.",)


def test_quiet_prints_nothing_and_a_journal_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    mic = save(tmp_path / "m.wav", timeline(2.0, []))
    out = cli("run", "lower-back", "--skip-safety-check", "--mic-file", str(mic), "--quiet",
              "--journal", str(tmp_path / "j.jsonl"))
    assert out.returncode == 0 and out.stdout == "", out.stdout
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = cli("run", "lower-back", "--mic-file", str(mic), "--journal", str(blocker / "j.jsonl"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "the journal cannot be written" in out.stderr and str(blocker) in out.stderr


def test_history_finds_a_session_run_with_journal_elsewhere(tmp_path):
    env = {"MASSAGE_ASSISTANT_DATA": str(tmp_path / "data")}
    mic = save(tmp_path / "m.wav", timeline(2.0, []))
    elsewhere = tmp_path / "mine" / "monday.jsonl"
    out = cli("run", "lower-back", "--skip-safety-check", "--mic-file", str(mic), "--quiet",
              "--journal", str(elsewhere), env=env)
    assert out.returncode == 0, out.stderr
    out = cli("history", "--json", env=env)
    assert out.returncode == 0, out.stderr
    [rec] = json.loads(out.stdout)
    assert rec["path"] == str(elsewhere) and rec["routine"] == "Lower back relief"
    elsewhere.unlink()  # a journal deleted since is forgotten, not an error
    assert json.loads(cli("history", "--json", env=env).stdout) == []


def test_listen_from_a_file_does_not_ask_for_ctrl_c(tmp_path):
    out = cli("listen", "--mic-file", str(save(tmp_path / "m.wav", timeline(1.0, []))))
    assert out.returncode == 0 and "Ctrl-C" not in out.stderr


@needs_no_devices
def test_listen_without_a_microphone_says_so_and_how_to_rehearse():
    out = cli("listen")
    assert out.returncode == 3 and "Traceback" not in out.stderr
    assert "Cannot listen:" in out.stderr and "--mic-file" in out.stderr


@needs_no_devices
def test_preview_say_needs_a_speaker_not_a_microphone():
    out = cli("preview", "lower-back", "--say")
    assert out.returncode == 3 and "Traceback" not in out.stderr
    assert "speaker" in out.stderr and "microphone" not in out.stderr


@needs_no_devices
def test_devices_with_none_says_so():
    out = cli("devices")
    assert out.returncode == 0
    assert "No audio" in out.stdout and "--mic-file examples/demo-mic.flac" in out.stdout


def test_a_stop_during_a_safety_question_does_not_talk_of_a_step():
    routine = load_routine(ROOT / "routines" / "lower-back.yaml")
    s, _ = S.step(S.initial(routine), S.Start(0.0))
    s, actions = S.step(s, S.SpeechDone(40.0))  # the introduction ends: the first question
    assert s.mode is S.Mode.CHECK
    s, actions = S.step(s, S.Heard(41.0, Command.STOP, "stop"))
    said = [a.text for a in actions if isinstance(a, S.Say)]
    assert said == [S.STOP_TEXT, "Say continue when you are ready, or quit to end."]
    s, actions = S.step(s, S.Heard(45.0, Command.CONTINUE, "continue"))
    assert s.mode is S.Mode.CHECK  # the question is asked again


def test_the_demo_microphone_rehearses_a_session(tmp_path):
    journal = tmp_path / "demo.jsonl"
    out = cli("run", "lower-back", "--mic-file", str(ROOT / "examples" / "demo-mic.flac"),
              "--journal", str(journal), "--quiet", env={"MASSAGE_ASSISTANT_DATA": str(tmp_path / "d")})
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    answers = [e["answer"] for e in events if e["event"] == "safety_answer"]
    assert answers == ["no", "no", "no"]
    assert [e["event"] for e in events if e["event"] in ("stopped", "resumed")] == ["stopped", "resumed"]
    assert next(e for e in events if e["event"] == "finished")["reason"] == "quit"


def test_the_benchmarks_cache_follows_xdg_cache_home(tmp_path):
    code = "import sys; sys.path.insert(0, 'scripts'); import bench_data; print(bench_data.CACHE)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert out.stdout.strip() == str(tmp_path / "massage-assistant" / "bench"), out.stderr


def test_the_models_folder_the_readme_names_is_there():
    assert (ROOT / "models" / "README.md").exists()


def test_a_render_is_the_same_whatever_was_rendered_before(tmp_path):
    """The same text, rendered first thing in one process and after another text in a second,
    with caches of their own: the same samples (pyttsx3 carried espeak's state from one render to
    the next; each render now has a process of its own)."""
    text = "Rest both palms flat on the lower back."
    first = Voice(VoiceSettings(), RATE, cache=tmp_path / "a").render(text)
    other = Voice(VoiceSettings(), RATE, cache=tmp_path / "b")
    other.render("Something else entirely, to leave its mark.")
    assert np.array_equal(first, other.render(text))


def test_a_pyttsx3_render_is_every_sample_espeak_ng_itself_writes(tmp_path):
    """pyttsx3's espeak driver wrote its WAV before appending the last buffer, so a render lost
    up to a second at its end, depending on thread timing (tts_render.py)."""
    import subprocess

    import soundfile as sf

    text = "Rest both palms flat on the lower back."
    out = tmp_path / "r.wav"
    proc = subprocess.run([sys.executable, "-m", "assistant.tts_render", "--out", str(out), "--voice",
                           "gmw/en-us", "--rate", "165"], input=text, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["espeak-ng", "-v", "gmw/en-us", "-s", "165", "-w", str(tmp_path / "e.wav"), text],
                   check=True)
    ours, _ = sf.read(str(out), dtype="int16")
    theirs, _ = sf.read(str(tmp_path / "e.wav"), dtype="int16")
    assert np.array_equal(ours, theirs)
