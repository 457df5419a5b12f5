"""`massage-assistant preview`: a routine as a readable plan, and the words a session would say.

For routine authors: read the plan, hear the file, without starting a session.
"""

from __future__ import annotations

import textwrap

from . import session as S
from .routine import RepPace, Routine, TimedPace


def clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _pace(p: RepPace | TimedPace) -> str:
    if isinstance(p, RepPace):
        return f"{p.reps} rounds x {p.seconds_per_rep:g} s"
    return f"{p.duration:g} s, a cue every {p.cue_every:g} s"


def _wrap(label: str, text: str, indent: int) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(f"{label}{text}", width=96, initial_indent=pad,
                         subsequent_indent=pad + " " * len(label))


def plan_text(r: Routine) -> str:
    lines = [f"{r.name}  ({r.source})", ""]
    lines += _wrap("For:      ", r.audience, 0)
    lines += _wrap("Position: ", r.position, 0)
    lines += _wrap("Safety:   ", r.safety, 0)
    if r.questions:
        lines += ["", 'Safety questions, asked before the first step (a "yes" ends the session):']
        lines += [f"  {i}. {q}" for i, q in enumerate(r.questions, 1)]
    lines += ["", "Steps:"]
    start = 0.0
    for i, step in enumerate(r.steps, 1):
        lines.append(f"  {i}. {step.title:<40} {_pace(step.pace):<28} {clock(step.pace.seconds):>6}"
                     f"  {step.pressure.value}")
        lines += _wrap("Say:     ", step.instructions, 6)
        if step.pace.cues:
            lines += _wrap("Cues:    ", " · ".join(step.pace.cues), 6)
        for caution in step.cautions:
            lines += _wrap("Caution: ", caution, 6)
        lines.append(f"      starts at {clock(start)} of paced time")
        start += step.pace.seconds
    lines += ["", f"Paced time: {clock(r.seconds)}. A whole session, with the spoken introduction and "
                  f"instructions: about {S.minutes_text(S.estimate_s(r))}."]
    if r.daily_limit_minutes:
        lines.append(f"Daily limit: {r.daily_limit_minutes:g} min, counting earlier sessions today.")
    return "\n".join(lines)


def spoken_texts(r: Routine) -> list[str]:
    """What a session says, in order, when nobody interrupts: intro, questions, each step's
    instructions and its first round of counting."""
    texts = [S.intro_text(r)]
    texts += [S.question_text(r, i) for i in range(len(r.questions))]
    for i, step in enumerate(r.steps):
        texts.append(S.step_text(S.State(routine=r, step=i)))
        pace = step.pace
        if isinstance(pace, RepPace):
            texts.append(f"One. {' '.join(pace.cues)}".strip())
        elif pace.cues:
            texts.append(pace.cues[0])
    return texts
