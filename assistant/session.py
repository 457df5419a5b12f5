"""The session: a pure state machine, `step(state, event) -> (state, actions)`.

No I/O, no clock, no audio. Every rule of the product lives here: what "next" means on the
last step, that a stop latches and only an explicit command releases it, that losing the
microphone pauses. Time comes in on the events (`t`, seconds of microphone stream time).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from .commands import Command
from .heard import Heard
from .routine import RepPace, Routine, Step, TimedPace

PACE_STEP = 1.15  # one "slower"/"faster" changes the tempo by about 15 %
PACE_MIN, PACE_MAX = 1 / PACE_STEP**4, PACE_STEP**4  # four steps either way, about 0.57x to 1.75x
WORDS_PER_SECOND = 2.6  # rough speaking speed for time estimates only


class Mode(str, Enum):
    INTRO = "intro"  # welcome and safety introduction are being spoken
    CHECK = "check"  # a safety question was asked; waiting for yes or no
    INSTRUCT = "instruct"  # a step's instructions are being spoken
    PACE = "pace"  # counting repetitions / timing the step
    PAUSED = "paused"
    STOPPED = "stopped"  # safety latch: only continue, next or quit release it
    FINISHED = "finished"


# ---- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    t: float
    used_today_s: float = 0.0  # time already spent today on a routine with a daily limit
    hurt_before: tuple[str, ...] = ()  # ids of steps stopped for pain in recent sessions
    skip_check: bool = False  # the safety questions were already answered today


@dataclass(frozen=True)
class Tick:
    t: float


@dataclass(frozen=True)
class SpeechDone:
    """Everything queued for speaking has been played (not sent after a cut)."""

    t: float


@dataclass(frozen=True)
class HearingLost:
    t: float
    reason: str


@dataclass(frozen=True)
class HearingBack:
    t: float


@dataclass(frozen=True)
class SpeakerLost:
    t: float
    reason: str


@dataclass(frozen=True)
class SpeakerBack:
    t: float


Event = Start | Heard | Tick | SpeechDone | HearingLost | HearingBack | SpeakerLost | SpeakerBack


# ---- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    text: str
    kind: str = "info"  # intro, instruction, count, cue, info, stop


@dataclass(frozen=True)
class Cut:
    """Silence the speaker now and drop everything queued."""


@dataclass(frozen=True)
class Log:
    event: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class End:
    reason: str


Action = Say | Cut | Log | End


# ---- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    routine: Routine
    mode: Mode = Mode.INTRO
    now: float = 0.0
    step: int = 0
    rep: int = 0  # repetitions begun in this step
    beat: int = 0  # beats fired in this step (reps x cues, or timed cues)
    clock: float = 0.0  # seconds spent pacing this step (pauses and speech excluded)
    next_beat: float = 0.0  # value of `clock` at which the next beat fires
    pace: float = 1.0  # >1 is slower
    resume: Mode | None = None  # where a pause returns to
    pause_reason: str = ""
    stop_reason: str = ""  # "stop" or "pain" while STOPPED
    lighter: bool = False  # after pain, remind to go lighter
    hearing: bool = True
    speaker: bool = True  # the output device works: without it no instruction reaches anyone
    used_s: float = 0.0  # pacing time counted against the daily limit
    pain_steps: tuple[int, ...] = ()
    question: int = 0  # index of the safety question being asked (or the next one)
    answered_at: float | None = None  # when the question finished being spoken, while waiting
    hurt_before: tuple[str, ...] = ()

    @property
    def current(self) -> Step:
        return self.routine.steps[self.step]


def initial(routine: Routine) -> State:
    return State(routine=routine)


# ---- texts ---------------------------------------------------------------------------------

HELP_TEXT = (
    "You can say: next, back, repeat, pause, continue, slower, faster, how long, "
    "where am I, or quit. Say stop, or ouch, at any time and I stop at once."
)
STOP_TEXT = "Stopped. Lift your hands."
PAIN_TEXT = "Stopped. Lift your hands and let the pain settle."
STOPPED_HINT = "Say continue to start this step again, next to skip it, or quit to end."
# Before the first step (the introduction, the safety questions) there is no step to start again.
STOPPED_HINT_BEFORE = "Say continue when you are ready, or quit to end."


def stopped_hint(s: State) -> str:
    """What a stopped session tells the person they can say."""
    return STOPPED_HINT_BEFORE if before_steps(s) else STOPPED_HINT
DOCTOR_TEXT = ("Then we will not massage today. Please see a doctor first, and come back when "
               "they say it is safe. Take care.")
ANSWER_HINT = "Please answer yes or no."
REASK_S = 20.0  # a question left unanswered this long is asked again

_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()


def number_word(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def minutes_text(seconds: float) -> str:
    if seconds < 60:
        return f"{max(5, round(seconds / 5) * 5)} seconds"
    minutes = round(seconds / 60)
    return "one minute" if minutes == 1 else f"{number_word(minutes)} minutes"


def estimate_s(r: Routine) -> float:
    """Length of a whole session: the paced time, plus the time to speak the introduction, the
    safety questions and each step's instructions."""
    words = sum(len(step.instructions.split()) + 12 for step in r.steps)
    words += len(f"{r.safety} {r.position}".split()) + 30
    words += sum(len(q.split()) + 4 for q in r.questions)
    return r.seconds + words / WORDS_PER_SECOND


