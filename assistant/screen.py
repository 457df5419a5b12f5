"""What the session shows: a screen to read from across the room, or plain lines.

`view_of` turns the session state into a `View` of plain values (pure, tested without a
terminal); `render` lays a View out with rich for an 80x24 terminal; the displays decide when
to draw. The screen redraws only when what it shows changes, at most a few times a second.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from typing import Protocol

from . import session as S
from .commands import Command
from .routine import RepPace

BIG_FONT = "future"  # pyfiglet font three rows high: readable at two metres, fits 80 columns
WIDTH = 80
MAX_STEP_LINES = 5

_SPOKEN = {Command.TIME_LEFT: "how long", Command.WHERE: "where am I"}


def command_word(value: str) -> str:
    try:
        c = Command(value)
    except ValueError:
        return value
    return _SPOKEN.get(c, c.value)


@dataclass(frozen=True)
class View:
    """Everything on the screen, as plain values: equal views draw the same picture."""

    routine: str
    engine: str
    mode: str
    step: int  # 0-based; -1 before the first step (introduction, safety questions)
    steps: tuple[tuple[str, bool], ...]  # (title, hurt before) for every step
    title: str
    counter_label: str  # "ROUND", "TIME LEFT" or ""
    counter: str  # "3 of 8", "1:25", ""
    pressure: str
    caution: str
    pace: float
    progress: float  # 0..1 of the routine's paced time
    left: str  # "about 4 minutes left"
    heard: str
    heard_ok: bool
    saying: str
    banner: str  # STOPPED, PAUSED, SAFETY CHECK, WELCOME, FINISHED or ""
    reason: str
    hint: str


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _progress(s: S.State) -> float:
    steps = s.routine.steps
    total = sum(st.pace.seconds for st in steps) or 1.0
    if s.mode is S.Mode.FINISHED and s.step == len(steps) - 1:
        return 1.0
    done = sum(st.pace.seconds for st in steps[: s.step])
    pace = s.current.pace
    if isinstance(pace, RepPace):
        within = s.beat / max(1, pace.reps * max(1, len(pace.cues)))
    else:
        within = s.clock / pace.duration
    return min(1.0, (done + min(1.0, within) * pace.seconds) / total)


def _heard(actions_heard: dict | None) -> tuple[str, bool]:
    if not actions_heard:
        return "", True
    h = actions_heard
    text = f'"{command_word(h["command"])}"'
    if h.get("source") == "key":
        text += f" (key {h.get('text', '')})"
    if h.get("accepted"):
        return text, True
    return f"{text} ignored: {h.get('ignored', '')}", False


_BANNERS = {
    S.Mode.STOPPED: "STOPPED", S.Mode.PAUSED: "PAUSED", S.Mode.CHECK: "SAFETY CHECK",
    S.Mode.INTRO: "WELCOME", S.Mode.FINISHED: "FINISHED",
}
_PAUSE_REASONS = {"asked": "Paused on request.", "hearing": "The microphone is not working.",
                  "speaker": "The speaker is not working."}


def view_of(s: S.State, engine: str, heard: dict | None = None, saying: str = "",
            end_reason: str = "") -> View:
    step = s.current
    pace = step.pace
    if isinstance(pace, RepPace):
        label, counter = "ROUND", f"{s.rep} of {pace.reps}"
    else:
        label, counter = "TIME LEFT", _clock(pace.duration - s.clock)
    banner = _BANNERS.get(s.mode, "")
    reason = hint = ""
    if s.mode is S.Mode.STOPPED:
        reason = "It hurts: lift your hands." if s.stop_reason == "pain" else "Lift your hands."
        hint = S.stopped_hint(s)
    elif s.mode is S.Mode.PAUSED:
        reason = _PAUSE_REASONS.get(s.pause_reason, s.pause_reason)
        hint = "Say continue when you are ready."
    elif s.mode is S.Mode.CHECK:
        n = len(s.routine.questions)
        reason = f"Question {s.question + 1} of {n}: {s.routine.questions[s.question]}"
        hint = "Say yes or no (keys y / n)."
    elif s.mode is S.Mode.INTRO:
        reason = s.routine.name
        hint = "Listen to the safety notes. Say next to skip them."
    elif s.mode is S.Mode.FINISHED:
        reason = {"safety_check": "Please see a doctor before this massage.",
                  "daily_limit": "Today's time is used up.", "quit": "Ended on request.",
                  "completed": "All steps done. Well done."}.get(end_reason, end_reason)
    heard_text, heard_ok = _heard(heard)
    hurt = set(s.hurt_before) | {s.routine.steps[i].id for i in s.pain_steps}
    return View(
        routine=s.routine.name, engine=engine, mode=s.mode.value, step=-1 if S.before_steps(s) else s.step,
        steps=tuple((st.title, st.id in hurt) for st in s.routine.steps),
        title=step.title, counter_label=label, counter=counter,
        pressure=step.pressure.value, caution=step.cautions[0] if step.cautions else "",
        pace=round(1 / s.pace, 2), progress=round(_progress(s), 2),
        left=f"about {S.minutes_text(S.remaining_s(s))} left",
        heard=heard_text, heard_ok=heard_ok, saying=saying,
        banner=banner, reason=reason, hint=hint,
    )


# ---- drawing ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def big(text: str, width: int = WIDTH - 4) -> str:
    """`text` in large type, wrapped to `width` columns."""
    import pyfiglet

    art = pyfiglet.Figlet(font=BIG_FONT, width=width).renderText(text)
    return "\n".join(line.rstrip() for line in art.rstrip("\n").split("\n"))


_BANNER_STYLE = {"STOPPED": "bold white on red", "PAUSED": "bold black on yellow",
                 "SAFETY CHECK": "bold black on cyan", "WELCOME": "bold white on blue",
                 "FINISHED": "bold black on green"}


def render(v: View, width: int = WIDTH):
    """The screen for one View, as a rich renderable at most 23 rows high."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    inner = width - 4
    n = len(v.steps)
    header = Table.grid(expand=True)
    header.add_column(ratio=1)
    header.add_column(justify="right")
    where = f"step {v.step + 1} of {n}" if v.step >= 0 else f"{n} steps"
    header.add_row(Text(v.routine, style="bold"),
                   Text(f"{where} · pace {v.pace:.2f}x · {v.engine}", style="dim"))
    rows: list = [header]
    if v.banner and v.mode != "intro":
        style = _BANNER_STYLE[v.banner]
        rows.append(Text(big(v.banner, inner), style=style, justify="center"))
        rows.append(Text(v.reason, style="bold", justify="center"))
        if v.hint:
            rows.append(Text(v.hint, justify="center"))
    else:
        if v.mode == "intro":
            rows.append(Text(big("Welcome", inner), style=_BANNER_STYLE["WELCOME"], justify="center"))
            rows.append(Text(v.hint, justify="center"))
        else:
            rows.append(Text(big(v.title, inner), style="bold"))
            counter = Table.grid(expand=True, padding=(0, 2))
            counter.add_column(width=12)
            counter.add_column(ratio=1)
            counter.add_column(justify="right")
            counter.add_row(Text(v.counter_label, style="bold"), Text(big(v.counter, 40), style="bold cyan"),
                            Text(f"{v.pressure.upper()}\npressure",
                                 style="bold magenta", justify="right"))
            rows.append(counter)
    if v.caution and v.mode in ("instruct", "pace", "paused", "stopped"):
        rows.append(Text(f"Caution: {v.caution}", style="yellow", overflow="ellipsis", no_wrap=True))
    bar = Table.grid(expand=True, padding=(0, 1))
    bar.add_column(ratio=1)
    bar.add_column(justify="right")
    bar.add_row(ProgressBar(total=1.0, completed=v.progress), Text(f"{v.progress:4.0%}  {v.left}"))
    rows.append(bar)
    rows.append(_steps_list(v))
    heard = Text("Heard: ", style="dim")
    heard.append(v.heard or "-", style="green" if v.heard_ok else "red")
    rows.append(heard)
    voice = Text("Voice: ", style="dim")
    voice.append(v.saying or "-")
    voice.no_wrap, voice.overflow = True, "ellipsis"
    rows.append(voice)
    border = {"STOPPED": "red", "PAUSED": "yellow"}.get(v.banner, "blue")
    return Panel(Group(*rows), border_style=border, width=width, padding=(0, 1))


