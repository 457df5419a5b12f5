"""The navigation verifier: a softmax head over the stop spotter's embedding windows.

pocketsphinx's grammar maps almost any short speech onto some command. This head, trained by
assistant/training/command_head.py on the same openWakeWord embeddings as the stop head (and the
same K, so the stream computes each window once for both), gives every window a probability per
navigation command and one for "other". A grammar result is obeyed only when the head's
probability of that command reaches the threshold somewhere in the utterance.

The pain verifier (pain_head.npz, assistant/training/pain_head.py) is the same kind of head with two
classes, "other" and "pain", kept apart so that navigation's head and threshold stay as they were.
It checks the grammar's pain results, the backup behind the keyword spotter: its bar is low, set
to keep pain said in a noisy room, and drops what the grammar forces onto "ouch" or "too hard"
out of "off", "up" or "five". No safety fast path passes through either head, and plain "stop"
has no class in them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import registry
from ..commands import SAFETY, Command
from .mlp_head import MlpHead

HEAD_PATH = Path(__file__).with_name("command_head.npz")
PAIN_HEAD_PATH = Path(__file__).with_name("pain_head.npz")
K = 4  # embeddings per window: the stop head's, so one window serves both heads
# Class 0 is everything that is not a navigation command; the order is fixed by the weights.
CLASSES: tuple[str, ...] = ("other", *(c.value for c in Command if c not in SAFETY))
PAIN_CLASSES: tuple[str, ...] = ("other", Command.PAIN.value)


@dataclass(frozen=True)
class CommandHead(MlpHead):
    """The MLP's logits, softmax over CLASSES."""

    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = HEAD_PATH, expected: tuple[str, ...] = CLASSES) -> CommandHead:
        with np.load(path, allow_pickle=False) as z:
            classes = tuple(str(c) for c in z["classes"])
            if classes != expected:
                raise ValueError(f"{path}: trained for classes {classes}, this code has {expected}")
            return cls(z["mu"], z["sd"], z["w0"], z["b0"], z["w1"], z["b1"], float(z["threshold"]),
                       json.loads(str(z["meta"])))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(n, len(CLASSES)) probabilities of n windows."""
        logit = self.logits(x)
        logit = logit - logit.max(axis=-1, keepdims=True)
        p = np.exp(logit)
        return p / p.sum(axis=-1, keepdims=True)


@functools.lru_cache(maxsize=2)
def load_head(path: Path = HEAD_PATH) -> CommandHead:
    """The head at `path`; the shipped one only as the model registry names it."""
    if path == HEAD_PATH:
        registry.verified("command_head")
    return CommandHead.load(path)


@functools.lru_cache(maxsize=2)
def load_pain_head(path: Path = PAIN_HEAD_PATH) -> CommandHead:
    if path == PAIN_HEAD_PATH:
        registry.verified("pain_head")
    return CommandHead.load(path, PAIN_CLASSES)


def class_index(command: Command) -> int:
    return CLASSES.index(command.value)
