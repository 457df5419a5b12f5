"""The one thing every ear produces and the session consumes: a command heard, and when.

A recognizer emits a `Heard` as a candidate; the arbiter (hearing/arbiter.py) passes it on,
marks it as the assistant's own voice, or drops it; the session takes the same object as its
event. Keys typed at the laptop are `Heard` too, with `source="key"`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .commands import Command


@dataclass(frozen=True)
class Heard:
    t: float  # stream time (s) of the block it was heard in: the end of its audio
    command: Command
    text: str = ""
    confidence: float | None = None
    final: bool = True  # False: acted on partial audio (a safety fast path)
    source: str = "voice"  # or "key": the keyboard fallback goes through the same path
    # The assistant's own voice explains it: it played during the candidate's audio and the
    # echo canceller took away about as much as it takes from that voice alone (the arbiter).
    own_voice: bool = False
    # The assistant was speaking during its audio and the echo path could not confirm a person
    # (the arbiter): enough for most commands, not to release the stop latch.
    over_voice: bool = False
    path: str = ""  # which recognizer: "stop spotter", "keyword spotter", "grammar", "vosk", ...
    start: float | None = None  # stream time where its audio began, when the recognizer knows
