"""The event journal: JSON Lines, one event a line, flushed as it happens.

It is the user's record (what was done, where it hurt), the source of every benchmark figure
and the way tests observe a run. A line is written whole and flushed at once, so a crash or
`kill -9` leaves every earlier line intact.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import platformdirs

from .events import Event, JournalError, from_record, make, to_record

APP = "massage-assistant"


def journal_dir() -> Path:
    override = os.environ.get("MASSAGE_ASSISTANT_DATA")
    base = Path(override) if override else Path(platformdirs.user_data_dir(APP))
    return base / "journals"


ELSEWHERE = "elsewhere.txt"  # journals written with --journal outside journal_dir(), one a line


def note_elsewhere(path: Path) -> None:
    """Remember a journal kept outside the data folder, so that `history`, today's minutes and
    the memory of pain find it too. Best effort: a read-only data folder loses only the note."""
    path = path.resolve()
    d = journal_dir()
    if path.parent == d.resolve():
        return
    index = d / ELSEWHERE
    try:
        known = [p for p in index.read_text(encoding="utf-8").splitlines() if p] if index.exists() else []
        if str(path) not in known:
            d.mkdir(parents=True, exist_ok=True)
            kept = [p for p in known if Path(p).exists()] + [str(path)]
            index.write_text("".join(f"{p}\n" for p in kept), encoding="utf-8")
    except OSError:
        pass


def journals() -> list[Path]:
    """Every journal the assistant knows of: its data folder's, and those noted elsewhere."""
    d = journal_dir()
    found = sorted(d.glob("*.jsonl")) if d.is_dir() else []
    index = d / ELSEWHERE
    if index.exists():
        found += [Path(p) for p in index.read_text(encoding="utf-8").splitlines() if p and Path(p).exists()]
    return found


def new_journal_path(routine_name: str, now: datetime | None = None) -> Path:
    now = now or datetime.now()
    slug = "".join(ch if ch.isalnum() else "-" for ch in routine_name.lower()).strip("-")
    return journal_dir() / f"{now:%Y%m%d-%H%M%S}-{slug or 'session'}.jsonl"


class Journal:
    def __init__(self, path: str | Path | None, wall_clock: bool = False):
        self.path = Path(path) if path else None
        # Live runs also note wall-clock seconds ("w"), the time base of live latency figures.
        self._t0 = time.monotonic() if wall_clock else None
        self._f: IO[str] | None = None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = self.path.open("a", encoding="utf-8")
        self.last: dict[str, Any] | None = None  # only the newest: a long session must not grow

    def write(self, t: float, event: str, **data: Any) -> dict[str, Any]:
        """Journal one event of kind `event` (events.py: a JournalError for an unknown kind or
        field); returns the line as written."""
        w = round(time.monotonic() - self._t0, 4) if self._t0 is not None else None
        record = to_record(make(event, round(t, 3), data, w))
        self.last = record
        if self._f:
            self._f.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._f.flush()
        return record

    def close(self) -> None:
        if self._f:
            self._f.close()
            self._f = None


def read_events(path: str | Path) -> Iterator[Event]:
    """Each complete line as its typed event (events.py), a torn last line skipped."""
    for record in read_journal(path):
        try:
            yield from_record(record)
        except JournalError:
            continue  # a line that is no event at all: the rest of the journal still counts


def read_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield each complete event; a torn last line (power cut mid-write) is skipped."""
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                return
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