def hurt_text(r: Routine, hurt: tuple[str, ...]) -> str:
    """What the intro says about steps that hurt in recent sessions ("" when none did)."""
    titles = [st.title[:1].lower() + st.title[1:] for st in r.steps if st.id in hurt]
    if not titles:
        return ""
    named = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    return f"Last time, {named} hurt: keep {'it' if len(titles) == 1 else 'them'} light."


def intro_text(r: Routine, hurt: tuple[str, ...] = ()) -> str:
    memory = hurt_text(r, hurt)
    return (
        f"Welcome. This is {r.name}, about {minutes_text(estimate_s(r))}. {r.safety} "
        + (f"{memory} " if memory else "")
        + f"Set-up: {r.position} Say help at any time to hear the commands. "
        "Say stop, or ouch, and I stop at once."
    )


def question_text(r: Routine, index: int) -> str:
    n = len(r.questions)
    lead = ""
    if index == 0:
        lead = "First, a safety question. " if n == 1 else f"First, {number_word(n)} safety questions. "
    return f"{lead}{r.questions[index]} Say yes or no."


def step_text(s: State, lighter: bool = False) -> str:
    step = s.current
    n = len(s.routine.steps)
    pace = step.pace
    if isinstance(pace, RepPace):
        plan = f"{number_word(pace.reps)} slow rounds."
    else:
        plan = f"for {minutes_text(pace.duration)}."
    parts = [f"Step {number_word(s.step + 1)} of {number_word(n)}: {step.title}.",
             step.instructions, f"Use {step.pressure.value} pressure, {plan}"]
    parts += list(step.cautions)
    if lighter:
        parts.append("Go lighter this time.")
    elif s.step in s.pain_steps:
        parts.append("This step hurt earlier: keep it light.")
    elif step.id in s.hurt_before:
        parts.append("This step hurt last time: keep it light.")
    return " ".join(parts)


# ---- helpers ------------------------------------------------------------------------------


def _beat_interval(s: State) -> float:
    pace = s.current.pace
    if isinstance(pace, RepPace):
        return pace.seconds_per_rep * s.pace / max(1, len(pace.cues))
    return pace.cue_every * s.pace


def remaining_s(s: State) -> float:
    """Estimated seconds to the end: what is left of this step plus the steps after it."""
    total = 0.0
    for i in range(s.step, len(s.routine.steps)):
        step = s.routine.steps[i]
        pace = step.pace
        seconds = pace.seconds * (s.pace if isinstance(pace, RepPace) else 1.0)
        if i == s.step and s.mode in (Mode.PACE, Mode.PAUSED, Mode.STOPPED):
            seconds = max(0.0, seconds - s.clock)
        else:
            seconds += len(step.instructions.split()) / WORDS_PER_SECOND
        total += seconds
    return total


