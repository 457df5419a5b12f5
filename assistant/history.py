"""Past sessions, read back from their journals."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from . import events as E
from .journal import journals, read_events


@dataclass
class SessionRecord:
    path: str
    started: str
    routine: str = ""
    seconds: float = 0.0
    steps_done: int = 0
    stops: int = 0
    pains: int = 0
    pain_by_step: dict[str, int] = field(default_factory=dict)
    end: str = ""
    paced_s: float = 0.0


def _started(path: Path) -> datetime:
    try:
        return datetime.strptime(path.name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime)


def summarize(path: Path) -> SessionRecord:
    rec = SessionRecord(path=str(path), started=_started(path).isoformat(timespec="seconds"))
    steps: set[int] = set()
    pains: Counter[str] = Counter()
    for ev in read_events(path):
        rec.seconds = max(rec.seconds, ev.t)
        if isinstance(ev, E.SessionStarted):
            rec.routine = ev.routine
            rec.started = ev.started or rec.started  # the journal's own word for it
        elif isinstance(ev, E.Rep):
            steps.add(ev.step)
        elif isinstance(ev, E.Stopped):
            rec.stops += 1
            if ev.reason == "pain":
                rec.pains += 1
                pains[ev.id] += 1
        elif isinstance(ev, E.Finished | E.Aborted):
            rec.end = ev.reason
        elif isinstance(ev, E.Summary):
            rec.paced_s = ev.paced_s
    rec.steps_done = len(steps)
    rec.pain_by_step = dict(pains)
    return rec


def sessions(directory: Path | None = None) -> list[SessionRecord]:
    """Every session, oldest first: those in `directory`, or (by default) every journal the
    assistant knows of, its data folder's and those written with --journal elsewhere."""
    if directory is not None:
        paths = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    else:
        paths = journals()
    return sorted((summarize(p) for p in paths), key=lambda r: r.started)


def used_today(routine_name: str, directory: Path | None = None, today: date | None = None) -> float:
    """Seconds already paced today on this routine: what counts against a daily limit."""
    today = today or date.today()
    return sum(r.paced_s for r in sessions(directory)
               if r.routine == routine_name and r.started.startswith(today.isoformat()))


RECENT_SESSIONS = 3  # "recent" pain: the last few sessions of the same routine ...
RECENT_DAYS = 30  # ... and no older than this


def recent_pain(routine_name: str, directory: Path | None = None, now: datetime | None = None,
                last: int = RECENT_SESSIONS, days: int = RECENT_DAYS) -> tuple[str, ...]:
    """Ids of the steps of this routine that were stopped for pain in its recent sessions."""
    now = now or datetime.now()
    mine = [r for r in sessions(directory) if r.routine == routine_name
            and (now - datetime.fromisoformat(r.started)).days < days]
    hurt: list[str] = []
    for r in mine[-last:]:
        hurt += [step for step in r.pain_by_step if step not in hurt]
    return tuple(hurt)


def as_dicts(records: list[SessionRecord]) -> list[dict]:
    return [asdict(r) for r in records]
