"""The screen a person reads from across the room: its content, its size, and the real program
drawing it in a real terminal (tmux), driven by keys as a helper would."""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from assistant import session as S
from assistant.commands import Command
from assistant.routine import bundled_routines_dir, load_routine
from assistant.screen import View, big, render, view_of
from tests.conftest import ROOT, save, timeline

ROUTINES = {p.stem: load_routine(p) for p in sorted(bundled_routines_dir().glob("*.yaml"))}


def drawn(view: View, color: bool = False) -> str:
    console = Console(width=80, height=24, record=True, force_terminal=color, color_system="standard",
                      file=io.StringIO())
    console.print(render(view))
    return console.export_text(styles=color)


def at_step(routine, index: int, *events: S.Event) -> S.State:
    s, _ = S.step(S.initial(routine), S.Start(0.0, skip_check=True))
    s, _ = S.step(s, S.SpeechDone(1.0))
    for i in range(index):
        s, _ = S.step(s, S.Heard(2.0 + i, Command.NEXT))
    s, _ = S.step(s, S.SpeechDone(10.0))
    for e in events:
        s, _ = S.step(s, e)
    return s


def states_of(routine):
    """Every step of the routine in every mode a person can see it in."""
    for i in range(len(routine.steps)):
        pace = at_step(routine, i, S.Tick(15.0))
        yield f"pace-{i}", pace
        yield f"paused-{i}", S.step(pace, S.Heard(16.0, Command.PAUSE))[0]
        yield f"stopped-{i}", S.step(pace, S.Heard(16.0, Command.PAIN))[0]
    s, _ = S.step(S.initial(routine), S.Start(0.0, hurt_before=(routine.steps[-1].id,)))
    yield "intro", s
    if routine.questions:
        yield "check", S.step(s, S.SpeechDone(30.0))[0]
    yield "finished", S.step(s, S.Heard(31.0, Command.QUIT))[0]


CASES = [(name, label, s) for name, r in ROUTINES.items() for label, s in states_of(r)]


@pytest.mark.parametrize(("name", "label", "state"), CASES, ids=[f"{n}-{lab}" for n, lab, _ in CASES])
def test_every_screen_fits_an_80x24_terminal(name, label, state):
    heard = {"command": "time_left", "accepted": True, "text": "how long"}
    text = drawn(view_of(state, "pocketsphinx", heard,
                         "Two. spread out and a long sentence that the voice line must cut short " * 3))
    lines = text.rstrip("\n").split("\n")
    assert len(lines) <= 23, f"{len(lines)} rows"  # one row spare: no terminal scroll
    assert max(len(line) for line in lines) <= 80
    assert lines[0].startswith("╭") and lines[-1].startswith("╰")
    assert state.routine.name in lines[1]
    if label.startswith("pace"):
        for row in big(state.current.title, 76).split("\n"):
            assert row.strip() in text  # the title in large type
        assert "ROUND" in text or "TIME LEFT" in text
        assert f"{state.current.pressure.value.upper()}" in text
        assert "▶" in text


def test_the_counter_pressure_progress_and_pace_are_what_the_session_says():
    lower = ROUTINES["lower-back"]
    s = at_step(lower, 1, *[S.Tick(10.0 + 0.5 * k) for k in range(1, 22)])  # 10.5 s into 4 s rounds
    v = view_of(s, "pocketsphinx")
    assert (v.counter_label, v.counter, v.pressure) == ("ROUND", "3 of 10", "light")
    assert v.steps[1] == ("Palm circles", False) and v.step == 1
    assert 0.2 < v.progress < 0.35
    s = S.step(s, S.Heard(21.0, Command.SLOWER))[0]
    assert view_of(s, "x").pace == 0.87
    sampler = ROUTINES["technique-sampler"]
    timed = next(i for i, st in enumerate(sampler.steps) if hasattr(st.pace, "duration"))
    s = at_step(sampler, timed, *[S.Tick(10.0 + k) for k in range(1, 11)])
    v = view_of(s, "x")
    assert v.counter_label == "TIME LEFT"
    assert v.counter == "2:50"  # three minutes, 10 s of them paced


