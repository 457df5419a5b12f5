"""Property-based tests: the loader only ever says yes or "here is what is wrong", the session keeps
its safety rules under any stream of events, and the journal it feeds reads back whole.

The narrow tests after each broad property pin bugs these properties once found (YAML float and
int spellings, huge counts, empty keys, deep nesting, "next" while paused in the introduction).
"""

from __future__ import annotations

import json
import re
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant import events as E
from assistant import session as S
from assistant.commands import Command
from assistant.journal import Journal, read_journal
from assistant.routine import Problem, Routine, RoutineError, parse_routine
from assistant.session import Mode
from tests.conftest import ROOT
from tests.test_routine import GOOD
from tests.test_session import QUESTIONS, ROUTINE

# ---- the loader -----------------------------------------------------------------------------

SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "routines").glob("*.yaml"))}
SOURCES["GOOD"] = GOOD

FILE_NAMES = st.sampled_from(["routine.yaml", "my routines/back.yaml"]) | st.text(min_size=1, max_size=12)


def outcome(text: str, file: str) -> Routine | None:
    """Parse and check the contract: a Routine, or a RoutineError whose problems all point into the file."""
    try:
        routine = parse_routine(text, file)
    except RoutineError as err:
        problems = err.problems
    else:
        assert isinstance(routine, Routine) and routine.steps and routine.source == file
        return routine
    assert problems, "a rejection must say why"
    last_line = len(text.splitlines()) + 1  # a mark may sit just past the last line break
    for p in problems:
        assert isinstance(p, Problem)
        assert p.file == file
        assert isinstance(p.line, int) and 1 <= p.line <= last_line, (p, last_line)
        assert isinstance(p.message, str) and p.message, p
        assert isinstance(p.field, str) and p.field, p
        assert str(p).startswith(f"{file}:{p.line}: ")
    return None


def yaml_scalar(value: object) -> str:
    """How YAML itself writes a value inline: 5, -3, 1.0e+300, .inf, true, null, '', [1, a]."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**9).removesuffix("\n...\n").strip()


# Values of the other types a slip of the keyboard gives (non-finite floats and huge integers have
# their own tests below).
OTHER_SCALARS = st.one_of(
    st.integers(0, 10**6), st.integers(-(10**6), -1), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.none(), st.just(""),
    st.lists(st.integers(-9, 9) | st.text(alphabet="ab xy", max_size=4), max_size=3),
)
GARBAGE = st.text(alphabet=":-[]{}#&*!|>?'\"%@`,. \t\n", min_size=1, max_size=4)
INDENTS = st.sampled_from(["", " ", "  ", "   ", "    ", "      ", "\t"])
# A "key: value" whose value is a plain scalar, in block or flow style.
VALUE = re.compile(r"\w: ([^,{}\[\]\n]+)")


@st.composite
def mutated_routines(draw: st.DrawFn) -> str:
    """A valid routine with one to three edits of the kind that break a hand-written file."""
    text = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True)
        kind = draw(st.sampled_from(["delete", "duplicate", "scalar", "indent", "garbage"]))
        if kind == "scalar":
            spans = [m.span(1) for m in VALUE.finditer(text)]
            if spans:
                a, b = draw(st.sampled_from(spans))
                text = text[:a] + yaml_scalar(draw(OTHER_SCALARS)) + text[b:]
        elif kind == "garbage":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(GARBAGE) + text[at:]
        elif lines:
            i = draw(st.integers(0, len(lines) - 1))
            if kind == "delete":
                del lines[i]
            elif kind == "duplicate":
                lines.insert(i, lines[i])
            else:
                lines[i] = draw(INDENTS) + lines[i].lstrip(" \t")
            text = "".join(lines)
    return text


@settings(max_examples=300, deadline=None)
@given(text=st.text() | st.text(alphabet=string.printable), file=FILE_NAMES)
def test_any_text_is_a_routine_or_a_located_error(text: str, file: str) -> None:
    outcome(text, file)


@settings(max_examples=200, deadline=None)
@given(text=mutated_routines(), file=FILE_NAMES)
def test_mutated_routines_are_a_routine_or_a_located_error(text: str, file: str) -> None:
    outcome(text, file)


def test_the_mutations_start_from_valid_routines() -> None:
    # Otherwise the mutation property would only ever mutate an already broken file.
    for name, text in SOURCES.items():
        assert outcome(text, name) is not None


# One routine with every numeric field, for the known bugs in number handling.
NUMBERS = """\
name: Numbers
for: tests
position: seated
safety: Not after surgery.
daily_limit_minutes: {limit}
steps:
  - {{id: r, title: Reps, say: Press., pressure: light, pace: {{reps: {reps}, seconds_per_rep: {spr}}}}}
  - {{id: t, title: Timed, say: Hold., pressure: firm, pace: {{duration: {duration}, cue_every: {every}}}}}
