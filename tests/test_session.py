"""The pure session machine: every state x every command, plus pacing, pain and hearing loss.

No audio, no sleeps: time is a number on each event.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant import session as S
from assistant.commands import Command
from assistant.routine import parse_routine
from assistant.session import Mode

ROUTINE = parse_routine("""
name: Test routine
for: tests
position: lying down
safety: Not after surgery.
steps:
  - {id: a, title: First, say: Do the first thing., pressure: light,
     pace: {reps: 3, seconds_per_rep: 4, cues: [up, down]}}
  - {id: b, title: Second, say: Do the second thing., pressure: medium,
     pace: {duration: 20, cue_every: 5, cues: [breathe]}}
  - {id: c, title: Third, say: Do the third thing., pressure: firm,
     pace: {reps: 2, seconds_per_rep: 2}}
""", "test.yaml")

QUESTIONS = ROUTINE.__class__(**{**ROUTINE.__dict__, "questions": (
    "Has there been surgery on the back this year?", "Is there tingling in the legs?")})


def run(state: S.State, *events: S.Event) -> tuple[S.State, list[S.Action]]:
    actions: list[S.Action] = []
    for e in events:
        state, more = S.step(state, e)
        actions += more
    return state, actions


def says(actions: list[S.Action]) -> list[S.Say]:
    return [a for a in actions if isinstance(a, S.Say)]


def logs(actions: list[S.Action], name: str) -> list[dict]:
    return [a.data for a in actions if isinstance(a, S.Log) and a.event == name]


def heard(t: float, c: Command) -> S.Heard:
    return S.Heard(t, c, c.value)


# ---- states to start from ------------------------------------------------------------------

def intro() -> S.State:
    return run(S.initial(ROUTINE), S.Start(0.0))[0]


def check(question: int = 0) -> S.State:
    """Asking the safety questions of a routine that has two."""
    s = run(S.initial(QUESTIONS), S.Start(0.0), S.SpeechDone(10.0))[0]
    for _ in range(question):
        s = run(s, S.SpeechDone(s.now + 3), heard(s.now + 4, Command.NO))[0]
    assert s.mode is Mode.CHECK and s.question == question
    return s


def instruct(step: int = 1) -> S.State:
    s = run(intro(), S.SpeechDone(10.0))[0]
    for _ in range(step):
        s = run(s, heard(s.now + 1, Command.NEXT))[0]
    return s


def pace(step: int = 1) -> S.State:
    s = instruct(step)
    return run(s, S.SpeechDone(s.now + 5), S.Tick(s.now + 5.02))[0]


def paused() -> S.State:
    s = pace()
    return run(s, heard(s.now + 1, Command.PAUSE))[0]


def stopped(pain: bool = False) -> S.State:
    s = pace()
    return run(s, heard(s.now + 1, Command.PAIN if pain else Command.STOP))[0]


def finished() -> S.State:
    s = pace()
    return run(s, heard(s.now + 1, Command.QUIT))[0]


STATES = {
    "intro": intro, "check": check, "instruct": instruct, "pace": pace, "paused": paused,
    "stopped": stopped, "stopped-pain": lambda: stopped(pain=True), "finished": finished,
}

# state -> command -> (mode after, step after, accepted)
N = None  # "same as before"
TABLE = {
    "intro": {
        Command.NEXT: (Mode.INSTRUCT, 0, True), Command.BACK: (Mode.INTRO, 0, False),
        Command.REPEAT: (Mode.INTRO, 0, True), Command.PAUSE: (Mode.PAUSED, 0, True),
        Command.CONTINUE: (Mode.INTRO, 0, False), Command.SLOWER: (Mode.INTRO, 0, True),
        Command.FASTER: (Mode.INTRO, 0, True), Command.TIME_LEFT: (Mode.INTRO, 0, True),
        Command.WHERE: (Mode.INTRO, 0, True), Command.HELP: (Mode.INTRO, 0, True),
        Command.QUIT: (Mode.FINISHED, 0, True), Command.STOP: (Mode.STOPPED, 0, True),
        Command.PAIN: (Mode.STOPPED, 0, True),
        Command.YES: (Mode.INTRO, 0, False), Command.NO: (Mode.INTRO, 0, False),
    },
    "check": {  # no way past a question but an answer; "yes" ends the session
        Command.NEXT: (Mode.CHECK, 0, False), Command.BACK: (Mode.CHECK, 0, False),
        Command.REPEAT: (Mode.CHECK, 0, True), Command.PAUSE: (Mode.PAUSED, 0, True),
        Command.CONTINUE: (Mode.CHECK, 0, False), Command.SLOWER: (Mode.CHECK, 0, True),
        Command.FASTER: (Mode.CHECK, 0, True), Command.TIME_LEFT: (Mode.CHECK, 0, True),
        Command.WHERE: (Mode.CHECK, 0, True), Command.HELP: (Mode.CHECK, 0, True),
        Command.QUIT: (Mode.FINISHED, 0, True), Command.STOP: (Mode.STOPPED, 0, True),
        Command.PAIN: (Mode.STOPPED, 0, True),
        Command.YES: (Mode.FINISHED, 0, True), Command.NO: (Mode.CHECK, 0, True),
    },
    "instruct": {
        Command.NEXT: (Mode.INSTRUCT, 2, True), Command.BACK: (Mode.INSTRUCT, 0, True),
        Command.REPEAT: (Mode.INSTRUCT, 1, True), Command.PAUSE: (Mode.PAUSED, 1, True),
        Command.CONTINUE: (Mode.INSTRUCT, 1, False), Command.SLOWER: (Mode.INSTRUCT, 1, True),
        Command.FASTER: (Mode.INSTRUCT, 1, True), Command.TIME_LEFT: (Mode.INSTRUCT, 1, True),
        Command.WHERE: (Mode.INSTRUCT, 1, True), Command.HELP: (Mode.INSTRUCT, 1, True),
        Command.QUIT: (Mode.FINISHED, 1, True), Command.STOP: (Mode.STOPPED, 1, True),
        Command.PAIN: (Mode.STOPPED, 1, True),
        Command.YES: (Mode.INSTRUCT, 1, False), Command.NO: (Mode.INSTRUCT, 1, False),
    },
    "pace": {
        Command.NEXT: (Mode.INSTRUCT, 2, True), Command.BACK: (Mode.INSTRUCT, 0, True),
        Command.REPEAT: (Mode.INSTRUCT, 1, True), Command.PAUSE: (Mode.PAUSED, 1, True),
        Command.CONTINUE: (Mode.PACE, 1, False), Command.SLOWER: (Mode.PACE, 1, True),
        Command.FASTER: (Mode.PACE, 1, True), Command.TIME_LEFT: (Mode.PACE, 1, True),
        Command.WHERE: (Mode.PACE, 1, True), Command.HELP: (Mode.PACE, 1, True),
        Command.QUIT: (Mode.FINISHED, 1, True), Command.STOP: (Mode.STOPPED, 1, True),
        Command.PAIN: (Mode.STOPPED, 1, True),
        Command.YES: (Mode.PACE, 1, False), Command.NO: (Mode.PACE, 1, False),
    },
    "paused": {
        Command.NEXT: (Mode.INSTRUCT, 2, True), Command.BACK: (Mode.INSTRUCT, 0, True),
        Command.REPEAT: (Mode.INSTRUCT, 1, True), Command.PAUSE: (Mode.PAUSED, 1, False),
        Command.CONTINUE: (Mode.PACE, 1, True), Command.SLOWER: (Mode.PAUSED, 1, True),
        Command.FASTER: (Mode.PAUSED, 1, True), Command.TIME_LEFT: (Mode.PAUSED, 1, True),
        Command.WHERE: (Mode.PAUSED, 1, True), Command.HELP: (Mode.PAUSED, 1, True),
        Command.QUIT: (Mode.FINISHED, 1, True), Command.STOP: (Mode.STOPPED, 1, True),
        Command.PAIN: (Mode.STOPPED, 1, True),
        Command.YES: (Mode.PAUSED, 1, False), Command.NO: (Mode.PAUSED, 1, False),
    },
}
_STOPPED = {c: (Mode.STOPPED, 1, False) for c in Command}
_STOPPED.update({Command.CONTINUE: (Mode.INSTRUCT, 1, True), Command.NEXT: (Mode.INSTRUCT, 2, True),
                 Command.QUIT: (Mode.FINISHED, 1, True), Command.HELP: (Mode.STOPPED, 1, True),
                 Command.STOP: (Mode.STOPPED, 1, True), Command.PAIN: (Mode.STOPPED, 1, True)})
TABLE["stopped"] = _STOPPED
TABLE["stopped-pain"] = dict(_STOPPED)
TABLE["finished"] = {c: (Mode.FINISHED, 1, False) for c in Command}

CASES = [(name, c) for name in STATES for c in Command]


def test_the_table_covers_every_state_and_command():
    assert set(TABLE) == set(STATES)
    for row in TABLE.values():
        assert set(row) == set(Command)


@pytest.mark.parametrize(("state_name", "command"), CASES, ids=[f"{n}-{c.value}" for n, c in CASES])
def test_every_state_and_command(state_name, command):
    before = STATES[state_name]()
    after, actions = S.step(before, heard(before.now + 0.5, command))
    mode, step, accepted = TABLE[state_name][command]
    assert after.mode is mode
    assert after.step == step
    log = logs(actions, "heard")
    assert len(log) == 1 and log[0]["accepted"] is accepted
    repeated = before.mode is Mode.STOPPED and command.is_safety and (
        command is Command.STOP or before.stop_reason == "pain")
    if command.is_safety and before.mode is not Mode.FINISHED and not repeated:
        assert isinstance(actions[1], S.Cut), "a stop cuts speech before anything else"
        assert all(s.kind == "stop" for s in says(actions))
    if repeated:  # already latched for this reason: the confirmation is not said again
        assert not says(actions) and not [a for a in actions if isinstance(a, S.Cut)]
    if before.mode is Mode.STOPPED and after.mode is Mode.STOPPED:
        assert all(s.kind == "stop" for s in says(actions)), "the latch speaks only of the stop"
    if not accepted:
        assert not [a for a in actions if isinstance(a, S.Cut)]


def test_stop_latches_against_time_and_speech_ending():
    s = stopped()
    s, actions = run(s, *[S.Tick(s.now + i * 0.02) for i in range(1, 3000)], S.SpeechDone(s.now + 61))
    assert s.mode is Mode.STOPPED
    assert not says(actions)


def test_pain_is_recorded_and_continue_asks_for_lighter_pressure():
    s = stopped(pain=True)
    assert s.pain_steps == (1,)
    s, actions = S.step(s, heard(s.now + 1, Command.CONTINUE))
    assert s.mode is Mode.INSTRUCT and s.step == 1
    assert "lighter" in says(actions)[0].text
    assert logs(actions, "resumed")[0]["lighter"] is True


def test_stop_then_pain_counts_as_pain():
    s = stopped()
    s, actions = S.step(s, heard(s.now + 1, Command.PAIN))
    assert s.stop_reason == "pain" and logs(actions, "stopped")[0]["reason"] == "pain"


def test_next_while_paused_in_the_intro_starts_the_first_step():
    s = run(intro(), heard(1.0, Command.PAUSE))[0]
    s2, _ = S.step(s, heard(2.0, Command.NEXT))
    assert (s2.mode, s2.step) == (Mode.INSTRUCT, 0)
    s3, actions = S.step(s, heard(2.0, Command.REPEAT))
    assert s3.mode is Mode.INTRO and says(actions)[0].kind == "intro"


def test_stop_in_intro_resumes_into_the_intro():
    s = run(intro(), heard(1.0, Command.STOP))[0]
    s, actions = S.step(s, heard(2.0, Command.CONTINUE))
    assert s.mode is Mode.INTRO and says(actions)[0].kind == "intro"


def test_reps_are_counted_on_the_beat_with_cues_between():
    s = instruct(0)
    s, actions = run(s, S.SpeechDone(20.0), *[S.Tick(20.0 + i * 0.02) for i in range(1, 800)])
    spoken = [(a.text) for a in says(actions)]
    assert spoken[:6] == ["One. up", "down", "Two. up", "down", "Three. up", "down"]
    assert s.step == 1 and s.mode is Mode.INSTRUCT  # moved on after three rounds
    assert [d["n"] for d in logs(actions, "rep")] == [1, 2, 3]


def test_slower_stretches_the_beat_by_about_fifteen_percent():
    s = pace(0)  # rounds of 4 s with two cues: a beat every 2 s
    t0 = s.now
    s, _ = S.step(s, heard(t0, Command.SLOWER))
    assert s.pace == pytest.approx(1.15)
    beats = []
    for i in range(1, 400):
        s, actions = S.step(s, S.Tick(t0 + i * 0.02))
        beats += [s.now for a in says(actions)]
    gaps = list(np.diff(beats))
    assert gaps[1:] == pytest.approx([2.3] * len(gaps[1:]), abs=0.021)


def test_pace_has_bounds():
    s = pace(0)
    for i in range(10):
        s, actions = S.step(s, heard(s.now + 0.1 * (i + 1), Command.FASTER))
    assert s.pace == pytest.approx(S.PACE_MIN)
    assert says(actions)[-1].text == "This is the fastest pace."


def test_timed_step_runs_its_duration_and_moves_on():
    s = pace(1)  # 20 s, a cue every 5 s
    start = s.now
    s, actions = run(s, *[S.Tick(start + i * 0.02) for i in range(1, 1100)])
    assert s.step == 2
    assert [a.text for a in says(actions)].count("breathe") >= 3


def test_next_on_the_last_step_finishes():
    s = instruct(2)
    s, actions = S.step(s, heard(s.now + 1, Command.NEXT))
    assert s.mode is Mode.FINISHED
    assert logs(actions, "finished")[0]["reason"] == "completed"
    s, actions = S.step(s, S.SpeechDone(s.now + 3))
    assert any(isinstance(a, S.End) for a in actions)


def test_losing_the_microphone_pauses_and_continue_waits_for_it():
    s = pace()
    s, actions = S.step(s, S.HearingLost(s.now + 1, "no audio"))
    assert s.mode is Mode.PAUSED and isinstance(actions[1], S.Cut)
    assert logs(actions, "hearing_lost") == [{"reason": "no audio"}]
    s, actions = S.step(s, heard(s.now + 1, Command.CONTINUE))
    assert s.mode is Mode.PAUSED and logs(actions, "heard")[0]["ignored"] == "no microphone"
    s, _ = S.step(s, S.HearingBack(s.now + 1))
    s, _ = S.step(s, heard(s.now + 1, Command.CONTINUE))
    assert s.mode is Mode.PACE


def test_daily_limit_ends_the_session():
    routine = parse_routine("""