def _begin_step(s: State, index: int, *, lighter: bool = False) -> tuple[State, list[Action]]:
    s = replace(s, mode=Mode.INSTRUCT, step=index, rep=0, beat=0, clock=0.0, next_beat=0.0,
                resume=None, pause_reason="", stop_reason="", lighter=lighter)
    step = s.current
    return s, [Log("step", {"index": index, "id": step.id, "title": step.title}),
               Say(step_text(s, lighter), "instruction")]


def before_steps(s: State) -> bool:
    """The introduction or the safety questions: no step has begun yet."""
    return Mode.INTRO in (s.mode, s.resume) or Mode.CHECK in (s.mode, s.resume)


def _ask(s: State) -> tuple[State, list[Action]]:
    q = s.question
    s = replace(s, mode=Mode.CHECK, resume=None, pause_reason="", stop_reason="", answered_at=None)
    return s, [Log("question", {"index": q, "text": s.routine.questions[q]}),
               Say(question_text(s.routine, q), "question")]


def _after_intro(s: State) -> tuple[State, list[Action]]:
    """The safety questions not yet answered, then the first step."""
    if s.question < len(s.routine.questions):
        return _ask(s)
    return _begin_step(s, 0)


def _answer(s: State, e: Heard) -> tuple[State, list[Action]]:
    yes = e.command is Command.YES
    q = s.question
    answer = Log("safety_answer", {"index": q, "question": s.routine.questions[q],
                                   "answer": "yes" if yes else "no"})
    if yes:  # a reason not to massage today: nothing after this but the advice
        s2, actions = _finish(s, "safety_check", DOCTOR_TEXT)
        return s2, [_heard_log(e, True), Cut(), answer, *actions]
    s2, actions = _after_intro(replace(s, question=q + 1))
    return s2, [_heard_log(e, True), Cut(), answer, *actions]


def _finish(s: State, reason: str, text: str) -> tuple[State, list[Action]]:
    return replace(s, mode=Mode.FINISHED), [
        Log("finished", {"reason": reason, "step": s.step}), Say(text, "info")]


def _advance(s: State) -> tuple[State, list[Action]]:
    if s.step + 1 < len(s.routine.steps):
        return _begin_step(s, s.step + 1)
    return _finish(s, "completed", "That was the last step. Well done. Rest for a moment.")


def _fire_beats(s: State) -> tuple[State, list[Action]]:
    """Fire every beat whose time has come; finish the step after the last one."""
    actions: list[Action] = []
    pace = s.current.pace
    while s.mode is Mode.PACE and s.clock + 1e-9 >= s.next_beat:
        if isinstance(pace, RepPace):
            per_rep = max(1, len(pace.cues))
            if s.beat >= pace.reps * per_rep:
                done, more = _advance(s)
                return done, [*actions, *more]
            within = s.beat % per_rep
            if within == 0:
                rep = s.rep + 1
                cue = f"{number_word(rep).capitalize()}." + (f" {pace.cues[0]}" if pace.cues else "")
                actions += [Log("rep", {"step": s.step, "n": rep}), Say(cue, "count")]
                s = replace(s, rep=rep)
            else:
                actions.append(Say(pace.cues[within], "cue"))
        else:
            if s.clock + 1e-9 >= pace.duration:
                done, more = _advance(s)
                return done, [*[*actions, Say("Time.", "cue")], *more]
            left = pace.duration - s.clock
            if s.beat > 0 and abs(left - 30) < _beat_interval(s) / 2 and pace.duration >= 90:
                actions.append(Say("Thirty seconds left.", "cue"))
            elif pace.cues:
                actions.append(Say(pace.cues[s.beat % len(pace.cues)], "cue"))
            if s.beat == 0:
                actions.append(Log("rep", {"step": s.step, "n": 1}))
        interval = _beat_interval(s)
        next_beat = s.next_beat + interval
        if isinstance(pace, TimedPace):
            next_beat = min(next_beat, pace.duration)
        s = replace(s, beat=s.beat + 1, next_beat=next_beat)
    return s, actions


def _tick_clock(s: State, t: float) -> State:
    dt = max(0.0, t - s.now)
    if s.mode is Mode.PACE:
        return replace(s, now=t, clock=s.clock + dt, used_s=s.used_s + dt)
    return replace(s, now=t)


