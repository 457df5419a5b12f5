"""pocketsphinx, with the English model its wheel ships: a keyword spotter and a grammar.

Two recognizers share the stream, each emitting candidates and holding no policy:
- `KeywordSpotter` (safety): pocketsphinx's keyword search for the stop and pain phrases, on
  every stretch of audio its voice-activity gate calls speech, reporting the moment a phrase is
  spotted (no end-of-utterance wait);
- `GrammarRecognizer` (navigation, and a backup for stop and pain): a grammar built from the
  command vocabulary decodes each speech segment the front end cuts from Silero's voice
  activity (hearing/frontend.py), on audio cleaned by speex's noise suppressor, and reports on
  the segment's end. Segments too long to
  be a command are dropped as out-of-vocabulary speech; with the trained heads (the embedded
  engine), so is a navigation result the command head does not also hear in the segment, and a
  pain result the pain head does not.

The hearing pipeline restarts the spotter at each segment end (`restart`): its cepstral mean is
updated at utterance ends, and a spotter that never ends one keeps the mean of the stream's start.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import deque
from pathlib import Path

import numpy as np
from pocketsphinx import Config, Decoder, Vad

from ..commands import PHRASES, SAFETY_PHRASES, Command, parse
from ..denoise import Denoiser
from ..heard import Heard
from .command_head import class_index
from .stop_spotter import HeadVerdicts

RATE = 16000
# Keyword-spotting thresholds: longer phrases need smaller ones. Never tuned on a split: no real
# pain recordings exist, and read speech is the only long negative set.
SAFETY_THRESHOLDS = {
    "stop": 1e-15,
    "ouch": 1e-1,
    "it hurts": 1e-10,
    "stop it hurts": 1e-30,
    "too hard": 1e-10,
    "stop stop": 1e-30,
}
MAX_COMMAND_SECONDS = 2.2  # longer speech is a sentence, not a command
PREROLL_FRAMES = 3  # 90 ms of audio before the VAD's first speech frame
HANGOVER_FRAMES = 10  # 300 ms after its last one
UTTERANCE_LEAD_S = 0.6  # a grammar result's audio is taken to begin this long before its segment
SEGMENT_PREROLL_BLOCKS = 15  # 300 ms of audio before the voice activity's first speech block


def grammar_text() -> str:
    alternatives = " | ".join(sorted(PHRASES))
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {alternatives};\n"


class _Chunker:
    """pocketsphinx's voice-activity detector works on 30 ms frames: blocks in, whole frames out."""

    def __init__(self, frame_bytes: int):
        self.frame_bytes = frame_bytes
        self.reset()

    def reset(self) -> None:
        self._pending = b""

    def push(self, samples: np.ndarray) -> list[bytes]:
        self._pending += samples.astype(np.int16, copy=False).tobytes()
        n = self.frame_bytes
        out = []
        while len(self._pending) >= n:
            out.append(self._pending[:n])
            self._pending = self._pending[n:]
        return out


FRAME_BYTES = 960  # 30 ms: the frame of pocketsphinx's voice-activity detector


