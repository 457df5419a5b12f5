"""Render text to WAVs in a process of its own (`python -m assistant.tts_render`).

Kokoro (`--engine kokoro --batch`): JSON lines {"text", "out"} on stdin, one WAV per line at
--out-rate, each written whole (a temporary file, then renamed) and answered "ok OUT" on stdout,
so the caller can show progress; the model loads once for the whole batch.

pyttsx3: one text on stdin, one WAV.

pyttsx3's espeak driver keeps espeak's synthesis state from one utterance to the next in a
process: the same text rendered twice in one process comes out a few samples different, and
what comes out depends on everything rendered before it. A render in a fresh process is exactly
what espeak-ng itself gives, every time. So each text is rendered here, in a new process (about
0.1 s), and the voice of a file rehearsal, a test or a benchmark is the same on every run and
every machine.

Its espeak driver (2.99) also drops audio: it synthesises asynchronously and writes the WAV when
espeak reports the end of the message, before it appends the samples of the buffer that carried
that report, so whether the last buffer (up to a second) gets in depends on thread timing (the
same text came out 2.08 s or 2.58 s long on a loaded machine). Where pyttsx3's own espeak-ng
binding is there, it is driven here synchronously, every buffer kept; other platforms go
through pyttsx3's engine.

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


def _kokoro_batch(voice: str, wpm: int, out_rate: int, threads: int) -> int:
    import json
    import os

    import soundfile as sf

    from .audio import resample, to_int16
    from .kokoro_voice import RATE, KokoroError, KokoroRenderer

    try:
        renderer = KokoroRenderer(threads=threads)
    except KokoroError as e:
        raise SystemExit(str(e)) from e
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        samples = to_int16(resample(renderer.render(job["text"], voice, wpm), RATE, out_rate))
        out = Path(job["out"])
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.wav")
        sf.write(str(tmp), samples, out_rate, subtype="PCM_16")
        os.replace(tmp, out)
        print(f"ok {out}", flush=True)
    return 0


def _espeak_render(text: str, voice: str | None, wpm: int, out: Path) -> bool:
    """Render with pyttsx3's espeak-ng binding, synchronously; False where it is not there."""
    import ctypes
    import wave

    try:
        from pyttsx3.drivers import _espeak
    except (ImportError, OSError):
        return False
    rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 1000)
    chunks: list[bytes] = []

    def keep(wav, numsamples, _events) -> int:
        if numsamples > 0:
            chunks.append(ctypes.string_at(wav, numsamples * ctypes.sizeof(ctypes.c_short)))
        return 0

    _espeak.SetSynthCallback(keep)
    if voice:
        _espeak.SetVoiceByName(voice.encode("utf-8"))
    _espeak.SetParameter(_espeak.RATE, wpm, 0)
    _espeak.Synth(text.encode("utf-8"), flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8)  # returns when done
    tmp = out.with_name(f".{out.name}.tmp")
    with wave.open(str(tmp), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(b"".join(chunks))
    tmp.replace(out)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=("pyttsx3", "kokoro"), default="pyttsx3")
    ap.add_argument("--out", help="the WAV to write (pyttsx3)")
    ap.add_argument("--voice", help="a pyttsx3 voice id, or a Kokoro voice")
    ap.add_argument("--rate", type=int, default=165, help="words per minute")
    ap.add_argument("--out-rate", type=int, default=16000, help="sample rate of Kokoro's WAVs")
    ap.add_argument("--batch", action="store_true", help="JSON lines of texts on stdin (Kokoro)")
    ap.add_argument("--threads", type=int, default=2, help="Kokoro's CPU threads")
    args = ap.parse_args(argv)
    if args.engine == "kokoro":
        if not args.batch or not args.voice:
            ap.error("--engine kokoro takes --batch and --voice")
        return _kokoro_batch(args.voice, args.rate, args.out_rate, args.threads)
    if not args.out:
        ap.error("--out is required")
    text = sys.stdin.read()
    out = Path(args.out)
    if _espeak_render(text, args.voice, args.rate, out):
        return 0
    import pyttsx3

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
