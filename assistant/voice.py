"""Text to audio with pyttsx3, rendered once and cached by (text, voice, rate).

pyttsx3 is used only to render, each utterance alone in a process of its own (tts_render.py:
in one process its espeak driver carries state from one render into the next, so the same text
came out differently run to run). Playback goes through the Player, never through pyttsx3,
because pyttsx3 cannot stop its own playback at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import soundfile as sf

from .audio import read_audio, to_int16

CACHE_VERSION = "2"  # 2: each text rendered in a fresh process


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

    def render_all(self, texts: list[str], jobs: int = 2) -> None:
        """Render (or load) every text, `jobs` renders at a time."""
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            for _ in pool.map(self.render, texts):
                pass

    def render(self, text: str) -> np.ndarray:
        key = self._key(text)
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                return hit
            if self._engine is None:  # choose the voice once, before any render
                self._engine = self._init_engine()
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
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp.wav")
            sf.write(str(tmp), samples, self.rate, subtype="PCM_16")
            os.replace(tmp, path)
        samples = to_int16(samples.astype(np.float32) / 32768.0 * self.settings.volume)
        with self._lock:
            self._memory[key] = samples
        return samples

    def _render_uncached(self, text: str) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="massage-tts-") as tmp:
            out = Path(tmp) / "u.wav"
            cmd = [sys.executable, "-m", "assistant.tts_render", "--out", str(out),
                   "--rate", str(self.settings.rate)]
            if self._voice_id:
                cmd += ["--voice", self._voice_id]
            proc = subprocess.run(cmd, input=text, capture_output=True, text=True)
            if proc.returncode != 0 or not out.exists():
                detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise TtsError(f"TTS failed for {text[:40]!r}: {detail}")
            samples = read_audio(out, self.rate)
        if len(samples) == 0:
            raise TtsError(f"TTS rendered no audio for {text!r}")
        return samples
