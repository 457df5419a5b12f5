"""Self-hearing: remove the assistant's own voice from the microphone, and simulate the room.

The assistant knows exactly what it plays, so its voice can be cancelled from the microphone
with an adaptive echo canceller fed that reference. libspeexdsp's MDF canceller (a Debian
package, used by PulseAudio itself) does this far better than hand-written NLMS; it is reached
through ctypes because the PyPI bindings for it are unmaintained.

`RoomEcho` is the file-mode stand-in for a real room: the speaker output delayed, attenuated
and smeared with a short reverberation tail, mixed into the microphone.
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


class EchoCanceller:
    """Cancel the played reference from the microphone, one 20 ms block at a time.

    The filter covers `tail_ms` of echo path: the output-to-input delay of the sound system
    plus the room's reverberation must fit inside it.
    """

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


def _energy(x: np.ndarray) -> float:
    f = x.astype(np.float64)  # int16 squares overflow
    return float(np.dot(f, f))


class EchoMeter:
    """Is the microphone hearing (almost) only the assistant's own voice right now?

    Over the last `window_s`, the energy going into the echo canceller against the energy coming
    out: when the canceller removes `threshold_db` or more, what the recognizer heard was the
    assistant's echo. A person speaking adds energy the canceller cannot remove, so the ratio
    falls to a few dB. Measured with `run --echo 30,-12` (scripts/bench.py's room): once
    converged (about 3 s into the first sentence) speex removes 15-20 dB of the echo; a talker
    at the echo's level brings the ratio under 3 dB. A very quiet talker under a loud voice (more
    than about 10 dB below its echo) would be taken for the echo: the benchmark's live stops
    over the voice measure that side.
    """

    def __init__(self, window_s: float = 1.0, threshold_db: float = 10.0, block: int = BLOCK,
                 rate: int = RATE):
        n = max(1, int(window_s * rate / block))
        self._in: deque[float] = deque(maxlen=n)
        self._out: deque[float] = deque(maxlen=n)
        self.threshold_db = threshold_db

    def update(self, mic: np.ndarray, cancelled: np.ndarray) -> None:
        self._in.append(_energy(mic))
        self._out.append(_energy(cancelled))

    def removed_db(self) -> float:
        """How much of the microphone's energy the canceller took away over the window, in dB."""
        return float(10 * np.log10((sum(self._in) + 1.0) / (sum(self._out) + 1.0)))

    def own_voice(self) -> bool:
        return self.removed_db() >= self.threshold_db


class RoomEcho:
    """The speaker heard again by the microphone: delayed, attenuated, with a little reverb."""

    def __init__(self, delay_ms: float, gain_db: float, rt60_ms: float = 250.0, seed: int = 7,
                 block: int = BLOCK, rate: int = RATE):
        self.block = block
        rng = np.random.default_rng(seed)
        n_tail = max(1, int(rate * rt60_ms / 1000))
        decay = np.exp(-6.9 * np.arange(n_tail) / n_tail)  # -60 dB over rt60
        tail = rng.normal(0, 1, n_tail) * decay
        tail *= 0.35 / np.sqrt(np.sum(tail**2))  # reverberant energy well below the direct path
        ir = np.concatenate([np.zeros(int(rate * delay_ms / 1000)), [1.0], tail])
        self.ir = ir * 10 ** (gain_db / 20)
        self._future = np.zeros(len(self.ir) + block, dtype=np.float64)  # echo not yet heard

    def add(self, mic: np.ndarray, played: np.ndarray) -> np.ndarray:
        """Return `mic` plus the echo heard during it; `played` is the block played meanwhile."""
        n = len(played)
        self._future[: len(self.ir) + n - 1] += np.convolve(played.astype(np.float64), self.ir)
        echo = self._future[:n].copy()
        self._future = np.concatenate([self._future[n:], np.zeros(n)])
        return np.clip(mic.astype(np.float64) + echo, -32768, 32767).astype(np.int16)


class ReferenceDelay:
    """Played blocks waiting to be matched with the microphone blocks that will contain them."""

    def __init__(self, block: int = BLOCK):
        self.block = block
        self._q: deque[np.ndarray] = deque()

    def push(self, played: np.ndarray) -> None:
        for i in range(0, len(played) - self.block + 1, self.block):
            self._q.append(played[i:i + self.block].copy())
        if len(self._q) > 100:  # never let a stalled microphone grow this without bound
            self._q.popleft()

    def pop(self) -> np.ndarray:
        return self._q.popleft() if self._q else np.zeros(self.block, dtype=np.int16)
