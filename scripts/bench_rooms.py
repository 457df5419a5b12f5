#!/usr/bin/env python3
"""Rooms benchmark: the assistant's own voice in every simulated room, through the real CLI.

For each room (`run --echo`, or no echo at all: headphones, or a speaker the microphone does
not hear), two whole `massage-assistant run lower-back --mic-file` sessions:

- self-triggers: nobody speaks but for one stop/continue cycle (a real tuning-split "stop" 20 s
  in, festival's "continue" 6 s later), so the assistant also hears itself say "Stopped. Lift
  your hands." and restart. Every `heard` outside those two clips that is not set aside as its
  own voice is a self-trigger; ducks with nobody speaking are counted beside it;
- commands over the voice: people's commands said while the assistant talks, one every 6 s:
  real ones where they exist (felixchenfy's "back", held out; speech-to-phrase's "next",
  "pause", "resume", one speaker, test only) and synthetic ones from voices no head learnt from
  (festival slt; espeak-ng en-gb-scotland and en-029, which the heads only validated on). A
  command counts when the assistant was speaking while it was said; it is obeyed when a `heard`
  of that command is accepted within 2 s of its end. Navigation latency is from the end of its
  speech to that `heard`. The commands begin in the first step, after the spoken introduction.

Usage: .venv/bin/python scripts/bench_rooms.py [--quick] [--json OUT] [--no-fail]
(bench.py runs the same and puts the figures in its table.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_data as bd

from assistant import events as E
from assistant.commands import PHRASES
from assistant.journal import read_events

ROUTINE = "lower-back"
# name -> --echo value (None: the microphone hears nothing of the voice)
ROOMS: dict[str, str | None] = {
    "no echo (headphones)": None,
    "laptop 30 ms -12 dB": "30,-12",
    "loud 30 ms -3 dB": "30,-3",
    "faint 30 ms -24 dB": "30,-24",
    "Bluetooth 200 ms -12 dB": "200,-12",
    "clock drift +100 ppm": "100,-12,250,100",
}
# the CI smoke run: the laptop room alone (the tests hear the headphones case), a stop cycle and
# a few commands; the full run judges the targets
QUICK_ROOMS = ("laptop 30 ms -12 dB",)
# bench.py's default run, which must end within 15 minutes: not the faint room (the easiest),
# and four minutes of the voice in each; --long plays every room for seven
DEFAULT_ROOMS = tuple(r for r in ROOMS if not r.startswith("faint"))
SELF_SECONDS, LONG_SELF_SECONDS = 240.0, 420.0  # lower-back takes about 6 min with its introduction
TARGET_OBEYED = 0.90
STOP_AT, CONTINUE_AT = 20.0, 26.0
S2P = "ohf_speech_to_phrase_en"
HELD_OUT_VOICES = ("voice_cmu_us_slt_arctic_hts", "en-gb-scotland", "en-029")
SYNTH_PHRASES = ("repeat", "again", "go back", "previous", "slower", "faster", "how long",
                 "where am i", "help", "slow down", "speed up", "time left")
OBEY_WITHIN_S = 2.0


@dataclass(frozen=True)
class Said:
    """One clip in a microphone track."""

    start: float
    end: float
    speech_end: float
    command: str  # the Command value it should be heard as
    phrase: str
    source: str  # "real" or "synthetic"
    voice: str


@dataclass
class RoomRun:
    room: str
    kind: str  # "self" or "commands"
    said: list[Said]
    events: list[E.Event] = field(default_factory=list)
    seconds: float = 0.0
    wall_s: float = 0.0


def cli() -> list[str]:
    exe = bd.ROOT / ".venv" / "bin" / "massage-assistant"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant.cli"]


def _track(items: list[tuple[float, np.ndarray, str, str, str, str]], seconds: float,
           seed: int) -> tuple[np.ndarray, list[Said]]:
    rng = np.random.default_rng(seed)
    out = bd.pink_noise(int(seconds * bd.RATE), rng) * np.float32(10 ** (bd.ROOM_NOISE_DBFS / 20))
    said = []
    for at, x, command, phrase, source, voice in items:
        x = bd.at_level(x, bd.RATE, bd.SPEECH_LEVEL_DBFS)
        i = int(at * bd.RATE)
        out[i:i + len(x)] += x[: len(out) - i]
        _, word_end = bd.speech_bounds(x, bd.RATE)
        said.append(Said(at, at + len(x) / bd.RATE, at + word_end, command, phrase, source, voice))
    return np.clip(out, -1.0, 1.0), said


def self_track(seconds: float, cache: Path) -> tuple[np.ndarray, list[Said]]:
    stop = next(c for c in bd.stop_clips("tune") if c.source == bd.SC2)
    cont = bd.load(bd.synthesize("continue", "voice_kal_diphone", "normal", cache))
    return _track([(STOP_AT, bd.load(stop.path), "stop", "stop", "real", stop.speaker),
                   (CONTINUE_AT, cont, "continue", "continue", "synthetic", "voice_kal_diphone")], seconds, 1)


def intro_seconds() -> float:
    """How long the spoken introduction of ROUTINE lasts: the commands begin after it."""
    from assistant.audio import RATE
    from assistant.routine import load_routine
    from assistant.session import intro_text
    from assistant.voice import Voice, VoiceSettings

    routine = load_routine(bd.ROOT / "routines" / f"{ROUTINE}.yaml")
    return len(Voice(VoiceSettings(), RATE).render(intro_text(routine))) / RATE


def command_track(room_index: int, n: int, cache: Path) -> tuple[np.ndarray, list[Said]]:
    """Commands every 6 s from 3 s into the first step (after the spoken introduction, where
    only "next" is obeyed): real "back" clips (a room's own share of them) in turn with
    synthetic ones from the held-out voices; a third of the way in, the real "next"; halfway,
    the real "pause", and 2 s later "resume", said over "Paused. Say continue ..."."""
    backs = bd.back_clips()
    rng = random.Random(room_index)
    s2p = bd.SPEECH / S2P / "en"
    real = [(bd.load(c.path), "back", "back", "real", c.speaker) for c in rng.sample(backs, n // 2)]
    real.insert(n // 6, (bd.load(s2p / "next.wav"), "next", "next", "real", "s2p"))
    synth = [(p, v) for v in HELD_OUT_VOICES for p in SYNTH_PHRASES]
    rng.shuffle(synth)
    items, at = [], intro_seconds() + 3.0
    for k in range(n):
        if k % 2 == 0 and real:
            x, command, phrase, source, voice = real.pop(0)
        else:
            phrase, voice = synth.pop()
            x = bd.load(bd.synthesize(phrase, voice, "normal", cache))
            command, source = PHRASES[phrase].value, "synthetic"
        items.append((at, x, command, phrase, source, voice))
        at += 6.0
        if k == n // 2:  # one real pause and resume
            items.append((at, bd.load(s2p / "pause.wav"), "pause", "pause", "real", "s2p"))
            items.append((at + 2.0, bd.load(s2p / "resume.wav"), "continue", "resume", "real", "s2p"))
            at += 8.0
    return _track(items, at + 6.0, 100 + room_index)


def run_session(room: str, kind: str, mic: np.ndarray, said: list[Said], work: Path,
                env: dict[str, str]) -> RoomRun:
    slug = "".join(ch if ch.isalnum() else "-" for ch in f"{kind}-{room}")
    wav, journal = work / f"{slug}.wav", work / f"{slug}.jsonl"
    bd.write_stream(wav, mic, bd.RATE)
    journal.unlink(missing_ok=True)
    cmd = [*cli(), "run", ROUTINE, "--skip-safety-check", "--mic-file", str(wav), "--journal", str(journal),
           "--quiet"]
    echo = ROOMS[room]
    if echo:
        cmd += ["--echo", echo]
    t0 = time.monotonic()
    env = {**env, "MASSAGE_ASSISTANT_DATA": str(work / f"data-{slug}")}
    proc = subprocess.run(cmd, cwd=bd.ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    events = list(read_events(journal))
    wav.unlink(missing_ok=True)
    return RoomRun(room, kind, said, events, len(mic) / bd.RATE, time.monotonic() - t0)


def speaking(events: list[E.Event]) -> list[tuple[float, float]]:
    """(start, end) of what the player played, each `say` shortened by the next cut."""
    spans: list[list[float]] = []
    for e in events:
        if isinstance(e, E.Said):
            spans.append([e.t, e.t + e.seconds])
        elif isinstance(e, E.Cut) and spans and spans[-1][1] > e.t:
            spans[-1][1] = e.t
    return [(a, b) for a, b in spans if b > a]


def over_voice(s: Said, spans: list[tuple[float, float]]) -> bool:
    """The assistant was speaking for most of the clip's speech."""
    talk = sum(max(0.0, min(b, s.speech_end) - max(a, s.start)) for a, b in spans)
    return talk >= 0.5 * (s.speech_end - s.start)


def heard_from_people(events: list[E.Event]) -> list[E.Heard]:
    return [e for e in events if isinstance(e, E.Heard) and e.ignored != "own voice"]


def score_self(run: RoomRun) -> dict[str, Any]:
    heard = heard_from_people(run.events)
    planned = [(s.start, s.end + OBEY_WITHIN_S) for s in run.said]
    stray = [e for e in heard if not any(a <= e.t <= b for a, b in planned)]
    stop_heard = any(e.command in ("stop", "pain") and STOP_AT <= e.t <= STOP_AT + 2.0 for e in heard)
    ducks = [e for e in run.events if isinstance(e, E.Duck) and e.on
             and not any(a <= e.t <= b for a, b in planned)]
    ends = [e for e in run.events if isinstance(e, E.Finished | E.Aborted)]
    own = [e for e in run.events if isinstance(e, E.Heard) and e.ignored == "own voice"]
    return {"self_triggers": len(stray), "stray": [f"{e.t:.1f} {e.command} ({e.path or ''})" for e in stray],
            "own_voice_set_aside": len(own),
            "stray_ducks": len(ducks), "stop_cycle_heard": stop_heard,
            "ended": ends[-1].reason if ends else "?",
            "minutes": run.seconds / 60, "wall_s": round(run.wall_s, 1)}


def score_commands(run: RoomRun) -> dict[str, Any]:
    spans = speaking(run.events)
    heard = heard_from_people(run.events)
    rows = {"real": [0, 0], "synthetic": [0, 0]}
    latency, missed, not_over = [], [], 0
    for s in run.said:
        if not over_voice(s, spans):
            not_over += 1
            continue
        rows[s.source][0] += 1
        hit = next((e for e in heard if s.start <= e.t <= s.end + OBEY_WITHIN_S
                    and e.command == s.command and e.accepted), None)
        if hit is not None:
            rows[s.source][1] += 1
            latency.append(1000 * (hit.t - s.speech_end))
        else:
            got = [e.command for e in heard if s.start <= e.t <= s.end + OBEY_WITHIN_S]
            missed.append(f"{s.phrase} ({s.voice}) -> {got or 'nothing'}")
    n = sum(r[0] for r in rows.values())
    ok = sum(r[1] for r in rows.values())
    return {"said_over_voice": n, "obeyed": ok, "value": ok / n if n else float("nan"),
            "real": rows["real"], "synthetic": rows["synthetic"], "not_over_voice": not_over,
            "latency_ms": latency, "missed": missed,
            "ducks": sum(1 for e in run.events if isinstance(e, E.Duck) and e.on)}


def run_all(work: Path, env: dict[str, str], jobs: int, quick: bool,
            log=lambda m: print(m, file=sys.stderr, flush=True), long: bool = True) -> dict[str, Any]:
    cache = bd.CACHE
    work.mkdir(parents=True, exist_ok=True)
    rooms = QUICK_ROOMS if quick else tuple(ROOMS) if long else DEFAULT_ROOMS
    # the quick run ends soon after the stop cycle
    self_seconds = CONTINUE_AT + 12.0 if quick else LONG_SELF_SECONDS if long else SELF_SECONDS
    plans = []
    for i, room in enumerate(rooms):
        plans.append((room, "self", *self_track(self_seconds, cache)))
        plans.append((room, "commands", *command_track(i, 6 if quick else 36, cache)))
    with ThreadPoolExecutor(jobs) as pool:
        runs = list(pool.map(lambda p: run_session(*p, work, env), plans))
    out: dict[str, Any] = {"rooms": {}}
    for run in runs:
        key = "self" if run.kind == "self" else "commands"
        out["rooms"].setdefault(run.room, {})[key] = score_self(run) if key == "self" else score_commands(run)
    cmds = [r["commands"] for r in out["rooms"].values()]
    n = sum(c["said_over_voice"] for c in cmds)
    ok = sum(c["obeyed"] for c in cmds)
    real = [sum(c["real"][i] for c in cmds) for i in (0, 1)]
    lat = [x for c in cmds for x in c["latency_ms"]]
    out["commands_obeyed"] = ok / n if n else float("nan")
    out["commands_obeyed_real"] = real[1] / real[0] if real[0] else float("nan")
    out["commands_n"], out["commands_real_n"] = n, real[0]
    out["navigation_latency_p95_ms"] = float(np.percentile(lat, 95)) if lat else float("nan")
    out["navigation_latency_median_ms"] = float(np.median(lat)) if lat else float("nan")
    out["self_triggers"] = sum(r["self"]["self_triggers"] for r in out["rooms"].values())
    log(f"rooms: {len(runs)} sessions, {sum(r.wall_s for r in runs):.0f} s of CPU-side wall time")
    return out


def render(res: dict[str, Any]) -> str:
    rows = []
    for room, r in res["rooms"].items():
        s, c = r["self"], r["commands"]
        rows.append([room, str(s["self_triggers"]), str(s["stray_ducks"]),
                     "yes" if s["stop_cycle_heard"] else "NO",
                     f"{c['obeyed']}/{c['said_over_voice']}", f"{c['real'][1]}/{c['real'][0]}",
                     f"{c['synthetic'][1]}/{c['synthetic'][0]}"])
    header = ["room", "self-triggers", "stray ducks", "stop cycle", "commands obeyed over voice", "real",
              "synthetic (held-out voices)"]
    widths = [max(len(str(x[i])) for x in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    out = [line(header), line(["-" * w for w in widths]), *map(line, rows)]
    out.append(f"commands obeyed over the voice: {100 * res['commands_obeyed']:.1f} % of {res['commands_n']} "
               f"(real {100 * res['commands_obeyed_real']:.1f} % of {res['commands_real_n']}); navigation "
               f"latency median {res['navigation_latency_median_ms']:.0f} ms, p95 "
               f"{res['navigation_latency_p95_ms']:.0f} ms; self-triggers {res['self_triggers']}")
    for room, r in res["rooms"].items():
        if r["self"]["stray"]:
            out.append(f"  {room}: self-triggered {', '.join(r['self']['stray'])}")
        if r["commands"]["missed"]:
            out.append(f"  {room}: missed {'; '.join(r['commands']['missed'][:12])}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", metavar="OUT")
    ap.add_argument("--no-fail", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="massage-rooms-") as tmp:
        res = run_all(Path(tmp), dict(os.environ), args.jobs, args.quick)
    print(render(res))
    missed = []
    if not res["commands_obeyed"] >= TARGET_OBEYED:
        missed.append(f"commands obeyed over the voice {100 * res['commands_obeyed']:.1f} % < 90 %")
    if res["self_triggers"]:
        missed.append(f"{res['self_triggers']} self-triggers")
    print(f"\n{'quick' if args.quick else 'full'} run, {time.monotonic() - t0:.0f} s: "
          + ("; ".join(missed) if missed else "targets met"))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, default=str))
    return 1 if missed and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
