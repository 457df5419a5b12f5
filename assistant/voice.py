"""Text to audio with pyttsx3, rendered once and cached by (text, voice, rate).

pyttsx3 is used only to render: `save_to_file` can return before the file is complete and only
the last queued `save_to_file` of a batch survives, so each utterance is rendered alone and the
file is awaited until its WAV header and length agree. Playback goes through the Player, never
through pyttsx3, because pyttsx3 cannot stop its own playback at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import soundfile as sf

from .audio import read_audio, to_int16

CACHE_VERSION = "1"


@dataclass(frozen=True)
class VoiceSettings:
    voice: str | None = None  # a pyttsx3 voice id or name fragment; None = English default
    rate: int = 165  # words per minute
    volume: float = 1.0  # 0..1, applied to the samples so it is exact on every driver


class TtsError(RuntimeError):
    pass


def cache_dir() -> Path:
    override = os.environ.get("MASSAGE_ASSISTANT_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("massage-assistant")) / "tts"


class Voice:
    """Renders text to int16 samples at `rate` Hz; thread-safe; caches in memory and on disk."""

    def __init__(self, settings: VoiceSettings, rate: int, cache: Path | None = None):
        self.settings = settings
        self.rate = rate
        self.cache = cache or cache_dir()
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._engine = None
        self._voice_id: str | None = None

    def _key(self, text: str) -> str:
        s = self.settings
        raw = f"{CACHE_VERSION}|{text}|{s.voice}|{s.rate}|{self.rate}"
        return hashlib.sha1(raw.encode()).hexdigest()

    def _init_engine(self):
        import pyttsx3  # imported late: start-up of commands that never speak stays fast

        with contextlib.redirect_stdout(io.StringIO()):
            engine = pyttsx3.init()
        voices = engine.getProperty("voices") or []
        wanted = self.settings.voice
        chosen = None
        for v in voices:
            names = f"{v.id} {v.name}".lower()
            if wanted and wanted.lower() in names:
                chosen = v.id
                break
        if wanted and chosen is None:
            raise TtsError(f"no TTS voice matches {wanted!r}")
        if chosen is None:
            for v in voices:
                # espeak-ng ids look like "gmw/en-us"; prefer US, then any English
                if v.id.endswith("/en-us") or v.id == "en-us":
                    chosen = v.id
                    break
        if chosen:
            engine.setProperty("voice", chosen)
        engine.setProperty("rate", self.settings.rate)
        self._voice_id = chosen
        return engine

    def render(self, text: str) -> np.ndarray:
        key = self._key(text)
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                return hit
            path = self.cache / f"{key}.wav"
            samples = None
            if path.exists():
                try:
                    samples = read_audio(path, self.rate)
                except (RuntimeError, sf.LibsndfileError):
                    samples = None  # a torn cache file: render again
            if samples is None:
                samples = self._render_uncached(text)
                self.cache.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.wav")
                sf.write(str(tmp), samples, self.rate, subtype="PCM_16")
                os.replace(tmp, path)
            samples = to_int16(samples.astype(np.float32) / 32768.0 * self.settings.volume)
            self._memory[key] = samples
            return samples

    def _render_uncached(self, text: str) -> np.ndarray:
        if self._engine is None:
            self._engine = self._init_engine()
        with tempfile.TemporaryDirectory(prefix="massage-tts-") as tmp:
            out = Path(tmp) / "u.wav"
            with contextlib.redirect_stdout(io.StringIO()):
                self._engine.save_to_file(text, str(out))
                self._engine.runAndWait()
                _await_wav(out)  # inside the redirect: the driver reports completion late
            samples = read_audio(out, self.rate)
        if len(samples) == 0:
            raise TtsError(f"TTS rendered no audio for {text!r}")
        return samples


def _await_wav(path: Path, timeout: float = 10.0) -> None:
    """Wait until the WAV exists and its header's length matches the bytes on disk."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        if path.exists():
            size = path.stat().st_size
            if size > 44 and size == last:
                try:
                    info = sf.info(str(path))
                    if info.frames > 0:
                        return
                except RuntimeError:
                    pass
            last = size
        time.sleep(0.005)
    raise TtsError(f"TTS did not finish writing {path.name} within {timeout:g} s")
