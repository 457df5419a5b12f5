"""Audio files and blocks: read any file at any rate as 16 kHz mono int16; write the speaker WAV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

RATE = 16000  # the rate of every stream inside the assistant
BLOCK = 320  # 20 ms at 16 kHz: the unit of hearing, playing and cutting


def to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)


def resample(x: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Float mono samples at `rate` -> float mono samples at `target`."""
    if rate == target or len(x) == 0:
        return x.astype(np.float32, copy=False)
    return soxr.resample(x.astype(np.float32, copy=False), rate, target, quality="HQ")


def read_audio(path: str | Path, rate: int = RATE) -> np.ndarray:
    """Read WAV/FLAC/OGG, any rate and channel count, as mono int16 at `rate`."""
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return to_int16(resample(data.mean(axis=1), sr, rate))


def stream_audio(path: str | Path, rate: int = RATE, block: int = BLOCK) -> Iterator[np.ndarray]:
    """Yield a file as mono int16 blocks of `block` samples at `rate`, reading a second at a time,
    so a two-hour recording needs no more memory than a short one. The last partial block is
    dropped, as a live stream would never deliver it."""
    with sf.SoundFile(str(path)) as f:
        resampler = None if f.samplerate == rate else soxr.ResampleStream(
            f.samplerate, rate, 1, dtype="float32", quality="HQ")
        pending = np.zeros(0, dtype=np.int16)
        while True:
            data = f.read(f.samplerate, dtype="float32", always_2d=True)
            last = len(data) < f.samplerate
            mono = data.mean(axis=1).astype(np.float32)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last)
            pending = np.concatenate([pending, to_int16(mono)])
            n = len(pending) // block * block
            for i in range(0, n, block):
                yield pending[i:i + block]
            pending = pending[n:]
            if last:
                return


def write_wav(path: str | Path, samples: np.ndarray, rate: int = RATE) -> None:
    sf.write(str(path), samples, rate, subtype="PCM_16")


class WavWriter:
    """Append-only 16-bit mono WAV writer; the header is valid after every `close`."""

    def __init__(self, path: str | Path, rate: int = RATE):
        self._f = sf.SoundFile(str(path), "w", samplerate=rate, channels=1, subtype="PCM_16")

    def write(self, block: np.ndarray) -> None:
        self._f.write(block)

    def close(self) -> None:
        self._f.close()


def rms_dbfs(x: np.ndarray) -> float:
    if len(x) == 0:
        return -120.0
    v = np.sqrt(np.mean((x.astype(np.float64) / 32768.0) ** 2))
    return 20 * np.log10(max(v, 1e-6))