BLOCK_GRACE = 0.05  # a routine that fills the limit exactly may finish its last beat


def _limit_reached(s: State, grace: float = 0.0) -> bool:
    limit = s.routine.daily_limit_minutes
    return limit is not None and s.used_s >= limit * 60 + grace


def _stop(s: State, command: Command) -> tuple[State, list[Action]]:
    pain = command is Command.PAIN or s.stop_reason == "pain"
    reason = "pain" if pain else "stop"
    if s.mode is Mode.STOPPED and reason == s.stop_reason:
        # Already latched for this reason: nothing to cut and nothing new to say. Saying the
        # confirmation again would let the assistant's own "Stopped" re-trigger itself.
        return s, [Log("stopped_again", {"reason": reason, "step": s.step})]
    pain_steps = s.pain_steps
    if pain and s.step not in pain_steps:
        pain_steps = (*pain_steps, s.step)
    step = s.current
    s2 = replace(s, mode=Mode.STOPPED, stop_reason=reason, pain_steps=pain_steps,
                 resume=s.resume if s.mode in (Mode.PAUSED, Mode.STOPPED) else s.mode)
    return s2, [
        Cut(),
        Log("stopped", {"reason": reason, "step": s.step, "id": step.id}),
        Say(PAIN_TEXT if pain else STOP_TEXT, "stop"),
        Say(stopped_hint(s2), "stop"),
    ]


def _pause(s: State, reason: str, text: str) -> tuple[State, list[Action]]:
    s2 = replace(s, mode=Mode.PAUSED, resume=s.mode, pause_reason=reason)
    return s2, [Cut(), Log("paused", {"reason": reason, "step": s.step}), Say(text, "info")]


def _resume_paused(s: State) -> tuple[State, list[Action]]:
    log = Log("resumed", {"from": "paused", "step": s.step})
    if s.resume is Mode.INTRO:
        return replace(s, mode=Mode.INTRO, resume=None), [log, Say(_intro(s), "intro")]
    if s.resume is Mode.CHECK:
        s2, actions = _ask(s)
        return s2, [log, *actions]
    if s.resume is Mode.PACE:
        # Restart the interrupted beat from its start, so the count picks up cleanly.
        s2 = replace(s, mode=Mode.PACE, resume=None, pause_reason="")
        s2, beats = _fire_beats(s2)
        return s2, [log, Say("Continuing.", "info"), *beats]
    s2, actions = _begin_step(s, s.step, lighter=s.lighter)
    return s2, [log, *actions[1:]]  # the step did not change: no second "step" event


def _heard_log(e: Heard, accepted: bool, why: str = "") -> Log:
    data: dict = {"command": e.command.value, "text": e.text, "accepted": accepted,
                  "final": e.final}
    if e.confidence is not None:
        data["confidence"] = round(e.confidence, 3)
    if e.source != "voice":
        data["source"] = e.source
    if e.path:
        data["path"] = e.path
    if e.over_voice:
        data["over_voice"] = True
    if why:
        data["ignored"] = why
    return Log("heard", data)


def _status_text(s: State) -> str:
    step = s.current
    n = len(s.routine.steps)
    text = f"Step {number_word(s.step + 1)} of {number_word(n)}, {step.title}."
    if isinstance(step.pace, RepPace) and s.rep:
        text += f" Round {number_word(s.rep)} of {number_word(step.pace.reps)}."
    return text


