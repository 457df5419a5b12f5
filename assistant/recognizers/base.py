"""The recognizer protocol: 16 kHz int16 frames in, heard commands out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..commands import Command


class RecognizerError(RuntimeError):
    pass


@dataclass(frozen=True)
class Heard:
    command: Command
    text: str
    confidence: float | None = None
    final: bool = True  # False: acted on a partial result (the safety fast path)


class Recognizer(Protocol):
    name: str

    def feed(self, frame: np.ndarray) -> list[Heard]:
        """Take one block of 16 kHz mono int16 audio; return commands recognised so far."""
        ...

    def reset(self) -> None:
        """Forget any utterance in progress."""
        ...
