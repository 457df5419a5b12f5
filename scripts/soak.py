"""Soak: a long file-driven session with commands and noise, watching memory and the journal.

Builds a routine that loops the bundled routines' steps for the wanted length and a microphone
stream of the same length (room noise, festival-spoken commands, real "stop" clips each followed
by "continue"), runs the real `massage-assistant run --mic-file`, samples its RSS from /proc five
times a second, and checks that RSS after warm-up grows by less than 5 % and that the journal holds every
stop that was given.

Usage: .venv/bin/python scripts/soak.py [--minutes 120] [--no-fail]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import platformdirs
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant import events as E  # noqa: E402
from assistant.audio import RATE, read_audio, write_wav  # noqa: E402
from assistant.journal import read_events  # noqa: E402

EXE = str(ROOT / ".venv" / "bin" / "massage-assistant")
SPEECH = ROOT.parent / "shared" / "speech" / "speech_commands_v0.02_test"
NAVIGATION = ["pause", "continue", "slower", "faster", "where am i", "how long", "help", "next"]
GROWTH_LIMIT = 0.05


def festival(text: str, cache: Path) -> np.ndarray:
    out = cache / f"{text.replace(' ', '_')}.wav"
    if not out.exists():
        subprocess.run(["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(out)],
                       input=text.encode(), check=True, capture_output=True)
    return read_audio(out)


def soak_routine(minutes: float) -> dict:
    """The bundled routines' steps, repeated with fresh ids until they fill `minutes`."""
    steps = []
    for path in sorted((ROOT / "routines").glob("*.yaml")):
        if "foam" in path.name:  # its daily limit would end the soak after five minutes
            continue
        steps += yaml.safe_load(path.read_text())["steps"]
    out, total, n = [], 0.0, 0
    while total < minutes * 60:
        step = dict(steps[n % len(steps)], id=f"s{n}")
        pace = step["pace"]
        total += pace.get("duration", 0) or pace["reps"] * pace["seconds_per_rep"]
        total += 20  # spoken instructions
        out.append(step)
        n += 1
    return {"name": "Soak", "for": "benchmarks", "position": "any", "safety": "Not after surgery.",
            "steps": out}


def soak_mic(minutes: float, cache: Path, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    n = int(minutes * 60 * RATE)
    mic = rng.normal(0, 32768 * 10 ** (-55 / 20), n)
    with (SPEECH / "labels.csv").open() as f:
        stops = [SPEECH / r["path"] for r in csv.DictReader(f) if r["transcript"] == "stop"]
    t = 30.0
    given = 0
    while t < minutes * 60 - 20:
        if rng.random() < 0.25:  # a real stop, then a continue once things are quiet
            clip = read_audio(stops[int(rng.integers(len(stops)))])
            i = int(t * RATE)
            mic[i:i + len(clip)] += clip
            c = festival("continue", cache)
            j = int((t + 10) * RATE)
            mic[j:j + len(c)] += c
            given += 1
            t += 20
        else:
            clip = festival(NAVIGATION[int(rng.integers(len(NAVIGATION)))], cache)
            i = int(t * RATE)
            mic[i:i + len(clip)] += clip
        t += float(rng.uniform(20, 60))
    return np.clip(mic, -32768, 32767).astype(np.int16), given


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=120.0)
    ap.add_argument("--no-fail", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="massage-soak-"))
    cache = Path(platformdirs.user_cache_dir("massage-assistant")) / "soak"
    cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    (tmp / "soak.yaml").write_text(yaml.safe_dump(soak_routine(args.minutes), sort_keys=False))
    mic, given = soak_mic(args.minutes, cache, rng)
    write_wav(tmp / "mic.wav", mic)
    journal = tmp / "soak.jsonl"
    t0 = time.monotonic()
    proc = subprocess.Popen([EXE, "run", str(tmp / "soak.yaml"), "--mic-file", str(tmp / "mic.wav"),
                             "--journal", str(journal), "--quiet"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []
    while proc.poll() is None:
        r = rss_mb(proc.pid)
        if r is not None:
            samples.append((time.monotonic() - t0, r))
        time.sleep(0.2)
    err = proc.stderr.read() if proc.stderr else ""
    wall = time.monotonic() - t0
    events = list(read_events(journal))
    heard_stops = sum(1 for e in events if isinstance(e, E.Stopped))
    resumed = sum(1 for e in events if isinstance(e, E.Resumed) and e.from_ == "stopped")
    stream_s = max(e.t for e in events)
    warm = [r for s, r in samples if s > wall * 0.2]  # the first fifth is warm-up (renders, caches)
    growth = (max(warm[-5:]) - min(warm[:5])) / min(warm[:5]) if len(warm) >= 10 else float("nan")
    print(f"soak: {args.minutes:g} min of microphone audio, {stream_s / 60:.1f} min run, "
          f"wall {wall:.0f} s (x{stream_s / wall:.0f} real time), exit {proc.returncode}")
    print(f"RSS: start {samples[0][1]:.0f} MB, after warm-up {min(warm[:5]):.0f} MB, "
          f"end {max(warm[-5:]):.0f} MB, peak {max(r for _, r in samples):.0f} MB, "
          f"growth after warm-up {growth * 100:.1f} % (limit {GROWTH_LIMIT * 100:.0f} %)")
    print(f"journal: {len(events)} events; real stops given {given}, stopped {heard_stops}, "
          f"resumed from a stop {resumed}; ended with {type(events[-2]).__name__} "
          f"({getattr(events[-2], 'reason', '')})")
    ok = proc.returncode == 0 and growth < GROWTH_LIMIT and isinstance(events[-1], E.Summary)
    if proc.returncode:
        print(err[-2000:])
    shutil.rmtree(tmp, ignore_errors=True)
    print("PASS" if ok else "MISS")
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
