"""Live hearing on the real audio stack: PulseAudio room, PortAudio streams, real CLI.

Stop trials: each starts `massage-assistant run` in a private PulseAudio room, waits until it
is speaking, records the room, and plays one real "stop" clip (held-out split) into it. From the
room recording it finds, by cross-correlation, where the clip is and where the assistant's
rendered confirmation ("Stopped. ...") begins: the assistant's instruction is cut in the same
block the confirmation starts, so that onset is both "silent" and "first sound of the response".

    latency = onset of the confirmation - end of the spoken word (wall clock, as heard in the room)

Command trials: the same, with a navigation command said over the spoken introduction (real
speech-to-phrase "next" and "pause" where they exist, else festival slt or an espeak-ng accent
no head learnt from); obeyed when the journal has that command accepted within 3 s. Only
commands the introduction takes are said (not "back", "continue", "quit", "yes", "no").

Usage: .venv/bin/python scripts/bench_live.py [--trials 50] [--command-trials 20] [--json OUT] [--no-fail]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_data as bd  # noqa: E402

from assistant import events as E  # noqa: E402
from assistant.audio import RATE, read_audio  # noqa: E402
from assistant.journal import read_events  # noqa: E402
from assistant.pulse_rig import PulseRig  # noqa: E402
from assistant.routine import load_routine  # noqa: E402
from assistant.runner import prerender  # noqa: E402
from assistant.session import PAIN_TEXT, STOP_TEXT  # noqa: E402
from assistant.voice import Voice, VoiceSettings  # noqa: E402

EXE = str(ROOT / ".venv" / "bin" / "massage-assistant")
TARGETS = {"median_ms": 200.0, "p95_ms": 300.0}  # end of word to cut, over the voice
VOLUME = 0.1  # as in the live tests: the room brings the laptop's voice 20 dB below a person's


def held_out_stops() -> list[Path]:
    """Real stop clips of the held-out split (bench_data.stop_split), spread over speakers:
    every speaker's first clip, then every speaker's second, and so on. In file order the first
    50 held 22 clips of one speaker (893705bb, whom the spotter rarely hears), so a trial count
    measured that speaker more than the engine."""
    seen: dict[str, int] = {}
    ranked = []
    for c in bd.stop_clips("held-out"):
        if c.source == bd.SC2:
            seen[c.speaker] = seen.get(c.speaker, 0) + 1
            ranked.append((seen[c.speaker], c.speaker, c.path))
    return [path for _, _, path in sorted(ranked)]


def speech_end(clip: np.ndarray) -> int:
    """Sample index where the word ends: the end of the run of 10 ms frames within 25 dB of the
    loudest one that contains it (a breath or a click later in the clip is not the word)."""
    frames = clip[: len(clip) // 160 * 160].astype(np.float64).reshape(-1, 160)
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-9)
    loud = energy > energy.max() - 25
    i = int(np.argmax(energy))
    gap = 0
    end = i
    while i < len(loud) and gap < 10:  # allow 100 ms of quiet inside the word ("sto-p")
        gap = 0 if loud[i] else gap + 1
        end = i if loud[i] else end
        i += 1
    return (end + 1) * 160


def locate(haystack: np.ndarray, needle: np.ndarray, start: int = 0) -> tuple[int, float]:
    """Best match of `needle` in `haystack[start:]`: (offset, normalised correlation)."""
    h = haystack[start:].astype(np.float64)
    n = needle.astype(np.float64)
    if len(h) < len(n):
        return -1, 0.0
    size = 1 << int(np.ceil(np.log2(len(h) + len(n))))
    corr = np.fft.irfft(np.fft.rfft(h, size) * np.conj(np.fft.rfft(n, size)), size)[: len(h) - len(n) + 1]
    energy = np.sqrt(np.convolve(h**2, np.ones(len(n)), mode="valid")) * np.sqrt(np.sum(n**2)) + 1e-9
    score = corr / energy
    i = int(np.argmax(score))
    return start + i, float(score[i])


def start_speaking(rig: PulseRig, journal: Path) -> subprocess.Popen:
    """`run lower-back` in the room, returned once it has begun to speak (its phrases are
    rendered before the trials: main)."""
    proc = subprocess.Popen([EXE, "run", "lower-back", "--journal", str(journal), "--quiet",
                             "--skip-safety-check", "--volume", str(VOLUME)],
                            env=rig.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (journal.exists() and '"say"' in journal.read_text()):
        time.sleep(0.02)
    return proc


def trial(rig: PulseRig, clip_path: Path, replies: dict[str, np.ndarray], tmp: Path, n: int) -> dict:
    journal = tmp / f"trial{n}.jsonl"
    room = tmp / f"trial{n}.wav"
    proc = start_speaking(rig, journal)
    try:
        time.sleep(1.0 + (n % 5) * 0.4)  # land the word at different points of the speech
        rec = rig.record(room)
        time.sleep(0.3)
        before = journal.read_text().count('"stopped"')
        rig.play(clip_path).wait(timeout=10)
        time.sleep(2.0)
        rec.send_signal(signal.SIGINT)
        rec.wait(timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    stops = [e for e in read_events(journal) if isinstance(e, E.Stopped)]
    audio = read_audio(room)
    clip = read_audio(clip_path)
    at, score = locate(audio, clip)
    result = {"clip": clip_path.name, "clip_score": round(score, 3)}
    if score < 0.5:
        return {**result, "outcome": "clip not found in the recording"}
    if before:
        return {**result, "outcome": "stopped earlier (self-trigger)"}
    word_end = at + speech_end(clip)
    best = (-1, 0.0, "")
    for name, reply in replies.items():
        onset, s = locate(audio, reply[: RATE // 2] * VOLUME, start=max(0, at - RATE))
        if s > best[1]:
            best = (onset, s, name)
    onset, s, name = best
    if s < 0.5:
        return {**result, "outcome": "missed: no confirmation", "stopped_events": len(stops)}
    if onset < at:  # it had stopped before the word was played: its own voice stopped it
        return {**result, "outcome": "stopped earlier (self-trigger)"}
    return {**result, "outcome": "stopped", "reply": name,
            "latency_ms": round((onset - word_end) * 1000 / RATE, 1)}


LIVE_COMMANDS = ("next", "skip", "next step", "repeat", "again", "pause", "wait", "slower", "slow down",
                 "faster", "speed up", "how long", "time left", "where am i", "help")
HELD_OUT = ("voice_cmu_us_slt_arctic_hts", "en-gb-scotland", "en-029")


def command_clips(n: int) -> list[tuple[Path, str, str]]:
    """(clip, phrase, voice) of n commands: the real ones first, then held-out synthetic voices."""
    from assistant.commands import PHRASES

    s2p = bd.SPEECH / "ohf_speech_to_phrase_en" / "en"
    out = [(s2p / "next.wav", "next", "s2p"), (s2p / "pause.wav", "pause", "s2p")]
    cache = bd.CACHE
    k = 0
    while len(out) < n:
        phrase, voice = LIVE_COMMANDS[k % len(LIVE_COMMANDS)], HELD_OUT[k % len(HELD_OUT)]
        assert phrase in PHRASES
        out.append((bd.synthesize(phrase, voice, "normal", cache), phrase, voice))
        k += 1
    return out[:n]


def command_trial(rig: PulseRig, clip: Path, phrase: str, tmp: Path, n: int) -> dict:
    from assistant.commands import PHRASES

    journal = tmp / f"cmd{n}.jsonl"
    proc = start_speaking(rig, journal)
    try:
        time.sleep(2.0 + (n % 5) * 0.5)  # into the introduction, at different points of it
        before = len(journal.read_text().splitlines())
        rig.play(clip).wait(timeout=10)
        time.sleep(3.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    events = list(read_events(journal))[before:]
    heard = [e for e in events if isinstance(e, E.Heard) and e.ignored != "own voice"]
    want = PHRASES[phrase].value
    obeyed = any(e.command == want and e.accepted for e in heard)
    ducked = any(isinstance(e, E.Duck) and e.on for e in events)
    return {"clip": clip.name, "phrase": phrase, "obeyed": obeyed, "ducked": ducked,
            "heard": [e.command for e in heard]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--command-trials", type=int, default=20)
    ap.add_argument("--json", help="write every trial here")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    args = ap.parse_args()
    voice = Voice(VoiceSettings(), RATE)
    prerender(voice, load_routine(ROOT / "routines" / "lower-back.yaml"))  # the sessions start warm
    replies = {"stop": voice.render(STOP_TEXT), "pain": voice.render(PAIN_TEXT)}
    clips = held_out_stops()[: args.trials]
    results = []
    t0 = time.monotonic()
    tmp = Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
    with PulseRig() as rig:
        for n, clip in enumerate(clips):
            r = trial(rig, clip, replies, tmp, n)
            results.append(r)
            print(f"{n + 1:3}/{len(clips)} {r['clip']:28} {r['outcome']:34} {r.get('latency_ms', '')}",
                  flush=True)
        commands = []
        for n, (clip, phrase, voice) in enumerate(command_clips(args.command_trials)):
            r = command_trial(rig, clip, phrase, tmp, n)
            commands.append({**r, "voice": voice})
            print(f"cmd {n + 1:3}/{args.command_trials} {phrase:12} {voice:28} "
                  f"{'obeyed' if r['obeyed'] else 'missed'}  heard {r['heard']}", flush=True)
    lat = np.array([r["latency_ms"] for r in results if "latency_ms" in r])
    outcomes = {o: sum(r["outcome"] == o for r in results) for o in {r["outcome"] for r in results}}
    figures = {
        "trials": len(results), "outcomes": outcomes, "split": "held-out",
        "median_ms": float(np.median(lat)) if len(lat) else None,
        "p95_ms": float(np.percentile(lat, 95)) if len(lat) else None,
        "max_ms": float(lat.max()) if len(lat) else None,
        "wall_s": round(time.monotonic() - t0, 1),
    }
    print("\nlive stop latency (end of the real word -> assistant's voice replaced by its reply)")
    print(f"{'figure':28} {'value':>10} {'target':>10}  result")
    missed = []
    for key, target in TARGETS.items():
        value = figures[key]
        ok = value is not None and value <= target
        missed += [] if ok else [key]
        shown = f"{value:.0f} ms" if value is not None else "-"
        print(f"{key:28} {shown:>10} {f'<= {target:.0f} ms':>10}  {'PASS' if ok else 'MISS'}")
    print(f"{'max_ms':28} {figures['max_ms'] or 0:>7.0f} ms")
    print(f"outcomes over {len(results)} held-out clips: {outcomes}; wall time {figures['wall_s']} s")
    obeyed = sum(r["obeyed"] for r in commands)
    real = [r for r in commands if r["voice"] == "s2p"]
    figures["commands_obeyed"] = obeyed / len(commands) if commands else None
    if commands:
        print(f"commands over the voice, live room: {obeyed}/{len(commands)} obeyed "
              f"({sum(r['obeyed'] for r in real)}/{len(real)} real; target >= 85 %); "
              f"ducked in {sum(r['ducked'] for r in commands)}")
        if obeyed / len(commands) < 0.85:
            missed.append("commands_obeyed")
    stops_heard = outcomes.get("stopped", 0)
    print(f"real stops said once over its voice: {stops_heard}/{len(results)} (target >= 47 of 50)")
    if stops_heard < 0.94 * len(results):
        missed.append("stops_heard")
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures, "trials": results, "commands": commands},
                                              indent=2))
    return 1 if missed and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
