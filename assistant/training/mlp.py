"""The numpy MLPs the heads are: one hidden ReLU layer, Adam, class weights, seed ensembles.

Plain numpy keeps training as reproducible as the product's inference (assistant/recognizers/
mlp_head.py runs the same weights): a seed gives the same head on every machine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def init_mlp(d: int, hidden: int, n_out: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-initialised weights of a d -> hidden (relu) -> n_out network."""
    return {"w0": rng.normal(0, np.sqrt(2 / d), (d, hidden)).astype(np.float32),
            "b0": np.zeros(hidden, np.float32),
            "w1": rng.normal(0, np.sqrt(1 / hidden), (hidden, n_out)).astype(np.float32),
            "b1": np.zeros(n_out, np.float32)}


def adam_step(p: dict[str, np.ndarray], m: dict[str, np.ndarray], v2: dict[str, np.ndarray], t: int,
              xb: np.ndarray, h_pre: np.ndarray, h: np.ndarray, g: np.ndarray, l2: float,
              lr: float) -> None:
    """Backpropagate `g` (the loss gradient at the output logits) through the hidden layer, with
    L2 on the weights, and take Adam step `t` in place."""
    grads = {"w1": h.T @ g + l2 * p["w1"], "b1": g.sum(0)}
    gh = (g @ p["w1"].T) * (h_pre > 0)
    grads["w0"] = xb.T @ gh + l2 * p["w0"]
    grads["b0"] = gh.sum(0)
    for k in p:
        m[k] = 0.9 * m[k] + 0.1 * grads[k]
        v2[k] = 0.999 * v2[k] + 0.001 * grads[k] ** 2
        p[k] -= lr * (m[k] / (1 - 0.9**t)) / (np.sqrt(v2[k] / (1 - 0.999**t)) + 1e-8)


LossAndGradient = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def _adam_epochs(p: dict[str, np.ndarray], z: np.ndarray, rng: np.random.Generator, epochs: int,
                 batch: int, lr: float, l2: float, loss: LossAndGradient, weight_sum: float) -> None:
    """Minibatch Adam over `z` in place of `p`, both heads' loop: `loss(logits, idx)` gives a
    batch's weighted loss and its gradient at the logits."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    t = 0
    for ep in range(epochs):
        order = rng.permutation(len(z))
        total = 0.0
        for i in range(0, len(z), batch):
            idx = order[i:i + batch]
            xb = z[idx]
            h_pre = xb @ p["w0"] + p["b0"]
            h = np.maximum(0, h_pre)
            batch_loss, g = loss(h @ p["w1"] + p["b1"], idx)
            total += batch_loss
            t += 1
            adam_step(p, m, v2, t, xb, h_pre, h, g, l2, lr)
        if ep % 5 == 4 or ep == epochs - 1:
            print(f"  epoch {ep + 1}: loss {total / weight_sum:.4f}", flush=True)


def _standardised(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mu, sd = x.mean(0), x.std(0) + 1e-3
    return mu, sd, ((x - mu) / sd).astype(np.float32)


def train_mlp(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, epochs: int = 30,
              batch: int = 256, lr: float = 1e-3, l2: float = 1e-4, pos_weight: float = 0.5,
              boost: np.ndarray | None = None, hidden: int = 64) -> dict[str, np.ndarray]:
    """Class-weighted binary cross-entropy, Adam, plain numpy; `boost` multiplies the weight of
    single windows (the hard negatives of a first round)."""
    mu, sd, z = _standardised(x)
    p = init_mlp(z.shape[1], hidden, 1, rng)
    # all positives together weigh pos_weight times all negatives together
    cw = np.where(y == 1, pos_weight * (y == 0).sum() / max(1, (y == 1).sum()), 1.0).astype(np.float32)
    if boost is not None:
        cw = (cw * boost).astype(np.float32)

    def loss(logits: np.ndarray, idx: np.ndarray) -> tuple[float, np.ndarray]:
        logit, yb, wb = logits.ravel(), y[idx], cw[idx]
        prob = 1 / (1 + np.exp(-np.clip(logit, -50, 50)))
        total = float(np.sum(wb * (np.logaddexp(0, logit) - yb * logit)))
        return total, (wb * (prob - yb) / wb.sum())[:, None]

    _adam_epochs(p, z, rng, epochs, batch, lr, l2, loss, float(cw.sum()))
    return {"mu": mu.astype(np.float32), "sd": sd.astype(np.float32), **p}


def merge(members: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One MLP whose logit is the mean of the members' logits: their hidden units side by side.

    Heads trained from different seeds on the same windows disagree most where the data is thin
    (a retrain that moved only the embedding grid by 40 ms took held-out false stops from 8 to
    22 of 480); their mean is steadier than any one of them. The members share mu and sd."""
    n = len(members)
    return {"mu": members[0]["mu"], "sd": members[0]["sd"],
            "w0": np.concatenate([m["w0"] for m in members], axis=1),
            "b0": np.concatenate([m["b0"] for m in members]),
            "w1": (np.concatenate([m["w1"] for m in members]) / n).astype(np.float32),
            "b1": (sum(m["b1"] for m in members) / n).astype(np.float32)}


def train_softmax(x: np.ndarray, y: np.ndarray, n_cls: int, rng: np.random.Generator, epochs: int,
                  l2: float, hidden: int, batch: int = 256, lr: float = 1e-3,
                  pos_weight: float = 1.0) -> dict[str, np.ndarray]:
    """Class-weighted softmax cross-entropy, Adam, plain numpy. Class 0 is "other"; every command
    class together weighs `pos_weight` times it, each command class equally."""
    mu, sd, z = _standardised(x)
    p = init_mlp(z.shape[1], hidden, n_cls, rng)
    counts = np.bincount(y, minlength=n_cls).astype(np.float64)
    cls_w = np.ones(n_cls)
    cls_w[1:] = pos_weight * counts[0] / ((n_cls - 1) * np.maximum(counts[1:], 1))
    sw = cls_w[y].astype(np.float32)
    onehot = np.eye(n_cls, dtype=np.float32)

    def loss(logit: np.ndarray, idx: np.ndarray) -> tuple[float, np.ndarray]:
        yb, wb = onehot[y[idx]], sw[idx]
        logit -= logit.max(1, keepdims=True)
        prob = np.exp(logit)
        prob /= prob.sum(1, keepdims=True)
        total = float(-np.sum(wb * np.log(np.maximum((prob * yb).sum(1), 1e-12))))
        return total, wb[:, None] * (prob - yb) / wb.sum()

    _adam_epochs(p, z, rng, epochs, batch, lr, l2, loss, float(sw.sum()))
    return {"mu": mu.astype(np.float32), "sd": sd.astype(np.float32), **p}
