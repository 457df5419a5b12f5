"""The echo path: what the microphone heard, less what the assistant played, and never more.

A canceller subtracts its estimate of the assistant's voice from the microphone. When the
microphone does not carry that voice (headphones, a muted or far speaker), or after its filter
has adapted to a person talking over it, the estimate is wrong and subtracting it *adds* the
assistant's voice. The guard keeps that out of the recognizers:

- over the newest 100 ms (against the input over the same blocks or one block earlier: a
  canceller's output lags its input by up to a block, AEC3's by about 8 ms), output energy above
  input energy by more than 1 dB means the canceller added something: from that block on the
  recognizers hear the raw microphone (`raw`, journalled), which then carries less of the voice;
- the canceller keeps running meanwhile, and the path cancels again (`cancel`) once it has added
  nothing for a whole second, or, where the microphone does carry the voice (a canceller
  overshooting as it converges), for one window: there the raw microphone holds all of the voice;
- a canceller that adds again after half a second of `raw`, with no voice at the microphone, has
  adapted to a person: it starts again from nothing (`reset`). It is not reset at once, nor
  where the microphone carries the voice: a reset throws away a converged filter.

Energies are compared above 150 Hz (`band_energy`).

The per-block energies (microphone, canceller output, reference) are kept for a few seconds:
they are the evidence the arbiter weighs when it asks whether a candidate is the assistant's
own voice (hearing/arbiter.py).
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..audio import BLOCK, RATE

ADDED_DB = 1.0  # output over input by more than this: the canceller added energy
# ... and by more than this much energy: digital near-silence is no voice. A voice added under
# a quiet room's noise (-60 dBFS) is a voice all the same: the stop spotter hears it
ADDED_FLOOR_DBFS = -80.0
WINDOW_BLOCKS = 5  # 100 ms: the stretch over which output and input are compared
RESET_AFTER_S = 0.5  # adding again this long into `raw`: the canceller starts again
REF_ACTIVE_DBFS = -75.0  # a reference block over this: the assistant is playing (silence is zeros)
CLEAN_S = 1.0  # seconds without an addition before the path cancels again
HISTORY_S = 8.0  # per-block evidence kept for the arbiter
CARRIES_WINDOW_BLOCKS = 100  # 2 s stretches for `carries`
CARRIES_MAX_LAG_BLOCKS = 20  # ... at delays up to 400 ms
CARRIES_CORRELATION = 0.5
BASELINE_S = 5.0  # how far back the canceller's usual removal is measured


BAND_LOW_HZ = 150.0  # energies are measured above this: see `band_energy`


@functools.lru_cache(maxsize=4)
def _band(n: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    window = np.hanning(n)
    keep = np.fft.rfftfreq(n, 1.0 / rate) >= BAND_LOW_HZ
    # Parseval, with the window's loss of energy made good: white noise keeps its energy
    scale = 2.0 / np.sum(window**2)
    return window, keep * scale


def band_energy(x: np.ndarray, rate: int = RATE) -> float:
    """The block's energy above 150 Hz. speex's canceller filters out the lowest frequencies (its
    DC notch) whatever it cancels, and a room's rumble lives there: compared across the whole
    band, its output looked 3 to 7 dB under a microphone that carried no voice at all, which
    hid the voice it added."""
    window, weight = _band(len(x), rate)
    spec = np.fft.rfft(np.asarray(x, dtype=np.float64) * window)
    return float(np.dot(weight, spec.real**2 + spec.imag**2))


def _dbfs_energy(dbfs: float, n: int = BLOCK) -> float:
    return n * (32768.0 * 10 ** (dbfs / 20)) ** 2


class Canceller(Protocol):
    name: str

    def process(self, mic: np.ndarray, played: np.ndarray) -> np.ndarray: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class EchoNews:
    """A change of the path's state, for the journal: `raw` (the canceller added energy; the
    recognizers hear the raw microphone), `reset` (it kept adding: it starts again) or `cancel`
    (it has added nothing for a second: the recognizers hear its output again)."""

    action: str
    added_db: float = 0.0


@dataclass(frozen=True)
class EchoSpan:
    """What the echo path saw over a stretch of stream time (a candidate's audio)."""

    playing: bool  # the assistant's voice went out during most of it
    removal_db: float  # how much of the microphone's energy the canceller took away
    baseline_db: float  # what it usually takes away from the voice alone (recent median)
    raw: bool  # the recognizers heard the raw microphone for part of it
    cancelling: bool  # a canceller is in the path at all
    # the microphone carries the voice (None: not known yet, under a second of it played)
    carries: bool | None = None


NO_ECHO_PATH = EchoSpan(playing=False, removal_db=0.0, baseline_db=0.0, raw=False, cancelling=False)


class EchoPath:
    """Feed (microphone, played) 20 ms block pairs; get what the recognizers should hear."""

    def __init__(self, canceller: Canceller, block: int = BLOCK, rate: int = RATE):
        self.canceller = canceller
        self.block = block
        self.rate = rate
        self._added_floor = _dbfs_energy(ADDED_FLOOR_DBFS, block)
        self._ref_floor = _dbfs_energy(REF_ACTIVE_DBFS, block)
        self._clean_blocks = int(CLEAN_S * rate / block)
        self._reset_blocks = int(RESET_AFTER_S * rate / block)
        self._baseline_blocks = int(BASELINE_S * rate / block)
        self.reset()

    @property
    def name(self) -> str:
        return self.canceller.name

    def reset(self) -> None:
        """Start again from nothing: a new filter and no evidence. Also what a realignment of
        the reference needs (the microphone came back after a gap, runner.py): the old
        evidence paired the microphone with another stretch of the reference."""
        self.canceller.reset()
        self.raw = False
        self._since_added = 0
        self._raw_blocks = 0  # blocks since the path turned raw
        self._voice_at_mic = False  # in this raw episode, the microphone carried the voice
        self._in: deque[float] = deque(maxlen=WINDOW_BLOCKS + 1)  # newest last
        self._out: deque[float] = deque(maxlen=WINDOW_BLOCKS)
        self._t = 0.0  # stream time at the end of the last block (when not given)
        self._reset_at = -float("inf")  # stream time of the canceller's last restart
        # (block end time, mic energy, canceller output energy, reference energy, raw) per block
        self._history: deque[tuple[float, float, float, float, bool]] = deque(
            maxlen=int(HISTORY_S * self.rate / self.block))

    def process(self, mic: np.ndarray, played: np.ndarray,
                t: float | None = None) -> tuple[np.ndarray, list[EchoNews]]:
        """`t`: the stream time at the block's end (default: counted from the blocks)."""
        out = self.canceller.process(mic, played)
        e_in, e_out = band_energy(mic, self.rate), band_energy(out, self.rate)
        e_ref = band_energy(played, self.rate)
        self._in.append(e_in)
        self._out.append(e_out)
        news: list[EchoNews] = []
        # the input over the same blocks, or one block earlier (the canceller's lag): the larger
        ins = list(self._in)
        sum_in = max(sum(ins[-len(self._out):]), sum(ins[:len(self._out)]))
        sum_out = sum(self._out)
        added = (sum_out > sum_in * 10 ** (ADDED_DB / 10)
                 and sum_out - sum_in > self._added_floor * len(self._out))
        self._t = t if t is not None else self._t + len(mic) / self.rate
        if self.raw:
            self._raw_blocks += 1
        if added:
            self._since_added = 0
            if not self.raw:
                self.raw, self._raw_blocks = True, 0
                self._voice_at_mic = self.carries() is True  # asked once per episode: it is not cheap
                news.append(EchoNews("raw", round(10 * np.log10(sum_out / max(sum_in, 1.0)), 1)))
            elif self._raw_blocks >= self._reset_blocks and not self._voice_at_mic:
                self.canceller.reset()  # a filter adapted to a person starts again
                self._raw_blocks = 0
                self._reset_at = self._t  # this block was still the old filter's
                news.append(EchoNews("reset"))
        else:
            self._since_added += 1
            clean = WINDOW_BLOCKS if self._voice_at_mic else self._clean_blocks
            if self.raw and self._since_added >= clean:
                self.raw = False
                news.append(EchoNews("cancel"))
        self._history.append((self._t, e_in, e_out, e_ref, self.raw))
        return (np.ascontiguousarray(mic, dtype=np.int16) if self.raw else out), news

    def _floor(self) -> float:
        """The room's own noise per block: the 10th percentile of the canceller's output energy
        (it removes the voice, never the room)."""
        return float(np.percentile([r[2] for r in self._history], 10)) if self._history else 0.0

    @staticmethod
    def _removal_db(e_in: float, e_out: float, noise: float) -> float:
        """How much of the energy above the room's noise the canceller took away: with the voice
        faint at the microphone the noise, which no canceller removes, would hide that the voice
        itself was taken away."""
        eps = 0.1 * noise + 1.0
        return float(10 * np.log10((max(e_in - noise, 0.0) + eps) / (max(e_out - noise, 0.0) + eps)))

    def span(self, start: float, end: float) -> EchoSpan:
        """The evidence over the blocks that ended in stream time (start, end]."""
        rows = [r for r in self._history if start < r[0] <= end + 1e-9]
        floor = self._floor()
        baseline = self._baseline_db(floor)
        carries = self.carries()
        if not rows:
            return EchoSpan(False, 0.0, baseline, False, True, carries)
        e_in = sum(r[1] for r in rows)
        e_out = sum(r[2] for r in rows)
        playing = sum(r[3] >= self._ref_floor for r in rows) * 2 > len(rows)
        return EchoSpan(playing=playing, removal_db=self._removal_db(e_in, e_out, floor * len(rows)),
                        baseline_db=baseline, raw=any(r[4] for r in rows), cancelling=True,
                        carries=carries)

    def carries(self) -> bool | None:
        """Does the microphone carry the assistant's voice? Its loudness follows the voice's when
        it does, whether or not the canceller has converged, and a person's does not: the
        correlation of the two loudness curves (dB per block) over 2 s stretches of the last 8 s,
        at the best delay up to 400 ms; the 75th percentile of the stretches at 0.5 or more says
        yes (with no echo at all it stayed under 0.3, with the echo 10 to 30 dB down and nobody
        talking it was 0.8 to 0.9). Not known before a second of the voice has been played."""
        rows = list(self._history)
        if sum(r[3] >= self._ref_floor for r in rows) < self._clean_blocks:
            return None
        mic = 10 * np.log10(np.array([r[1] for r in rows]) + 1e3)
        ref = 10 * np.log10(np.array([r[3] for r in rows]) + 1e3)
        n, lags = CARRIES_WINDOW_BLOCKS, CARRIES_MAX_LAG_BLOCKS
        best = []
        for end in range(len(rows), n + lags - 1, -n // 2):
            r = ref[end - n - lags:end - lags] if end - n - lags >= 0 else None
            if r is None or np.std(r) < 1e-6:
                continue
            start = end - n - lags
            scores = [np.corrcoef(r, mic[start + lag:start + lag + n])[0, 1] for lag in range(lags + 1)]
            best.append(max(np.nan_to_num(scores, nan=0.0)))
        if not best:
            return None
        return bool(np.percentile(best, 75) >= CARRIES_CORRELATION)

    def baseline_db(self) -> float:
        return self._baseline_db(self._floor())

    def _baseline_db(self, floor: float) -> float:
        """The canceller's usual removal while the assistant plays: the median over the blocks
        of the last few seconds that carried its voice (a person talking over a few of them
        does not move a median), since the canceller last started again: a restarted filter
        removes little at first, and against the old filter's figure its residue looked like
        a person (who was then ducked for, and whose "continue" was the assistant's own)."""
        recent = list(self._history)[-self._baseline_blocks:]
        removal = [self._removal_db(e_in, e_out, floor) for t, e_in, e_out, e_ref, _ in recent
                   if e_ref >= self._ref_floor and t > self._reset_at]
        return float(np.median(removal)) if removal else 0.0
