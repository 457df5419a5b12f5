"""The arbiter: a pure function from what the recognizers heard, and what was playing, to what
the session is told. Like the session it holds no I/O; its policies are small and tested alone.

- `OwnVoice` says when the assistant's own voice explains a candidate: the voice was going out
  during the candidate's audio, and the canceller took away about as much of the energy above
  the room's noise as it takes from that voice alone, and at least 10 dB. A person adds energy
  the canceller cannot remove, so the removal falls well under its usual figure; with nothing of
  the voice at the microphone (headphones) the canceller removes nothing, and nothing is
  explained. This holds for a stop too: the spotter takes the assistant's own "Step one of
  five" for "stop" when enough of it is left, and a person's stop, at the voice's level or well
  under it, adds more than the voice's residue (scripts/bench_echo.py measures stops said 0 to
  18 dB under the voice). What the echo path can neither explain nor tell for a person's is
  marked `over_voice`: obeyed, but not enough to release the stop latch (session.py).
- `own_words`: a command the echo path could neither explain nor claim for a person, whose every
  word the assistant was saying meanwhile ("slower" while it says "Slower."), is its own voice:
  where the canceller cannot keep up (a clock drifting between speaker and microphone left it
  5 dB), Whisper wrote down the assistant's own answers and the session obeyed them in a loop.
  Never for a safety word: a stop said while the voice says "say stop" must still stop it.
- `tail`: an utterance that already stopped the session yields nothing more: the rest of "stop
  ... next" must never release the latch it set. Only news of pain may follow ("stop ... it
  hurts"): it upgrades the stop.
- `Ducking`: while the assistant speaks, a person's voice (voice activity on the cancelled
  signal, not explained by the echo) lowers the assistant by 20 dB until the person has been
  quiet for a moment. It ducks only when the echo path can tell a person from the voice: the
  canceller has converged, or the microphone carries nothing of the voice (while a canceller
  converges, the voice's own residue is speech to the VAD, and the welcome would pump). A
  response to the person (after a cut) is never ducked: the duck is over until the person falls
  quiet and begins again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..commands import Command
from ..heard import Heard
from .echo_path import EchoSpan

TAIL_MEMORY_S = 6.0  # safety candidates remembered for the tail rule (longer than any command)


def _words(text: str) -> list[str]:
    return "".join(ch if ch.isalnum() or ch == "'" else " " for ch in text.lower()).split()


def own_words(text: str, said: tuple[str, ...]) -> bool:
    """Every word of `text` is among the words of what the assistant was saying."""
    heard = _words(text)
    spoken = {w for s in said for w in _words(s)}
    return bool(heard) and all(w in spoken for w in heard)


@dataclass(frozen=True)
class OwnVoice:
    margin_db: float = 6.0  # removal within this of the usual: nothing but the voice was there
    min_removal_db: float = 10.0  # ... and at least this: the microphone did carry the voice
    # a person is claimed (to duck the voice) only on removal this far under the usual: where
    # the echo is faint, the removal of 100 ms of it swings by more than `margin_db`
    person_margin_db: float = 10.0

    def explains(self, span: EchoSpan) -> bool:
        """The removal is the canceller's own, measured even while the recognizers hear the raw
        microphone (the echo path's guard): a raw stretch is the voice itself where the
        microphone carries it, and adds nothing to remove where it does not."""
        if not (span.cancelling and span.playing):
            return False
        return span.removal_db >= max(self.min_removal_db, span.baseline_db - self.margin_db)

    def person(self, span: EchoSpan) -> bool:
        """Can the echo path tell, and does it say the span holds more than the voice? With nothing
        of the voice at the microphone, any speech is a person's; with a converged canceller, what
        it does not explain; while it converges (or with no canceller) it cannot tell."""
        if not span.cancelling or span.carries is None:
            return False
        if not span.carries:
            return True
        return (span.playing and span.baseline_db >= self.min_removal_db
                and span.removal_db <= span.baseline_db - self.person_margin_db)


OWN_VOICE = OwnVoice()


@dataclass(frozen=True)
class Candidate:
    heard: Heard
    echo: EchoSpan  # the echo path over the candidate's audio


@dataclass(frozen=True)
class ArbiterState:
    safety: tuple[tuple[float, Command], ...] = ()  # (t, command) of recent safety candidates
    duck: str = "idle"  # idle | ducked | answered (cut while ducked: wait for quiet)
    quiet_since: float | None = None  # when the person's voice last fell silent, while not idle


def judge(state: ArbiterState, t: float, candidates: list[Candidate], own: OwnVoice = OWN_VOICE,
          navigation_from: str | None = None,
          said: tuple[tuple[float, float, str], ...] = ()) -> tuple[ArbiterState, list[Heard]]:
    """The candidates of one block, in order: those to tell the session (marked `own_voice`
    when the assistant's voice explains them). `navigation_from`: only this recognizer decides
    what is not a stop (the second stage that knows English, when it is there); stops are taken
    from every recognizer. `said`: (start, end, text) of what the assistant played lately."""
    recent = [(ts, c) for ts, c in state.safety if t - ts <= TAIL_MEMORY_S]
    out: list[Heard] = []
    for cand in candidates:
        h = cand.heard
        if navigation_from and not h.command.is_safety and h.path != navigation_from:
            continue
        if h.final and h.start is not None:
            fired = {c for ts, c in recent if ts >= h.start}
            if fired and not (h.command is Command.PAIN and Command.PAIN not in fired):
                continue  # the tail of an utterance that already stopped the session
        if own.explains(cand.echo):
            h = replace(h, own_voice=True)
        elif cand.echo.playing and not own.person(cand.echo):
            begun = h.start if h.start is not None else h.t - 1.0
            over = tuple(text for start, end, text in said if start <= h.t and end >= begun)
            mine = not h.command.is_safety and own_words(h.text, over)
            h = replace(h, own_voice=True) if mine else replace(h, over_voice=True)
        if h.command.is_safety:
            recent.append((h.t, h.command))
        out.append(h)
    return replace(state, safety=tuple(recent)), out


@dataclass(frozen=True)
class Ducking:
    on: float = 0.5  # voice-activity probability that starts a duck
    off: float = 0.3  # ... under which the person counts as quiet
    hold_s: float = 0.4  # quiet this long ends the duck
    gain_db: float = -20.0


DUCKING = Ducking()


@dataclass(frozen=True)
class Duck:
    """Lower (`on`) or restore the assistant's voice."""

    on: bool
    gain_db: float = 0.0


def duck(state: ArbiterState, t: float, speech: float, playing: bool, person: bool, cut: bool,
         policy: Ducking = DUCKING) -> tuple[ArbiterState, list[Duck]]:
    """One block of voice activity. `playing`: the assistant's voice is going out; `person`: the
    echo path can tell, and says the newest audio is not the voice alone; `cut`: the session cut
    the voice in this block (a response follows, which must be heard whole)."""
    if state.duck == "idle":
        if speech >= policy.on and playing and person and not cut:
            return replace(state, duck="ducked", quiet_since=None), [Duck(True, policy.gain_db)]
        return state, []
    if state.duck == "ducked" and cut:  # the player restores its level on a cut: the duck is spent
        return replace(state, duck="answered", quiet_since=None), []
    # ducked or answered: over once the person has been quiet for a moment
    since = (state.quiet_since if state.quiet_since is not None else t) if speech < policy.off else None
    if since is not None and t - since >= policy.hold_s - 1e-9:
        return replace(state, duck="idle", quiet_since=None), [Duck(False)] if state.duck == "ducked" else []
    return replace(state, quiet_since=since), []
