#!/usr/bin/env python3
"""Hearing benchmark: how well the assistant hears "stop" and its commands, through the real CLI.

Every figure comes from the product's own code path: the clips are laid into long microphone
files, `massage-assistant listen --mic-file F --journal J --engine E` runs on each as a
subprocess (at most --jobs at a time), and only the `heard` events of the journals are scored.

Data (../shared/speech, see its README.md):
- stop recall and latency: the real "stop" clips, split by speaker and reported on "held-out".
  Speech Commands v0.02 speakers whose hash starts with 0-7 are "tune", 8-f "held-out";
  felixchenfy's single speaker and Speech Commands v0.01 are all "held-out". Tune the
  recognizer only with `--split tune`.
- false stops: the other real short words (go/no/yes/up/down/left/right/on/off, the auxiliary
  `_unknown_` words, spoken digits at 8 kHz), split by speaker too
  (assistant/training/corpus.py, short_word_split: the stop spotter learns from the "tune" words)
  and reported on the same --split.
- false commands: the read speech (LibriSpeech FLAC and Ogg, VoxForge, JFK, vosk's test clip).
- command accuracy: every phrase of assistant.commands.PHRASES from 3 festival and 3 espeak-ng
  voices at 2 rates (336 clips) at 10 dB SNR (half of the clips in white noise, half in pink);
  with --all-conditions also clean, at 20 and 5 dB, and with room echo (0.3 s RT60, pink noise
  at 20 dB). Renders are cached
  under --cache.
- CPU and peak RSS over a session: lower-back, whole, through `run --echo 30,-12` (the speaker
  output mixed back into the microphone 30 ms later, 12 dB down, with reverberation) over room
  noise, with held-out read speech 10 % of the time (full run only; the CPU target's condition).
- self-triggers: lower-back in five simulated rooms for 4 minutes of the voice
  (scripts/bench_rooms.py); with --long in all six for 7 minutes, and each bundled routine,
  whole, through `run --echo 30,-12` with no human speech; every `heard` is the assistant
  obeying its own voice.

Streams: clips follow one another with 1.5 s (--gap) of quiet room noise (-55 dBFS) between them. A
clip's window runs from its start to its end + 1.0 s for recall, and up to the next clip's
start for false alarms and synthetic commands. Latency runs from the end of the clip's speech
(energy threshold) to the first stop/pain `heard`; in `run`, the `cut` carries the same `t`.
CPU is per second of audio after each process's start-up (measured alone on a 0.1 s file) is
taken off; peak RSS is the largest listen process's own.

Usage:
  .venv/bin/python scripts/bench.py                  # full run: embedded, with and without Whisper (< 15 min)
  .venv/bin/python scripts/bench.py --long           # and whole routines, every room for longer (+40 min)
  .venv/bin/python scripts/bench.py --all-conditions # synthetic commands clean, 20/10/5 dB, echo
  .venv/bin/python scripts/bench.py --engines embedded,pocketsphinx   # and the old default beside it
  .venv/bin/python scripts/bench.py --quick          # CI smoke run (< 60 s)
  .venv/bin/python scripts/bench.py --vosk-model DIR --json bench.json
Exit code: 0 all targets met, 1 a target missed (0 with --no-fail), 2 the benchmark could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_data beside this file

import bench_data as bd
import bench_rooms
from bench_data import Clip, Condition, Placed

from assistant import events as E
from assistant.commands import PHRASES, Command
from assistant.journal import read_events
from assistant.routine import load_routine
from assistant.session import estimate_s

SAFETY = {Command.STOP.value, Command.PAIN.value}
RECALL_TAIL = 1.0  # a stop heard later than 1 s after the clip ends is a miss
GAP = 1.5  # quiet room noise between clips
CLIPS_PER_STREAM = 90  # ~3.7 min streams: start-up is amortised, and 2 workers stay busy

# key -> (comparison, target, how the target is shown): the hearing issues' targets (the second
# stage's issue raised stop recall to 98 % and the median latency to 150 ms, and allowed
# 0.25 s of CPU per s and 500 MB with Whisper loaded)
TARGETS: dict[str, tuple[str, float, str]] = {
    "stop_recall": (">=", 0.98, ">= 98 %"),
    "false_stop_rate": ("<=", 0.02, "<= 2 %"),
    "false_commands_per_10min": ("<=", 1.0, "<= 1 /10 min"),
    "accuracy_10db": (">=", 0.95, ">= 95 %"),
    "confusion_10db": ("<=", 0.01, "<= 1 %"),
    "latency_median_ms": ("<=", 150.0, "<= 150 ms"),
    "latency_p95_ms": ("<=", 300.0, "<= 300 ms"),
    "navigation_latency_p95_ms": ("<=", 900.0, "p95 <= 900 ms"),  # end of word -> acted, over the voice
    "cpu_per_audio_s": ("<=", 0.25, "<= 0.25 s/s"),
    "peak_rss_mb": ("<=", 500.0, "<= 500 MB"),
    "self_triggers": ("<=", 0.0, "0"),
    "real_commands": (">=", 0.95, ">= 95 %"),
    "yes_no_swapped": ("<=", 0.0, "0"),
    "self_triggers_rooms": ("<=", 0.0, "0"),
    "commands_over_voice": (">=", bench_rooms.TARGET_OBEYED, ">= 90 %"),
}
ECHO = "30,-12"  # the room: the speaker heard 30 ms later, 12 dB down, with a reverberant tail


_T0 = time.monotonic()


def log(msg: str) -> None:
    """Progress on stderr, with the minutes since the start: where a long run spends its time."""
    m, sec = divmod(int(time.monotonic() - _T0), 60)
    print(f"[{m:2d}:{sec:02d}] {msg}", file=sys.stderr, flush=True)


# ---- running the CLI --------------------------------------------------------------------------


def engine_args(engine: str) -> list[str]:
    """An engine as the benchmark names it: "embedded", or "embedded:off" (its second stage off)."""
    name, _, stage2 = engine.partition(":")
    return ["--engine", name, "--second-stage", stage2 or "auto"]


def cli_command() -> list[str]:
    venv = bd.ROOT / ".venv" / "bin" / "massage-assistant"
    if venv.exists():
        return [str(venv)]
    found = shutil.which("massage-assistant")
    return [found] if found else [sys.executable, "-m", "assistant.cli"]


@dataclass
class ListenResult:
    events: list[E.Heard]
    cpu_s: float
    maxrss_mb: float
    ready_s: float | None  # until "Listening with" on stderr: imports and model loading
    wall_s: float
    journal: list[Any] = field(default_factory=list)  # every event, typed


class BenchError(RuntimeError):
    pass


# The listen process's own CPU time and peak RSS, taken by a small go-between that spawns it
# and reads os.wait4. Neither getrusage(RUSAGE_CHILDREN) deltas nor a direct wait4 work here:
# Linux carries ru_maxrss across fork and exec, so any child of this (large) benchmark process
# would report the benchmark's own peak; and with two listens at once the deltas would mix.
# It also notes when it spawned the listen (CLOCK_MONOTONIC is machine-wide), so start-up is
# timed from the listen's own start, not from the go-between's.
RUSAGE_WRAPPER = """\
import os, sys, time
spawned = time.monotonic()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{ru.ru_utime + ru.ru_stime} {ru.ru_maxrss} {spawned}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(args: list[str], journal: Path, env: dict[str, str], timeout: float = 900.0) -> ListenResult:
    """`massage-assistant ARGS --journal JOURNAL` through the go-between: its journal's `heard`
    events, its own CPU time and peak RSS, when it was ready and how long it ran."""
    journal.unlink(missing_ok=True)  # the journal appends: a stale one would double the events
    usage_file = journal.with_suffix(".rusage")
    usage_file.unlink(missing_ok=True)
    cmd = [*cli_command(), *args, "--journal", str(journal)]
    proc = subprocess.Popen([sys.executable, "-c", RUSAGE_WRAPPER, str(usage_file), *cmd],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=bd.ROOT, env=env, start_new_session=True)
    watchdog = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
    watchdog.start()
    ready_at, err = None, []
    assert proc.stderr is not None
    for line in proc.stderr:
        if ready_at is None and line.startswith("Listening with"):
            ready_at = time.monotonic()
        err.append(line)
    proc.wait()
    watchdog.cancel()
    ended = time.monotonic()
    if proc.returncode != 0 or not usage_file.exists():
        raise BenchError(f"{' '.join(cmd)} exited {proc.returncode}:\n{''.join(err)[-2000:]}")
    cpu_s, maxrss_kb, spawned = usage_file.read_text().split()
    ready = ready_at - float(spawned) if ready_at is not None else None
    wall = ended - float(spawned)
    events = list(read_events(journal)) if journal.exists() else []
    return ListenResult([e for e in events if isinstance(e, E.Heard)], float(cpu_s), int(maxrss_kb) / 1024,
                        ready, wall, events)