name: Roll
for: me
position: floor
safety: careful
daily_limit_minutes: 1
steps:
  - {id: r, title: Roll, say: Roll., pressure: light, pace: {duration: 60, cue_every: 10}}
""", "roll.yaml")
    s = run(S.initial(routine), S.Start(0.0, used_today_s=30.0), S.SpeechDone(5.0),
            S.SpeechDone(10.0))[0]
    assert s.mode is Mode.PACE
    s, actions = run(s, *[S.Tick(10.0 + i * 0.02) for i in range(1, 2000)])
    assert s.mode is Mode.FINISHED
    assert logs(actions, "finished")[0]["reason"] == "daily_limit"
    assert s.used_s == pytest.approx(60.0, abs=0.1)
    done = run(S.initial(routine), S.Start(0.0, used_today_s=60.0))[0]
    assert done.mode is Mode.FINISHED


def test_losing_the_speaker_pauses_and_continue_waits_for_it():
    s = pace()
    s, actions = S.step(s, S.SpeakerLost(s.now + 1, "gone"))
    assert s.mode is Mode.PAUSED and s.pause_reason == "speaker"
    s, actions = S.step(s, heard(s.now + 1, Command.CONTINUE))
    assert s.mode is Mode.PAUSED and logs(actions, "heard")[0]["ignored"] == "no speaker"
    s, actions = S.step(s, S.SpeakerBack(s.now + 1))
    assert "speaker works again" in says(actions)[0].text
    s, _ = S.step(s, heard(s.now + 1, Command.CONTINUE))
    assert s.mode is Mode.PACE


# ---- the safety questions and the memory of pain ---------------------------------------------

def test_the_questions_come_after_the_intro_and_before_the_first_step():
    s, actions = run(S.initial(QUESTIONS), S.Start(0.0), S.SpeechDone(10.0))
    assert s.mode is Mode.CHECK
    assert says(actions)[-1].text == ("First, two safety questions. Has there been surgery on the back "
                                      "this year? Say yes or no.")
    s, actions = run(s, S.SpeechDone(13.0), heard(14.0, Command.NO))
    assert s.mode is Mode.CHECK and s.question == 1
    assert says(actions)[-1].text == "Is there tingling in the legs? Say yes or no."
    s, actions = run(s, heard(15.0, Command.NO))  # answered over the question: it is cut
    assert isinstance(actions[1], S.Cut)
    assert (s.mode, s.step) == (Mode.INSTRUCT, 0)
    assert [a["answer"] for a in logs(actions, "safety_answer")] == ["no"]


def test_yes_ends_the_session_with_the_advice_to_see_a_doctor():
    s, actions = run(check(1), heard(30.0, Command.YES))
    assert s.mode is Mode.FINISHED
    assert logs(actions, "safety_answer") == [{"index": 1, "question": "Is there tingling in the legs?",
                                               "answer": "yes"}]
    assert logs(actions, "finished")[0]["reason"] == "safety_check"
    assert "see a doctor" in says(actions)[-1].text
    assert not logs(actions, "step")


def test_next_in_the_intro_goes_to_the_questions_not_past_them():
    s, _ = run(S.initial(QUESTIONS), S.Start(0.0), heard(1.0, Command.NEXT))
    assert s.mode is Mode.CHECK and s.question == 0
    s, actions = S.step(s, heard(2.0, Command.NEXT))
    assert s.mode is Mode.CHECK and logs(actions, "heard")[0]["ignored"] == "safety question"


def test_a_stop_during_a_question_asks_it_again_on_continue():
    s = run(check(1), heard(30.0, Command.STOP))[0]
    s, actions = run(s, heard(31.0, Command.NO))  # no answer through the latch
    assert s.mode is Mode.STOPPED and not logs(actions, "safety_answer")
    s, actions = S.step(s, heard(32.0, Command.CONTINUE))
    assert s.mode is Mode.CHECK and s.question == 1
    assert says(actions)[-1].text.startswith("Is there tingling")


def test_an_unanswered_question_is_asked_again():
    s = run(check(0), S.SpeechDone(13.0))[0]
    s, actions = run(s, *[S.Tick(13.0 + i * 0.5) for i in range(1, 2 * int(S.REASK_S))])
    assert not says(actions)
    s, actions = S.step(s, S.Tick(13.0 + S.REASK_S))
    assert says(actions)[0].kind == "question" and s.mode is Mode.CHECK


def test_yes_and_no_mean_nothing_outside_the_questions():
    s, actions = S.step(pace(), heard(30.0, Command.YES))
    assert s.mode is Mode.PACE and logs(actions, "heard")[0]["ignored"] == "no question asked"


def test_skipping_the_check_goes_straight_to_the_steps_and_says_so_in_the_journal():
    s, actions = run(S.initial(QUESTIONS), S.Start(0.0, skip_check=True), S.SpeechDone(10.0))
    assert (s.mode, s.step) == (Mode.INSTRUCT, 0)
    assert logs(actions, "started")[0]["safety_check"] == "skipped"


def test_steps_that_hurt_last_time_are_named_in_the_intro_and_at_the_step():
    s, actions = run(S.initial(ROUTINE), S.Start(0.0, hurt_before=("b", "c")))
    assert "Last time, second and third hurt: keep them light." in says(actions)[0].text
    assert logs(actions, "started")[0]["hurt_before"] == ["b", "c"]
    s, actions = run(s, S.SpeechDone(10.0))
    assert "hurt last time" not in says(actions)[0].text  # step a did not hurt
    s, actions = S.step(s, heard(11.0, Command.NEXT))
    assert says(actions)[-1].text.endswith("This step hurt last time: keep it light.")


def test_a_key_press_is_journalled_as_a_key():
    s, actions = S.step(pace(), S.Heard(30.0, Command.PAUSE, "space", source="key"))
    assert s.mode is Mode.PAUSED
    assert logs(actions, "heard")[0]["source"] == "key"


@pytest.mark.parametrize("command", list(Command))
def test_what_the_microphone_heard_of_the_assistants_own_voice_is_never_obeyed(command):
    for state in (pace(), intro(), stopped(), paused(), check()):
        e = S.Heard(state.now + 0.5, command, command.value, own_voice=True)
        s, actions = S.step(state, e)
        assert (s.mode, s.step, s.rep) == (state.mode, state.step, state.rep)
        assert [a for a in actions if not isinstance(a, S.Log)] == []
        assert logs(actions, "heard") == [{"command": command.value, "text": command.value,
                                           "accepted": False, "final": True, "ignored": "own voice"}]


@pytest.mark.parametrize("command", [Command.CONTINUE, Command.NEXT])
def test_the_latch_is_not_released_by_what_might_be_the_assistants_own_voice(command):
    """Over its own voice, a continue or next the echo path cannot tell from that voice does not
    release a stop; the same said where it can (or a key) does."""
    state = stopped()
    e = S.Heard(state.now + 0.5, command, command.value, over_voice=True)
    s, actions = S.step(state, e)
    assert s.mode is Mode.STOPPED and [a for a in actions if not isinstance(a, S.Log)] == []
    assert logs(actions, "heard")[0]["ignored"] == "over my voice"
    s, _ = S.step(state, S.Heard(state.now + 0.5, command, command.value))
    assert s.mode is not Mode.STOPPED
