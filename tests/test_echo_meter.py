"""The echo meter tells the assistant's echo from a person talking over it (real speex canceller)."""

from __future__ import annotations

import numpy as np

from assistant.audio import BLOCK
from assistant.echo import EchoCanceller, EchoMeter, RoomEcho
from tests.conftest import TUNE_STOP, real_clip


def speech_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A stand-in for the voice: noise with a syllable-rate envelope, about -21 dBFS."""
    n = int(seconds * 16000)
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * np.arange(n) / 16000) ** 2
    return np.clip(rng.normal(0, 3000, n) * env, -32768, 32767).astype(np.int16)


def meter_over(played: np.ndarray, talker: np.ndarray | None, talker_at: float) -> list[bool]:
    rng = np.random.default_rng(1)
    room, aec, meter = RoomEcho(30, -12), EchoCanceller(), EchoMeter()
    near = np.zeros(len(played), np.float64)
    if talker is not None:
        i = int(talker_at * 16000)
        near[i:i + len(talker)] += talker[: len(near) - i]
    verdicts = []
    for i in range(0, len(played) - BLOCK + 1, BLOCK):
        mic = np.clip(near[i:i + BLOCK] + rng.normal(0, 58, BLOCK), -32768, 32767).astype(np.int16)
        mic = room.add(mic, played[i:i + BLOCK])
        meter.update(mic, aec.process(mic, played[i:i + BLOCK]))
        verdicts.append(meter.own_voice())
    return verdicts


def test_the_converged_echo_alone_is_the_assistants_own_voice():
    verdicts = meter_over(speech_like(12.0, np.random.default_rng(0)), None, 0.0)
    assert all(verdicts[5 * 50:])  # from 5 s on: the canceller has converged


def test_a_person_speaking_over_the_voice_is_not_the_echo():
    stop = real_clip(TUNE_STOP)
    verdicts = meter_over(speech_like(12.0, np.random.default_rng(0)), stop, 8.0)
    # The word runs from about 0.65 s to 0.9 s into the clip; from its first 100 ms to 0.6 s
    # after its end (where a spotter fires), the microphone is never taken for the echo.
    assert not any(verdicts[int(8.75 * 50):int(9.5 * 50)])
    assert all(verdicts[int(7.0 * 50):int(8.5 * 50)])


def test_silence_is_never_the_echo():
    verdicts = meter_over(np.zeros(16000 * 3, np.int16), real_clip(TUNE_STOP), 1.0)
    assert not any(verdicts)
