"""Routine files: the bundled ones load; broken ones are rejected with file:line: field."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from assistant.routine import Pressure, RepPace, RoutineError, TimedPace, load_routine, parse_routine
from tests.conftest import ROOT

BUNDLED = sorted((ROOT / "routines").glob("*.yaml"))

GOOD = """\
name: Good
for: tests
position: face down
safety: Not after surgery.
steps:
  - id: one
    title: One
    say: Glide.
    pressure: light
    pace: {reps: 4, seconds_per_rep: 5, cues: [up, down]}
"""


def test_four_routines_are_bundled_and_valid():
    names = {p.stem for p in BUNDLED}
    assert names == {"lower-back", "upper-back", "technique-sampler", "foam-roller"}
    routines = {p.stem: load_routine(p) for p in BUNDLED}
    assert len(routines["lower-back"].steps) == 5
    assert len(routines["upper-back"].steps) == 5
    sampler = routines["technique-sampler"]
    assert [s.id for s in sampler.steps] == ["effleurage", "kneading", "percussion", "lifting", "fan",
                                             "cross-body"]
    percussion = sampler.steps[2].pace
    assert isinstance(percussion, TimedPace) and 120 <= percussion.duration <= 180
    roller = routines["foam-roller"]
    assert roller.daily_limit_minutes == 5 and roller.seconds <= 300
    for r in routines.values():
        assert "surgery" in r.safety and "numbness" in r.safety
        for step in r.steps:
            assert isinstance(step.pressure, Pressure)


def test_good_routine_parses_to_frozen_dataclasses():
    r = parse_routine(GOOD, "good.yaml")
    step = r.steps[0]
    assert step.pace == RepPace(4, 5.0, ("up", "down"))
    with pytest.raises(AttributeError):
        step.title = "x"  # type: ignore[misc]


BROKEN = [
    # (description, yaml text, expected "line: field: fragment")
    ("bad yaml", "name: [unclosed\nfor: x\n", "2: yaml: "),
    ("missing field", GOOD.replace("for: tests\n", ""), "1: for: is missing"),
    ("wrong type", GOOD.replace("title: One", "title: [a, b]"), "7: steps[0].title: must be text"),
    ("negative count", GOOD.replace("reps: 4", "reps: -4"), "10: steps[0].pace.reps: must be greater than 0"),
    ("fractional count", GOOD.replace("reps: 4", "reps: 2.5"),
     "10: steps[0].pace.reps: must be a whole number"),
    ("unknown pressure", GOOD.replace("pressure: light", "pressure: crushing"),
     "9: steps[0].pressure: unknown pressure 'crushing'"),
    ("unknown field", GOOD.replace("    say: Glide.\n", "    say: Glide.\n    colour: red\n"),
     "9: steps[0].colour: is not a known field"),
    ("no pace kind", GOOD.replace("{reps: 4, seconds_per_rep: 5, cues: [up, down]}", "{cues: [a]}"),
     "10: steps[0].pace: needs reps"),
    ("too many cues", GOOD.replace("seconds_per_rep: 5", "seconds_per_rep: 1"),
     "10: steps[0].pace.cues: 2 cues in 1 s"),
    ("duplicate id", GOOD + textwrap.indent(
        "- id: one\n  title: Two\n  say: x\n  pressure: firm\n  pace: {duration: 30, cue_every: 10}\n", "  "),
     "11: steps[1].id: 'one' is already used"),
    ("empty steps", GOOD[:GOOD.index("steps:")] + "steps: []\n", "5: steps: must be a non-empty list"),
    ("over daily limit", GOOD.replace("steps:", "daily_limit_minutes: 0.1\nsteps:"),
     "5: daily_limit_minutes: the steps take 0.3 min"),
    ("not a mapping", "- just\n- a list\n", "1: routine: must be a mapping"),
    ("empty file", "", "1: routine: the file is empty"),
]


@pytest.mark.parametrize(("desc", "text", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_routines_name_file_line_and_field(desc, text, expected):
    with pytest.raises(RoutineError) as err:
        parse_routine(text, "broken.yaml")
    lines = [str(p) for p in err.value.problems]
    assert any(line.startswith(f"broken.yaml:{expected}") for line in lines), lines


def test_every_problem_is_reported_at_once():
    text = GOOD.replace("reps: 4", "reps: -1").replace("pressure: light", "pressure: hard")
    with pytest.raises(RoutineError) as err:
        parse_routine(text, "x.yaml")
    fields = {p.field for p in err.value.problems}
    assert fields == {"steps[0].pace.reps", "steps[0].pressure"}


def test_check_command_exit_codes_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("pressure: light", "pressure: 3"))
    missing = tmp_path / "nope.yaml"
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "check", str(bad), str(missing),
                           *map(str, BUNDLED)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}:9: steps[0].pressure: must be text" in proc.stderr
    assert f"{missing}: no such routine file" in proc.stderr
    ok = subprocess.run([sys.executable, "-m", "assistant.cli", "check", *map(str, BUNDLED)],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr


def test_run_refuses_a_broken_routine_before_speaking(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("reps: 4", "reps: zero"))
    journal = tmp_path / "j.jsonl"
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "run", str(bad), "--mic-file",
                           "/dev/null", "--journal", str(journal)], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 2
    assert f"{bad}:10: steps[0].pace.reps: must be a whole number" in proc.stderr
    assert not journal.exists()
