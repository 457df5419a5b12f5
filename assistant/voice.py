"""Text to audio, rendered once and cached in memory and on disk by (engine, voice, rate, text).

Two engines. Kokoro-82M (kokoro_voice.py), a natural neural voice, is the default wherever it
is installed; pyttsx3 (espeak-ng here) is the design's engine and the fallback when Kokoro is
absent or fails, which is said once (`notice`) and journalled by the caller. Both render in
processes of their own (tts_render.py): pyttsx3 because its espeak driver carries state from one
render into the next, Kokoro because its model takes 200 MB the session has no need to keep.
Playback goes through the Player, never through an engine, so it can be cut at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import soundfile as sf

from . import kokoro_voice as kv
from .audio import read_audio, to_int16

CACHE_VERSION = "5"  # 3: engine in the key; 4: Kokoro by sentence; 5: espeak keeps its last buffer
SENTENCE_KEY = "\x00sentence\x00"  # a Kokoro sentence's cache entry, apart from whole texts
KOKORO_WORKERS = 2
SENTENCE_PAUSE_S = 0.25  # between sentences: kokoro-onnx's own pause between its batches
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
KOKORO, PYTTSX3 = "kokoro", "pyttsx3"
# Chosen by listening through Whisper and by pace (scripts/pick_voice.py, docs/voice.md): a
# warm, unhurried American voice that Whisper wrote down word for word.
DEFAULT_KOKORO_VOICE = "af_heart"
VOICE_ENV = "MASSAGE_ASSISTANT_VOICE"  # the default --voice, e.g. "pyttsx3" to keep espeak-ng


@dataclass(frozen=True)
class VoiceSettings:
    # a Kokoro voice (af_heart), "kokoro", "pyttsx3"/"espeak", a pyttsx3 voice id or name
    # fragment; None: $MASSAGE_ASSISTANT_VOICE, else Kokoro's default, else pyttsx3's English
    voice: str | None = None
    rate: int = 165  # words per minute
    volume: float = 1.0  # 0..1, applied to the samples so it is exact on every engine


class TtsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Choice:
    engine: str
    voice: str | None  # a Kokoro voice id, or a pyttsx3 voice id (None: the driver's default)

    @property
    def label(self) -> str:
        return f"{'Kokoro' if self.engine == KOKORO else 'pyttsx3'} {self.voice or 'default'}"


def sentences(text: str) -> list[str]:
    """`text` cut after each full stop, question mark or exclamation mark."""
    return [p for p in _SENTENCE_END.split(text.strip()) if p] or [text]


def cache_dir() -> Path:
    override = os.environ.get("MASSAGE_ASSISTANT_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("massage-assistant")) / "tts"


def pyttsx3_voices() -> list[tuple[str, str]]:
    """(id, name) of every pyttsx3 voice."""
    import pyttsx3  # imported late: start-up of commands that never speak stays fast

    with contextlib.redirect_stdout(io.StringIO()):
        engine = pyttsx3.init()
    return [(v.id, v.name) for v in engine.getProperty("voices") or []]


def _pyttsx3_voice(wanted: str | None) -> str | None:
    voices = pyttsx3_voices()
    if wanted:
        for vid, name in voices:
            if wanted.lower() in f"{vid} {name}".lower():
                return vid
        raise TtsError(f"no voice matches {wanted!r} (--voice list shows them)")
    for vid, _ in voices:  # espeak-ng ids look like "gmw/en-us"; prefer US, then the driver's
        if vid.endswith("/en-us") or vid == "en-us":
            return vid
    return None


def kokoro_problem() -> str | None:
    """Why Kokoro cannot be used here, or None."""
    try:
        kv.check()
    except kv.KokoroError as e:
        return str(e)
    return None


def choose(wanted: str | None) -> tuple[Choice, str | None]:
    """The engine and voice for --voice `wanted`, and a notice when Kokoro was wanted but is not
    usable (the choice is then pyttsx3's English)."""
    wanted = wanted or os.environ.get(VOICE_ENV) or None
    key = (wanted or "").lower()
    if key in ("pyttsx3", "espeak", "espeak-ng"):
        return Choice(PYTTSX3, _pyttsx3_voice(None)), None
    if not key or key == KOKORO or key in kv.VOICES:
        problem = kokoro_problem()
        if problem is None:
            return Choice(KOKORO, key if key in kv.VOICES else DEFAULT_KOKORO_VOICE), None
        notice = f"the Kokoro voice is not usable ({problem}); speaking with pyttsx3 instead"
        return Choice(PYTTSX3, _pyttsx3_voice(None)), notice
    return Choice(PYTTSX3, _pyttsx3_voice(wanted)), None


def voice_list() -> list[str]:
    """One line per voice of either engine, for `--voice list`."""
    problem = kokoro_problem()
    lines = ["Kokoro voices" + (f" (not usable here: {problem})" if problem else "") + ":"]
    for v in kv.VOICES.values():
        lines.append(f"  {v.label}" + ("   (default)" if v.id == DEFAULT_KOKORO_VOICE else ""))
    lines.append("pyttsx3 voices (--voice pyttsx3 for its English default, or a name fragment):")
    lines += [f"  {vid:<24} {name}" for vid, name in pyttsx3_voices()]
    return lines


Progress = Callable[[int, int], None]  # (rendered so far, to render)


class Voice:
    """Renders text to int16 samples at `rate` Hz; thread-safe; caches in memory and on disk."""

    def __init__(self, settings: VoiceSettings, rate: int, cache: Path | None = None):
        self.settings = settings
        self.rate = rate
        self.cache = cache or cache_dir()
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._choice: Choice | None = None
        self.notice: str | None = None  # why the voice is not the one asked for, once set

    @property
    def choice(self) -> Choice:
        with self._lock:
            if self._choice is None:  # chosen once, before any render
                self._choice, self.notice = choose(self.settings.voice)
            return self._choice

    def _key(self, text: str, choice: Choice) -> str:
        s = self.settings
        raw = f"{CACHE_VERSION}|{choice.engine}|{choice.voice}|{s.rate}|{self.rate}|{text}"
        return hashlib.sha1(raw.encode()).hexdigest()

    def _fall_back(self, reason: str) -> None:
        with self._lock:
            self._choice = Choice(PYTTSX3, _pyttsx3_voice(None))
            self.notice = f"the Kokoro voice failed ({reason}); speaking with pyttsx3 instead"

    def render_all(self, texts: list[str], jobs: int = 2, progress: Progress | None = None) -> int:
        """Render (or load) every text; returns how many were not cached yet. Kokoro renders them
        sentence by sentence (_kokoro_batch); pyttsx3 `jobs` processes at a time. Should Kokoro
        fail, every text is rendered again with pyttsx3: a session never speaks with two voices."""
        choice = self.choice
        todo = [t for t in dict.fromkeys(texts) if not self._cached(t, choice)]
        done = 0

        def one_done() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(todo))

        if choice.engine == KOKORO and todo:
            try:
                self._kokoro_batch(todo, choice, progress)
            except TtsError as e:
                self._fall_back(str(e))
                return self.render_all(texts, jobs, progress)
        elif progress:
            progress(0, len(todo))
        fresh = set(todo) if choice.engine == PYTTSX3 else set()
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            rendered = pool.map(self._render_choice, texts, [choice] * len(texts))
            for text, _ in zip(texts, rendered, strict=True):
                if text in fresh:
                    fresh.discard(text)
                    one_done()
        return len(todo)

    def _cached(self, text: str, choice: Choice) -> bool:
        key = self._key(text, choice)
        return key in self._memory or (self.cache / f"{key}.wav").exists()

    def render(self, text: str) -> np.ndarray:
        choice = self.choice
        try:
            return self._render_choice(text, choice)
        except TtsError as e:
            if choice.engine != KOKORO:
                raise
            self._fall_back(str(e))
            return self._render_choice(text, self.choice)

    def _render_choice(self, text: str, choice: Choice) -> np.ndarray:
        key = self._key(text, choice)
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
            if choice.engine == KOKORO:
                self._kokoro_batch([text], choice)
                samples = read_audio(path, self.rate)
            else:
                self._store(path, self._pyttsx3_render(text, choice))
                # what was stored, not the render before it was rounded to 16 bits: the first
                # start and every later one (from the cache) must play the same samples
                samples = read_audio(path, self.rate)
        if len(samples) == 0:
            raise TtsError(f"TTS rendered no audio for {text!r}")
        samples = to_int16(samples.astype(np.float32) / 32768.0 * self.settings.volume)
        with self._lock:
            self._memory[key] = samples
        return samples

    def _store(self, path: Path, samples: np.ndarray) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp.wav")
        sf.write(str(tmp), samples, self.rate, subtype="PCM_16")
        os.replace(tmp, path)

    def _kokoro_batch(self, texts: list[str], choice: Choice, progress: Progress | None = None) -> None:
        """Render `texts` into the cache, sentence by sentence, in one Kokoro process (its model
        loads once: about a second). A text is its sentences joined by SENTENCE_PAUSE_S of
        silence, as kokoro-onnx itself joins its batches; each sentence is rendered once however
        many texts hold it (a step's instructions come in three variants that differ only in
        their last sentence), which makes a routine's first start about three times shorter."""
        self.cache.mkdir(parents=True, exist_ok=True)
        parts = {t: sentences(t) for t in texts}
        todo = [p for p in dict.fromkeys(p for ps in parts.values() for p in ps)
                if not self._sentence_path(p, choice).exists()]
        if progress:
            progress(0, len(todo))
        if todo:
            self._kokoro_render(todo, choice, progress)
        gap = np.zeros(int(SENTENCE_PAUSE_S * self.rate), dtype=np.int16)
        for text, ps in parts.items():
            pieces = [read_audio(self._sentence_path(p, choice), self.rate) for p in ps]
            joined = [x for piece in pieces for x in (gap, piece)][1:]
            self._store(self.cache / f"{self._key(text, choice)}.wav", np.concatenate(joined))

    def _sentence_path(self, sentence: str, choice: Choice) -> Path:
        return self.cache / f"{self._key(SENTENCE_KEY + sentence, choice)}.wav"

    def _kokoro_render(self, sentences_: list[str], choice: Choice, progress: Progress | None) -> None:
        """KOKORO_WORKERS processes of one thread each: on two cores 20 % faster than one process
        of two threads (ONNX Runtime's threads scale poorly on a model this small)."""
        cmd = [sys.executable, "-m", "assistant.tts_render", "--engine", KOKORO, "--voice", str(choice.voice),
               "--rate", str(self.settings.rate), "--out-rate", str(self.rate), "--batch", "--threads", "1"]
        lock = threading.Lock()
        finished = 0

        def worker(share: list[str]) -> str | None:
            nonlocal finished
            jobs = [{"text": t, "out": str(self._sentence_path(t, choice))} for t in share]
            with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) as proc:
                assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
                proc.stdin.write("".join(json.dumps(j) + "\n" for j in jobs))
                proc.stdin.close()
                mine = 0
                for line in proc.stdout:
                    if line.startswith("ok "):
                        mine += 1
                        with lock:
                            finished += 1
                            if progress:
                                progress(finished, len(sentences_))
                err = proc.stderr.read()
            if proc.returncode != 0 or mine != len(jobs):
                return (err.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
            return None

        n = max(1, min(KOKORO_WORKERS, len(sentences_)))
        with ThreadPoolExecutor(n) as pool:
            problems = [p for p in pool.map(worker, [sentences_[i::n] for i in range(n)]) if p]
        if problems:
            raise TtsError(f"Kokoro rendered {finished} of {len(sentences_)}: {problems[0]}")

    def _pyttsx3_render(self, text: str, choice: Choice) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="massage-tts-") as tmp:
            out = Path(tmp) / "u.wav"
            cmd = [sys.executable, "-m", "assistant.tts_render", "--out", str(out),
                   "--rate", str(self.settings.rate)]
            if choice.voice:
                cmd += ["--voice", choice.voice]
            proc = subprocess.run(cmd, input=text, capture_output=True, text=True)
            if proc.returncode != 0 or not out.exists():
                detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise TtsError(f"TTS failed for {text[:40]!r}: {detail}")
            samples = read_audio(out, self.rate)
        if len(samples) == 0:
            raise TtsError(f"TTS rendered no audio for {text!r}")
        return samples
