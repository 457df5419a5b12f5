"""The weights both trained heads share: standardisation and a one-hidden-layer relu MLP.

The stop head puts a sigmoid on its one output, the command head a softmax on its classes; both
are trained by assistant/training/mlp.py's init_mlp/adam_step and run with numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MlpHead:
    """mu/sd standardisation, then relu(x W0 + b0) W1 + b1."""

    mu: np.ndarray
    sd: np.ndarray
    w0: np.ndarray
    b0: np.ndarray
    w1: np.ndarray
    b1: np.ndarray

    def logits(self, x: np.ndarray) -> np.ndarray:
        """(n, outputs) logits of n windows."""
        h = np.maximum(0.0, ((x - self.mu) / self.sd) @ self.w0 + self.b0)
        return h @ self.w1 + self.b1
