"""The hearing pipeline: front end, the stop path first, then everything else.

`Ears` is the imperative shell around the pure arbiter, and what the Driver and `listen` talk
to: `begin` (echo path and embedding), `stop_path` (safety candidates, judged), `rest` (voice
activity and ducking, navigation recognizers, judged). The Driver dispatches the stop path's
results before it calls `rest`, so no other work of the block sits between a stop and its cut.
"""

from __future__ import annotations

import numpy as np

from ..heard import Heard
from .arbiter import DUCKING, ArbiterState, Duck, Ducking, duck, judge
from .echo_path import EchoPath
from .frontend import Block, FrontEnd
from .stop_path import StopPath, candidates

DUCK_LOOKBACK_S = 0.1  # the echo evidence for a voice onset: the newest 100 ms


class Ears:
    def __init__(self, name: str, frontend: FrontEnd, stop_path: StopPath, recognizers: list,
                 ducking: Ducking | None = DUCKING):
        self.name = name
        self.frontend = frontend
        self.stop = stop_path
        self.recognizers = recognizers  # the rest: navigation, and backups for the safety words
        self.ducking = ducking if frontend.vad is not None else None
        self.state = ArbiterState()
        # with a second stage that knows English, it alone decides navigation and yes/no
        self.navigation_from = next((r.name for r in recognizers if r.name == "whisper"), None)
        if self.navigation_from:
            self.name = f"{name}+{self.navigation_from}"

    @property
    def echo(self) -> EchoPath | None:
        return self.frontend.echo

    def close(self) -> None:
        for r in self.recognizers:
            if hasattr(r, "close"):
                r.close()

    def reset(self) -> None:
        """Forget any utterance in progress (after a fault)."""
        self.frontend.reset()
        self.stop.reset()
        for r in self.recognizers:
            r.reset()
        self.state = ArbiterState(duck=self.state.duck)

    def begin(self, t: float, mic: np.ndarray, played: np.ndarray | None = None) -> Block:
        return self.frontend.begin(t, mic, played)

    def stop_path(self, block: Block) -> list[Heard]:
        self.state, heard = self.stop.hear(self.state, block, self.echo)
        return heard

    def rest(self, block: Block, playing: bool = False, cut: bool = False,
             said: tuple[tuple[float, float, str], ...] = ()) -> list[Heard | Duck]:
        """`playing`: the assistant's voice went out in this block; `cut`: the session cut it;
        `said`: (start, end, text) of what it played lately (arbiter.own_words)."""
        self.frontend.finish(block)
        if block.segment == "end":  # a keyword spotter's cepstral mean follows the stream
            self.stop.restart()
        out: list[Heard | Duck] = []
        if self.ducking is not None:
            person = False
            if block.speech >= self.ducking.on and self.echo is not None:
                person = self.stop.own.person(self.echo.span(block.t - DUCK_LOOKBACK_S, block.t))
            self.state, ducks = duck(self.state, block.t, block.speech, playing, person, cut,
                                     self.ducking)
            out += ducks
        heard = [h for r in self.recognizers for h in r.feed(block)]
        if heard:
            self.state, judged = judge(self.state, block.t, candidates(heard, self.echo),
                                       self.stop.own, self.navigation_from, said)
            out += judged
        return out

    def flush(self, t: float, block: int = 320, limit_s: float = 1.0) -> list[Heard]:
        """The end of the input: silence until speech in progress has ended (a recording that
        stops right after its last word still has that word heard)."""
        out: list[Heard] = []
        silence = np.zeros(block, np.int16)
        n = 0
        while self.frontend.segments.in_speech and n * block < limit_s * 16000:
            n += 1
            out += self.listen(t + n * block / 16000, silence)
        return out

    def listen(self, t: float, mic: np.ndarray) -> list[Heard]:
        """One block with nothing playing (the `listen` command): every result, in order."""
        block = self.begin(t, mic)
        out = self.stop_path(block)
        return out + [d for d in self.rest(block) if isinstance(d, Heard)]