def sayable_texts(r: Routine, hurt: tuple[str, ...] = ()) -> set[str]:
    """Every text the machine can say in a session of `r` (tests/test_properties.py checks it
    against random streams of events), so that all of it is rendered before the first word and
    no render ever waits between a command and its answer."""
    texts = {intro_text(r, hurt), STOP_TEXT, PAIN_TEXT, STOPPED_HINT, STOPPED_HINT_BEFORE, HELP_TEXT,
             DOCTOR_TEXT, ANSWER_HINT, "Paused. Say continue when you are ready.", "Continuing.",
             "Slower.", "Faster.", "This is the slowest pace.", "This is the fastest pace.",
             "This is the first step.", "Time.", "Thirty seconds left.",
             "That was the last step. Well done. Rest for a moment.",
             "Ending the session here. Well done.", "Ending the session here. Rest now."}
    texts.update(text for pair in _DEVICES.values() for text in pair)
    texts.update(question_text(r, i) for i in range(len(r.questions)))
    if r.daily_limit_minutes:
        limit = minutes_text(r.daily_limit_minutes * 60)
        texts.add(f"That is today's {limit}. We stop here. Rest now.")
        texts.add(f"You have already had today's {limit} of this. Give the muscles a rest and try "
                  "again tomorrow.")
    longest = 0.0
    for i, step in enumerate(r.steps):
        pace = step.pace
        base = State(routine=r, step=i, hurt_before=hurt)
        texts.update({step_text(base), step_text(base, lighter=True),
                      step_text(replace(base, pain_steps=(i,)))})
        texts.update(pace.cues)
        reps = pace.reps if isinstance(pace, RepPace) else 0
        for n in range(1, reps + 1):
            texts.add(f"{number_word(n).capitalize()}." + (f" {pace.cues[0]}" if pace.cues else ""))
        texts.update(_status_text(replace(base, rep=n)) for n in range(reps + 1))
        longest += pace.seconds * PACE_MAX + len(step.instructions.split()) / WORDS_PER_SECOND
    texts.update(f"About {minutes_text(seconds)} left." for seconds in range(0, int(longest) + 61, 5))
    return texts


# ---- the machine --------------------------------------------------------------------------


def step(s: State, e: Event) -> tuple[State, list[Action]]:
    s = _tick_clock(s, e.t)
    if isinstance(e, Start):
        return _on_start(s, e)
    if isinstance(e, Heard):
        return _on_heard(s, e)
    if isinstance(e, Tick):
        return _on_tick(s)
    if isinstance(e, SpeechDone):
        return _on_speech_done(s)
    if isinstance(e, HearingLost):
        return _device_lost(s, "hearing", e.reason)
    if isinstance(e, HearingBack):
        return _device_back(s, "hearing")
    if isinstance(e, SpeakerLost):
        return _device_lost(s, "speaker", e.reason)
    if isinstance(e, SpeakerBack):
        return _device_back(s, "speaker")
    raise TypeError(f"unknown event {e!r}")


def _on_start(s: State, e: Start) -> tuple[State, list[Action]]:
    s = replace(s, used_s=e.used_today_s, hurt_before=e.hurt_before,
                question=len(s.routine.questions) if e.skip_check else 0)
    if _limit_reached(s):
        return _finish(s, "daily_limit",
                       f"You have already had today's {minutes_text(s.routine.daily_limit_minutes * 60)}"
                       " of this. Give the muscles a rest and try again tomorrow.")
    started = {"routine": s.routine.name, "steps": len(s.routine.steps)}
    if e.skip_check and s.routine.questions:
        started["safety_check"] = "skipped"
    if e.hurt_before:
        started["hurt_before"] = list(e.hurt_before)
    return replace(s, mode=Mode.INTRO), [Log("started", started), Say(_intro(s), "intro")]


def _intro(s: State) -> str:
    return intro_text(s.routine, s.hurt_before)


def _on_tick(s: State) -> tuple[State, list[Action]]:
    if s.mode is Mode.CHECK and s.answered_at is not None and s.now - s.answered_at >= REASK_S:
        return _ask(s)  # nobody answered: ask again rather than wait silently for ever
    if s.mode is not Mode.PACE:
        return s, []
    if _limit_reached(s, grace=BLOCK_GRACE):
        limit = minutes_text(s.routine.daily_limit_minutes * 60)
        return _finish(s, "daily_limit", f"That is today's {limit}. We stop here. Rest now.")
    return _fire_beats(s)


def _on_speech_done(s: State) -> tuple[State, list[Action]]:
    if s.mode is Mode.INTRO:
        return _after_intro(s)
    if s.mode is Mode.CHECK:
        return replace(s, answered_at=s.now), []
    if s.mode is Mode.INSTRUCT:
        return _fire_beats(replace(s, mode=Mode.PACE))
    if s.mode is Mode.FINISHED:
        return s, [End("finished")]
    return s, []