def run_listen(engine: str, model: str | None, mic: Path, journal: Path, env: dict[str, str],
               timeout: float = 900.0) -> ListenResult:
    args = ["listen", "--mic-file", str(mic), *engine_args(engine)] + (["--model", model] if model else [])
    return run_measured(args, journal, env, timeout)


# ---- what to run ------------------------------------------------------------------------------


@dataclass
class Stream:
    """One microphone file: clips laid end to end, or one real file passed to the CLI as it is."""

    name: str
    kind: str  # stop | short | read | synth | back
    clips: list[Clip]
    rate: int = bd.RATE
    suffix: str = ".wav"
    condition: Condition | None = None
    direct: bool = False  # pass clips[0].path itself (its own format, rate and channels)
    gap: float = GAP
    seed: int = 0


@dataclass
class StreamRun:
    stream: Stream
    placed: list[Placed]
    seconds: float
    result: ListenResult

    def heard_in(self, start: float, end: float) -> list[E.Heard]:
        return [e for e in self.result.events if start <= e.t <= end]


def run_stream(s: Stream, engine: str, model: str | None, work: Path, env: dict[str, str],
               keep: bool) -> StreamRun:
    journal = work / f"{engine}-{s.name}.jsonl"
    if s.direct:
        mic = s.clips[0].path
        info = sf.info(str(mic))
        x = bd.load(mic)
        _, word_end = bd.speech_bounds(x, bd.RATE)
        placed = [Placed(s.clips[0], 0.0, info.duration, word_end, info.duration)]
        seconds = info.duration
    else:
        audio, placed = bd.build_stream(s.clips, s.rate, s.gap, condition=s.condition, seed=s.seed)
        mic = work / f"{s.name}{s.suffix}"
        bd.write_stream(mic, audio, s.rate)
        seconds = len(audio) / s.rate
    try:
        result = run_listen(engine, model, mic, journal, env)
    finally:
        if not keep and not s.direct:
            mic.unlink(missing_ok=True)
    return StreamRun(s, placed, seconds, result)


@dataclass
class SelfRun:
    """One whole bundled routine run with --echo over room noise and no human speech."""

    routine: str
    seconds: float  # microphone audio
    heard: list[E.Heard]
    ended: str  # the journal's last session outcome: "finished" unless something stopped it
    wall_s: float


def quiet_room(routine: Path, seconds: float) -> np.ndarray:
    """`seconds` of the quiet room's noise, the same for a routine on every run."""
    rng = np.random.default_rng(int(hashlib.sha1(routine.name.encode()).hexdigest()[:8], 16))
    return bd.pink_noise(int(seconds * bd.RATE), rng) * np.float32(10 ** (bd.ROOM_NOISE_DBFS / 20))


def run_routine(routine: Path, engine: str, model: str | None, work: Path, env: dict[str, str], kind: str,
                mic_audio: np.ndarray) -> ListenResult:
    """`run ROUTINE --echo` on `mic_audio`, measured. The safety questions are skipped (nobody is
    there to answer), and each run has a data directory of its own: the foam roller's daily limit
    must not carry over between runs."""
    mic = work / f"{kind}-{engine}-{routine.stem}.wav"
    bd.write_stream(mic, mic_audio, bd.RATE)
    args = ["run", str(routine), "--skip-safety-check", *engine_args(engine), "--echo", ECHO,
            "--mic-file", str(mic), "--quiet"] + (["--model", model] if model else [])
    env = {**env, "MASSAGE_ASSISTANT_DATA": str(work / f"data-{kind}-{engine}-{routine.stem}")}
    try:
        return run_measured(args, mic.with_suffix(".jsonl"), env, timeout=1800)
    finally:
        mic.unlink(missing_ok=True)


def ended(journal: list[Any]) -> str:
    """How the session in a journal ended: its last outcome's reason."""
    ends = [e for e in journal if isinstance(e, E.Finished | E.Aborted)]
    return ends[-1].reason if ends else "?"


