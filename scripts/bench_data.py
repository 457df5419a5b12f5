"""Data for the hearing benchmark (scripts/bench.py): the real clips and their split, synthetic
commands, noise and echo, and microphone streams built from clips.

The clips, their split, the benchmark's synthetic voices and the augmentation are the training
package's (assistant/training: corpus, synth, augment), so that the benchmark and training read
one definition of what is held out; this module adds the conditions and the streams.
Nothing here runs the recognizer: bench.py feeds the streams built here to the real CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from assistant.training.augment import (
    active_level_db,
    at_level,
    frame_db,
    pink_noise,
    reverberate,
    room_ir,
    rumble_noise,
    speech_bounds,
    white_noise,
)
from assistant.training.corpus import (
    CACHE,
    DIGIT_TUNE_SPEAKERS,
    DIGITS,
    FELIX,
    RATE,
    READ_SPEECH,
    ROOT,
    S2P,
    S2P_COMMANDS,
    SC1,
    SC2,
    SHORT_WORDS,
    SPEECH,
    Clip,
    back_clips,
    load,
    load_cached,
    read_speech_clips,
    s2p_clips,
    short_word_clips,
    short_word_split,
    stop_clips,
    stop_split,
)
from assistant.training.synth import (
    ESPEAK_VOICES,
    FESTIVAL_VOICES,
    RATES,
    synth_path,
    synth_tools_missing,
    synthesize,
)

__all__ = [
    "CACHE",
    "DIGITS",
    "DIGIT_TUNE_SPEAKERS",
    "ESPEAK_VOICES",
    "FELIX",
    "FESTIVAL_VOICES",
    "RATE",
    "RATES",
    "READ_SPEECH",
    "ROOT",
    "S2P",
    "S2P_COMMANDS",
    "SC1",
    "SC2",
    "SHORT_WORDS",
    "SPEECH",
    "Clip",
    "Condition",
    "Placed",
    "active_level_db",
    "at_level",
    "back_clips",
    "build_stream",
    "frame_db",
    "load",
    "load_cached",
    "pink_noise",
    "read_speech_clips",
    "reverberate",
    "room_ir",
    "rumble_noise",
    "s2p_clips",
    "short_word_clips",
    "short_word_split",
    "speech_bounds",
    "stop_clips",
    "stop_split",
    "synth_path",
    "synth_tools_missing",
    "synthesize",
    "white_noise",
    "write_stream",
]

@dataclass(frozen=True)
class Condition:
    """How synthetic clips are degraded before they reach the microphone stream."""

    name: str  # e.g. "pink 10 dB"
    group: str  # the row it is reported in: "clean", "20 dB", "10 dB", "5 dB", "echo"
    noise: str | None = None  # "white" | "pink"
    snr_db: float | None = None
    echo: bool = False


SPEECH_LEVEL_DBFS = -26.0  # active speech level of every synthetic clip; noise is set from it

# Conditions sharing a group share its clips: half of them get white noise, half pink, so each
# row still covers every phrase, voice and rate once without doubling the run time.
FULL_CONDITIONS = (
    Condition("clean", "clean"),
    Condition("white 20 dB", "20 dB", "white", 20.0),
    Condition("pink 20 dB", "20 dB", "pink", 20.0),
    Condition("white 10 dB", "10 dB", "white", 10.0),
    Condition("pink 10 dB", "10 dB", "pink", 10.0),
    Condition("white 5 dB", "5 dB", "white", 5.0),
    Condition("pink 5 dB", "5 dB", "pink", 5.0),
    Condition("echo 0.3 s + pink 20 dB", "echo", "pink", 20.0, echo=True),
)
QUICK_CONDITIONS = (FULL_CONDITIONS[3], FULL_CONDITIONS[4])


# ---- microphone streams -----------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """Where one clip sits in a stream, in seconds of stream time."""

    clip: Clip
    start: float
    end: float  # end of the clip
    word_end: float  # end of its speech (energy threshold)
    next_start: float  # start of the following clip (or the stream's end)


ROOM_NOISE_DBFS = -55.0  # a quiet room: always under everything


def build_stream(clips: list[Clip], rate: int = RATE, gap: float = 1.5, lead: float = 1.0,
                 condition: Condition | None = None, seed: int = 0) -> tuple[np.ndarray, list[Placed]]:
    """Clips one after another with `gap` s of quiet room noise between; float32 at `rate`.

    A synthetic `condition` sets each clip to SPEECH_LEVEL_DBFS (after any echo) and lays
    continuous noise SNR dB under that level across the whole stream.
    """
    rng = np.random.default_rng(seed)
    audio = []
    for c in clips:
        x = load_cached(c.path, rate) if c.source == "synthetic" else load(c.path, rate)
        if condition is not None:
            if condition.echo:
                x = reverberate(x, rate, rng)
            x = at_level(x, rate, SPEECH_LEVEL_DBFS)
        fade = min(len(x) // 4, int(0.005 * rate))  # no clicks at clip edges
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            x = x.copy()
            x[:fade] *= ramp
            x[-fade:] *= ramp[::-1]
        audio.append(x)
    total = int(lead * rate) + sum(len(x) + int(gap * rate) for x in audio)
    out = pink_noise(total, rng) * np.float32(10 ** (ROOM_NOISE_DBFS / 20))
    if condition is not None and condition.noise:
        noise = white_noise(total, rng) if condition.noise == "white" else pink_noise(total, rng)
        out += noise * np.float32(10 ** ((SPEECH_LEVEL_DBFS - (condition.snr_db or 0.0)) / 20))
    placed = []
    i = int(lead * rate)
    for c, x in zip(clips, audio, strict=True):
        out[i:i + len(x)] += x
        _, word_end = speech_bounds(x, rate)
        nxt = i + len(x) + int(gap * rate)
        placed.append(Placed(c, i / rate, (i + len(x)) / rate, i / rate + word_end, nxt / rate))
        i = nxt
    return np.clip(out, -1.0, 1.0), placed


def write_stream(path: Path, audio: np.ndarray, rate: int) -> None:
    """WAV, FLAC or OGG by suffix: the CLI's own reader has to handle each."""
    fmt = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}[path.suffix]
    sf.write(str(path), audio, rate, format=fmt[0], subtype=fmt[1])
