"""Augmentation: what a clip would sound like in a room and microphone it was not made in.

Levels (active speech level, so an SNR does not depend on leading silence), white, pink and
rumble noise, simple room impulse responses, speed and gain, padding with a quiet room, and
the assistant's own voice under the words, as an echo canceller leaves it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soxr

from .corpus import RATE, load_cached


def frame_db(x: np.ndarray, rate: int, frame_s: float = 0.01) -> np.ndarray:
    n = max(1, int(rate * frame_s))
    frames = x[: len(x) // n * n].reshape(-1, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def speech_bounds(x: np.ndarray, rate: int) -> tuple[float, float]:
    """(start, end) of the speech in a clip, seconds, by an energy threshold on 10 ms frames.

    The threshold is 30 dB under the loudest frame (low enough to keep a final /p/ burst) but
    never less than 8 dB over the clip's own noise floor (so the background is not "speech").
    """
    db = frame_db(x, rate)
    if len(db) == 0:
        return 0.0, 0.0
    floor = float(np.percentile(db, 10))
    thr = max(float(db.max()) - 30.0, floor + 8.0)
    loud = np.flatnonzero(db > thr)
    if len(loud) == 0:
        return 0.0, len(x) / rate
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def active_level_db(x: np.ndarray, rate: int) -> float:
    """RMS level of the speech frames only (dBFS), so SNR does not depend on leading silence."""
    db = frame_db(x, rate)
    active = db[db > db.max() - 30.0]
    return float(10 * np.log10(np.mean(10 ** (active / 10)))) if len(active) else -120.0


def at_level(x: np.ndarray, rate: int, dbfs: float) -> np.ndarray:
    return (x * 10 ** ((dbfs - active_level_db(x, rate)) / 20)).astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def rumble_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """A fan, traffic or an old amplifier, of unit RMS: brown noise with its slow drift removed,
    mains hum (50 or 60 Hz and a few harmonics) and a little hiss, in random proportions."""
    brown = np.cumsum(rng.standard_normal(n))
    width = int(rng.integers(400, 3200))  # the drift removed: a high-pass at about 5-40 Hz
    brown -= np.convolve(brown, np.ones(width) / width, "same")
    t = np.arange(n) / RATE
    mains = float(rng.choice([50.0, 60.0]))
    hum = sum(rng.uniform(0, 1) / h * np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 2 * np.pi))
              for h in range(1, int(rng.integers(2, 5))))
    parts = [brown / (np.std(brown) + 1e-12), hum / (np.std(hum) + 1e-12), rng.standard_normal(n)]
    x = sum(w * q for w, q in zip(rng.dirichlet([1.0, 1.0, 0.5]), parts, strict=True))
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise of unit RMS, shaped in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def room_ir(rate: int, rng: np.random.Generator, rt60: float = 0.3) -> np.ndarray:
    """A simple room: the direct path, then exponentially decaying noise (-60 dB at `rt60`)."""
    n = int(rt60 * 1.2 * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.908 * t / rt60)
    tail[: int(0.003 * rate)] = 0.0  # first reflections arrive a few ms after the direct sound
    tail *= 0.9 / np.sqrt(np.sum(tail**2))  # reverberant energy a little under the direct path's
    tail[0] = 1.0
    return tail.astype(np.float32)


def reverberate(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """x convolved with a fresh room_ir, by FFT (np.convolve takes seconds per clip)."""
    ir = room_ir(rate, rng)
    n = len(x) + len(ir) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[:n].astype(np.float32)



def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Speed/pitch, echo, level and noise: the room and microphone the clips were not made in."""
    if rng.random() < 0.7:
        x = soxr.resample(x, RATE, int(RATE * rng.uniform(0.88, 1.12))).astype(np.float32)
    if rng.random() < 0.3:
        x = reverberate(x, RATE, rng)
    x = at_level(x, RATE, rng.uniform(-42, -14))
    if rng.random() < 0.8:
        noise = white_noise(len(x), rng) if rng.random() < 0.5 else pink_noise(len(x), rng)
        x = x + noise * np.float32(10 ** ((active_level_db(x, RATE) - rng.uniform(3, 35)) / 20))
    return x


def padded(x: np.ndarray, rng: np.random.Generator, pre: float, post: float) -> np.ndarray:
    """x with pre/post seconds of quiet pink noise (-60 dBFS: the benchmark's room is -55)."""
    a, b = int(pre * RATE), int(post * RATE)
    out = pink_noise(a + len(x) + b, rng) * np.float32(10 ** (-60 / 20))
    out[a:a + len(x)] += x
    return out


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def voice_under(x: np.ndarray, voice: Path, under_db: tuple[float, float],
                rng: np.random.Generator) -> np.ndarray:
    """A stretch of the assistant's voice (a render at `voice`) as long as x, `under_db` (a
    range) under x's speech level, sometimes through a room (the echo reaches the microphone
    reverberated)."""
    v = load_cached(voice)
    if len(v) < len(x):
        v = np.tile(v, len(x) // len(v) + 1)
    start = int(rng.integers(0, len(v) - len(x) + 1))
    v = v[start:start + len(x)].astype(np.float32)
    if rng.random() < 0.5:
        v = reverberate(v, RATE, rng)[:len(x)]
    lo, hi = under_db
    level = active_level_db(x, RATE) - rng.uniform(lo, hi)
    return at_level(v, RATE, level).astype(np.float32)
