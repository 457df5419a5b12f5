"""`massage-assistant get-model`: fetch a vosk model for users, checked against a pinned SHA-256.

Nothing in the tests depends on the real download: they serve an archive over a local HTTP
server. The archive is verified before anything is unpacked, unpacked next to its final place,
and moved there in one rename, so an interrupted or corrupt download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the directory inside the archive, and in models/
    url: str
    sha256: str
    size: int  # bytes, for the progress bar before the server says


# The small English model (Apache 2.0). Its checksum is the one published for this exact file
# and pinned by several independent packagers (Yocto, AUR, Homebrew recipes).
MODELS = {
    "small-en-us": ModelSpec(
        "vosk-model-small-en-us-0.15",
        "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
        "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        41_205_931,
    ),
}
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    pass


def _progress_bar(total: int, label: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    bar = Progress("[bold]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn())
    task = bar.add_task(label, total=total)
    bar.start()
    return (lambda n: bar.update(task, advance=n)), bar.stop


def download(url: str, dest: Path, sha256: str, size: int, show: bool = True) -> None:
    """Fetch `url` into `dest`, hashing as it arrives; DownloadError if it is not the pinned file."""
    digest = hashlib.sha256()
    part = dest.with_name(dest.name + ".part")
    advance, done = _progress_bar(size, dest.name) if show else ((lambda _n: None), (lambda: None))
    try:
        with urllib.request.urlopen(url, timeout=30) as response, part.open("wb") as out:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                advance(len(chunk))
    except OSError as e:  # URLError, HTTPError, timeouts and disk errors are all OSErrors
        part.unlink(missing_ok=True)
        raise DownloadError(f"download of {url} failed: {e}") from e
    finally:
        done()
    if digest.hexdigest() != sha256.lower():
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url}: checksum mismatch (got {digest.hexdigest()}, expected {sha256}); "
                            "nothing was installed")
    part.rename(dest)


def _safe_members(archive: zipfile.ZipFile, top: str) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    for m in members:
        p = PurePosixPath(m.filename)
        if p.is_absolute() or ".." in p.parts or not p.parts or p.parts[0] != top:
            raise DownloadError(f"the archive holds an unexpected path: {m.filename!r}")
    return members


def install(spec: ModelSpec, models_dir: Path, url: str | None = None, sha256: str | None = None,
            show: bool = True) -> Path:
    """Download, verify and unpack `spec` into models_dir/<name>; return that directory."""
    target = models_dir / spec.name
    if (target / "am" / "final.mdl").exists():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".get-model-") as tmp:
        archive = Path(tmp) / f"{spec.name}.zip"
        download(url or spec.url, archive, sha256 or spec.sha256, spec.size, show)
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(archive) as z:
                z.extractall(unpacked, members=_safe_members(z, spec.name))
        except zipfile.BadZipFile as e:
            raise DownloadError(f"{archive.name}: not a zip archive ({e})") from e
        if not (unpacked / spec.name / "am" / "final.mdl").exists():
            raise DownloadError(f"{archive.name} does not contain a vosk model ({spec.name}/am/final.mdl)")
        if target.exists():  # a half-installed directory from elsewhere: replace it
            shutil.rmtree(target)
        (unpacked / spec.name).rename(target)
    return target
