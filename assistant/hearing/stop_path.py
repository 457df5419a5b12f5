"""The stop path, in one file: how a spoken "stop" (or "ouch", "it hurts") becomes a cut.

Per 20 ms block, before anything else the block does:
1. the front end's `begin` has run the echo path and the speech embedding (hearing/frontend.py);
2. the safety recognizers hear the block: the trained "stop" spotter on the shared embedding
   windows (`SpotterEar`), pocketsphinx's keyword spotter for the pain phrases
   (recognizers/sphinx.py), or vosk's partial results;
3. the arbiter judges their candidates (hearing/arbiter.py: a person's stop is never set aside
   because the assistant was talking);
4. the Driver dispatches each to the session, whose stop latches and returns a Cut that the
   Driver carries out before any other action (runner.py).
Only then does the block go on to voice activity, ducking, the denoiser, the grammar and the
heads (`Ears.rest`), and the journal and the screen.
"""

from __future__ import annotations

from ..commands import Command
from ..heard import Heard
from ..recognizers.stop_spotter import StopSpotter
from .arbiter import OWN_VOICE, ArbiterState, Candidate, OwnVoice, judge
from .echo_path import NO_ECHO_PATH, EchoPath
from .frontend import Block


class SpotterEar:
    """The trained "stop" spotter as a recognizer: it scores the front end's windows."""

    name = "stop spotter"
    safety = True

    def __init__(self, spotter: StopSpotter):
        self.spotter = spotter
        k = spotter.head.k
        # a window's audio: its first embedding's 76 mel frames, then 8 frames per further one
        self._window_samples = (76 + 8 * (k - 1)) * 160

    def reset(self) -> None:
        self.spotter.reset()

    def feed(self, block: Block) -> list[Heard]:
        out = []
        for d in self.spotter.feed_windows(block.windows, block.ends):
            end = round(d.at_s * 16000)
            out.append(Heard(block.t, Command.STOP, "stop", d.score, final=False, path=self.name,
                             start=block.time_of(end - self._window_samples)))
        return out


def candidates(heard: list[Heard], echo: EchoPath | None) -> list[Candidate]:
    """Each recognizer result with the evidence the arbiter weighs: the echo path over its audio."""
    out = []
    for h in heard:
        start = h.start if h.start is not None else h.t - 1.0
        span = echo.span(start, h.t) if echo is not None else NO_ECHO_PATH
        out.append(Candidate(h, span))
    return out


class StopPath:
    """The safety recognizers, and the arbiter's judgement of what they heard."""

    def __init__(self, recognizers: list, own: OwnVoice = OWN_VOICE):
        self.recognizers = recognizers
        self.own = own

    def reset(self) -> None:
        for r in self.recognizers:
            r.reset()

    def restart(self, but: frozenset[str] | set[str] = frozenset()) -> None:
        """End the utterance of the recognizers that keep one (the keyword spotter), except
        those named in `but`."""
        for r in self.recognizers:
            if r.name not in but and hasattr(r, "restart"):
                r.restart()

    def hear(self, state: ArbiterState, block: Block,
             echo: EchoPath | None) -> tuple[ArbiterState, list[Heard]]:
        heard = [h for r in self.recognizers for h in r.feed(block)]
        if not heard:
            return state, []
        state, judged = judge(state, block.t, candidates(heard, echo), self.own)
        # A stop told to the session ends the utterance for the other safety recognizers: the
        # keyword spotter otherwise went on to join the person's "stop" with the assistant's own
        # "Stopped. Lift your hands." into "stop it hurts", and upgraded a stop to pain that
        # nobody had. A pain said after the stop ("stop, it hurts") is its own phrase.
        if stopped_by := {h.path for h in judged if h.command is Command.STOP and not h.own_voice}:
            self.restart(but=stopped_by)
        return state, judged