class KeywordSpotter:
    """The safety fast path of the pocketsphinx engines: stop and pain phrases on partial audio."""

    name = "keyword spotter"
    safety = True

    def __init__(self, phrases: tuple[str, ...] = SAFETY_PHRASES,
                 thresholds: dict[str, float] | None = None):
        thresholds = thresholds or SAFETY_THRESHOLDS
        self.phrases = phrases
        self._tmp = tempfile.TemporaryDirectory(prefix="massage-kws-")
        kws_file = Path(self._tmp.name) / "safety.kws"
        kws_file.write_text("".join(f"{p} /{thresholds.get(p, 1e-20):g}/\n" for p in phrases))
        self._kws = Decoder(Config(kws=str(kws_file), loglevel="FATAL"))
        # The spotter gets speech frames the moment the VAD calls them speech: the endpointer's
        # 0.3 s smoothing window would delay every stop by that much. Silence is kept from it
        # because its running cepstral mean, pulled towards silence, made it hear "stop" in the
        # first word of a stream.
        self._vad = Vad(Vad.LOOSE)
        self._chunks = _Chunker(FRAME_BYTES)
        self.reset()

    def reset(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._kws.end_utt()
        self._kws.start_utt()
        self._chunks.reset()
        self._preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
        self._hangover = 0

    def restart(self) -> None:
        """End the spotter's utterance and begin another (at a speech segment's end)."""
        self._kws.end_utt()
        self._kws.start_utt()

    def feed(self, block) -> list[Heard]:
        out: list[Heard] = []
        for chunk in self._chunks.push(block.audio):
            for text in self._gate(chunk):
                command = parse(text)
                if command is not None:
                    out.append(Heard(block.t, command, text, None, final=False, path=self.name,
                                     start=block.t - 1.0))
        return out

    def _gate(self, chunk: bytes) -> list[str]:
        """Feed the spotter speech (with a little audio either side) without the endpointer's lag."""
        if self._vad.is_speech(chunk):
            self._hangover = HANGOVER_FRAMES
            out: list[str] = []
            while self._preroll:
                out += self._spot(self._preroll.popleft())
            return out + self._spot(chunk)
        if self._hangover > 0:
            self._hangover -= 1
            return self._spot(chunk)
        self._preroll.append(chunk)
        return []

    def _spot(self, speech: bytes) -> list[str]:
        self._kws.process_raw(speech, False, False)
        hyp = self._kws.hyp()
        if hyp is None:
            return []
        self.restart()  # one spoken phrase fires once
        return [hyp.hypstr.strip()]


class GrammarRecognizer:
    """The command grammar on whole speech segments, optionally checked by the trained heads."""

    name = "grammar"
    safety = False

    def __init__(self, verdicts: HeadVerdicts | None = None, denoise: bool = True):
        """`verdicts`: the command and pain heads' view of each embedding window (the embedded
        engine)."""
        self.verdicts = verdicts
        self._denoiser = Denoiser() if denoise else None
        self._grammar = Decoder(Config(lm=None, loglevel="FATAL"))
        self._grammar.add_jsgf_string("commands", grammar_text())
        self._grammar.activate_search("commands")
        self.reset()

    def reset(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._grammar.end_utt()
        self._preroll: deque[bytes] = deque(maxlen=SEGMENT_PREROLL_BLOCKS)
        self._in_utt = False
        self._utt_samples = 0
        self._samples = 0  # stream position, in samples
        if self.verdicts is not None:
            self.verdicts.reset()

    def feed(self, block) -> list[Heard]:
        self._samples += len(block.audio)
        if self.verdicts is not None:
            self.verdicts.observe(block.windows, block.ends)
        raw = block.audio.astype(np.int16, copy=False)
        # the grammar hears the audio denoised (the denoiser works on whole blocks: no lag)
        audio = (self._denoiser.process(raw) if self._denoiser is not None else raw).tobytes()
        self._preroll.append(audio)
        if block.segment == "start":
            self._grammar.start_utt()
            self._in_utt = True
            self._utt_samples = 0
            for chunk in self._preroll:  # the current block is the last of them
                self._decode(chunk)
        elif block.segment in ("in", "end") and self._in_utt:
            self._decode(audio)
        if block.segment == "end" and self._in_utt:
            return self._end_utterance(block.t)
        return []

    def _decode(self, audio: bytes) -> None:
        self._grammar.process_raw(audio, False, False)
        self._utt_samples += len(audio) // 2
    def _end_utterance(self, t: float) -> list[Heard]:
        self._grammar.end_utt()
        self._in_utt = False
        started = self._samples - self._utt_samples - int(UTTERANCE_LEAD_S * RATE)
        start_t = t - (self._samples - started) / RATE
        hyp = self._grammar.hyp()
        if hyp is None or self._utt_samples / RATE > MAX_COMMAND_SECONDS:
            return []
        text = hyp.hypstr.strip()
        command = parse(text)
        if command is None:
            return []
        confidence = None
        heads = self.verdicts
        if heads is not None and "command" in heads.heads and not command.is_safety:
            # Out-of-vocabulary rejection: the grammar maps any short speech onto a command, so
            # the command head must also hear this very command in the utterance.
            confidence = heads.command_prob(class_index(command), max(0, started), self._samples)
            if confidence < heads.heads["command"].threshold:
                return []
        if heads is not None and "pain" in heads.heads and command is Command.PAIN:
            # The backup of the keyword spotter (which is never gated): a low bar, enough to drop
            # the "off" or "five" the grammar hears as "ouch" or "too hard".
            confidence = heads.pain_prob(max(0, started), self._samples)
            if confidence < heads.heads["pain"].threshold:
                return []
        return [Heard(t, command, text, confidence, final=True, path=self.name, start=start_t)]