def _steps_list(v: View):
    from rich.text import Text

    n = len(v.steps)
    first = max(0, min(max(0, v.step) - MAX_STEP_LINES // 2, n - MAX_STEP_LINES))
    out = Text()
    for i in range(first, min(n, first + MAX_STEP_LINES)):
        title, hurt = v.steps[i]
        mark = "▶" if i == v.step else ("✓" if i < v.step else " ")
        line = Text(f"{mark} {i + 1}. {title}", style="bold" if i == v.step else "dim")
        if hurt:
            line.append("  ⚠ hurt: keep it light", style="bold yellow")
        line.truncate(WIDTH - 4, overflow="ellipsis")
        if i > first:
            out.append("\n")
        out.append_text(line)
    return out


# ---- displays -----------------------------------------------------------------------------

class Display(Protocol):
    def said(self, t: float, text: str) -> None: ...

    def update(self, t: float, state: S.State, actions: list[S.Action]) -> None: ...

    def close(self) -> None: ...


class NullDisplay:
    """--quiet: nothing on stdout (faults still go to stderr)."""

    def said(self, t: float, text: str) -> None:
        pass

    def update(self, t: float, state: S.State, actions: list[S.Action]) -> None:
        pass

    def close(self) -> None:
        pass


def _line_for(s: S.State, a: S.Log) -> str | None:
    d = a.data
    if a.event == "step":
        step = s.routine.steps[d["index"]]
        return (f"== Step {d['index'] + 1} of {len(s.routine.steps)}: {step.title} "
                f"({step.pressure.value} pressure)")
    if a.event == "stopped":
        return f"!! STOPPED ({d['reason']}). {S.stopped_hint(s)}"
    if a.event == "paused":
        return f"!! PAUSED ({d['reason']})"
    if a.event == "resumed":
        return f"== resumed from {d['from']}"
    if a.event == "heard":
        word = command_word(d["command"])
        via = " (key)" if d.get("source") == "key" else ""
        return f'heard "{word}"{via}' + ("" if d["accepted"] else f" - ignored: {d.get('ignored')}")
    if a.event == "question":
        return f"?? Safety question {d['index'] + 1}: {d['text']}"
    if a.event == "finished":
        return f"== finished ({d['reason']})"
    return None


class PlainDisplay:
    """Lines, for a pipe, a log file or a screen reader: what was said and what happened."""

    def __init__(self, out=None):
        self.out = out or sys.stdout

    def said(self, t: float, text: str) -> None:
        print(f"[{t:7.2f}] {text}", file=self.out, flush=True)

    def update(self, t: float, state: S.State, actions: list[S.Action]) -> None:
        for a in actions:
            if isinstance(a, S.Log) and (line := _line_for(state, a)):
                print(f"[{t:7.2f}] {line}", file=self.out, flush=True)

    def close(self) -> None:
        pass


class ScreenDisplay:
    """The full screen, redrawn in place (rich Live on the terminal's alternate screen)."""

    def __init__(self, engine: str, console=None, alternate_screen: bool = True):
        from rich.console import Console
        from rich.live import Live

        self.console = console or Console()
        self.engine = engine
        self.heard: dict | None = None
        self.saying = ""
        self.end_reason = ""
        self.state: S.State | None = None
        self.view: View | None = None
        self.live = Live(console=self.console, auto_refresh=False, screen=alternate_screen,
                         redirect_stdout=True, redirect_stderr=True, transient=False)
        self.live.start()

    def said(self, t: float, text: str) -> None:
        self.saying = text
        self._draw()

    def update(self, t: float, state: S.State, actions: list[S.Action]) -> None:
        self.state = state
        for a in actions:
            if isinstance(a, S.Log) and a.event == "heard":
                self.heard = a.data
            elif isinstance(a, S.Log) and a.event == "finished":
                self.end_reason = a.data.get("reason", "")
        self._draw()

    def _draw(self) -> None:
        if self.state is None:
            return
        view = view_of(self.state, self.engine, self.heard, self.saying, self.end_reason)
        if view != self.view:  # most ticks change nothing visible: no redraw, no flicker
            self.view = view
            self.live.update(render(view, min(WIDTH, self.console.width)), refresh=True)

    def close(self) -> None:
        self.live.stop()


def make_display(engine: str, quiet: bool, screen: str = "auto") -> Display:
    """screen: "on", "off" or "auto" (the screen when stdout is a terminal)."""
    if quiet:
        return NullDisplay()
    if screen == "on" or (screen == "auto" and sys.stdout.isatty()):
        return ScreenDisplay(engine)
    return PlainDisplay()