"""
NUMBER_DEFAULTS = {"limit": "10", "reps": "3", "spr": "2", "duration": "30", "every": "10"}


def numbers(**fields: str) -> str:
    return NUMBERS.format(**{**NUMBER_DEFAULTS, **fields})


def test_the_numbers_routine_is_valid() -> None:
    assert outcome(numbers(), "n.yaml") is not None


@settings(max_examples=50, deadline=None)
@example(field="limit", value=".inf")
@given(field=st.sampled_from(["limit", "spr", "duration", "every"]),
       value=st.floats().map(yaml_scalar) | st.sampled_from([".inf", "-.inf", ".nan", "1:30.5", "!!float x"]))
def test_yaml_float_spellings_are_reported_not_crashed(field: str, value: str) -> None:
    outcome(numbers(**{field: value}), "n.yaml")


@settings(max_examples=50, deadline=None)
@example(token="abc")
@given(token=st.text(alphabet=string.ascii_letters, max_size=6))
def test_explicit_int_tags_are_reported_not_crashed(token: str) -> None:
    outcome(numbers(reps=f"!!int {token}"), "n.yaml")


@settings(max_examples=20, deadline=None)
@example(reps=10**309)
@given(reps=st.integers(1, 10**400))
def test_huge_rep_counts_are_reported_not_crashed(reps: int) -> None:
    outcome(numbers(reps=str(reps)), "n.yaml")


@settings(max_examples=50, deadline=None)
@example(key="")
@given(key=st.text(max_size=8))
def test_an_empty_top_level_key_is_named(key: str) -> None:
    outcome(GOOD + yaml.safe_dump({key: "x"}), "good.yaml")


def test_deep_nesting_is_reported_not_crashed() -> None:
    # Not a @given test: Hypothesis raises the recursion limit while it runs a test, hiding the crash.
    outcome("[" * 600 + "]" * 600, "deep.yaml")


# ---- the session ----------------------------------------------------------------------------

# Short steps and a 12 s daily limit, so random streams finish steps, sessions and the limit.
QUICK = parse_routine("""
name: Quick
for: property tests
position: anywhere
safety: Not after surgery.
daily_limit_minutes: 0.2
steps:
  - {id: a, title: A, say: Press., pressure: light, pace: {reps: 2, seconds_per_rep: 1, cues: [in]}}
  - {id: b, title: B, say: Hold., pressure: firm, pace: {duration: 2, cue_every: 0.5, cues: [hold, breathe]}}
  - {id: c, title: C, say: Rest., pressure: medium, pace: {reps: 1, seconds_per_rep: 1.6, cues: [in, out]}}
