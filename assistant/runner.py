"""The imperative shell: microphone, recognizer, voice, player and journal around the session.

`Driver` is shared by both runs: it turns audio and player news into session events and carries
out the session's actions. `run_file` drives it from a WAV with the stream position as clock
(deterministic, as fast as the CPU allows); `run_live` drives it from sounddevice streams.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import session as S
from .audio import BLOCK, RATE, WavWriter, stream_audio, to_int16
from .echo import ReferenceDelay, RoomEcho
from .heard import Heard
from .hearing.arbiter import Duck
from .hearing.ears import Ears
from .journal import Journal
from .keys import KEY_NAMES, KeyReader, command_for_key
from .player import Drained, Player, PlayerEvent, Started
from .routine import Routine
from .screen import Display, NullDisplay
from .voice import Progress, TtsError, Voice


def alert(message: str) -> None:
    """A fault the person must know about: printed even with --quiet, on stderr."""
    print(message, file=sys.stderr, flush=True)


def tone(seconds: float = 0.35, freq: float = 660.0, rate: int = RATE) -> np.ndarray:
    """The stand-in for speech when TTS fails: a short soft beep."""
    t = np.arange(int(seconds * rate)) / rate
    env = np.minimum(1.0, np.minimum(t, seconds - t) / 0.02)
    return to_int16(0.3 * env * np.sin(2 * np.pi * freq * t))


class Driver:
    def __init__(self, routine: Routine, ears: Ears, voice: Voice, player: Player,
                 journal: Journal, display: Display | None = None, keys: KeyReader | None = None,
                 hurt_before: tuple[str, ...] = (), skip_check: bool = False):
        self.state = S.initial(routine)
        self.ears = ears
        self._recognizer_failed = False
        self.voice = voice
        self.player = player
        self.journal = journal
        self.display = display if display is not None else NullDisplay()
        self.keys = keys
        self.hurt_before = hurt_before
        self.skip_check = skip_check
        self.ended: str | None = None
        self.start_used = 0.0
        self._cut = False  # the session cut the voice since the last block's voice activity
        self._voice_notice = voice.notice  # a fallback already said and journalled at start
        self._said: list[list] = []  # [start, end, text] of the newest things played

    # -- inputs --
    def start(self, t: float, used_today_s: float = 0.0) -> None:
        self.start_used = used_today_s
        self.dispatch(S.Start(t, used_today_s, self.hurt_before, self.skip_check))

    def realign(self, t: float, dropped: int) -> None:
        """The microphone delivers again after a gap, its reference realigned (`dropped` blocks
        played meanwhile thrown away): the echo canceller's filter, and the evidence the echo
        path kept, belong to the old pairing."""
        if self.ears.echo is None:
            return
        self.ears.echo.reset()
        self.journal.write(t, "echo", action="realign", canceller=self.ears.echo.name,
                           dropped_blocks=dropped)

    def poll_keys(self, t: float) -> None:
        """Keys typed since the last block: the same commands as spoken ones."""
        if self.keys is None:
            return
        for key in self.keys.poll():
            command = command_for_key(key, self.state.mode)
            if command is not None:
                self.dispatch(Heard(t, command, KEY_NAMES.get(key, key), source="key"))

    def hear(self, t: float, frame: np.ndarray, played: np.ndarray | None = None) -> None:
        """One microphone block ending at stream time `t`; `played` is what the speaker played
        meanwhile (the echo canceller's reference)."""
        try:
            block = self.ears.begin(t, frame, played)
            # The stop path: its results reach the session, and a stop its cut, before any
            # other work of this block (voice activity, the grammar, the journal, the screen).
            for h in self.ears.stop_path(block):
                self.dispatch(h)
            playing = played is not None and bool(np.any(played))
            cut, self._cut = self._cut, False
            said = tuple((start, end, text) for start, end, text in self._said)
            for d in self.ears.rest(block, playing=playing, cut=cut, said=said):
                if isinstance(d, Duck):
                    self.player.duck(d.gain_db if d.on else 0.0)
                    self.journal.write(t, "duck", on=d.on, gain_db=d.gain_db, speech=round(block.speech, 2))
                else:
                    self.dispatch(d)
            for news in block.news:
                self.journal.write(t, "echo", action=news.action, canceller=self.ears.echo.name,
                                   **({"added_db": news.added_db} if news.action == "raw" else {}))
        except Exception as e:  # any engine fault: the session must not go on unheard
            self.journal.write(t, "error", source="recognizer", message=f"{type(e).__name__}: {e}")
            if not self._recognizer_failed:
                self._recognizer_failed = True
                alert(f"The recognizer failed ({e}): the session is paused.")
                self.dispatch(S.HearingLost(t, f"recognizer error: {e}"))
            with contextlib.suppress(Exception):
                self.ears.reset()
            return
        if self._recognizer_failed:
            self._recognizer_failed = False
            self.dispatch(S.HearingBack(t))
        self.dispatch(S.Tick(t))

    def played(self, t: float, events: list[PlayerEvent]) -> None:
        """Player news for the block that started at stream time `t`."""
        for ev in events:
            if isinstance(ev, Started):
                at = t + ev.offset / self.player.rate
                self.journal.write(at, "say", text=ev.text, kind=ev.kind, seconds=round(ev.seconds, 3))
                self.display.said(at, ev.text)
                self._said = [*self._said[-(SAID_KEPT - 1):], [at, at + ev.seconds, ev.text]]
            elif isinstance(ev, Drained):
                self.dispatch(S.SpeechDone(t + BLOCK / self.player.rate))

    # -- the loop between session and world --
    def dispatch(self, event: S.Event) -> None:
        self.state, actions = S.step(self.state, event)
        # A cut jumps the queue: the voice goes silent before anything else the step asks for
        # is done (journal lines, rendering the confirmation).
        for action in sorted(actions, key=lambda a: not isinstance(a, S.Cut)):
            self._do(event.t, action)
        self.display.update(event.t, self.state, actions)

    def _do(self, t: float, action: S.Action) -> None:
        if isinstance(action, S.Cut):
            playing = self.player.cut()
            self._cut = True
            for entry in self._said:
                entry[1] = min(entry[1], t)
            self.journal.write(t, "cut", playing=playing.text if playing else None)
        elif isinstance(action, S.Say):
            try:
                samples = self.voice.render(action.text)
            except (TtsError, RuntimeError, OSError) as e:
                self.journal.write(t, "error", source="tts", message=str(e), text=action.text)
                self.display.said(t, f"(could not speak) {action.text}")
                samples = tone()
            if self.voice.notice != self._voice_notice:  # Kokoro failed here: said once, journalled
                self._voice_notice = self.voice.notice
                choice = self.voice.choice
                self.journal.write(t, "voice", engine=choice.engine, voice=choice.voice,
                                   fallback=self.voice.notice)
                self.display.said(t, f"(voice) {self.voice.notice}")
            self.player.enqueue(action.text, action.kind, samples)
        elif isinstance(action, S.Log):
            self.journal.write(t, action.event, **action.data)
        elif isinstance(action, S.End):
            self.ended = action.reason

    def summary(self, t: float) -> None:
        self.journal.write(t, "summary", routine=self.state.routine.name, step=self.state.step,
                           mode=self.state.mode.value,
                           paced_s=round(self.state.used_s - self.start_used, 2),
                           pain_steps=list(self.state.pain_steps))


@dataclass(frozen=True)
class RunResult:
    reason: str  # finished | end of input | interrupted | ...
    seconds: float


def prerender(voice: Voice, routine: Routine, hurt: tuple[str, ...] = (),
              progress: Progress | None = None) -> int:
    """Render everything the session can say, so no answer ever waits for TTS; returns how many
    texts were not in the cache."""
    return voice.render_all(sorted(S.sayable_texts(routine, hurt)), progress=progress)


def run_file(driver: Driver, mic_path: str | Path, speaker_path: str | Path | None,
             realtime: bool = False, used_today_s: float = 0.0,
             room: RoomEcho | None = None) -> RunResult:
    """Replay a session from a microphone file; `room` mixes the speaker back into the mic."""
    writer = WavWriter(speaker_path, RATE) if speaker_path else None
    wall0 = time.monotonic()
    reason = "end of microphone input"
    t = 0.0
    try:
        driver.start(0.0, used_today_s)
        blocks = stream_audio(mic_path, RATE, BLOCK)
        for i, frame in enumerate(blocks):
            t = i * BLOCK / RATE
            block, events = driver.player.read(BLOCK)
            if writer:
                writer.write(block)
            driver.played(t, events)
            t = (i + 1) * BLOCK / RATE
            if room is not None:
                frame = room.add(frame, block)
            driver.poll_keys(t)
            driver.hear(t, frame, block)
            if driver.ended:
                reason = driver.ended
                if writer:  # keep the speaker WAV as long as the input, silent after the end
                    silence = np.zeros(BLOCK, dtype=np.int16)
                    for _ in blocks:
                        writer.write(silence)
                break
            if realtime:
                ahead = t - (time.monotonic() - wall0)
                if ahead > 0:
                    time.sleep(ahead)
    except KeyboardInterrupt:
        reason = "interrupted"
    except Terminated:
        reason = "terminated"
    finally:
        if writer:
            writer.close()
    if reason != "finished":
        driver.journal.write(t, "aborted", reason=reason)
    driver.summary(t)
    return RunResult(reason, t)


class DeviceError(RuntimeError):
    pass


NO_DEVICE_HINT = ("To try it without a sound card, rehearse from files: "
                  "massage-assistant run lower-back --mic-file examples/demo-mic.flac")


def check_devices(need: tuple[str, ...] = ("input", "output")) -> tuple[dict | None, dict | None]:
    """The default input and output devices (those in `need`), or DeviceError naming what was
    found and how to go on without."""
    import sounddevice as sd

    try:
        devices = sd.query_devices()
    except Exception as e:  # PortAudio not initialised: no audio system at all
        raise DeviceError(f"no audio system ({e}). {NO_DEVICE_HINT}") from e
    found = "; ".join(f"{d['name']} (in {d['max_input_channels']}, out {d['max_output_channels']})"
                      for d in devices) or "none"
    chosen: dict[str, dict | None] = {"input": None, "output": None}
    for kind, what, channels in (("input", "microphone", "max_input_channels"),
                                 ("output", "speaker", "max_output_channels")):
        if kind not in need:
            continue
        try:
            chosen[kind] = sd.query_devices(kind=kind)
        except Exception as e:
            raise DeviceError(f"no usable {what}. Devices found: {found}. {NO_DEVICE_HINT}") from e
        if chosen[kind][channels] < 1:
            raise DeviceError(f"no {what}. Devices found: {found}. {NO_DEVICE_HINT}")
    return chosen["input"], chosen["output"]


SAID_KEPT = 8  # texts played, kept for the arbiter's own-words rule (a few seconds' worth)
MIC_SILENCE_LIMIT = 1.0  # seconds without microphone audio before the session pauses
SPEAKER_SILENCE_LIMIT = 1.0  # seconds without the output device asking for audio
REOPEN_EVERY = 2.0  # seconds between attempts to reopen a lost device
# microphone callbacks this far apart: a gap in its audio (they come every 20 ms, in bursts of
# a few at most), after which the reference is realigned
MIC_GAP_S = 0.25
MIC_GAP = None  # in the frame queue: the microphone delivered nothing for MIC_GAP_S before this


class Terminated(BaseException):
    """SIGTERM: end like Ctrl-C, with a complete journal. A BaseException, like KeyboardInterrupt,
    so that no `except Exception` guarding a device or the recognizer can swallow it."""


class _LiveAudio:
    """The sound card side of a live run: two PortAudio streams, watched and reopened.

    Callbacks only move blocks; everything else happens on the main thread. A stream that stops
    calling back (device unplugged, server gone) is noticed by the main loop's watchdogs.
    """

    def __init__(self, player: Player):
        import sounddevice as sd

        self.sd = sd
        self.player = player
        self.frames: queue.Queue[np.ndarray | None] = queue.Queue()
        self._last_callback: float | None = None
        self.news: queue.Queue[list[PlayerEvent]] = queue.Queue()
        self.reference = ReferenceDelay()
        self.last_out = time.monotonic()
        self.flowing_since = self.last_out
        self.last_in = time.monotonic()
        self.inp = None
        self.out = None

    def _on_input(self, indata, _frames, _time, _status) -> None:
        now = time.monotonic()
        if self._last_callback is not None and now - self._last_callback > MIC_GAP_S:
            self.frames.put(MIC_GAP)  # in order: the frames before it keep their reference
        self._last_callback = now
        self.frames.put(indata[:, 0].copy())

    def _on_output(self, outdata, n, _time, _status) -> None:
        now = time.monotonic()
        if now - self.last_out > 0.1:  # a gap: audio is flowing again only from now on
            self.flowing_since = now
        self.last_out = now
        block, events = self.player.read(n)
        outdata[:, 0] = block
        self.reference.push(block)
        if events:
            self.news.put(events)

    def open_input(self) -> None:
        self.close_input()
        self.inp = self.sd.InputStream(samplerate=RATE, blocksize=BLOCK, channels=1, dtype="int16",
                                       callback=self._on_input)
        self.inp.start()

    def open_output(self) -> None:
        self.close_output()
        self.out = self.sd.OutputStream(samplerate=RATE, blocksize=BLOCK, channels=1, dtype="int16",
                                        callback=self._on_output)
        self.last_out = self.flowing_since = time.monotonic()
        self.out.start()

    @staticmethod
    def _shut(stream) -> None:
        if stream is not None:
            with contextlib.suppress(Exception):  # a stream whose device is gone may not close
                stream.abort()
                stream.close()

    def close_input(self) -> None:
        self._shut(self.inp)
        self.inp = None

    def close_output(self) -> None:
        self._shut(self.out)
        self.out = None

    def close(self) -> None:
        self.close_input()
        self.close_output()


def run_live(driver: Driver, used_today_s: float = 0.0) -> RunResult:
    audio = _LiveAudio(driver.player)
    reason = "finished"
    t = 0.0
    mic_ok = speaker_ok = True
    zeros_s = 0.0  # a dead microphone often delivers exact digital silence, not nothing
    next_try = 0.0
    try:
        audio.open_input()
        audio.open_output()
        driver.start(0.0, used_today_s)
        while not driver.ended:
            driver.poll_keys(t)  # keys work even while the microphone is gone
            now = time.monotonic()
            if speaker_ok and now - audio.last_out > SPEAKER_SILENCE_LIMIT:
                speaker_ok = False
                alert("The speaker stopped working: the session is paused.")
                driver.dispatch(S.SpeakerLost(t, "the output device stopped"))
            if (not mic_ok or not speaker_ok) and now >= next_try:
                next_try = now + REOPEN_EVERY
                with contextlib.suppress(Exception):  # the device may still be gone: try later
                    if not speaker_ok:
                        audio.open_output()
                    if not mic_ok and (audio.inp is None or not audio.inp.active):
                        audio.open_input()
            # A reopened stream prefills its buffer in one burst even on a dead device: the
            # speaker is back only when it has been taking audio steadily for half a second.
            if (not speaker_ok and now - audio.last_out < 0.1
                    and audio.last_out - audio.flowing_since >= SPEAKER_SILENCE_LIMIT / 2):
                speaker_ok = True
                driver.dispatch(S.SpeakerBack(t))
            try:
                frame = audio.frames.get(timeout=0.1)
            except queue.Empty:
                if mic_ok and time.monotonic() - audio.last_in > MIC_SILENCE_LIMIT:
                    mic_ok = False
                    alert("The microphone stopped delivering audio: the session is paused.")
                    driver.dispatch(S.HearingLost(t, "no audio from the microphone"))
                continue
            audio.last_in = time.monotonic()
            if frame is MIC_GAP:
                driver.realign(t, audio.reference.resync(audio.frames.qsize()))
                continue
            t += len(frame) / RATE
            zeros_s = zeros_s + len(frame) / RATE if not frame.any() else 0.0
            if mic_ok and zeros_s >= MIC_SILENCE_LIMIT:
                mic_ok = False
                driver.dispatch(S.HearingLost(t, "the microphone delivers only digital silence"))
            elif not mic_ok and zeros_s == 0.0:
                mic_ok = True
                driver.dispatch(S.HearingBack(t))
            while not audio.news.empty():
                driver.played(t, audio.news.get_nowait())
            driver.hear(t, frame, audio.reference.pop(audio.frames.qsize()))
        reason = driver.ended or reason
        deadline = time.monotonic() + 30
        while driver.player.busy and speaker_ok and time.monotonic() < deadline:
            time.sleep(0.05)  # let the last words finish
    except KeyboardInterrupt:
        reason = "interrupted"
    except Terminated:
        reason = "terminated"
    except audio.sd.PortAudioError as e:
        reason = f"audio device error: {e}"
        print(f"Audio device error: {e}", file=sys.stderr)
    finally:
        driver.player.cut()
        audio.close()
    if reason != "finished":
        driver.journal.write(t, "aborted", reason=reason)
    driver.summary(t)
    return RunResult(reason, t)

