"""The front end: each microphone block turned, once, into what every recognizer needs.

`begin` runs what the stop path needs (the echo path, the speech embedding); `finish` the rest
(voice activity and the speech segments cut from it), after the stop decision has left the
block. A `Block` carries the results to every recognizer, so none of them computes a feature
another one has already computed.

Segments are cut from Silero's voice activity on the cancelled signal: they begin when it
reaches 0.35 and end after 300 ms under 0.25 (Silero's usual 0.5 is the duck's bar: on
tuning-split real words 99.7 % reached 0.35 and 99.5 % 0.5, and 30 s of white, pink or rumble
noise at -45 and -30 dBFS reached neither; a segment too many costs one transcription).
pocketsphinx's own endpointer took the residue of the assistant's voice for speech, so that a
command said over the voice ran on into one segment of ten seconds and more, which the grammar
drops as a sentence; Silero calls little of that residue speech (scripts/bench_echo.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..audio import RATE
from ..recognizers.speech_embedding import DIM as EMB_DIM
from ..recognizers.stop_spotter import EmbeddingStream
from .echo_path import EchoNews, EchoPath
from .vad import SileroVad


@dataclass
class Block:
    """One 20 ms block of the microphone, as the recognizers see it."""

    t: float  # stream time (s) at the block's end
    mic: np.ndarray  # the microphone as it came (int16)
    audio: np.ndarray  # after the echo path: what the recognizers hear (int16)
    windows: np.ndarray  # speech-embedding windows this block completed, (n, k * 96)
    ends: list[int]  # the embedding stream's sample at the end of each window
    sample: int  # the embedding stream's samples so far: `ends` are on this count
    news: list[EchoNews] = field(default_factory=list)  # the echo path's changes, for the journal
    # set by `finish`:
    speech: float = 0.0  # voice activity of the newest 32 ms
    segment: str = ""  # "start" (speech began in this block), "in", "end" (it ended here) or ""

    def time_of(self, sample: int) -> float:
        """Stream time of an embedding-stream sample index."""
        return self.t - (self.sample - sample) / RATE


@dataclass
class Segmenter:
    """Speech segments from voice activity: on at `on`, off after `hangover_s` under `off`."""

    on: float = 0.35
    off: float = 0.25
    hangover_s: float = 0.3
    in_speech: bool = False
    _quiet: float = 0.0

    def update(self, p: float, dt: float) -> str:
        if not self.in_speech:
            if p >= self.on:
                self.in_speech, self._quiet = True, 0.0
                return "start"
            return ""
        self._quiet = self._quiet + dt if p < self.off else 0.0
        if self._quiet >= self.hangover_s - 1e-9:
            self.in_speech = False
            return "end"
        return "in"


class FrontEnd:
    def __init__(self, echo: EchoPath | None = None, embedding_k: int | None = None,
                 vad: SileroVad | None = None):
        self.echo = echo
        self.embedding = EmbeddingStream(embedding_k) if embedding_k else None
        self.vad = vad
        self._none = np.zeros((0, (embedding_k or 0) * EMB_DIM), np.float32)
        self.reset()

    def reset(self) -> None:
        """Forget the stream (the echo path keeps its filter: the room has not changed)."""
        if self.embedding is not None:
            self.embedding.reset()
        if self.vad is not None:
            self.vad.reset()
        self.segments = Segmenter()
        self._samples = 0

    def begin(self, t: float, mic: np.ndarray, played: np.ndarray | None) -> Block:
        mic = np.asarray(mic, dtype=np.int16)
        news: list[EchoNews] = []
        audio = mic
        if self.echo is not None:
            ref = played if played is not None else np.zeros(len(mic), dtype=np.int16)
            audio, news = self.echo.process(mic, ref, t)
        self._samples += len(audio)
        windows, ends = (self.embedding.push(audio) if self.embedding is not None else (self._none, []))
        return Block(t, mic, audio, windows, ends, self._samples, news)

    def finish(self, block: Block) -> None:
        if self.vad is not None:
            block.speech = self.vad.feed(block.audio)
            block.segment = self.segments.update(block.speech, len(block.audio) / RATE)
