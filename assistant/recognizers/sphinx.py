"""The embedded engine: pocketsphinx with the English model its wheel ships. No download.

Two decoders share the stream:
- a keyword spotter for the safety phrases runs on every frame and reports the moment a stop
  or pain phrase is spotted (the fast path: no end-of-utterance wait);
- a grammar decoder built from the command vocabulary decodes each speech segment found by
  the endpointer and reports commands on the final result. Segments too long to be a command
  are dropped as out-of-vocabulary speech; in the embedded engine, so is a navigation result
  the stop spotter's command head does not also hear, and a pain result its pain head does not.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import deque
from pathlib import Path

import numpy as np
from pocketsphinx import Config, Decoder, Endpointer, Vad

from ..commands import PHRASES, SAFETY_PHRASES, Command, parse
from ..denoise import Denoiser
from .base import Heard
from .command_head import class_index

# Keyword-spotting thresholds: longer phrases need smaller ones. First version, to be tuned
# on a held-out split by the benchmark.
SAFETY_THRESHOLDS = {
    "stop": 1e-15,
    "ouch": 1e-1,
    "it hurts": 1e-10,
    "stop it hurts": 1e-30,
    "too hard": 1e-10,
    "stop stop": 1e-30,
}
MAX_COMMAND_SECONDS = 2.2
PREROLL_FRAMES = 3  # 90 ms of audio before the VAD's first speech frame
HANGOVER_FRAMES = 10  # 300 ms after its last one  # longer speech is a sentence, not a command


def grammar_text() -> str:
    alternatives = " | ".join(sorted(PHRASES))
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {alternatives};\n"


class SphinxRecognizer:
    name = "pocketsphinx"

    def __init__(self, thresholds: dict[str, float] | None = None, stop_spotter=None,
                 denoise: bool = True):
        """`stop_spotter` (a StopSpotter): hear plain "stop" with it instead of pocketsphinx's
        spotter, which keeps the pain phrases; navigation stays with the grammar either way.
        `denoise`: pocketsphinx hears the audio through speex's noise suppressor (the spotter
        always hears it as it is)."""
        thresholds = thresholds or SAFETY_THRESHOLDS
        self._stop_spotter = stop_spotter
        self._denoiser = Denoiser() if denoise else None
        phrases = SAFETY_PHRASES
        if stop_spotter is not None:
            self.name = "embedded"
            phrases = tuple(p for p in SAFETY_PHRASES if p not in ("stop", "stop stop"))
        self._tmp = tempfile.TemporaryDirectory(prefix="massage-kws-")
        kws_file = Path(self._tmp.name) / "safety.kws"
        kws_file.write_text("".join(f"{p} /{thresholds.get(p, 1e-20):g}/\n" for p in phrases))
        self._kws = Decoder(Config(kws=str(kws_file), loglevel="FATAL"))
        self._grammar = Decoder(Config(lm=None, loglevel="FATAL"))
        self._grammar.add_jsgf_string("commands", grammar_text())
        self._grammar.activate_search("commands")
        self._ep = Endpointer(window=0.3, ratio=0.9)
        # The spotter gets speech frames the moment the VAD calls them speech: the endpointer's
        # 0.3 s smoothing window would delay every stop by that much. Silence is kept from it
        # because its running cepstral mean, pulled towards silence, made it hear "stop" in the
        # first word of a stream.
        self._vad = Vad(Vad.LOOSE)
        self.reset()

    def reset(self) -> None:
        for d in (self._kws, self._grammar):
            with contextlib.suppress(RuntimeError):
                d.end_utt()
        self._kws.start_utt()
        self._pending = b""
        self._pending_nav = b""
        self._in_utt = False
        self._utt_samples = 0
        self._samples = 0  # stream position, in samples
        self._fired_at = -(10**9)  # stream position of the last safety spot
        self._fired: set = set()  # safety commands the spotter reported in this utterance
        self._preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
        self._hangover = 0
        if self._stop_spotter is not None:
            self._stop_spotter.reset()

    def feed(self, frame: np.ndarray) -> list[Heard]:
        out: list[Heard] = []
        self._samples += len(frame)
        if self._stop_spotter is not None:
            for d in self._stop_spotter.feed(frame):  # the fast path for plain "stop"
                self._fired_at = self._samples
                self._fired.add(Command.STOP)
                out.append(Heard(Command.STOP, "stop", d.score, final=False))
        # The safety spotter hears the audio as it is (its thresholds were set on that); the
        # endpointer and the navigation grammar hear it denoised.
        raw = frame.astype(np.int16, copy=False)
        self._pending += raw.tobytes()
        self._pending_nav += (self._denoiser.process(raw) if self._denoiser is not None else raw).tobytes()
        n = self._ep.frame_bytes
        while len(self._pending) >= n:
            chunk, self._pending = self._pending[:n], self._pending[n:]
            out.extend(self._spot_raw(chunk))
            if len(self._pending_nav) < n:  # the denoiser holds back under one of its frames
                continue
            nav, self._pending_nav = self._pending_nav[:n], self._pending_nav[n:]
            speech = self._ep.process(nav)
            if speech is not None:
                if not self._in_utt:
                    self._grammar.start_utt()
                    self._in_utt = True
                    self._utt_samples = 0
                self._grammar.process_raw(speech, False, False)
                self._utt_samples += len(speech) // 2
            if self._in_utt and not self._ep.in_speech:
                out.extend(self._end_utterance())
                # Restart the spotter too: its cepstral mean is updated at utterance ends, and
                # a spotter that never ends an utterance keeps the mean of the stream's start.
                self._kws.end_utt()
                self._kws.start_utt()
        return out

    def _spot_raw(self, chunk: bytes) -> list[Heard]:
        """Feed the spotter speech (with a little audio either side) without the endpointer's lag."""
        if self._vad.is_speech(chunk):
            self._hangover = HANGOVER_FRAMES
            out: list[Heard] = []
            while self._preroll:
                out += self._spot(self._preroll.popleft())
            return out + self._spot(chunk)
        if self._hangover > 0:
            self._hangover -= 1
            return self._spot(chunk)
        self._preroll.append(chunk)
        return []

    def _spot(self, speech: bytes) -> list[Heard]:
        """The safety fast path: report a spotted stop or pain phrase at once."""
        self._kws.process_raw(speech, False, False)
        hyp = self._kws.hyp()
        if hyp is None:
            return []
        text = hyp.hypstr.strip()
        self._kws.end_utt()
        self._kws.start_utt()
        command = parse(text)
        if command is None:
            return []
        # Never gated: the spotter restarts after each hit, so one word fires once.
        self._fired_at = self._samples
        self._fired.add(command)
        return [Heard(command, text, None, final=False)]

    def _end_utterance(self) -> list[Heard]:
        self._grammar.end_utt()
        self._in_utt = False
        # An utterance that already stopped the session through the fast path yields nothing
        # more: its tail ("stop ... next") must never release the latch it just set.
        started = self._samples - self._utt_samples - int(0.6 * 16000)
        fired, self._fired = self._fired, set()
        hyp = self._grammar.hyp()
        if hyp is None or self._utt_samples / 16000 > MAX_COMMAND_SECONDS:
            return []
        text = hyp.hypstr.strip()
        command = parse(text)
        if command is None:
            return []
        if self._fired_at >= started:
            # Only news about pain may follow ("stop ... it hurts"): it upgrades the stop.
            if command is Command.PAIN and Command.PAIN not in fired:
                return [Heard(command, text, None, final=True)]
            return []
        confidence = None
        spotter = self._stop_spotter
        head = spotter.command_head if spotter is not None else None
        pain_head = spotter.pain_head if spotter is not None else None
        if head is not None and not command.is_safety:
            # Out-of-vocabulary rejection: the grammar maps any short speech onto a command, so
            # the command head must also hear this very command in the utterance.
            confidence = spotter.command_prob(class_index(command), max(0, started), self._samples)
            if confidence < head.threshold:
                return []
        if pain_head is not None and command is Command.PAIN:
            # The backup of the keyword spotter (which is never gated): a low bar, enough to drop
            # the "off" or "five" the grammar hears as "ouch" or "too hard".
            confidence = spotter.pain_prob(max(0, started), self._samples)
            if confidence < pain_head.threshold:
                return []
        return [Heard(command, text, confidence, final=True)]
