"""The model registry: every model file the package ships, as a versioned artefact.

`registry.json` (next to this file, written by the training scripts through `record`) names each
file with its version, sha256, the training code and the commit it was trained at, a hash of the
list of its training data (the list itself in `training_data/`, one line per clip or render,
so that anyone can check that no held-out clip went in) and its figures on the validation split.

The product checks a shipped file against its entry before it loads it (`verified`): a model
that was retrained without being recorded, damaged, or swapped fails with a message naming the
file, instead of hearing differently from every figure measured. Files given by an explicit
path (a candidate head a benchmark compares) are not the shipped ones and are not checked.

`python -m assistant.registry` prints the table and checks every file (exit 1 on a mismatch).
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .artefacts import sha256
from .recognizers.base import RecognizerError

PACKAGE = Path(__file__).resolve().parent
REGISTRY = PACKAGE / "registry.json"
DATA_LISTS = PACKAGE / "training_data"
SCHEMA = 1


class ModelError(RecognizerError):
    """A shipped model file is not the one the registry names."""


@dataclass(frozen=True)
class Entry:
    name: str
    file: str  # relative to the package
    version: int
    sha256: str
    # how it was made: training code and the commit it ran at, or where a converted model came from
    trained_by: str | None = None
    training_commit: str | None = None
    data_hash: str | None = None  # sha256 of training_data/<name>.txt
    data_items: int | None = None
    source: str | None = None
    validation: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def path(self) -> Path:
        return PACKAGE / self.file


def _read(path: Path = REGISTRY) -> dict[str, Entry]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{path}: the model registry cannot be read ({e}); reinstall the project") from e
    if raw.get("schema") != SCHEMA:
        raise ModelError(f"{path}: registry schema {raw.get('schema')}, this code reads {SCHEMA}")
    return {name: Entry(name=name, **fields) for name, fields in raw["models"].items()}


@functools.lru_cache(maxsize=1)
def entries() -> dict[str, Entry]:
    return _read()


@functools.lru_cache(maxsize=16)
def _hash_of(path: Path, size: int, mtime_ns: int) -> str:
    return sha256(path)  # keyed by size and mtime: a file is hashed once per process


def check(entry: Entry) -> Path:
    path = entry.path
    if not path.exists():
        raise ModelError(f"{path}: missing (model {entry.name} version {entry.version}); "
                         "reinstall the project")
    st = path.stat()
    got = _hash_of(path, st.st_size, st.st_mtime_ns)
    if got != entry.sha256:
        how = (f"retrain it with {entry.trained_by}, which records it" if entry.trained_by
               else "reinstall the project")
        raise ModelError(f"{path}: sha256 {got[:12]}… is not the registry's {entry.sha256[:12]}… for "
                         f"{entry.name} version {entry.version} (assistant/registry.json); {how}")
    return path


def verified(name: str) -> Path:
    """The path of shipped model `name`, checked against its registry entry."""
    try:
        entry = entries()[name]
    except KeyError:
        raise ModelError(f"no model {name!r} in assistant/registry.json") from None
    return check(entry)


def _list_text(items: list[str]) -> str:
    return "".join(f"{line}\n" for line in items)


def data_hash(items: list[str]) -> str:
    """The sha256 of a training-data list as training_data/<name>.txt holds it."""
    return hashlib.sha256(_list_text(items).encode()).hexdigest()


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=PACKAGE.parent, capture_output=True, text=True,
                          check=True).stdout.strip()


def training_commit(code: list[str]) -> str:
    """The commit the training code ran at; "+dirty" when any of `code` (paths from the project
    root) differed from it: such a model cannot be rebuilt from history alone. Trained model
    files (*.npz) do not count: training writes them, and the heads train from data, not from
    each other's weights."""
    head = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--", *code, ":(exclude)*.npz")
    return head + ("+dirty" if dirty else "")


def record(name: str, file: Path, *, trained_by: str, code: list[str], data: list[str],
           validation: dict[str, Any], note: str | None = None, registry: Path = REGISTRY) -> Entry:
    """Enter a freshly trained `file` (inside the package): its hash, a version one higher when
    the file changed, the training commit, and the training-data list (written to
    training_data/<name>.txt, sorted: the order of the draws is the training code's business)."""
    raw = json.loads(registry.read_text()) if registry.exists() else {"schema": SCHEMA, "models": {}}
    old = raw["models"].get(name, {})
    digest = sha256(file)
    items = sorted(data)
    lists = registry.parent / DATA_LISTS.name
    lists.mkdir(exist_ok=True)
    (lists / f"{name}.txt").write_text(_list_text(items))
    version = old.get("version", 0) + (digest != old.get("sha256"))
    entry = Entry(name=name, file=str(file.resolve().relative_to(registry.parent.resolve())),
                  version=version, sha256=digest, trained_by=trained_by,
                  training_commit=training_commit(code), data_hash=data_hash(items),
                  data_items=len(items), validation=validation, note=note)
    fields = {k: v for k, v in asdict(entry).items() if k != "name" and v is not None}
    raw["models"][name] = fields
    raw["models"] = dict(sorted(raw["models"].items()))
    registry.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n")
    entries.cache_clear()
    return entry


def main() -> int:
    bad = 0
    print(f"{'model':<18} {'ver':>3}  {'sha256':<12}  {'trained at':<12}  {'data':>6}  file")
    for entry in entries().values():
        try:
            check(entry)
            mark = ""
        except ModelError as e:
            bad += 1
            mark = f"  MISMATCH: {e}"
        commit = (entry.training_commit or entry.source or "-")[:12]
        items = entry.data_items if entry.data_items is not None else "-"
        print(f"{entry.name:<18} {entry.version:>3}  {entry.sha256[:12]}  {commit:<12}  {items:>6}  "
              f"{entry.file}{mark}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