def run_routine_with_echo(routine: Path, engine: str, model: str | None, work: Path,
                          env: dict[str, str]) -> SelfRun:
    """`run ROUTINE --echo` with only room noise at the microphone: every `heard` is the
    assistant hearing itself."""
    seconds = estimate_s(load_routine(routine)) * 1.3 + 60  # room for the estimate being short
    result = run_routine(routine, engine, model, work, env, "self", quiet_room(routine, seconds))
    return SelfRun(routine.stem, seconds, result.events, ended(result.journal), result.wall_s)


PERSON_SHARE = 0.10  # the CPU target's condition: a person speaking 10 % of the time
PERSON_ROUTINE = "lower-back"  # the routine the README runs first


@dataclass
class PersonRun:
    """A whole routine with its voice echoed into the microphone and a person talking now and then."""

    routine: str
    seconds: float  # microphone audio
    speech_s: float  # of it, the person's
    session_s: float  # the routine's estimated length, over which the person talks
    result: ListenResult


def run_routine_with_person(routine: Path, engine: str, model: str | None, work: Path,
                            env: dict[str, str], speech: Path) -> PersonRun:
    """`run ROUTINE --echo` for the whole routine, with a person reading aloud (held-out read
    speech, which holds no command) PERSON_SHARE of the time, spread evenly at -26 dBFS over a
    quiet room: the session's CPU per second of audio and its peak RSS as a user's laptop would
    see them, start-up included. Whatever it obeys is a false command."""
    session = estimate_s(load_routine(routine))  # the talk is spread over the session's own length
    seconds = session * 1.3 + 60  # the microphone outlasts it
    talk = [c for c in shuffled(bd.read_speech_clips(speech), 7) if c.source == bd.READ_SPEECH[0]]
    said: list[np.ndarray] = []
    while sum(len(x) for x in said) < PERSON_SHARE * session * bd.RATE and talk:
        said.append(bd.at_level(bd.load_cached(talk.pop().path), bd.RATE, bd.SPEECH_LEVEL_DBFS))
    mic_audio = quiet_room(routine, seconds)
    for k, x in enumerate(said):  # evenly: the k-th utterance centred in the k-th of len(said) parts
        at = max(0, int(((k + 0.5) * session / len(said)) * bd.RATE - len(x) / 2))
        mic_audio[at:at + len(x)] += x[: len(mic_audio) - at]
    result = run_routine(routine, engine, model, work, env, "person", mic_audio)
    return PersonRun(routine.stem, seconds, sum(len(x) for x in said) / bd.RATE, session, result)


def score_person(run: PersonRun) -> dict[str, Any]:
    obeyed = [h for h in run.result.events if h.ignored != "own voice"]
    # the session ends with its routine, before the microphone file does: CPU per second it heard
    heard_s = max((float(t) for e in run.result.journal if (t := getattr(e, "t", None)) is not None),
                  default=run.seconds)
    return {"routine": run.routine, "audio_s": heard_s, "speech_share": run.speech_s / run.session_s,
            "cpu_s": run.result.cpu_s, "cpu_per_audio_s": run.result.cpu_s / heard_s,
            "peak_rss_mb": run.result.maxrss_mb, "wall_s": run.result.wall_s,
            "obeyed": [f"{h.t:.1f} s {h.command} ({h.text!r})" for h in obeyed],
            "ended": ended(run.result.journal)}


def score_self(runs: list[SelfRun]) -> dict[str, Any]:
    """Self-triggers: every command heard and taken for someone else's (obeyed or, in that
    state, ignored). Detections set aside as the assistant's own voice (`ignored: own voice`,
    see assistant.echo.EchoMeter) are counted apart."""
    obeyed = sum(1 for r in runs for h in r.heard if h.ignored != "own voice")
    own = sum(1 for r in runs for h in r.heard if h.ignored == "own voice")
    return {"value": float(obeyed), "own_voice_ignored": own, "routines": len(runs),
            "minutes": sum(r.seconds for r in runs) / 60, "echo": ECHO,
            "per_routine": {r.routine: {"heard": [f"{h.t:.1f} s {h.command} ({h.text!r}"
                                                  f"{', ' + h.ignored if h.ignored else ''})"
                                                  for h in r.heard], "ended": r.ended,
                                        "wall_s": round(r.wall_s, 1)} for r in runs}}


