"""Render one text to a WAV with pyttsx3, in a process of its own (`python -m assistant.tts_render`).

pyttsx3's espeak driver keeps espeak's synthesis state from one utterance to the next in a
process: the same text rendered twice in one process comes out a few samples different, and
what comes out depends on everything rendered before it. A render in a fresh process is exactly
what espeak-ng itself gives, every time. So each text is rendered here, in a new process (about
0.1 s), and the voice of a file rehearsal, a test or a benchmark is the same on every run and
every machine.

Text on stdin; the WAV is complete when the process exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

# pyttsx3 drivers other than espeak may return from runAndWait before the file is whole
HANG_GUARD_S = 120.0


def _complete(path: Path, deadline: float) -> None:
    import soundfile as sf

    last = -1
    while time.monotonic() < deadline:
        if path.exists():
            size = path.stat().st_size
            if size > 44 and size == last:
                with contextlib.suppress(RuntimeError):
                    if sf.info(str(path)).frames > 0:
                        return
            last = size
        time.sleep(0.01)
    raise SystemExit(f"the TTS engine wrote no complete {path.name} in {HANG_GUARD_S:g} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--voice", help="a pyttsx3 voice id")
    ap.add_argument("--rate", type=int, default=165)
    args = ap.parse_args(argv)
    text = sys.stdin.read()
    import pyttsx3

    out = Path(args.out)
    with contextlib.redirect_stdout(io.StringIO()):  # the espeak driver prints "Audio saved to"
        engine = pyttsx3.init()
        if args.voice:
            engine.setProperty("voice", args.voice)
        engine.setProperty("rate", args.rate)
        engine.save_to_file(text, str(out))
        engine.runAndWait()
        _complete(out, time.monotonic() + HANG_GUARD_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
