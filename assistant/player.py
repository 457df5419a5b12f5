"""The player: a queue of rendered utterances, read out one block at a time, cuttable at once.

Whoever pulls blocks (a sounddevice callback, or the file-driven loop) gets silence from the
very next block after `cut()`, so a cut takes effect within one 20 ms block plus the device's
own buffering. `duck()` lowers everything it plays from the next block on (a person is talking
over it), over a 5 ms ramp so the change does not click; a cut restores the full level, since
what follows a cut is the answer to that person.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass
class Utterance:
    text: str
    kind: str
    samples: np.ndarray  # int16 mono at the player's rate
    pos: int = 0


@dataclass(frozen=True)
class Started:
    text: str
    kind: str
    seconds: float
    offset: int  # sample offset inside the block where it starts


@dataclass(frozen=True)
class Drained:
    """The queue ran empty by playing to its end (never sent after a cut)."""


PlayerEvent = Started | Drained


RAMP_S = 0.005


class Player:
    def __init__(self, rate: int):
        self.rate = rate
        self._queue: deque[Utterance] = deque()
        self._lock = threading.Lock()
        self._gain = 1.0  # applied to the last sample read
        self._target = 1.0
        self._ramp = max(1, int(RAMP_S * rate))

    @property
    def gain_db(self) -> float:
        """The level it is heading for: 0 dB, or the duck's."""
        return float(20 * np.log10(self._target))

    def duck(self, gain_db: float) -> None:
        with self._lock:
            self._target = float(10 ** (gain_db / 20))

    def enqueue(self, text: str, kind: str, samples: np.ndarray) -> None:
        with self._lock:
            self._queue.append(Utterance(text, kind, samples))

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._queue)

    def cut(self) -> Utterance | None:
        """Drop everything; return the utterance that was playing, if one had started."""
        with self._lock:
            playing = self._queue[0] if self._queue and self._queue[0].pos > 0 else None
            self._queue.clear()
            self._gain = self._target = 1.0
            return playing

    def read(self, n: int) -> tuple[np.ndarray, list[PlayerEvent]]:
        out = np.zeros(n, dtype=np.int16)
        events: list[PlayerEvent] = []
        filled = 0
        with self._lock:
            had = bool(self._queue)
            while filled < n and self._queue:
                u = self._queue[0]
                if u.pos == 0:
                    events.append(Started(u.text, u.kind, len(u.samples) / self.rate, filled))
                take = min(n - filled, len(u.samples) - u.pos)
                out[filled:filled + take] = u.samples[u.pos:u.pos + take]
                u.pos += take
                filled += take
                if u.pos >= len(u.samples):
                    self._queue.popleft()
            if had and not self._queue:
                events.append(Drained())
            if filled and (self._gain != 1.0 or self._target != 1.0):
                out = self._apply_gain(out)
        return out, events

    def _apply_gain(self, out: np.ndarray) -> np.ndarray:
        """Scale a block, moving from the current gain to the target by 1/ramp of the way each
        sample (a ramp that does not fit in this block goes on in the next)."""
        step = (self._target - self._gain) / self._ramp
        gain = self._gain + step * np.arange(1, len(out) + 1)
        gain = np.minimum(gain, self._target) if step > 0 else np.maximum(gain, self._target)
        self._gain = float(gain[-1])
        return np.clip(np.round(out * gain), -32768, 32767).astype(np.int16)
