"""Self-hearing: speex's echo canceller, and the room that file mode simulates.

The assistant knows exactly what it plays, so its voice can be cancelled from the microphone
with an adaptive echo canceller fed that reference. libspeexdsp's MDF canceller (a Debian
package, used by PulseAudio itself) is reached through ctypes because the PyPI bindings for it
are unmaintained. It is the alternative to WebRTC's AEC3 (hearing/aec3.py, the default), which
measured better on every room of scripts/bench_echo.py; both sit behind hearing/echo_path.py.

`RoomEcho` is the file-mode stand-in for a real room: the speaker output delayed, attenuated,
smeared with a reverberation tail and, optionally, on a clock that drifts against the
microphone's, mixed into the microphone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections import deque

import numpy as np

from .audio import BLOCK, RATE

_SPEEX_ECHO_SET_SAMPLING_RATE = 24
_SPEEX_PREPROCESS_SET_DENOISE = 0
_SPEEX_PREPROCESS_SET_NOISE_SUPPRESS = 18
_SPEEX_PREPROCESS_SET_ECHO_STATE = 24


class EchoError(RuntimeError):
    pass


def _load_speexdsp() -> ctypes.CDLL:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise EchoError(f"libspeexdsp is missing ({e}): run scripts/setup") from e
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                            ctypes.c_void_p]
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_state_reset.argtypes = [ctypes.c_void_p]
    lib.speex_preprocess_state_init.restype = ctypes.c_void_p
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
    return lib


class SpeexCanceller:
    """Cancel the played reference from the microphone, one 20 ms block at a time.

    The filter covers `tail_ms` of echo path: the output-to-input delay of the sound system
    plus the room's reverberation must fit inside it.
    """

    name = "speex"

    def __init__(self, tail_ms: int = 400, block: int = BLOCK, rate: int = RATE,
                 suppress_residual: bool = False):
        self.suppress_residual = suppress_residual
        self._lib = _load_speexdsp()
        self.block = block
        self._echo = self._lib.speex_echo_state_init(block, rate * tail_ms // 1000)
        if not self._echo:
            raise EchoError("speex_echo_state_init failed")
        r = ctypes.c_int(rate)
        self._lib.speex_echo_ctl(self._echo, _SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(r))
        # The preprocessor removes the residual echo the linear filter leaves; its noise
        # suppressor stays off so the recognizer sees the room as it is.
        self._pre = self._lib.speex_preprocess_state_init(block, rate)
        off = ctypes.c_int(0)
        self._lib.speex_preprocess_ctl(self._pre, _SPEEX_PREPROCESS_SET_DENOISE, ctypes.byref(off))
        self._lib.speex_preprocess_ctl(self._pre, _SPEEX_PREPROCESS_SET_ECHO_STATE,
                                       ctypes.c_void_p(self._echo))

    def reset(self) -> None:
        self._lib.speex_echo_state_reset(self._echo)

    def process(self, mic: np.ndarray, played: np.ndarray) -> np.ndarray:
        mic = np.ascontiguousarray(mic, dtype=np.int16)
        played = np.ascontiguousarray(played, dtype=np.int16)
        if len(mic) != self.block or len(played) != self.block:
            raise ValueError(f"blocks must be {self.block} samples")
        out = np.empty(self.block, dtype=np.int16)
        self._lib.speex_echo_cancellation(self._echo, mic.ctypes.data, played.ctypes.data,
                                          out.ctypes.data)
        if self.suppress_residual:
            self._lib.speex_preprocess_run(self._pre, out.ctypes.data)
        return out

    def close(self) -> None:
        if self._pre:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._pre = None
        if self._echo:
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        self.close()


class RoomEcho:
    """The speaker heard again by the microphone: delayed, attenuated, with a little reverb.

    `drift_ppm`: the speaker's clock runs that much faster (positive) or slower than the
    microphone's, as a USB microphone's or a Bluetooth speaker's does: the delay shrinks or grows
    by that fraction of the time elapsed (never below zero), read between samples by linear
    interpolation.
    """

    def __init__(self, delay_ms: float, gain_db: float, rt60_ms: float = 250.0, seed: int = 7,
                 block: int = BLOCK, rate: int = RATE, drift_ppm: float = 0.0):
        self.block = block
        rng = np.random.default_rng(seed)
        n_tail = max(1, int(rate * rt60_ms / 1000))
        decay = np.exp(-6.9 * np.arange(n_tail) / n_tail)  # -60 dB over rt60
        tail = rng.normal(0, 1, n_tail) * decay
        tail *= 0.35 / np.sqrt(np.sum(tail**2))  # reverberant energy well below the direct path
        self.ir = np.concatenate([[1.0], tail]) * 10 ** (gain_db / 20)
        self._delay = int(rate * delay_ms / 1000)  # samples, at the start
        self._drift = drift_ppm * 1e-6
        self._played = np.zeros(0, dtype=np.float64)  # what was played, from sample _first on
        self._first = 0
        self._n = 0  # samples heard so far
        self._future = np.zeros(len(self.ir) + block, dtype=np.float64)  # echo not yet heard

    def _arriving(self, played: np.ndarray) -> np.ndarray:
        """The played sound reaching the microphone during these samples (before the room)."""
        n = len(played)
        self._played = np.concatenate([self._played, played.astype(np.float64)])
        at = self._n + np.arange(n)
        source = at - np.maximum(0.0, self._delay - self._drift * at) - self._first
        i = np.floor(source).astype(np.int64)
        frac = source - i
        last = len(self._played) - 1
        x0 = np.where(i >= 0, self._played[np.clip(i, 0, last)], 0.0)
        x1 = np.where(i + 1 >= 0, self._played[np.clip(i + 1, 0, last)], 0.0)
        self._n += n
        keep = max(0, int(i[-1]) - 1)  # the read position only moves forward
        self._played = self._played[keep:]
        self._first += keep
        return (1.0 - frac) * x0 + frac * x1

    def add(self, mic: np.ndarray, played: np.ndarray) -> np.ndarray:
        """Return `mic` plus the echo heard during it; `played` is the block played meanwhile."""
        n = len(played)
        self._future[: len(self.ir) + n - 1] += np.convolve(self._arriving(played), self.ir)
        echo = self._future[:n].copy()
        self._future = np.concatenate([self._future[n:], np.zeros(n)])
        return np.clip(mic.astype(np.float64) + echo, -32768, 32767).astype(np.int16)


class ReferenceDelay:
    """Played blocks waiting to be matched with the microphone blocks that will contain them.

    The pairing holds only while both streams flow: while the microphone delivers nothing (a
    suspended or unplugged source) the speaker goes on pushing blocks that no microphone block
    will ever be paired with, and once it delivers again every block would meet the reference of
    seconds earlier, which no canceller can subtract (it made speex add the voice, and the echo
    path take the voice for a person). `resync` drops that backlog."""

    OFFSETS_KEPT = 50  # the last second of pairings

    def __init__(self, block: int = BLOCK):
        self.block = block
        self._q: deque[np.ndarray] = deque()
        # reference blocks ahead of the microphone blocks already captured, at each pop
        self._offsets: deque[int] = deque(maxlen=self.OFFSETS_KEPT)

    def push(self, played: np.ndarray) -> None:
        for i in range(0, len(played) - self.block + 1, self.block):
            self._q.append(played[i:i + self.block].copy())
        if len(self._q) > 100:  # never let a stalled microphone grow this without bound
            self._q.popleft()

    def pop(self, backlog: int = 0) -> np.ndarray:
        """The reference for the next microphone block; `backlog`: microphone blocks captured
        and still waiting behind it (they too have their reference in the queue)."""
        self._offsets.append(len(self._q) - backlog)
        return self._q.popleft() if self._q else np.zeros(self.block, dtype=np.int16)

    def resync(self, backlog: int = 1) -> int:
        """The microphone delivers again after a gap: keep the reference as far ahead of the
        microphone as it was before (the median of the last second's pairings). `backlog`:
        microphone blocks captured since, waiting, the next one to be heard among them.
        Returns how many blocks were dropped."""
        if not self._offsets:
            return 0
        target = max(0, int(np.median(self._offsets))) + max(backlog - 1, 0)
        dropped = 0
        while len(self._q) > target:
            self._q.popleft()
            dropped += 1
        return dropped
