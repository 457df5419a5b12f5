"""The real recordings in ../shared/speech, and their fixed split.

Every figure the benchmarks report is on the "held-out" half (or on test-only folders); training
and threshold choices may use the "tune" half only. The split is by speaker, so that no voice a
model learnt from is ever the voice it is judged on. `MASSAGE_SHARED` points elsewhere than
../shared.
"""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[2]
SPEECH = Path(os.environ.get("MASSAGE_SHARED", ROOT.parent / "shared")) / "speech"
# renders kept between runs, in the user's cache folder (XDG_CACHE_HOME on Linux)
CACHE = Path(platformdirs.user_cache_dir("massage-assistant")) / "bench"
RATE = 16000

SC2 = "speech_commands_v0.02_test"
SC1 = "speech_commands_v0.01_vinsis"
FELIX = "felixchenfy_ros_speech_commands"
DIGITS = "free_spoken_digit_dataset"
SHORT_WORDS = ("go", "no", "yes", "up", "down", "left", "right", "on", "off")
READ_SPEECH = ("librispeech_excerpt_resemblyzer", "librispeech_excerpt_librosa_data",
               "voxforge_en_excerpt", "misc_single_clips")


@dataclass(frozen=True)
class Clip:
    """One recording or synthetic render, and what it says."""

    key: str  # stable id: "<folder>/<path>" or "synth/<voice>/<rate>/<phrase>"
    path: Path
    text: str  # transcript (real) or phrase (synthetic)
    speaker: str
    source: str  # folder name, or "synthetic"
    split: str  # "tune", "held-out", "all" or "synthetic"


def stop_split(source: str, speaker: str) -> str:
    """The fixed split of the real "stop" clips, by speaker.

    Speech Commands v0.02 speakers are 8-hex-digit hashes: first digit 0-7 = "tune", 8-f =
    "held-out". felixchenfy's single speaker and the v0.01 clips (8 of its 10 speakers are not
    in v0.02 at all) are held out whole, so no threshold is ever tuned on them.
    """
    if source == SC2:
        return "tune" if speaker[:1].lower() in "01234567" else "held-out"
    return "held-out"


def _labels(folder: str, speech: Path = SPEECH) -> list[tuple[Path, str, str]]:
    labels = speech / folder / "labels.csv"
    if not labels.exists():
        raise FileNotFoundError(f"{labels}: the shared speech recordings are missing")
    with labels.open(newline="", encoding="utf-8") as f:
        return [(speech / folder / r["path"], r["transcript"], r["speaker"]) for r in csv.DictReader(f)]


def stop_clips(split: str = "held-out", speech: Path = SPEECH) -> list[Clip]:
    """Every real "stop" clip in `split` ("tune", "held-out" or "all")."""
    out = []
    for folder in (SC2, SC1, FELIX):
        for path, text, speaker in _labels(folder, speech):
            s = stop_split(folder, speaker)
            if text == "stop" and split in ("all", s):
                out.append(Clip(f"{folder}/{path.name}", path, text, speaker, folder, s))
    return out


DIGIT_TUNE_SPEAKERS = ("george", "lucas", "theo")  # the other three digit speakers are held out


def short_word_split(source: str, speaker: str) -> str:
    """The fixed split of the real short words, by speaker, so a head can learn from real words
    that are not "stop" and still be scored on speakers it never heard.

    Not the stop rule: the copied selection holds the first 60 clips of each word in sorted
    speaker-hash order, so a first digit of 8-f would hold out almost none. Speech Commands
    speakers whose hash ENDS in 0-7 are "tune", 8-f "held-out"; the six digit speakers alternate
    in sorted order (george, lucas, theo tune). A speaker may so be "tune" here and "held-out"
    for "stop" or the other way round; both ways that works against the figures: a held-out
    stop's speaker taught as a negative is harder to hear, a tune stop speaker's words easier to
    mistake.
    """
    if source == SC2:
        return "tune" if speaker[-1:].lower() in "01234567" else "held-out"
    return "tune" if speaker in DIGIT_TUNE_SPEAKERS else "held-out"


def short_word_clips(split: str = "held-out", speech: Path = SPEECH) -> list[Clip]:
    """Real short non-command words in `split` ("tune", "held-out" or "all"): go/no/yes/...,
    Speech Commands' auxiliary words, spoken digits."""
    out = []
    for path, text, speaker in _labels(SC2, speech):
        s = short_word_split(SC2, speaker)
        if (text in SHORT_WORDS or path.parent.name == "_unknown_") and split in ("all", s):
            out.append(Clip(f"{SC2}/{path.parent.name}/{path.name}", path, text, speaker, SC2, s))
    for path, text, speaker in _labels(DIGITS, speech):  # 8 kHz: streamed at 8 kHz, the CLI resamples
        s = short_word_split(DIGITS, speaker)
        if split in ("all", s):
            out.append(Clip(f"{DIGITS}/{path.name}", path, text, speaker, DIGITS, s))
    return out


def read_speech_clips(speech: Path = SPEECH) -> list[Clip]:
    """Continuous read speech (no commands in it), all held out."""
    return [Clip(f"{folder}/{path.name}", path, text, speaker, folder, "held-out")
            for folder in READ_SPEECH for path, text, speaker in _labels(folder, speech)]


S2P = "ohf_speech_to_phrase_en"
S2P_COMMANDS = {"next": "next", "pause": "pause", "resume": "continue"}  # file stem -> command


def s2p_clips(speech: Path = SPEECH) -> tuple[list[Clip], list[Clip]]:
    """Speech-to-phrase's real recordings (test only): its speaker's next, pause and resume, with
    the command each should be heard as in `text`; and its 32 command-like sentences that are not
    this assistant's commands."""
    commands, sentences = [], []
    for path, text, speaker in _labels(S2P, speech):
        if path.stem in S2P_COMMANDS:
            command = S2P_COMMANDS[path.stem]
            commands.append(Clip(f"{S2P}/{path.name}", path, command, speaker, S2P, "held-out"))
        else:
            sentences.append(Clip(f"{S2P}/{path.name}", path, text, speaker, S2P, "held-out"))
    return commands, sentences


def back_clips(speech: Path = SPEECH) -> list[Clip]:
    """felixchenfy's real "back" clips: the only real recordings of a navigation command."""
    return [Clip(f"{FELIX}/{path.name}", path, text, speaker, FELIX, "held-out")
            for path, text, speaker in _labels(FELIX, speech) if text == "back"]


def load(path: Path, rate: int = RATE) -> np.ndarray:
    """A file as float32 mono at `rate` (stimulus preparation only; the CLI reads its own input)."""
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = data.mean(axis=1)
    return x if sr == rate else soxr.resample(x, sr, rate, quality="HQ").astype(np.float32)


@functools.lru_cache(maxsize=4096)
def load_cached(path: Path, rate: int = RATE) -> np.ndarray:
    """`load` once per file: each synthetic clip goes into several conditions' streams."""
    x = load(path, rate)
    x.flags.writeable = False
    return x

