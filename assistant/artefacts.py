"""Model files checked against the sha256 this code was measured with, before they are loaded.

Hashing a large model on every start is slow (145 MB: a third of a second), so a directory keeps
`.verified`: the hash, size and mtime of each file when it last hashed right. A file whose size
and mtime are unchanged since is not hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

VERIFIED = ".verified"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def check_files(directory: Path, files: dict[str, str], error: type[Exception]) -> None:
    """Raise `error` unless `directory` holds each of `files` (name -> sha256) as pinned."""
    stamp = directory / VERIFIED
    try:
        seen = json.loads(stamp.read_text())
    except (OSError, ValueError):
        seen = {}
    verified = {}
    for name, want in files.items():
        path = directory / name
        if not path.exists():
            raise error(f"{directory}: {name} is missing (scripts/setup assembles it)")
        if seen.get(name) == [want, *_stat(path)]:
            verified[name] = seen[name]
            continue
        if sha256(path) != want:
            raise error(f"{path}: sha256 does not match the pinned one; run scripts/setup again")
        verified[name] = [want, *_stat(path)]
    if verified != seen:
        with contextlib.suppress(OSError):  # a read-only model directory is checked every time
            stamp.write_text(json.dumps(verified))
