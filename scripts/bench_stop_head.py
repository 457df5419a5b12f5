#!/usr/bin/env python3
"""The "stop" spotter's head alone, clip by clip: recall on held-out real stops against false
alarms on held-out real short words, at the head's own threshold and at fixed false-alarm rates.

scripts/bench.py measures the whole recognizer, where the grammar's stop/pain backup and the
pain keyword spotter add hits and false stops of their own; this isolates the trained head, so
two heads can be compared on one ROC (`--head A.npz --head B.npz`).

Each clip is padded with 1 s of the benchmark's quiet room noise (-55 dBFS pink) either side and
scored as the stream would (stop_spotter.clip_scores: one window every 80 ms); a clip counts as
fired when any window reaches the threshold. An 80 ms hop makes a score depend on where the hops
fall in the word, so each clip is scored at --phases offsets of the hop and every figure is the
mean over them. Data: bench_data's "held-out" splits only (stops by speaker hash 8-f plus
felixchenfy and v0.01; short words by assistant/training/corpus.py short_word_split).

Usage: .venv/bin/python scripts/bench_stop_head.py [--head PATH ...] [--phases 2]   (~2 min)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_data as bd  # noqa: E402

from assistant.recognizers import stop_spotter as ss  # noqa: E402
from assistant.training import config, stop_head  # noqa: E402
from assistant.training.augment import to_int16  # noqa: E402

FALSE_RATES = (0.01, 0.02, 0.05)
TRAIN_SKIP = config.load(config.named("stop_head"), stop_head.Config).train_skip


def embeddings(clips: list[bd.Clip], phase_s: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for c in clips:
        x = bd.load_cached(c.path)  # loaded once for all phases
        pre, post = int((1.0 + phase_s) * bd.RATE), bd.RATE
        a = bd.pink_noise(pre + len(x) + post, rng) * np.float32(10 ** (bd.ROOM_NOISE_DBFS / 20))
        a[pre:pre + len(x)] += x
        out.append(ss.clip_embeddings(to_int16(a), TRAIN_SKIP))  # as the head's training clips were
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--head", action="append", type=Path,
                    help="a stop head .npz (repeatable; default: the shipped one)")
    ap.add_argument("--phases", type=int, default=2, help="offsets of the 80 ms hop to average over")
    args = ap.parse_args()
    heads = [(p, ss.StopHead.load(p)) for p in (args.head or [ss.HEAD_PATH])]
    stops, words = bd.stop_clips("held-out"), bd.short_word_clips("held-out")
    felix = np.array([c.source == bd.FELIX for c in stops])
    hop_s = ss.CHUNK_STEP / ss.RATE
    # per head: (phases, clips) best window score of each stop and each word
    s_max = {p: [] for p, _ in heads}
    w_max = {p: [] for p, _ in heads}
    for k in range(args.phases):
        phase = k * hop_s / args.phases
        es, ew = embeddings(stops, phase, 1 + k), embeddings(words, phase, 101 + k)
        for p, h in heads:
            s_max[p].append([float(h(h.windows(e)).max()) for e in es])
            w_max[p].append([float(h(h.windows(e)).max()) for e in ew])
    print(f"{len(stops)} held-out stops ({int(felix.sum())} felixchenfy), {len(words)} held-out short "
          f"words, mean over {args.phases} hop phases")
    print(f"{'head':40} {'threshold':>9} {'recall':>7} {'felix':>6} {'false':>6}  "
          + "  ".join(f"recall@{r:.0%}" for r in FALSE_RATES))
    for p, h in heads:
        s, w = np.array(s_max[p]), np.array(w_max[p])

        def at(t: float, s: np.ndarray = s, w: np.ndarray = w) -> tuple[float, float, float]:
            return float((s >= t).mean()), float((s[:, felix] >= t).mean()), float((w >= t).mean())

        rec, fel, fa = at(h.threshold)
        # the threshold giving each false-alarm rate on the words (pooled over phases)
        fixed = [at(float(np.quantile(w, 1 - r)))[0] for r in FALSE_RATES]
        name = str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
        print(f"{name[-40:]:40} {h.threshold:9.3f} {rec:7.1%} {fel:6.1%} {fa:6.1%}  "
              + "  ".join(f"{x:10.1%}" for x in fixed))


if __name__ == "__main__":
    main()
