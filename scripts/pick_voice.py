"""Pick the default Kokoro voice by listening: every English voice reads the same sentences from
the bundled routines, an independent recognizer (Whisper base, unprompted, which did not choose
the texts) writes down what it heard, clean and under room noise at 5 dB SNR (a fan across the
room), and the table gives the words it got wrong and each voice's pace at speed 1.0 (words per
minute of speech, silences at the ends left out).

The default should be heard word for word and be unhurried; each voice's pace goes into
kokoro_voice.PACE_AT_SPEED_1, which turns --rate into Kokoro's speed.

Usage: .venv/bin/python scripts/pick_voice.py [--voices af_heart,bf_emma] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant import kokoro_voice as kv  # noqa: E402
from assistant.audio import resample  # noqa: E402
from assistant.recognizers import default_model_dir  # noqa: E402
from assistant.routine import load_routine  # noqa: E402
from assistant.session import STOP_TEXT  # noqa: E402


def sentences() -> list[str]:
    """The first two sentences of a step from each bundled routine, and the stop confirmation."""
    picked = []
    for path in sorted((ROOT / "routines").glob("*.yaml")):
        step = load_routine(path).steps[1]
        parts = re.split(r"(?<=[.!?])\s+", step.instructions.strip())
        picked.append(" ".join(parts[:2]))
    return [*picked, STOP_TEXT]


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def errors(ref: list[str], hyp: list[str]) -> int:
    """Word edit distance."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def speech_seconds(x: np.ndarray, rate: int) -> float:
    """Length from the first to the last sample above -40 dB of the peak."""
    loud = np.flatnonzero(np.abs(x) > np.abs(x).max() * 0.01)
    return (loud[-1] - loud[0]) / rate if len(loud) else 0.0


def room_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """`x` under brown and white noise at `snr_db` below its speech's RMS."""
    rng = np.random.default_rng(seed)
    n = np.cumsum(rng.normal(size=len(x)))
    n -= np.convolve(n, np.ones(400) / 400, "same")
    n += rng.normal(size=len(x)) * np.std(n)
    rms = np.sqrt(np.mean(x[np.abs(x) > 0.01] ** 2))
    return (x + n / np.std(n) * rms * 10 ** (-snr_db / 20)).astype(np.float32)


NOISE_SNR_DB = 5.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voices", help="comma-separated (default: all 28 English voices)")
    ap.add_argument("--json")
    args = ap.parse_args()
    from faster_whisper import WhisperModel

    voices = args.voices.split(",") if args.voices else list(kv.VOICES)
    texts = sentences()
    renderer = kv.KokoroRenderer()
    model = WhisperModel(str(default_model_dir() / "whisper-base"), device="cpu", compute_type="int8",
                         cpu_threads=2)
    rows = []
    for name in voices:
        wrong = total = noisy_wrong = 0
        spoken = 0.0
        n_words = 0
        render_s = 0.0
        for text in texts:
            t0 = time.monotonic()
            audio = renderer.render(text, name, kv.PACE_AT_SPEED_1[name])  # speed 1.0
            render_s += time.monotonic() - t0
            ref = words(text)
            clean = resample(audio, kv.RATE, 16000)
            for x, count in ((clean, "clean"), (room_noise(clean, NOISE_SNR_DB, len(ref)), "noisy")):
                segments, _ = model.transcribe(x, language="en", beam_size=1, temperature=0,
                                               condition_on_previous_text=False, vad_filter=False)
                e = errors(ref, words(" ".join(s.text for s in segments)))
                if count == "clean":
                    wrong += e
                else:
                    noisy_wrong += e
            total += len(ref)
            n_words += len(ref)
            spoken += speech_seconds(audio, kv.RATE)
        rows.append({"voice": name, "wer": wrong / total, "wrong": wrong, "words": total,
                     "wrong_noisy": noisy_wrong,
                     "wpm": 60 * n_words / spoken, "render_s": render_s / len(texts)})
        r = rows[-1]
        print(f"{name:<12} {kv.VOICES[name].accent:<9} {kv.VOICES[name].gender:<7} "
              f"wrong {r['wrong']:>3}/{r['words']} ({100 * r['wer']:4.1f} %), at {NOISE_SNR_DB:g} dB "
              f"{r['wrong_noisy']:>3}  {r['wpm']:5.1f} wpm  "
              f"{r['render_s']:.2f} s/text", flush=True)
    best = sorted(rows, key=lambda r: (r["wrong"], r["wrong_noisy"], r["wpm"]))[:5]
    print(f"\nmean pace at speed 1.0: {np.mean([r['wpm'] for r in rows]):.1f} wpm; "
          f"fewest words wrong, clean then in noise: {', '.join(r['voice'] for r in best)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"texts": texts, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
