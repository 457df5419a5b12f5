"""Routine files: YAML in, frozen dataclasses out, or errors that name file, line and field.

Validation walks the YAML node tree (not the plain data) so every error knows its line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import yaml


class Pressure(str, Enum):
    LIGHT = "light"
    MEDIUM = "medium"
    FIRM = "firm"


@dataclass(frozen=True)
class RepPace:
    """A number of repetitions, each `seconds_per_rep` long, with cues spread over each rep."""

    reps: int
    seconds_per_rep: float
    cues: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return self.reps * self.seconds_per_rep


@dataclass(frozen=True)
class TimedPace:
    """A fixed time, with a cue (taken in turn from `cues`) every `cue_every` seconds."""

    duration: float
    cue_every: float
    cues: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return self.duration


Pace = RepPace | TimedPace


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    instructions: str
    pace: Pace
    pressure: Pressure
    cautions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routine:
    name: str
    audience: str
    position: str
    safety: str
    steps: tuple[Step, ...]
    daily_limit_minutes: float | None = None
    source: str = ""
    questions: tuple[str, ...] = ()  # asked before the first step; a "yes" ends the session
    warnings: tuple[Problem, ...] = ()  # what `check` points out without refusing the file

    @property
    def seconds(self) -> float:
        return sum(s.pace.seconds for s in self.steps)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class RoutineError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


MAX_NUMBER = 10_000  # no count, second or minute in a massage routine comes near this


class _Checker:
    """Collects every problem in one pass, so an author fixes a file in one round."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def warn(self, node: yaml.Node, field: str, message: str) -> None:
        self.warnings.append(Problem(self.file, node.start_mark.line + 1, field, f"warning: {message}"))

    def split_sentences(self, node: yaml.Node, field: str, items: tuple[str, ...], sentences: bool) -> None:
        """A comma inside a YAML flow list ends an item: [Circle beside the spine, never over it.]
        is two cautions, the second one half a sentence. `sentences`: the items are sentences
        (cautions), so one that begins in lower case is such a half; otherwise (cues, short
        words to say on the beat) one that ends a sentence after one that does not."""
        for i, text in enumerate(items):
            after_open = i > 0 and not items[i - 1].endswith((".", "!", "?"))
            if (sentences and text[:1].islower()) or (not sentences and after_open
                                                        and text.endswith((".", "!", "?"))):
                self.warn(node.value[i], f"{field}[{i}]", f"{text!r} looks like half a sentence: a comma "
                          "inside [ ] ends an item; put the whole sentence in quotes")

    def add(self, node: yaml.Node | None, field: str, message: str, line: int = 1) -> None:
        if node is not None:
            line = node.start_mark.line + 1
        self.problems.append(Problem(self.file, line, field, message))

    def mapping(self, node: yaml.Node, field: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.add(node, field, f"must be a mapping of fields, not {_kind(node)}")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else f"<{_kind(key)}>"
            name = name or '""'
            if name in out:
                self.add(key, _join(field, name), "appears twice")
            out[name] = (key, value)
        return out

    def text(self, node: yaml.Node, field: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.add(node, field, f"must be text, not {_kind(node)}")
            return None
        value = " ".join(str(node.value).split())
        if not value:
            self.add(node, field, "must not be empty")
            return None
        return value

    def number(self, node: yaml.Node, field: str, *, integer: bool = False,
               maximum: float = MAX_NUMBER) -> float | None:
        ok_tags = {"tag:yaml.org,2002:int"} | (set() if integer else {"tag:yaml.org,2002:float"})
        want = "a whole number" if integer else "a number"
        if not isinstance(node, yaml.ScalarNode) or node.tag not in ok_tags:
            self.add(node, field, f"must be {want}, not {_kind(node)}")
            return None
        try:
            # YAML's own reading of the scalar: .inf, 1_000, 0x10 and sexagesimals included
            value = yaml.constructor.SafeConstructor().construct_object(node)
        except Exception:  # PyYAML raises ValueError, IndexError, ... on odd tagged text
            self.add(node, field, f"must be {want}, not {node.value!r}")
            return None
        if value != value or value in (float("inf"), float("-inf")):
            self.add(node, field, "must be a finite number")
            return None
        if value <= 0:
            self.add(node, field, f"must be greater than 0, not {node.value}")
            return None
        if value > maximum:
            self.add(node, field, f"{node.value} is more than the sane maximum of {maximum:g}")
            return None
        return value

    def texts(self, node: yaml.Node, field: str) -> tuple[str, ...] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.add(node, field, f"must be a list of texts, not {_kind(node)}")
            return None
        items = [self.text(item, f"{field}[{i}]") for i, item in enumerate(node.value)]
        if any(i is None for i in items):
            return None
        return tuple(i for i in items if i is not None)


def _kind(node: yaml.Node | None) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = node.tag.rsplit(":", 1)[-1]
    names = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false",
             "null": "empty"}
    return f"{names.get(tag, tag)} {node.value!r}" if node.value != "" else "empty"


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


ROUTINE_FIELDS = {"name", "for", "position", "safety", "questions", "steps", "daily_limit_minutes"}
REQUIRED_ROUTINE = ("name", "for", "position", "safety", "steps")
STEP_FIELDS = {"id", "title", "say", "pace", "pressure", "cautions"}
REQUIRED_STEP = ("id", "title", "say", "pace", "pressure")
REP_FIELDS = {"reps", "seconds_per_rep", "cues"}
TIMED_FIELDS = {"duration", "cue_every", "cues"}


def _required(c: _Checker, node: yaml.Node, fields: dict, names: tuple[str, ...], where: str) -> bool:
    missing = [n for n in names if n not in fields]
    for n in missing:
        c.add(node, _join(where, n), "is missing")
    return not missing


def _unknown(c: _Checker, fields: dict, allowed: set[str], where: str) -> None:
    for name, (key, _) in fields.items():
        if name not in allowed:
            c.add(key, _join(where, name), f"is not a known field (known: {', '.join(sorted(allowed))})")


def _pace(c: _Checker, node: yaml.Node, where: str) -> Pace | None:
    f = c.mapping(node, where)
    if f is None:
        return None
    if "reps" in f and "duration" in f:
        c.add(node, where, "give either reps (with seconds_per_rep) or duration, not both")
        return None
    if "reps" in f:
        _unknown(c, f, REP_FIELDS, where)
        if not _required(c, node, f, ("reps", "seconds_per_rep"), where):
            return None
        reps = c.number(f["reps"][1], _join(where, "reps"), integer=True)
        spr = c.number(f["seconds_per_rep"][1], _join(where, "seconds_per_rep"))
        cues = c.texts(f["cues"][1], _join(where, "cues")) if "cues" in f else ()
        if reps is None or spr is None or cues is None:
            return None
        if cues and spr / len(cues) < 0.8:
            c.add(f["cues"][1], _join(where, "cues"),
                  f"{len(cues)} cues in {spr:g} s leave under 0.8 s each: too fast to speak")
            return None
        return RepPace(int(reps), float(spr), cues)
    if "duration" in f:
        _unknown(c, f, TIMED_FIELDS, where)
        if not _required(c, node, f, ("duration", "cue_every"), where):
            return None
        duration = c.number(f["duration"][1], _join(where, "duration"))
        every = c.number(f["cue_every"][1], _join(where, "cue_every"))
        cues = c.texts(f["cues"][1], _join(where, "cues")) if "cues" in f else ()
        if duration is None or every is None or cues is None:
            return None
        if every > duration:
            c.add(f["cue_every"][1], _join(where, "cue_every"),
                  f"{every:g} s is longer than the duration ({duration:g} s)")
            return None
        return TimedPace(float(duration), float(every), cues)
    c.add(node, where, "needs reps (with seconds_per_rep) or duration (with cue_every)")
    return None


def _step(c: _Checker, node: yaml.Node, where: str) -> Step | None:
    f = c.mapping(node, where)
    if f is None:
        return None
    _unknown(c, f, STEP_FIELDS, where)
    if not _required(c, node, f, REQUIRED_STEP, where):
        return None
    sid = c.text(f["id"][1], _join(where, "id"))
    title = c.text(f["title"][1], _join(where, "title"))
    say = c.text(f["say"][1], _join(where, "say"))
    pace = _pace(c, f["pace"][1], _join(where, "pace"))
    pressure = None
    pnode = f["pressure"][1]
    raw = c.text(pnode, _join(where, "pressure"))
    if raw is not None:
        try:
            pressure = Pressure(raw)
        except ValueError:
            names = ", ".join(p.value for p in Pressure)
            c.add(pnode, _join(where, "pressure"), f"unknown pressure {raw!r} (use {names})")
    cautions = c.texts(f["cautions"][1], _join(where, "cautions")) if "cautions" in f else ()
    if cautions:
        c.split_sentences(f["cautions"][1], _join(where, "cautions"), cautions, sentences=True)
    cues_node = next((v for k, v in getattr(f["pace"][1], "value", ())
                      if isinstance(k, yaml.ScalarNode) and k.value == "cues"), None)
    if pace is not None and pace.cues and isinstance(cues_node, yaml.SequenceNode):
        c.split_sentences(cues_node, _join(where, "pace.cues"), pace.cues, sentences=False)
    if None in (sid, title, say, pace, pressure, cautions):
        return None
    return Step(sid, title, say, pace, pressure, cautions)  # type: ignore[arg-type]


def parse_routine(text: str, file: str = "<routine>") -> Routine:
    c = _Checker(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise RoutineError([Problem(file, 1, "yaml", "nested too deeply to be a routine")]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        raise RoutineError([Problem(file, line, "yaml", f"{e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise RoutineError([Problem(file, 1, "yaml", str(e))]) from None
    if root is None:
        raise RoutineError([Problem(file, 1, "routine", "the file is empty")])
    f = c.mapping(root, "routine")
    if f is None:
        raise RoutineError(c.problems)
    _unknown(c, f, ROUTINE_FIELDS, "")
    _required(c, root, f, REQUIRED_ROUTINE, "")
    values: dict[str, str | None] = {}
    for name in ("name", "for", "position", "safety"):
        if name in f:
            values[name] = c.text(f[name][1], name)
    questions: tuple[str, ...] | None = ()
    if "questions" in f:
        questions = c.texts(f["questions"][1], "questions")
        for i, (q, item) in enumerate(zip(questions or (), f["questions"][1].value, strict=False)):
            if not q.endswith("?"):
                c.add(item, f"questions[{i}]", "must be a yes/no question ending in '?'")
    limit = None
    if "daily_limit_minutes" in f:
        limit = c.number(f["daily_limit_minutes"][1], "daily_limit_minutes")
    steps: list[Step] = []
    if "steps" in f:
        snode = f["steps"][1]
        if not isinstance(snode, yaml.SequenceNode) or not snode.value:
            c.add(snode, "steps", f"must be a non-empty list of steps, not {_kind(snode)}")
        else:
            seen: dict[str, int] = {}
            for i, item in enumerate(snode.value):
                step = _step(c, item, f"steps[{i}]")
                if step is None:
                    continue
                if step.id in seen:
                    c.add(item, f"steps[{i}].id", f"{step.id!r} is already used by steps[{seen[step.id]}]")
                seen[step.id] = i
                steps.append(step)
    if limit is not None and steps:
        total = sum(s.pace.seconds for s in steps)
        if total > limit * 60:
            c.add(f["daily_limit_minutes"][1], "daily_limit_minutes",
                  f"the steps take {total / 60:.1f} min, over the daily limit of {limit:g} min")
    if c.problems:
        raise RoutineError(c.problems)
    return Routine(
        name=values["name"] or "", audience=values["for"] or "", position=values["position"] or "",
        safety=values["safety"] or "", steps=tuple(steps), daily_limit_minutes=limit, source=file,
        questions=questions or (), warnings=tuple(c.warnings),
    )


def load_routine(path: str | Path) -> Routine:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RoutineError([Problem(str(path), 1, "file", e.strerror or str(e))]) from None
    except UnicodeDecodeError as e:
        raise RoutineError([Problem(str(path), 1, "file", f"not UTF-8 text ({e.reason})")]) from None
    return parse_routine(text, str(path))


def check_files(paths: list[str], report: Callable[[str], None],
                resolve: Callable[[str], Path] = Path) -> int:
    """Validate files (`resolve` turns a name into a file: bundled names too); report each
    problem, and each warning, as a line; return the number of bad files."""
    bad = 0
    for p in paths:
        try:
            routine = load_routine(resolve(p))
        except RoutineError as e:
            bad += 1
            for problem in e.problems:
                report(str(problem))
            continue
        for warning in routine.warnings:
            report(str(warning))
    return bad


def bundled_routines_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "routines"
