"""The journal's events, typed: one frozen dataclass per kind of line.

A line is `{"t": ..., "event": NAME, <fields>, "w": ...}`. Fields without a default are always
written (None as null); fields that default to None are left out when None, so a line carries
only what happened. Every write goes through these types (journal.Journal.write), so a field
misspelt anywhere fails at once, in the tests, instead of silently missing from a user's
history; readers (history, the benchmarks) get typed events back (read_events). The session
line carries SCHEMA, the version of this layout.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

SCHEMA = 2  # 1: the untyped journal before this module (no "schema" on the session line)


class JournalError(ValueError):
    pass


@dataclass(frozen=True, kw_only=True)
class Event:
    NAME: ClassVar[str] = ""
    KEYS: ClassVar[dict[str, str]] = {}  # field name -> key, where the key is no Python name
    t: float
    w: float | None = None  # wall-clock seconds of a live run: the time base of live latencies


_REGISTRY: dict[str, type[Event]] = {}


def _event(name: str, keys: dict[str, str] | None = None):
    def register(cls: type[Event]) -> type[Event]:
        cls.NAME = name
        cls.KEYS = keys or {}
        _REGISTRY[name] = cls
        return cls

    return register


@_event("session")
@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    routine: str
    file: str
    engine: str
    mic: str
    echo: str | None
    aec: str
    started: str
    schema: int = SCHEMA


@_event("voice")
@dataclass(frozen=True, kw_only=True)
class VoiceUsed(Event):
    engine: str
    voice: str | None
    fallback: str | None  # why it is not the voice asked for
    rate: int | None = None
    rendered: int | None = None  # phrases rendered before the first word (0: all cached)


@_event("started")
@dataclass(frozen=True, kw_only=True)
class Started(Event):
    routine: str
    steps: int
    safety_check: str | None = None
    hurt_before: list[str] | None = None


@_event("say")
@dataclass(frozen=True, kw_only=True)
class Said(Event):
    text: str
    kind: str
    seconds: float


@_event("cut")
@dataclass(frozen=True, kw_only=True)
class Cut(Event):
    playing: str | None


@_event("heard")
@dataclass(frozen=True, kw_only=True)
class Heard(Event):
    command: str
    text: str
    final: bool
    accepted: bool | None = None  # None: `listen`, where nothing acts on it
    confidence: float | None = None
    source: str | None = None  # "key" for a key; a voice is the default
    path: str | None = None  # the recognizer that heard it
    over_voice: bool | None = None
    ignored: str | None = None  # why it was not acted on


@_event("step")
@dataclass(frozen=True, kw_only=True)
class StepBegun(Event):
    index: int
    id: str
    title: str


@_event("question")
@dataclass(frozen=True, kw_only=True)
class Question(Event):
    index: int
    text: str


@_event("safety_answer")
@dataclass(frozen=True, kw_only=True)
class SafetyAnswer(Event):
    index: int
    question: str
    answer: str


@_event("rep")
@dataclass(frozen=True, kw_only=True)
class Rep(Event):
    step: int
    n: int


@_event("stopped")
@dataclass(frozen=True, kw_only=True)
class Stopped(Event):
    reason: str  # stop | pain
    step: int
    id: str


@_event("stopped_again")
@dataclass(frozen=True, kw_only=True)
class StoppedAgain(Event):
    reason: str
    step: int


@_event("paused")
@dataclass(frozen=True, kw_only=True)
class Paused(Event):
    reason: str
    step: int


@_event("resumed", keys={"from_": "from"})
@dataclass(frozen=True, kw_only=True)
class Resumed(Event):
    from_: str  # paused | stopped
    step: int
    lighter: bool | None = None
    skipped: bool | None = None


@_event("pace")
@dataclass(frozen=True, kw_only=True)
class PaceChanged(Event):
    factor: float


@_event("finished")
@dataclass(frozen=True, kw_only=True)
class Finished(Event):
    reason: str
    step: int


@_event("aborted")
@dataclass(frozen=True, kw_only=True)
class Aborted(Event):
    reason: str


@_event("summary")
@dataclass(frozen=True, kw_only=True)
class Summary(Event):
    routine: str
    step: int
    mode: str
    paced_s: float
    pain_steps: list[int] = field(default_factory=list)


@_event("duck")
@dataclass(frozen=True, kw_only=True)
class Duck(Event):
    on: bool
    gain_db: float
    speech: float


@_event("echo")
@dataclass(frozen=True, kw_only=True)
class EchoPath(Event):
    action: str  # raw | cancel | reset | realign (the microphone came back after a gap)
    canceller: str
    added_db: float | None = None
    dropped_blocks: int | None = None  # realign: reference blocks played during the gap


@_event("error")
@dataclass(frozen=True, kw_only=True)
class Error(Event):
    source: str  # recognizer | tts | ...
    message: str
    text: str | None = None


@_event("hearing_lost")
@dataclass(frozen=True, kw_only=True)
class HearingLost(Event):
    reason: str


@_event("hearing_back")
@dataclass(frozen=True, kw_only=True)
class HearingBack(Event):
    pass


@_event("speaker_lost")
@dataclass(frozen=True, kw_only=True)
class SpeakerLost(Event):
    reason: str


@_event("speaker_back")
@dataclass(frozen=True, kw_only=True)
class SpeakerBack(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class Unknown(Event):
    """A line of a kind this version does not know (a newer journal): kept, not understood."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


def kinds() -> dict[str, type[Event]]:
    return dict(_REGISTRY)


def make(name: str, t: float, data: dict[str, Any], w: float | None = None) -> Event:
    """The typed event for a line's name and fields; JournalError on anything it does not take."""
    cls = _REGISTRY.get(name)
    if cls is None:
        raise JournalError(f"no journal event {name!r}")
    names = {v: k for k, v in cls.KEYS.items()}
    try:
        return cls(t=t, w=w, **{names.get(k, k): v for k, v in data.items()})
    except TypeError as e:
        raise JournalError(f"journal event {name!r}: {e}") from None


def to_record(e: Event) -> dict[str, Any]:
    if isinstance(e, Unknown):
        record = {"t": e.t, "event": e.name, **e.data}
    else:
        record = {"t": e.t, "event": e.NAME}
        for f in dataclasses.fields(e):
            if f.name in ("t", "w"):
                continue
            value = getattr(e, f.name)
            if value is None and f.default is None:
                continue  # optional and absent
            record[e.KEYS.get(f.name, f.name)] = value
    if e.w is not None:
        record["w"] = e.w
    return record


def from_record(record: dict[str, Any]) -> Event:
    """The typed event of one journal line (an Unknown for a kind this version does not know)."""
    data = dict(record)
    try:
        t = float(data.pop("t"))
        name = str(data.pop("event"))
    except (KeyError, TypeError, ValueError) as e:
        raise JournalError(f"not a journal event: {record!r}") from e
    w = data.pop("w", None)
    if name not in _REGISTRY:
        return Unknown(t=t, w=w, name=name, data=data)
    return make(name, t, data, w)