""", "quick.yaml")
ROUTINES = st.sampled_from([QUICK, ROUTINE, QUESTIONS])
USED_TODAY = st.sampled_from([0.0, 0.0, 6.0, 12.0])  # seconds; only QUICK has a limit (12 s)
GAPS = st.sampled_from([0.0, 0.01, 0.3, 2.0])  # how long after the previous event
TICK = 0.02

# Every command can come, but continue and next twice as often: otherwise most random sessions sit
# paused or stopped and never reach the later steps or the end.
COMMANDS = st.sampled_from([*Command, Command.CONTINUE, Command.NEXT])
_OPS = st.one_of(
    st.tuples(st.just("tick"), st.integers(1, 150)),
    st.tuples(st.just("tick"), st.integers(1, 20)),
    st.tuples(st.just("heard"), GAPS, COMMANDS, st.text(max_size=10), st.none() | st.floats(0, 1)),
    st.tuples(st.just("heard"), GAPS, COMMANDS, st.just(""), st.none()),
    st.tuples(st.just("done"), GAPS),
    st.tuples(st.just("done"), GAPS),
    st.tuples(st.sampled_from(["lost", "back"]), GAPS),
)


def _to_events(ops: list[tuple]) -> list[S.Event]:
    """Ops to events on one clock: ticks every 20 ms, anything else after a small gap."""
    t, events = 0.0, []
    for op in ops:
        if op[0] == "tick":
            for _ in range(op[1]):
                t += TICK
                events.append(S.Tick(t))
            continue
        t += op[1]
        if op[0] == "heard":
            events.append(S.Heard(t, op[2], op[3], op[4]))
        elif op[0] == "done":
            events.append(S.SpeechDone(t))
        elif op[0] == "lost":
            events.append(S.HearingLost(t, "no audio"))
        else:
            events.append(S.HearingBack(t))
    return events


EVENTS = st.lists(_OPS, min_size=20, max_size=60).map(_to_events)
RELEASES = {Command.CONTINUE, Command.NEXT, Command.QUIT}


Step = tuple[S.State, S.Event, S.State, list[S.Action]]


def drive(routine: Routine, used: float, events: list[S.Event], hurt: tuple[str, ...] = ()) -> Iterator[Step]:
    """Run a session from its start; yield (state before, event, state after, actions) per step."""
    state = S.initial(routine)
    for e in [S.Start(0.0, used_today_s=used, hurt_before=hurt), *events]:
        before = state
        state, actions = S.step(state, e)
        yield before, e, state, actions


def _accepted(actions: list[S.Action]) -> bool:
    heard = [a for a in actions if isinstance(a, S.Log) and a.event == "heard"]
    assert len(heard) == 1, "every command is journalled once, accepted or not"
    return heard[0].data["accepted"] is True


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routine=ROUTINES, used=USED_TODAY, events=EVENTS, hurt_first=st.booleans())
def test_session_invariants_hold_for_any_event_stream(routine: Routine, used: float,
                                                      events: list[S.Event], hurt_first: bool) -> None:
    latched = False  # our own model of the stop latch, checked against the machine's mode
    no_so_far = 0  # safety questions answered "no"
    hurt = (routine.steps[0].id,) if hurt_first else ()
    sayable = S.sayable_texts(routine, hurt)
    for before, e, s, actions in drive(routine, used, events, hurt):
        # (a) the step index always points at a step
        assert 0 <= s.step < len(routine.steps)
        says = [a for a in actions if isinstance(a, S.Say)]
        if isinstance(e, S.Heard):
            accepted = _accepted(actions)
            if accepted and e.command.is_safety:
                latched = True
            elif accepted and e.command in RELEASES:
                latched = False
        # (b) a stop latches until continue/next/quit, and while latched only the stop is spoken
        assert latched == (s.mode is Mode.STOPPED), (e, before.mode, s.mode)
        if latched:
            assert all(say.kind == "stop" for say in says), says
        # (c) a stop silences the speaker before it says anything. Deliberate exception (session.py
        # _stop): a repeat of the stop already latched (pain stays pain) is logged only, no Cut, no Say,
        # so the assistant's own "Stopped" picked up by the microphone cannot re-trigger it.
        if isinstance(e, S.Heard) and e.command.is_safety and before.mode is not Mode.FINISHED:
            kinds = [type(a) for a in actions]
            reason = "pain" if e.command is Command.PAIN or before.stop_reason == "pain" else "stop"
            if before.mode is Mode.STOPPED and before.stop_reason == reason:
                assert S.Cut not in kinds and S.Say not in kinds, actions
            else:
                assert S.Cut in kinds and S.Say not in kinds[:kinds.index(S.Cut)], actions
        # (d) time, speech ending and the microphone never release the latch
        if before.mode is Mode.STOPPED and not isinstance(e, S.Heard):
            assert s.mode is Mode.STOPPED
        # (e) every log line is a typed journal event (events.py) and can be journalled
        for a in actions:
            if isinstance(a, S.Log):
                json.dumps(E.to_record(E.make(a.event, e.t, a.data)))
        # (f) the tempo stays within its bounds
        assert S.PACE_MIN - 1e-9 <= s.pace <= S.PACE_MAX + 1e-9
        # (g) a finished session stays finished
        if before.mode is Mode.FINISHED:
            assert s.mode is Mode.FINISHED
        # (h) no step begins before every safety question was answered "no", and "yes" ends it
        answers = [a.data["answer"] for a in actions if isinstance(a, S.Log) and a.event == "safety_answer"]
        no_so_far += answers.count("no")
        if any(isinstance(a, S.Log) and a.event == "step" for a in actions):
            assert no_so_far == len(routine.questions), (no_so_far, routine.questions)
        if "yes" in answers:
            assert s.mode is Mode.FINISHED
        # (i) everything said was rendered before the session started (runner.prerender)
        assert all(say.text in sayable for say in says), [say.text for say in says if say.text not in sayable]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routine=ROUTINES, used=USED_TODAY, events=EVENTS)
def test_the_journal_reads_back_every_logged_event(routine: Routine, used: float,
                                                   events: list[S.Event]) -> None:
    # A tmp_path fixture would be shared by every example; each example needs a fresh file.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "session.jsonl"
        journal = Journal(path)
        written = [journal.write(e.t, a.event, **a.data)
                   for _, e, _, actions in drive(routine, used, events)
                   for a in actions if isinstance(a, S.Log)]
        journal.close()
        read = list(read_journal(path))
    assert len(read) == len(written)
    assert read == written  # nothing lost or altered on the way through JSON
    for record in read:
        assert isinstance(record["t"], (int, float)) and not isinstance(record["t"], bool)
        assert isinstance(record["event"], str) and record["event"]
    times = [r["t"] for r in read]
    assert times == sorted(times)


def _in_intro(s: S.State) -> bool:
    return s.mode is Mode.INTRO or (s.mode in (Mode.PAUSED, Mode.STOPPED) and s.resume is Mode.INTRO)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(routine=ROUTINE, used=0.0, events=[S.Heard(1.0, Command.PAUSE), S.Heard(2.0, Command.NEXT)])
@given(routine=ROUTINES, used=USED_TODAY, events=EVENTS)
def test_next_moves_exactly_one_step(routine: Routine, used: float, events: list[S.Event]) -> None:
    for before, e, s, actions in drive(routine, used, events):
        if not (isinstance(e, S.Heard) and e.command is Command.NEXT and _accepted(actions)):
            continue
        if _in_intro(before):  # the first "next" goes on to the safety questions or the first step
            expected = Mode.CHECK if before.question < len(routine.questions) else Mode.INSTRUCT
            assert (s.mode, s.step) == (expected, 0), (before.mode, before.resume, s.step)
        elif Mode.CHECK in (before.mode, before.resume):  # only "next" out of a stop: asks again
            assert s.mode is Mode.CHECK and s.question == before.question
        else:
            assert s.mode is Mode.FINISHED or s.step == before.step + 1