# Devices the session needs: the state field that says it works, and what is said about it.
_DEVICES = {
    "hearing": ("I can no longer hear you, so I have paused. "
                "Lift your hands. Say continue when the microphone works again.",
                "I can hear you again. Say continue when you are ready."),
    "speaker": ("The speaker has gone, so I have paused.",
                "The speaker works again. Say continue when you are ready."),
}


def _device_lost(s: State, device: str, reason: str) -> tuple[State, list[Action]]:
    if not getattr(s, device):
        return s, []
    s = replace(s, **{device: False})
    lost = Log(f"{device}_lost", {"reason": reason})
    if s.mode in (Mode.INTRO, Mode.CHECK, Mode.INSTRUCT, Mode.PACE):
        s2, actions = _pause(s, device, _DEVICES[device][0])
        return s2, [lost, *actions]
    return s, [lost]


def _device_back(s: State, device: str) -> tuple[State, list[Action]]:
    if getattr(s, device):
        return s, []
    s = replace(s, **{device: True})
    actions: list[Action] = [Log(f"{device}_back", {})]
    if s.mode is Mode.PAUSED:
        actions.append(Say(_DEVICES[device][1], "info"))
    return s, actions


def _missing_device(s: State, e: Heard) -> list[Action]:
    """Why "continue" cannot be obeyed yet, if it cannot: nothing resumes unheard or unspoken."""
    if not s.hearing:
        return [_heard_log(e, False, "no microphone")]
    if not s.speaker:
        return [_heard_log(e, False, "no speaker")]
    return []


def _on_heard(s: State, e: Heard) -> tuple[State, list[Action]]:
    c = e.command
    mode = s.mode
    if mode is Mode.FINISHED:
        return s, [_heard_log(e, False, "finished")]
    if e.own_voice:  # even a "stop": the assistant must not obey what it said itself
        return s, [_heard_log(e, False, "own voice")]
    if c.is_safety:
        s2, actions = _stop(s, c)
        return s2, [_heard_log(e, True), *actions]
    if mode is Mode.STOPPED:
        return _on_heard_stopped(s, e)
    ok = _heard_log(e, True)
    # A pause during the introduction or the questions is still before the steps.
    in_intro = before_steps(s)
    asking = Mode.CHECK in (mode, s.resume)
    if c in (Command.YES, Command.NO):
        if mode is not Mode.CHECK:
            return s, [_heard_log(e, False, "paused" if asking else "no question asked")]
        return _answer(s, e)
    if c is Command.QUIT:
        s2, actions = _finish(s, "quit", "Ending the session here. Well done.")
        return s2, [ok, Cut(), *actions]
    if c is Command.CONTINUE:
        if mode is not Mode.PAUSED:
            return s, [_heard_log(e, False, "not paused")]
        if refused := _missing_device(s, e):
            return s, refused
        s2, actions = _resume_paused(s)
        return s2, [ok, Cut(), *actions]
    if c is Command.PAUSE:
        if mode is Mode.PAUSED:
            return s, [_heard_log(e, False, "already paused")]
        s2, actions = _pause(s, "asked", "Paused. Say continue when you are ready.")
        return s2, [ok, *actions]
    if c is Command.NEXT:
        if asking:  # the questions are never skipped: they decide whether to massage at all
            return s, [_heard_log(e, False, "safety question")]
        s2, actions = _after_intro(s) if in_intro else _advance(s)
        return s2, [ok, Cut(), *actions]
    if c is Command.BACK:
        if in_intro:
            return s, [_heard_log(e, False, "no step yet")]
        target = max(0, s.step - 1)
        s2, actions = _begin_step(s, target)
        note = [Say("This is the first step.", "info")] if s.step == 0 else []
        return s2, [ok, Cut(), *note, *actions]
    if c is Command.REPEAT:
        if asking:
            s2, actions = _ask(s)
            return s2, [ok, Cut(), *actions]
        if in_intro:
            s2 = replace(s, mode=Mode.INTRO, resume=None, pause_reason="")
            return s2, [ok, Cut(), Say(_intro(s), "intro")]
        s2, actions = _begin_step(s, s.step, lighter=s.lighter)
        return s2, [ok, Cut(), *actions]
    if c in (Command.SLOWER, Command.FASTER):
        return _change_pace(s, e)
    if c is Command.TIME_LEFT:
        return s, [ok, Say(f"About {minutes_text(remaining_s(s))} left.", "info")]
    if c is Command.WHERE:
        return s, [ok, Say(_status_text(s), "info")]
    if c is Command.HELP:
        if mode is Mode.CHECK:
            s2, actions = _ask(s)
            return s2, [ok, Cut(), Say(ANSWER_HINT, "info"), *actions[1:]]
        return s, [ok, Say(HELP_TEXT, "info")]
    return s, [_heard_log(e, False, "unknown command")]


