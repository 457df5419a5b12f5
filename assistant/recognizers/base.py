"""The recognizer protocol: a hearing Block in, time-stamped candidates (`Heard`) out.

A recognizer holds no policy: what to obey, what is the assistant's own voice and what is the
tail of a stop is the arbiter's business (hearing/arbiter.py). `safety` recognizers hear each
block on the stop path, before anything else the block does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..heard import Heard

if TYPE_CHECKING:
    from ..hearing.frontend import Block


class RecognizerError(RuntimeError):
    pass


class Recognizer(Protocol):
    name: str
    safety: bool

    def feed(self, block: Block) -> list[Heard]:
        """Take one block; return the commands recognised in it, stamped with `block.t`."""
        ...

    def reset(self) -> None:
        """Forget any utterance in progress."""
        ...


__all__ = ["Heard", "Recognizer", "RecognizerError"]
