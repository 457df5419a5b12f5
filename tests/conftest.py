"""Shared helpers: paths to the real recordings, and spoken commands synthesised with festival."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import RATE, read_audio, write_wav

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MASSAGE_SHARED", ROOT.parent / "shared"))
SPEECH = SHARED / "speech"
# A real "stop" from the tuning split (speaker hash starting 0): the benchmark never reports on it.
TUNE_STOP = "speech_commands_v0.02_test/stop/022cd682_nohash_0.wav"
FESTIVAL_VOICES = ("voice_cmu_us_slt_arctic_hts", "voice_kal_diphone", "voice_ked_diphone")


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory, monkeypatch):
    """Journals and the TTS cache go to temporary folders, never the user's own. The assistant
    speaks with espeak-ng (pyttsx3) in the tests of hearing and sessions: rendered cold in a
    tenth of the time Kokoro takes, and the voice their figures were measured over;
    tests/test_kokoro.py runs the default voice, Kokoro, for real."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("MASSAGE_ASSISTANT_DATA", str(base / "data"))
    monkeypatch.setenv("MASSAGE_ASSISTANT_CACHE", str(base / "tts-cache"))
    monkeypatch.setenv("MASSAGE_ASSISTANT_VOICE", "pyttsx3")


def cli(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`massage-assistant ARGS` as a user runs it, from the project root, output captured."""
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def festival(text: str, voice: str = FESTIVAL_VOICES[0], cache: Path | None = None) -> np.ndarray:
    """Speak `text` with a festival voice; 16 kHz int16. Cached per text and voice."""
    if shutil.which("text2wave") is None:
        raise RuntimeError("festival is not installed: run scripts/setup --test")
    cache = cache or Path(os.environ.get("MASSAGE_ASSISTANT_CACHE", "/tmp")) / "festival"
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / (hashlib.sha1(f"{voice}|{text}".encode()).hexdigest() + ".wav")
    if not out.exists():
        tmp = out.with_suffix(".tmp.wav")
        subprocess.run(["text2wave", "-eval", f"({voice})", "-o", str(tmp)],
                       input=text.encode(), check=True, capture_output=True)
        tmp.rename(out)
    return read_audio(out)


def real_clip(relative: str) -> np.ndarray:
    path = SPEECH / relative
    if not path.exists():
        raise FileNotFoundError(f"{path}: the shared speech recordings are missing")
    return read_audio(path)


def timeline(length_s: float, placed: list[tuple[float, np.ndarray]], noise_db: float | None = None,
             seed: int = 0) -> np.ndarray:
    """A microphone stream: clips placed at given start times over silence (or faint noise)."""
    out = np.zeros(int(length_s * RATE), dtype=np.float64)
    if noise_db is not None:
        rng = np.random.default_rng(seed)
        out += rng.normal(0, 32768 * 10 ** (noise_db / 20), len(out))
    for start, clip in placed:
        i = int(start * RATE)
        out[i:i + len(clip)] += clip[: max(0, len(out) - i)]
    return np.clip(out, -32768, 32767).astype(np.int16)


def rumble(seconds: float, seed: int = 1) -> np.ndarray:
    """int16 background of a fan or traffic (low-frequency rumble), mains hum and hiss."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    brown = np.cumsum(rng.normal(0, 1, n))
    brown -= np.convolve(brown, np.ones(1600) / 1600, "same")
    noise = 0.05 * brown / np.abs(brown).max() + 0.01 * np.sin(2 * np.pi * 50 * np.arange(n) / 16000)
    noise += rng.normal(0, 0.003, n)
    return (np.clip(noise, -1, 1) * 32767).astype(np.int16)


def save(path: Path, samples: np.ndarray) -> Path:
    write_wav(path, samples, RATE)
    return path
