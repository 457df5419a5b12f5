"""massage-assistant: run, check, history, listen, preview, get-model, devices."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from .routine import Routine, RoutineError, bundled_routines_dir, check_files, load_routine

EXIT_BAD_INPUT = 2
EXIT_NO_DEVICE = 3


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_routines_dir().glob("*.yaml"))


def resolve_routine(name: str) -> Path:
    """A path, or the name of a bundled routine ("lower-back")."""
    p = Path(name)
    if p.exists():
        return p
    bundled = bundled_routines_dir() / f"{name.removesuffix('.yaml')}.yaml"
    return bundled if bundled.exists() else p


def _no_such_routine(name: str) -> bool:
    """Say so, with the bundled names, when `name` is neither a file nor a bundled routine."""
    if resolve_routine(name).exists():
        return False
    print(f"{name}: no such routine file, and no bundled routine of that name. "
          f"Bundled: {', '.join(bundled_names())}", file=sys.stderr)
    return True


def _voice_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--voice", help="a Kokoro voice (af_heart, the default where Kokoro is installed), "
                                   "pyttsx3 for espeak-ng's English, or a pyttsx3 voice id or name "
                                   "fragment; 'list' shows them all")
    p.add_argument("--rate", type=int, default=165, help="speaking rate, words per minute (either engine)")
    p.add_argument("--volume", type=float, default=1.0, help="0..1")


def _engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["embedded", "pocketsphinx", "vosk"],
                   help="recognizer (default: vosk if a model is in models/, else embedded: the "
                        "trained stop spotter with pocketsphinx for the rest; pocketsphinx: alone)")
    p.add_argument("--model", help="vosk model directory")
    p.add_argument("--second-stage", choices=["auto", "on", "off"], default="auto",
                   help="Whisper on each speech segment, deciding navigation and yes/no (auto: when "
                        "scripts/setup has put its model in models/)")


def _list_voices() -> int:
    from .voice import voice_list

    print("\n".join(voice_list()))
    return 0


def _make_voice(args: argparse.Namespace):
    """The Voice for --voice/--rate/--volume, its engine chosen now (a fallback said once)."""
    from .audio import RATE
    from .voice import Voice, VoiceSettings

    voice = Voice(VoiceSettings(args.voice, args.rate, max(0.0, min(1.0, args.volume))), RATE)
    voice.choice  # noqa: B018 (choose now, so a fallback is said before anything else)
    if voice.notice:
        print(f"Note: {voice.notice}", file=sys.stderr)
    return voice


def _render_with_progress(render, voice, quiet: bool) -> int:
    """Run `render(progress)`, showing a progress bar on a terminal and one line elsewhere."""
    started = time.monotonic()
    bar = None
    if not quiet and sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress("Preparing the voice", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
    task = None

    def progress(done: int, total: int) -> None:
        nonlocal task
        if bar is None or total == 0:
            return
        if task is None:
            bar.start()
            task = bar.add_task("render", total=total)
        bar.update(task, completed=done)

    try:
        rendered = render(progress)
    finally:
        if bar is not None:
            bar.stop()
    if not quiet:
        label = voice.choice.label
        if rendered:
            print(f"Voice: {label}, {rendered} phrases rendered in {time.monotonic() - started:.1f} s "
                  "(cached for the next start)")
        else:
            print(f"Voice: {label}, every phrase cached")
    return rendered


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="massage-assistant", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)

    run = sub.add_parser("run", help="guide a massage routine")
    run.add_argument("routine", help="routine file, or a bundled name such as lower-back")
    run.add_argument("--mic-file", help="read the microphone from this audio file")
    run.add_argument("--speaker-file", help="write everything said into this WAV")
    run.add_argument("--journal", help="event journal (JSON Lines); default: your data folder")
    run.add_argument("--realtime", action="store_true", help="pace a file run like a live one")
    run.add_argument("--quiet", action="store_true", help="show nothing (faults still go to stderr)")
    run.add_argument("--screen", choices=["auto", "on", "off"], default="auto",
                     help="the full-screen view (auto: when output is a terminal); off: plain lines")
    run.add_argument("--skip-safety-check", action="store_true",
                     help="do not ask the routine's safety questions (already answered today)")
    run.add_argument("--echo", metavar="DELAY_MS,GAIN_DB[,RT60_MS[,DRIFT_PPM]]",
                     help="file mode: mix the speaker back into the microphone, as a room would "
                          "(reverberation 250 ms and no clock drift unless given)")
    run.add_argument("--aec", choices=["speex", "aec3", "off"], default="speex",
                     help="the echo canceller that removes the assistant's own voice from the "
                          "microphone (default: speex; scripts/bench_echo.py compares them)")
    run.add_argument("--no-aec", action="store_true", help="the same as --aec off")
    _engine_args(run)
    _voice_args(run)

    check = sub.add_parser("check", help="validate routine files (or bundled routines by name)")
    check.add_argument("files", nargs="+")

    hist = sub.add_parser("history", help="past sessions, their stops and pain")
    hist.add_argument("--json", action="store_true")

    listen = sub.add_parser("listen", help="print each command as it is heard")
    listen.add_argument("--mic-file", help="read from this audio file instead of the microphone")
    listen.add_argument("--journal", help="write heard events here")
    _engine_args(listen)

    preview = sub.add_parser("preview", help="print a routine as a plan; --say reads it aloud")
    preview.add_argument("routine", help="routine file, or a bundled name such as lower-back")
    preview.add_argument("--say", action="store_true", help="read the routine aloud")
    preview.add_argument("--speaker-file", help="with --say: write the speech to this WAV instead")
    _voice_args(preview)

    get = sub.add_parser("get-model", help="download a vosk model into models/ (checked by SHA-256)")
    get.add_argument("--name", default="small-en-us", help="which model (default: small-en-us)")
    get.add_argument("--dir", help="where to put it (default: the project's models/)")
    get.add_argument("--url", help="a mirror of the same file; its checksum must still match")
    get.add_argument("--sha256", help=argparse.SUPPRESS)  # tests serve their own archive

    sub.add_parser("devices", help="list audio devices")
    return ap


def _routine_or_report(name: str) -> Routine | None:
    """The routine, or None after printing every mistake in it as file:line: field: what."""
    if _no_such_routine(name):
        return None
    try:
        return load_routine(resolve_routine(name))
    except RoutineError as e:
        print(e, file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    missing = [f for f in args.files if _no_such_routine(f)]  # said, and the rest still checked
    found = [f for f in args.files if f not in missing]
    bad = check_files(found, lambda line: print(line, file=sys.stderr), resolve_routine) + len(missing)
    if bad:
        return EXIT_BAD_INPUT
    print(f"{len(args.files)} routine file(s) OK")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .audio import RATE
    from .echo import EchoError, RoomEcho
    from .hearing import make_canceller, make_ears
    from .hearing.aec3 import Aec3Error
    from .history import recent_pain, used_today
    from .journal import Journal, new_journal_path, note_elsewhere
    from .keys import KeyReader
    from .player import Player
    from .recognizers import RecognizerError
    from .runner import DeviceError, Driver, Terminated, check_devices, prerender, run_file, run_live
    from .screen import make_display
    from .voice import TtsError

    if args.voice == "list":
        return _list_voices()
    routine = _routine_or_report(args.routine)
    if routine is None:
        return EXIT_BAD_INPUT
    if args.mic_file:
        import soundfile as sf

        try:
            sf.info(args.mic_file)
        except (RuntimeError, OSError) as e:  # libsndfile's errors are RuntimeErrors
            print(f"{args.mic_file}: not a readable audio file ({e})", file=sys.stderr)
            return EXIT_BAD_INPUT
    room = None
    if args.echo:
        try:
            values = [float(x) for x in args.echo.split(",")]
            if not 2 <= len(values) <= 4:
                raise ValueError
        except ValueError:
            print(f"--echo {args.echo}: expected DELAY_MS,GAIN_DB[,RT60_MS[,DRIFT_PPM]] such as 30,-12",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        delay_ms, gain_db, rt60_ms, drift = [*values, 250.0, 0.0][:4]
        if not args.mic_file or delay_ms < 0 or rt60_ms <= 0:
            print("--echo needs --mic-file, a delay of 0 ms or more and a reverberation over 0 ms",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        room = RoomEcho(delay_ms, gain_db, rt60_ms, drift_ppm=drift)
    if not args.mic_file:
        try:
            inp, out = check_devices()
            assert inp is not None and out is not None
        except DeviceError as e:
            print(f"Cannot start: {e}", file=sys.stderr)
            return EXIT_NO_DEVICE
        print(f"Microphone: {inp['name']}   Speaker: {out['name']}")
    aec = "off" if args.no_aec else args.aec
    try:
        canceller = None if aec == "off" else make_canceller(aec)
        ears = make_ears(args.engine, args.model, canceller, args.second_stage, live=not args.mic_file)
    except (RecognizerError, EchoError, Aec3Error) as e:
        print(f"Cannot start: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    used = used_today(routine.name) if routine.daily_limit_minutes else 0.0
    hurt = tuple(i for i in recent_pain(routine.name) if i in {st.id for st in routine.steps})
    try:
        voice = _make_voice(args)
        rendered = _render_with_progress(lambda progress: prerender(voice, routine, hurt, progress),
                                         voice, args.quiet)
    except TtsError as e:
        print(f"Cannot start: text to speech failed: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    journal_path = Path(args.journal) if args.journal else new_journal_path(routine.name)
    try:
        journal = Journal(journal_path, wall_clock=not args.mic_file)
    except OSError as e:
        print(f"Cannot start: the journal cannot be written at {journal_path}: {e.strerror or e}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.journal:
        note_elsewhere(journal_path)  # history, today's minutes and the memory of pain find it
    journal.write(0.0, "session", routine=routine.name, file=str(routine.source),
                  engine=ears.name, mic=args.mic_file or "live", echo=args.echo, aec=aec,
                  started=time.strftime("%Y-%m-%dT%H:%M:%S"))
    journal.write(0.0, "voice", engine=voice.choice.engine, voice=voice.choice.voice, rate=args.rate,
                  rendered=rendered, fallback=voice.notice)
    keys = KeyReader()
    display = make_display(ears.name, args.quiet, args.screen)
    driver = Driver(routine, ears, voice, Player(RATE), journal, display, keys,
                    hurt_before=hurt, skip_check=args.skip_safety_check)

    def on_term(_sig: int, _frame: object) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, on_term)
    try:
        if args.mic_file:
            result = run_file(driver, args.mic_file, args.speaker_file, args.realtime, used, room)
        else:
            result = run_live(driver, used)
    finally:
        display.close()
        keys.close()
        journal.close()
        ears.close()
    if not args.quiet:
        print(f"Session ended ({result.reason}) after {result.seconds:.1f} s. Journal: {journal_path}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from .history import as_dicts, sessions

    records = sessions()
    if args.json:
        print(json.dumps(as_dicts(records), indent=2))
        return 0
    if not records:
        print("No sessions yet.")
        return 0
    for r in records:
        pain = ", ".join(f"{k} x{v}" for k, v in r.pain_by_step.items()) or "none"
        print(f"{r.started}  {r.routine or '?':28} {r.seconds / 60:5.1f} min  "
              f"steps {r.steps_done}  stops {r.stops}  pain: {pain}  ({r.end or 'no end'})")
    return 0


def cmd_listen(args: argparse.Namespace) -> int:
    from .audio import BLOCK, RATE, stream_audio
    from .hearing import make_ears
    from .journal import Journal
    from .recognizers import RecognizerError
    from .runner import DeviceError, check_devices

    if not args.mic_file:
        try:
            check_devices(("input",))
        except DeviceError as e:
            print(f"Cannot listen: {e}", file=sys.stderr)
            return EXIT_NO_DEVICE
    try:
        # nothing is played: no echo canceller
        ears = make_ears(args.engine, args.model, None, args.second_stage, live=not args.mic_file)
    except RecognizerError as e:
        print(f"Cannot start: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        journal = Journal(args.journal)
    except OSError as e:
        print(f"Cannot start: the journal cannot be written at {args.journal}: {e.strerror or e}",
              file=sys.stderr)
        return EXIT_BAD_INPUT

    def show(t: float, h) -> None:
        conf = f"{h.confidence:.2f}" if h.confidence is not None else "-"
        print(f"{h.t:8.2f}  {h.command.value:10} {h.text!r:24} conf {conf}"
              f"{'' if h.final else '  (partial)'}", flush=True)
        journal.write(h.t, "heard", command=h.command.value, text=h.text,
                      confidence=h.confidence, final=h.final, path=h.path)

    def report(t: float, frame) -> None:
        for h in ears.listen(t, frame):
            show(t, h)

    print(f"Listening with {ears.name}." + ("" if args.mic_file else " Ctrl-C to end."), file=sys.stderr)
    try:
        if args.mic_file:
            t = 0.0
            for i, frame in enumerate(stream_audio(args.mic_file, RATE, BLOCK)):
                t = (i + 1) * BLOCK / RATE
                report(t, frame)
            for h in ears.flush(t):  # the file may end right after its last word
                show(t, h)
        else:
            import queue

            import sounddevice as sd

            frames: queue.Queue = queue.Queue()
            with sd.InputStream(samplerate=RATE, blocksize=BLOCK, channels=1, dtype="int16",
                                callback=lambda d, *_: frames.put(d[:, 0].copy())):
                t = 0.0
                while True:
                    frame = frames.get()
                    t += len(frame) / RATE
                    report(t, frame)
    except KeyboardInterrupt:
        pass
    finally:
        journal.close()
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from .preview import plan_text, spoken_texts

    if args.voice == "list":
        return _list_voices()
    routine = _routine_or_report(args.routine)
    if routine is None:
        return EXIT_BAD_INPUT
    print(plan_text(routine))
    if not args.say:
        return 0
    import numpy as np

    from .audio import RATE, write_wav
    from .voice import TtsError

    gap = np.zeros(RATE // 2, dtype=np.int16)
    try:
        voice = _make_voice(args)
        texts = spoken_texts(routine)
        _render_with_progress(lambda progress: voice.render_all(texts, progress=progress), voice, False)
        parts = [part for text in texts for part in (voice.render(text), gap)]
    except TtsError as e:
        print(f"Cannot speak: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    speech = np.concatenate(parts)
    if args.speaker_file:
        write_wav(args.speaker_file, speech, RATE)
        print(f"Wrote {len(speech) / RATE:.1f} s of speech to {args.speaker_file}")
        return 0
    from .runner import DeviceError, check_devices

    try:
        check_devices(("output",))  # reading aloud needs a speaker, not a microphone
    except DeviceError as e:
        print(f"Cannot speak: {e}", file=sys.stderr)
        return EXIT_NO_DEVICE
    import sounddevice as sd

    try:
        sd.play(speech, RATE, blocking=True)
    except KeyboardInterrupt:
        sd.stop()
    return 0


def cmd_get_model(args: argparse.Namespace) -> int:
    from .model_download import MODELS, DownloadError, install
    from .recognizers import default_model_dir

    spec = MODELS.get(args.name)
    if spec is None:
        print(f"unknown model {args.name!r} (known: {', '.join(MODELS)})", file=sys.stderr)
        return EXIT_BAD_INPUT
    models = Path(args.dir) if args.dir else default_model_dir()
    try:
        target = install(spec, models, args.url, args.sha256, show=sys.stderr.isatty())
    except DownloadError as e:
        print(f"get-model: {e}", file=sys.stderr)
        return 1
    print(f"Model ready: {target}. 'run' and 'listen' now use vosk by default.")
    return 0


def cmd_devices(_args: argparse.Namespace) -> int:
    import sounddevice as sd

    from .runner import NO_DEVICE_HINT

    try:
        devices = sd.query_devices()
    except Exception as e:  # no audio system at all
        print(f"No audio system ({e}). {NO_DEVICE_HINT}")
        return 0
    if len(devices) == 0:
        print(f"No audio devices found. {NO_DEVICE_HINT}")
        return 0
    print(devices)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"run": cmd_run, "check": cmd_check, "history": cmd_history,
               "listen": cmd_listen, "preview": cmd_preview, "get-model": cmd_get_model,
               "devices": cmd_devices}[args.cmd]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