def test_the_stopped_banner_is_red_and_says_why_and_how_to_go_on():
    s = at_step(ROUTINES["lower-back"], 2, S.Tick(12.0), S.Heard(13.0, Command.PAIN))
    plain = drawn(view_of(s, "pocketsphinx"))
    for row in big("STOPPED", 76).split("\n"):
        assert row.strip() in plain
    assert "It hurts: lift your hands." in plain
    assert S.STOPPED_HINT in plain
    assert "▶ 3. Thumb circles beside the spine  ⚠ hurt: keep it light" in plain
    ansi = drawn(view_of(s, "pocketsphinx"), color=True)
    banner_row = next(line for line in ansi.split("\n") if big("STOPPED", 76).split("\n")[0].strip() in line)
    assert "41m" in banner_row  # red background


def test_an_ignored_command_shows_why():
    s = at_step(ROUTINES["lower-back"], 0, S.Tick(12.0), S.Heard(13.0, Command.STOP))
    text = drawn(view_of(s, "vosk", {"command": "repeat", "accepted": False, "ignored": "stopped",
                                    "source": "key", "text": "r"}))
    assert 'Heard: "repeat" (key r) ignored: stopped' in text
    assert "vosk" in text


# ---- the real program in a real terminal ---------------------------------------------------------

@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/setup --test")
    sock = f"massage-test-{os.getpid()}"

    def cmd(*args: str) -> str:
        return subprocess.run(["tmux", "-L", sock, *args], check=True, capture_output=True,
                              text=True).stdout

    yield cmd
    subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)


def wait_for(tmux, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", "run")
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared on the screen:\n{screen}")


def test_the_program_draws_its_screen_in_a_terminal_and_obeys_keys(tmux, tmp_path: Path):
    mic = save(tmp_path / "mic.wav", timeline(240.0, [], noise_db=-60))
    journal = tmp_path / "journal.jsonl"
    env = " ".join(f"{k}={shlex.quote(os.environ[k])}" for k in
                   ("MASSAGE_ASSISTANT_DATA", "MASSAGE_ASSISTANT_CACHE", "PATH") if k in os.environ)
    run = (f"cd {shlex.quote(str(ROOT))} && env {env} TERM=xterm-256color {shlex.quote(sys.executable)} "
           f"-m assistant.cli run lower-back --realtime --mic-file {mic} --journal {journal}; "
           "echo EXITED $?; sleep 60")
    tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "run", run)

    screen = wait_for(tmux, "Say next to skip them.", timeout=90)  # the welcome screen
    assert screen.split("\n")[0].startswith("╭") and "Lower back relief" in screen
    tmux("send-keys", "-t", "run", "n")  # skip the introduction: the questions still come
    wait_for(tmux, "Question 1 of 3: Has there been surgery")
    for question in (2, 3):
        tmux("send-keys", "-t", "run", "n")  # "no", by key
        wait_for(tmux, f"Question {question} of 3")
    tmux("send-keys", "-t", "run", "n")
    screen = wait_for(tmux, "ROUND")
    assert 'Heard: "no" (key n)' in screen
    assert "LIGHT" in screen and "▶ 1. Long warming glide" in screen
    for row in big("Long warming glide", 76).split("\n"):
        assert row.strip() in screen

    tmux("send-keys", "-t", "run", "s")
    screen = wait_for(tmux, "Lift your hands.")
    for row in big("STOPPED", 76).split("\n"):
        assert row.strip() in screen
    tmux("send-keys", "-t", "run", "r")
    wait_for(tmux, 'Heard: "repeat" (key r) ignored: stopped')
    tmux("send-keys", "-t", "run", "Space")
    wait_for(tmux, 'Heard: "continue" (key space)')
    tmux("send-keys", "-t", "run", "q")
    screen = wait_for(tmux, "EXITED 0")
    assert "Session ended (finished)" in screen  # the terminal is given back, with the summary

    heard = [e for e in map(json.loads, journal.read_text().splitlines()) if e["event"] == "heard"]
    keyed = [(e["command"], e["accepted"]) for e in heard if e.get("source") == "key"]
    assert keyed == [("next", True), ("no", True), ("no", True), ("no", True), ("stop", True),
                     ("repeat", False), ("continue", True), ("quit", True)]