def _on_heard_stopped(s: State, e: Heard) -> tuple[State, list[Action]]:
    """The latch: only continue, next or quit leave; nothing else speaks but the stop hint.

    Releasing it takes a person who was heard as one: a continue or next heard while the
    assistant was speaking, which the echo path could not tell from its own voice
    (`over_voice`), is not enough. Whisper writes down even the faint residue of the voice, and
    the residue of "Stopped. Lift your hands and let the pain settle." once came out as "next"."""
    c = e.command
    in_intro = s.resume is Mode.INTRO
    if e.over_voice and c in (Command.CONTINUE, Command.NEXT):
        return s, [_heard_log(e, False, "over my voice")]
    if s.resume is Mode.CHECK and c in (Command.CONTINUE, Command.NEXT):
        # Nothing to skip to before the answer: either way the question is asked again.
        if refused := _missing_device(s, e):
            return s, refused
        s2, actions = _ask(s)
        resumed = Log("resumed", {"from": "stopped", "step": s.step})
        return s2, [_heard_log(e, True), resumed, Cut(), *actions]
    if c is Command.CONTINUE:
        if refused := _missing_device(s, e):
            return s, refused
        resumed = Log("resumed", {"from": "stopped", "step": s.step})
        if in_intro:  # the safety introduction is heard whole before any step
            s2 = replace(s, mode=Mode.INTRO, resume=None, stop_reason="")
            return s2, [_heard_log(e, True), resumed, Cut(), Say(_intro(s), "intro")]
        lighter = s.stop_reason == "pain"
        s2, actions = _begin_step(s, s.step, lighter=lighter)
        resumed = Log("resumed", {"from": "stopped", "step": s.step, "lighter": lighter})
        return s2, [_heard_log(e, True), resumed, Cut(), *actions[1:]]
    if c is Command.NEXT:
        s2, actions = _after_intro(s) if in_intro else _advance(s)
        resumed = Log("resumed", {"from": "stopped", "step": s.step, "skipped": True})
        return s2, [_heard_log(e, True), resumed, Cut(), *actions]
    if c is Command.QUIT:
        s2, actions = _finish(s, "quit", "Ending the session here. Rest now.")
        return s2, [_heard_log(e, True), Cut(), *actions]
    if c is Command.HELP:
        return s, [_heard_log(e, True), Say(stopped_hint(s), "stop")]
    return s, [_heard_log(e, False, "stopped")]


def _change_pace(s: State, e: Heard) -> tuple[State, list[Action]]:
    slower = e.command is Command.SLOWER
    pace = s.pace * PACE_STEP if slower else s.pace / PACE_STEP
    if pace > PACE_MAX * 1.001 or pace < PACE_MIN / 1.001:
        text = "This is the slowest pace." if slower else "This is the fastest pace."
        return s, [_heard_log(e, True), Say(text, "info")]
    s2 = replace(s, pace=pace)
    if s.mode is Mode.PACE:
        # Re-time the beat that is pending, so the change is felt at once.
        old = _beat_interval(s)
        new = _beat_interval(s2)
        last = s.next_beat - old
        s2 = replace(s2, next_beat=max(s.clock, last + new))
    return s2, [_heard_log(e, True), Log("pace", {"factor": round(pace, 3)}),
                Say("Slower." if slower else "Faster.", "info")]