def chunks(items: Sequence[Clip], size: int) -> list[list[Clip]]:
    if not items:
        return []
    n = -(-len(items) // size)  # equal-sized chunks rather than one short leftover
    return [list(items[i::n]) for i in range(n)]


def shuffled(items: Iterable[Clip], seed: int) -> list[Clip]:
    out = list(items)
    random.Random(seed).shuffle(out)  # speakers and phrases mixed along each stream
    return out


def synthetic_clips(cache: Path, quick: bool) -> list[Clip]:
    phrases = list(PHRASES)
    if quick:  # one voice of each kind, alternating, one rate
        plan = [(p, ("voice_kal_diphone", "en-us")[i % 2], "normal") for i, p in enumerate(phrases)]
    else:
        voices = (*bd.FESTIVAL_VOICES, *bd.ESPEAK_VOICES)
        plan = [(p, v, r) for v in voices for r in bd.RATES for p in phrases]
    return [Clip(f"synth/{v}/{r}/{p}", bd.synth_path(p, v, r, cache), p, f"{v}/{r}", "synthetic", "synthetic")
            for p, v, r in plan]


def synthesize_all(clips: list[Clip], cache: Path, jobs: int) -> None:
    todo = [c for c in clips if not c.path.exists()]
    if not todo:
        return
    missing = bd.synth_tools_missing()
    if missing:
        raise BenchError(f"{', '.join(missing)} not installed (scripts/setup --test installs festival)")
    log(f"synthesising {len(todo)} clips into {cache / 'synth'} ...")
    voice_of = {c.key: c.speaker.split("/") for c in todo}
    with ThreadPoolExecutor(jobs) as pool:
        for f in as_completed([pool.submit(bd.synthesize, c.text, *voice_of[c.key], cache) for c in todo]):
            f.result()


def plan_streams(args: argparse.Namespace, synth: list[Clip]) -> list[Stream]:
    speech = Path(args.speech)
    stops = shuffled(bd.stop_clips(args.split, speech), 1)
    short = bd.short_word_clips(args.split, speech)
    read = bd.read_speech_clips(speech)
    if args.quick:  # a spread of speakers and words, a few dozen clips in all
        stops = stops[:16]
        short = shuffled(short, 2)
        sc, digits = [c for c in short if c.source == bd.SC2], [c for c in short if c.source == bd.DIGITS]
        short = sc[:12] + digits[:6]
        read = [next(c for c in read if c.path.suffix == ".ogg"),
                next(c for c in read if c.path.suffix == ".flac" and c.source == "misc_single_clips")]
    per = 40 if args.quick else CLIPS_PER_STREAM
    gap = args.gap
    streams = [Stream(f"stop-{i}", "stop", c, seed=100 + i, gap=gap)
               for i, c in enumerate(chunks(stops, per))]
    sc = shuffled((c for c in short if c.source == bd.SC2), 3)
    streams += [Stream(f"short-{i}", "short", c, seed=200 + i, gap=gap)
                for i, c in enumerate(chunks(sc, per))]
    digits = shuffled((c for c in short if c.source == bd.DIGITS), 4)
    streams += [Stream(f"digits8k-{i}", "short", c, rate=8000, seed=300 + i, gap=gap)
                for i, c in enumerate(chunks(digits, per))]
    # Read speech keeps its container and rate so the CLI's reader handles FLAC, Ogg and stereo.
    if args.quick:  # each file as it is: one Ogg at 22.05 kHz, the 44.1 kHz stereo 24-bit FLAC
        streams += [Stream(f"read-{c.path.stem}", "read", [c], direct=True) for c in read]
    else:
        libri = [c for c in read if c.source == bd.READ_SPEECH[0]]
        streams += [Stream(f"libri-{i}", "read", c, suffix=".flac", gap=1.0, seed=400 + i)
                    for i, c in enumerate(chunks(libri, 15))]
        ogg = [c for c in read if c.path.suffix == ".ogg"]
        streams += [Stream(f"libri-ogg-{i}", "read", c, rate=22050, suffix=".ogg", gap=1.0, seed=500 + i)
                    for i, c in enumerate(chunks(ogg, 15))]
        vox = [c for c in read if c.source == "voxforge_en_excerpt"]
        streams += [Stream(f"voxforge-{i}", "read", c, gap=1.0, seed=550 + i)
                    for i, c in enumerate(chunks(vox, 30))]
        misc = [c for c in read if c.source == "misc_single_clips"]
        streams += [Stream(f"read-{c.path.stem}", "read", [c], direct=True) for c in misc]
    s2p_commands, s2p_sentences = bd.s2p_clips(speech)
    answers = [c for c in short if c.text in ("yes", "no")]  # the short words' split: held-out
    realcmd = shuffled([*s2p_commands, *answers], 6)
    if args.quick:  # a smoke run: a dozen commands and eight sentences
        realcmd, s2p_sentences = realcmd[:12], shuffled(s2p_sentences, 8)[:8]
    streams.append(Stream("realcmd", "realcmd", realcmd, seed=650))
    streams.append(Stream("oov", "oov", s2p_sentences, seed=660))
    if not args.quick:
        back = shuffled(bd.back_clips(speech), 5)
        streams += [Stream(f"back-{i}", "back", c, seed=600 + i) for i, c in enumerate(chunks(back, per))]
    # The targets name the 10 dB row; the others (clean, 20 dB, 5 dB, room echo) are four times
    # its audio, and the full run took 43 minutes with them: --all-conditions adds them.
    conditions = (bd.QUICK_CONDITIONS if args.quick or not args.all_conditions
                  else bd.FULL_CONDITIONS)
    # A fixed pseudo-random order, dealt out in turn to the conditions of a group (white/pink).
    dealt = sorted(synth, key=lambda c: hashlib.sha1(c.key.encode()).hexdigest())
    for j, cond in enumerate(conditions):
        group = [c for c in conditions if c.group == cond.group]
        clips = dealt[group.index(cond)::len(group)]
        for i, c in enumerate(chunks(shuffled(clips, 10 + j), per)):
            streams.append(Stream(f"synth-{cond.name.replace(' ', '_')}-{i}", "synth", c,
                                  condition=cond, seed=1000 + 50 * j + i))
    return streams


# ---- scoring ----------------------------------------------------------------------------------


def commands(events: list[E.Heard]) -> list[str]:
    return [e.command for e in events]


def path(event: E.Heard) -> str:
    """Which of the recognizer's paths gave a `heard` event: the journal names it (the stop
    spotter, the keyword spotter, the grammar, whisper, vosk)."""
    return event.path or ("grammar" if event.final else "fast path")


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def score_stops(runs: list[StreamRun], split: str) -> tuple[dict[str, Any], dict[str, Any]]:
    hits, latencies, missed, clips = 0, [], [], []
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in runs:
        for p in r.placed:
            heard = [e for e in r.heard_in(p.start, p.end + RECALL_TAIL) if e.command in SAFETY]
            clips.append({"clip": p.clip.key, "stream": r.stream.name, "start": round(p.start, 3),
                          "word_end": round(p.word_end, 3), "end": round(p.end, 3),
                          "heard": [[e.t, e.command, e.text, e.final]
                                    for e in r.heard_in(p.start, p.next_start)]})
            by_source[p.clip.source][1] += 1
            if heard:
                hits += 1
                by_source[p.clip.source][0] += 1
                latencies.append(heard[0].t - p.word_end)
            else:
                missed.append(p.clip.key)
    n = sum(len(r.placed) for r in runs)
    recall = {"value": hits / n if n else float("nan"), "hits": hits, "n": n, "split": split,
              "by_source": {k: {"hits": h, "n": m} for k, (h, m) in sorted(by_source.items())},
              "missed": missed, "clips": clips}
    ms = [1000 * x for x in latencies]
    latency = {"median_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": max(ms, default=float("nan")),
               "min_ms": min(ms, default=float("nan")), "n": len(ms), "split": split,
               "note": "first stop/pain heard minus the clip's speech end (energy threshold); "
                       "`listen` stamps a result at the end of its 20 ms block"}
    return recall, latency


def score_false_stops(runs: list[StreamRun], split: str) -> dict[str, Any]:
    n, stops, anything = 0, [], []
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_path: Counter = Counter()  # the path of each false stop's first safety event
    for r in runs:
        for p in r.placed:
            events = r.heard_in(p.start, p.next_start)
            heard = commands(events)
            n += 1
            by_source[p.clip.source][1] += 1
            first = next((e for e in events if e.command in SAFETY), None)
            if first is not None:
                where = path(first)
                stops.append({"clip": p.clip.key, "word": p.clip.text, "heard": heard, "path": where})
                by_source[p.clip.source][0] += 1
                by_path[where] += 1
            if heard:
                anything.append(p.clip.key)
    return {"value": len(stops) / n if n else float("nan"), "count": len(stops), "n": n, "split": split,
            "any_command_rate": len(anything) / n if n else float("nan"),
            "by_source": {k: {"false_stops": f, "n": m} for k, (f, m) in sorted(by_source.items())},
            "by_path": dict(by_path.most_common()), "false_stops": stops}


def score_read(runs: list[StreamRun]) -> dict[str, Any]:
    heard = [{"clip": r.stream.name, "t": e.t, "command": e.command, "text": e.text,
              "path": path(e)} for r in runs for e in r.result.events]
    minutes = sum(p.end - p.start for r in runs for p in r.placed) / 60
    return {"value": len(heard) / minutes * 10 if minutes else float("nan"), "count": len(heard),
            "minutes": minutes, "split": "held-out", "heard": heard}


def score_real_commands(runs: list[StreamRun], back: list[StreamRun]) -> dict[str, Any]:
    """Real people's commands, one stream, pauses between: speech-to-phrase's next, pause and
    resume, the held-out real yes and no, and felixchenfy's back. Heard right: its command among
    what was heard by 1 s after it; a yes heard as no or a no as yes is counted apart."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    swapped = []
    for r in [*runs, *back]:
        for p in r.placed:
            want = p.clip.text
            heard = commands(r.heard_in(p.start, p.end + RECALL_TAIL))
            rows[want][0] += 1
            rows[want][1] += want in heard
            other = {"yes": "no", "no": "yes"}.get(want)
            if other and other in heard:
                swapped.append(p.clip.key)
    n = sum(v[0] for v in rows.values())
    ok = sum(v[1] for v in rows.values())
    return {"value": ok / n if n else float("nan"), "hits": ok, "n": n, "split": "held-out / test",
            "by_command": {k: {"hits": v[1], "n": v[0]} for k, v in sorted(rows.items())},
            "yes_no_swapped": len(swapped), "swapped": swapped}


def score_back(runs: list[StreamRun]) -> dict[str, Any]:
    hits, other = 0, Counter()
    for r in runs:
        for p in r.placed:
            heard = commands(r.heard_in(p.start, p.end + RECALL_TAIL))
            hits += Command.BACK.value in heard
            other.update(c for c in heard if c != Command.BACK.value)
    n = sum(len(r.placed) for r in runs)
    return {"value": hits / n if n else float("nan"), "hits": hits, "n": n, "split": "held-out",
            "other_heard": dict(other)}


def synth_outcome(phrase: str, heard: list[str]) -> tuple[str, list[str]]:
    """correct / confused / miss, and the wrong commands heard.

    A plain "stop" heard in a phrase that says "stop" ("stop it hurts") is not a confusion: the
    spotter rightly fires on the word before the rest of the phrase arrives.
    """
    expected = PHRASES[phrase].value
    wrong = [c for c in heard if c != expected and not (c == Command.STOP.value and "stop" in phrase.split())]
    if wrong:
        return "confused", wrong
    return ("correct" if expected in heard else "miss"), []


def score_synth(runs: list[StreamRun]) -> dict[str, Any]:
    groups: dict[str, Counter] = defaultdict(Counter)
    per_cmd: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    by_voice: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    matrix: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    failures = []
    for r in runs:
        assert r.stream.condition is not None
        g = r.stream.condition.group
        for p in r.placed:
            heard = commands(r.heard_in(p.start, p.next_start))
            outcome, wrong = synth_outcome(p.clip.text, heard)
            expected = PHRASES[p.clip.text].value
            groups[g][outcome] += 1
            per_cmd[g][expected][outcome] += 1
            per_cmd[g][expected].update(f"as:{c}" for c in wrong)
            by_voice[g][p.clip.speaker.split("/")[0]][outcome] += 1
            matrix[g][expected].update(heard or ["(none)"])
            if outcome != "correct":
                failures.append({"clip": p.clip.key, "condition": r.stream.condition.name, "outcome": outcome,
                                 "heard": heard})

    def rates(c: Counter) -> dict[str, Any]:
        n = c["correct"] + c["confused"] + c["miss"]
        return {"n": n, **{k: c[k] / n if n else float("nan") for k in ("correct", "confused", "miss")},
                "heard_as": {k[3:]: v for k, v in c.items() if k.startswith("as:")}}

    order = [g for g in ("clean", "20 dB", "10 dB", "5 dB", "echo") if g in groups]
    return {
        "split": "synthetic",
        "groups": {g: rates(groups[g]) for g in order},
        "per_command": {g: {k: rates(c) for k, c in sorted(per_cmd[g].items())} for g in order},
        "by_voice": {g: {k: rates(c) for k, c in sorted(by_voice[g].items())} for g in order},
        "confusion_matrix": {g: {k: dict(c) for k, c in sorted(matrix[g].items())} for g in order},
        "failures": failures,
    }


def measure_startup(engine: str, model: str | None, work: Path, env: dict[str, str],
                    repeats: int) -> dict[str, float]:
    """`listen` on a 0.1 s file, one at a time so nothing else competes for the CPU."""
    mic = work / "tenth.wav"
    bd.write_stream(mic, bd.pink_noise(1600, np.random.default_rng(0)) * 0.002, bd.RATE)
    results = [run_listen(engine, model, mic, work / f"startup-{engine}.jsonl", env) for _ in range(repeats)]
    ready = [r.ready_s for r in results if r.ready_s is not None]
    return {"ready_s": statistics.median(ready) if ready else float("nan"),
            "wall_s": statistics.median(r.wall_s for r in results),
            "cpu_s": statistics.median(r.cpu_s for r in results),
            "rss_mb": max(r.maxrss_mb for r in results)}


def score_resources(runs: list[StreamRun], startup: dict[str, float]) -> dict[str, Any]:
    audio = sum(r.seconds for r in runs)
    cpu = sum(r.result.cpu_s for r in runs)
    # Steady-state listening: take off each process's start-up (imports, model), measured alone.
    listening = cpu - startup["cpu_s"] * len(runs)
    longest = max(runs, key=lambda r: r.seconds)
    streams = [{"stream": r.stream.name, "audio_s": round(r.seconds, 2), "cpu_s": round(r.result.cpu_s, 3),
                "rss_mb": round(r.result.maxrss_mb, 1), "wall_s": round(r.result.wall_s, 2),
                "ready_s": r.result.ready_s} for r in sorted(runs, key=lambda r: r.stream.name)]
    return {"cpu_per_audio_s": listening / audio if audio else float("nan"), "cpu_total_s": cpu,
            "audio_s": audio, "processes": len(runs), "streams": streams,
            "peak_rss_mb": max(r.result.maxrss_mb for r in runs),
            "longest_stream_s": longest.seconds,
            "startup_ready_s": startup["ready_s"], "startup_wall_s": startup["wall_s"],
            "startup_cpu_s": startup["cpu_s"], "startup_rss_mb": startup["rss_mb"]}


def check(key: str, value: float) -> str:
    op, target, _ = TARGETS[key]
    if value != value:  # NaN: nothing was measured, which is no pass
        return "MISS"
    return "PASS" if (value >= target if op == ">=" else value <= target) else "MISS"


@dataclass
class EngineReport:
    engine: str
    figures: dict[str, Any] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)


def evaluate(engine: str, runs: list[StreamRun], startup: dict[str, float], split: str,
             self_runs: list[SelfRun], rooms: dict[str, Any] | None = None,
             person: PersonRun | None = None) -> EngineReport:
    by_kind: dict[str, list[StreamRun]] = defaultdict(list)
    for r in runs:
        by_kind[r.stream.kind].append(r)
    rep = EngineReport(engine)
    f = rep.figures
    f["stop_recall"], f["latency"] = score_stops(by_kind["stop"], split)
    f["false_stops"] = score_false_stops(by_kind["short"], split)
    f["false_commands"] = score_read([*by_kind["read"], *by_kind["oov"]])
    f["real_commands"] = score_real_commands(by_kind["realcmd"], by_kind["back"])
    f["synthetic"] = score_synth(by_kind["synth"])
    if by_kind["back"]:
        f["back_recall"] = score_back(by_kind["back"])
    f["resources"] = score_resources(runs, startup)
    ten = f["synthetic"]["groups"].get("10 dB", {})
    values = {
        "stop_recall": f["stop_recall"]["value"],
        "false_stop_rate": f["false_stops"]["value"],
        "false_commands_per_10min": f["false_commands"]["value"],
        "real_commands": f["real_commands"]["value"],
        "yes_no_swapped": float(f["real_commands"]["yes_no_swapped"]),
        "accuracy_10db": ten.get("correct", float("nan")),
        "confusion_10db": ten.get("confused", float("nan")),
        "latency_median_ms": f["latency"]["median_ms"],
        "latency_p95_ms": f["latency"]["p95_ms"],
        "cpu_per_audio_s": f["resources"]["cpu_per_audio_s"],
        "peak_rss_mb": f["resources"]["peak_rss_mb"],
    }
    if person is not None:  # the target's condition: a whole routine, a person talking 10 % of the time
        f["person"] = score_person(person)
        values["cpu_per_audio_s"] = f["person"]["cpu_per_audio_s"]
        values["peak_rss_mb"] = max(values["peak_rss_mb"], f["person"]["peak_rss_mb"])
    if self_runs:  # the quick run leaves whole routines to the tests (tests/test_self_hearing.py)
        f["self_triggers"] = score_self(self_runs)
        values["self_triggers"] = f["self_triggers"]["value"]
    if rooms is not None:
        f["rooms"] = rooms
        values["self_triggers_rooms"] = float(rooms["self_triggers"])
        values["commands_over_voice"] = rooms["commands_obeyed"]
        values["navigation_latency_p95_ms"] = rooms["navigation_latency_p95_ms"]
    rep.verdicts = {k: check(k, v) for k, v in values.items()}
    f["targets"] = {k: {"value": v, "target": TARGETS[k][2], "result": rep.verdicts[k]}
                    for k, v in values.items()}
    return rep


# ---- printing ---------------------------------------------------------------------------------


def p100(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f} %"


def ms(x: float) -> str:
    return "n/a" if x != x else f"{x:.0f} ms"


def table(rows: list[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def render(rep: EngineReport) -> str:
    f, v = rep.figures, rep.verdicts
    sr, fs, fc = f["stop_recall"], f["false_stops"], f["false_commands"]
    lat, res, syn = f["latency"], f["resources"], f["synthetic"]
    ten = syn["groups"].get("10 dB", {"correct": float("nan"), "confused": float("nan"), "n": 0})
    rows = [
        ["stop recall, real speech", p100(sr["value"]), sr["split"], f"{sr['hits']}/{sr['n']} clips",
         TARGETS["stop_recall"][2], v["stop_recall"]],
        ["false stops, real short words", p100(fs["value"]), fs["split"], f"{fs['count']}/{fs['n']} clips",
         TARGETS["false_stop_rate"][2], v["false_stop_rate"]],
        ["false commands, read speech and real sentences", f"{fc['value']:.2f} /10 min", fc["split"],
         f"{fc['count']} in {fc['minutes']:.1f} min", TARGETS["false_commands_per_10min"][2],
         v["false_commands_per_10min"]],
        ["real commands heard right (next, pause, resume, back, yes, no)", p100(f["real_commands"]["value"]),
         f["real_commands"]["split"], f"{f['real_commands']['hits']}/{f['real_commands']['n']} clips",
         TARGETS["real_commands"][2], v["real_commands"]],
        ["real yes heard as no, or no as yes", str(f["real_commands"]["yes_no_swapped"]), "held-out",
         "", TARGETS["yes_no_swapped"][2], v["yes_no_swapped"]],
        ["command accuracy at 10 dB SNR", p100(ten["correct"]), syn["split"], f"{ten['n']} clips",
         TARGETS["accuracy_10db"][2], v["accuracy_10db"]],
        ["command confusions at 10 dB SNR", p100(ten["confused"]), syn["split"], f"{ten['n']} clips",
         TARGETS["confusion_10db"][2], v["confusion_10db"]],
        ["stop latency, median", ms(lat["median_ms"]), lat["split"], f"{lat['n']} stops",
         TARGETS["latency_median_ms"][2], v["latency_median_ms"]],
        ["stop latency, p95", ms(lat["p95_ms"]), lat["split"], f"{lat['n']} stops",
         TARGETS["latency_p95_ms"][2], v["latency_p95_ms"]],
        ["stop latency, max", ms(lat["max_ms"]), lat["split"], f"{lat['n']} stops", "-", ""],
        *([["self-triggers, whole routines with echo", f"{f['self_triggers']['value']:.0f}", "no speech",
             f"{f['self_triggers']['routines']} routines, {f['self_triggers']['minutes']:.0f} min",
             TARGETS["self_triggers"][2], v["self_triggers"]]] if "self_triggers" in f else []),
        *([["self-triggers, every room, a stop/continue cycle", f"{f['rooms']['self_triggers']}",
            "no speech", f"{len(f['rooms']['rooms'])} rooms", TARGETS["self_triggers_rooms"][2],
            v["self_triggers_rooms"]],
           ["commands obeyed over the voice, simulated rooms", p100(f["rooms"]["commands_obeyed"]),
            "real + held-out voices", f"{f['rooms']['commands_n']} commands",
            TARGETS["commands_over_voice"][2], v["commands_over_voice"]],
           ["  of them real people's (back, next, pause, resume)", p100(f["rooms"]["commands_obeyed_real"]),
            "held-out / test", f"{f['rooms']['commands_real_n']} commands", "-", ""],
           ["navigation latency over the voice, median / p95",
            f"{f['rooms']['navigation_latency_median_ms']:.0f} / "
            f"{f['rooms']['navigation_latency_p95_ms']:.0f} ms",
            "obeyed commands", "", TARGETS["navigation_latency_p95_ms"][2],
            v["navigation_latency_p95_ms"]]] if "rooms" in f else []),
        *([["CPU over a whole routine, a person talking 10 % of the time",
            f"{f['person']['cpu_per_audio_s']:.3f} s/s", "held-out read speech",
            f"{f['person']['routine']}, {f['person']['audio_s'] / 60:.1f} min", TARGETS["cpu_per_audio_s"][2],
            v["cpu_per_audio_s"]],
           ["  commands obeyed in it (none is said)", str(len(f["person"]["obeyed"])), "held-out read speech",
            f"{100 * f['person']['speech_share']:.0f} % speech", "-", ""]] if "person" in f else []),
        ["CPU while listening" + (" (streams)" if "person" in f else ""), f"{res['cpu_per_audio_s']:.3f} s/s",
         "all streams", f"{res['audio_s'] / 60:.1f} min audio",
         *(["-", ""] if "person" in f else [TARGETS["cpu_per_audio_s"][2], v["cpu_per_audio_s"]])],
        ["peak RSS" + (" (streams and the routine)" if "person" in f else " of listen"),
         f"{max(res['peak_rss_mb'], f.get('person', {}).get('peak_rss_mb', 0)):.0f} MB", "all streams",
         f"{res['processes']} processes", TARGETS["peak_rss_mb"][2], v["peak_rss_mb"]],
        ["start-up to ready", f"{res['startup_ready_s']:.2f} s", "0.1 s file",
         f"exit after {res['startup_wall_s']:.2f} s", "-", ""],
        ["any command on short words", p100(fs["any_command_rate"]), fs["split"], f"{fs['n']} clips",
         "-", ""],
    ]
    if "back_recall" in f:
        b = f["back_recall"]
        rows.append(['"back" recall, real speech (1 speaker)', p100(b["value"]), b["split"],
                     f"{b['hits']}/{b['n']} clips", "-", ""])
    out = [f"== {rep.engine} ==", table(rows, ["figure", "value", "split", "n", "target", "result"])]
    src = ", ".join(f"{k} {d['hits']}/{d['n']}" for k, d in sr["by_source"].items())
    out.append(f"stop recall by source: {src}")
    src = ", ".join(f"{k} {d['false_stops']}/{d['n']}" for k, d in fs["by_source"].items())
    out.append(f"false stops by source: {src}")
    out.append("false stops by path (first safety event): "
               + ", ".join(f"{k} {v}" for k, v in fs["by_path"].items()))
    if "rooms" in f:
        out.append("rooms (scripts/bench_rooms.py):")
        out.append(bench_rooms.render(f["rooms"]))
    if "self_triggers" in f:
        out.append("self-hearing (--echo " + f["self_triggers"]["echo"] + "): " + "; ".join(
            f"{k} {'nothing heard' if not d['heard'] else ', '.join(d['heard'])}, ended {d['ended']}"
            for k, d in f["self_triggers"]["per_routine"].items())
            + f"; set aside as its own voice: {f['self_triggers']['own_voice_ignored']}")
    if fc["heard"]:
        said = ", ".join(f"{h['command']} ({h['text']!r}, {h['path']})" for h in fc["heard"][:8])
        out.append(f"heard in read speech: {said}" + (" ..." if len(fc["heard"]) > 8 else ""))
    if f.get("person", {}).get("obeyed"):
        p = f["person"]
        out.append(f"obeyed in {p['routine']} with a person talking: {', '.join(p['obeyed'][:8])}"
                   + (" ..." if len(p["obeyed"]) > 8 else "") + f"; the session {p['ended']}")
    out.append("")
    out.append(f"synthetic commands by condition (split: {syn['split']}; every phrase, "
               f"{len(syn['by_voice'].get('10 dB', {})) or '?'} voices)")
    grows = [[g, str(d["n"]), p100(d["correct"]), p100(d["confused"]), p100(d["miss"])]
             for g, d in syn["groups"].items()]
    out.append(table(grows, ["condition", "n", "accuracy", "confusion", "miss"]))
    focus = "10 dB" if "10 dB" in syn["per_command"] else next(iter(syn["per_command"]), None)
    if focus:
        out.append("")
        out.append(f"per command at {focus}")
        crows = []
        for cmd, d in syn["per_command"][focus].items():
            wrong = " ".join(f"{k}x{n}" for k, n in sorted(d["heard_as"].items(), key=lambda kv: -kv[1]))
            crows.append([cmd, str(d["n"]), p100(d["correct"]), p100(d["confused"]), p100(d["miss"]),
                          wrong or "-"])
        out.append(table(crows, ["command", "n", "accuracy", "confusion", "miss", "heard instead"]))
        voices = ", ".join(f"{k} {p100(d['correct'])}" for k, d in syn["by_voice"][focus].items())
        out.append(f"accuracy by voice at {focus}: {voices}")
    return "\n".join(out)


def jsonable(x: Any) -> Any:
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    return x


# ---- main -------------------------------------------------------------------------------------


def run_engine(engine: str, model: str | None, streams: list[Stream], work: Path, env: dict[str, str],
               args: argparse.Namespace, progress: Callable[[str], None]) -> EngineReport:
    startup = measure_startup(engine, model, work, env, 1 if args.quick else 3)
    progress(f"{engine}: ready after {startup['ready_s']:.2f} s; "
             f"{len(streams)} streams on {args.jobs} workers")
    runs: list[StreamRun] = []
    order = sorted(streams, key=lambda s: -len(s.clips))  # longest first: the pool ends together
    with ThreadPoolExecutor(args.jobs) as pool:
        # one whole routine with a person talking now and then (the CPU target); the four routines
        # with no one speaking (about 45 min of audio) only when asked: the rooms hear lower-back
        person_routine = bd.ROOT / "routines" / f"{PERSON_ROUTINE}.yaml"
        person = (pool.submit(run_routine_with_person, person_routine, engine, model, work, env,
                              Path(args.speech)) if not args.quick else None)
        routines = sorted((bd.ROOT / "routines").glob("*.yaml")) if args.long else []
        self_futures = [pool.submit(run_routine_with_echo, r, engine, model, work, env) for r in routines]
        for f in self_futures:
            f.add_done_callback(lambda f: f.exception() or progress(
                f"{engine}: routine {f.result().routine} ({f.result().seconds / 60:.1f} min of audio) "
                f"done in {f.result().wall_s:.0f} s"))
        futures = [pool.submit(run_stream, s, engine, model, work, env, args.keep is not None) for s in order]
        for i, fut in enumerate(as_completed(futures), 1):
            runs.append(fut.result())
            if i % 10 == 0 or i == len(futures):
                audio = sum(r.seconds for r in runs) / 60
                progress(f"{engine}: {i}/{len(futures)} streams done ({audio:.1f} min of audio)")
        self_runs = [f.result() for f in self_futures]
        person_run = person.result() if person else None
        if person_run:
            progress(f"{engine}: {PERSON_ROUTINE} with a person talking "
                     f"({person_run.seconds / 60:.1f} min of audio) done in {person_run.result.wall_s:.0f} s")
    rooms = None
    if engine == "embedded" or args.rooms_all:  # the product's engine, in every simulated room
        progress(f"{engine}: rooms ...")
        rooms = bench_rooms.run_all(work / f"rooms-{engine}", env, args.jobs, args.quick, progress, args.long)
    return evaluate(engine, runs, startup, args.split, self_runs, rooms, person_run)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run for CI (< 60 s)")
    ap.add_argument("--json", metavar="OUT", help="also write every figure as JSON")
    ap.add_argument("--vosk-model", metavar="DIR", help="also benchmark vosk with this (English) model")
    ap.add_argument("--engines",
                    help="engines to benchmark, comma-separated: embedded (the default engine, with its "
                         "second stage when installed), embedded:off (without it), pocketsphinx (its "
                         "grammar and spotter alone, for comparison); default embedded,embedded:off "
                         "(--quick: embedded)")
    ap.add_argument("--split", choices=["held-out", "tune", "all"], default="held-out",
                    help="which real stop clips and short words to score (report on held-out; "
                         "tune on tune)")
    ap.add_argument("--cache", default=str(bd.CACHE),
                    help="where synthesised clips are kept")
    ap.add_argument("--speech", default=str(bd.SPEECH), help="the shared real recordings")
    ap.add_argument("--gap", type=float, default=GAP,
                    help="seconds between real stops and short words: another gap puts each clip at "
                         "another phase of the spotter's 80 ms hop (1.52 and 1.545 were used to see "
                         "how much a figure moves with that)")
    ap.add_argument("--jobs", type=int, default=2, help="listen processes at once")
    ap.add_argument("--keep", metavar="DIR", help="keep the microphone streams and journals here")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    ap.add_argument("--rooms-all", action="store_true",
                    help="run the simulated rooms for every engine, not only embedded")
    ap.add_argument("--long", action="store_true",
                    help="also the four bundled routines whole with no one speaking (self-triggers), "
                         "and every simulated room for 7 minutes of the voice, not 5 rooms for 4 "
                         "(about 40 more minutes)")
    ap.add_argument("--all-conditions", action="store_true",
                    help="synthetic commands clean, at 20 and 5 dB and with room echo too, not only "
                         "at 10 dB (the target's row)")
    args = ap.parse_args(argv)

    wall0 = time.monotonic()
    names = args.engines or ("embedded" if args.quick else "embedded,embedded:off")
    engines: list[tuple[str, str | None]] = [(e, None) for e in names.split(",") if e]
    if args.vosk_model:
        if not Path(args.vosk_model).is_dir():
            log(f"{args.vosk_model}: no such model directory")
            return 2
        engines.append(("vosk", args.vosk_model))
    cache = Path(args.cache).expanduser()
    with tempfile.TemporaryDirectory(prefix="massage-bench-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MASSAGE_ASSISTANT_DATA": str(work / "data")}  # never the user's journals
        try:
            synth = synthetic_clips(cache, args.quick)
            synthesize_all(synth, cache, args.jobs)
            streams = plan_streams(args, synth)
            log(f"synthesis and planning took {time.monotonic() - wall0:.0f} s")
            reports = [run_engine(e, m, streams, work, env, args, log) for e, m in engines]
        except (BenchError, FileNotFoundError, subprocess.CalledProcessError) as e:
            log(f"benchmark failed: {e}")
            return 2
    wall = time.monotonic() - wall0
    for rep in reports:
        print(render(rep))
        print()
    missed = [f"{r.engine}: {k}" for r in reports for k, v in r.verdicts.items() if v == "MISS"]
    print(f"{'quick' if args.quick else 'full'} run, wall time {wall:.0f} s; "
          + (f"targets missed: {', '.join(missed)}" if missed else "all targets met"))
    if args.json:
        doc = {"mode": "quick" if args.quick else "full", "split": args.split, "wall_s": wall,
               "engines": {r.engine: r.figures for r in reports}, "missed": missed}
        Path(args.json).write_text(json.dumps(jsonable(doc), indent=2) + "\n", encoding="utf-8")
    return 1 if missed and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
