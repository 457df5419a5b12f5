"""Data for the hearing benchmark (scripts/bench.py): the real clips and their split, synthetic
commands, noise and echo, and microphone streams built from clips.

Nothing here runs the recognizer: bench.py feeds the streams built here to the real CLI.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
SPEECH = Path(os.environ.get("MASSAGE_SHARED", ROOT.parent / "shared")) / "speech"
# renders kept between runs, in the user's cache folder (XDG_CACHE_HOME on Linux)
CACHE = Path(platformdirs.user_cache_dir("massage-assistant")) / "bench"
RATE = 16000

# ---- the real recordings and their split -------------------------------------------------------

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


# ---- audio ------------------------------------------------------------------------------------


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


def frame_db(x: np.ndarray, rate: int, frame_s: float = 0.01) -> np.ndarray:
    n = max(1, int(rate * frame_s))
    frames = x[: len(x) // n * n].reshape(-1, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def speech_bounds(x: np.ndarray, rate: int) -> tuple[float, float]:
    """(start, end) of the speech in a clip, seconds, by an energy threshold on 10 ms frames.

    The threshold is 30 dB under the loudest frame (low enough to keep a final /p/ burst) but
    never less than 8 dB over the clip's own noise floor (so the background is not "speech").
    """
    db = frame_db(x, rate)
    if len(db) == 0:
        return 0.0, 0.0
    floor = float(np.percentile(db, 10))
    thr = max(float(db.max()) - 30.0, floor + 8.0)
    loud = np.flatnonzero(db > thr)
    if len(loud) == 0:
        return 0.0, len(x) / rate
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def active_level_db(x: np.ndarray, rate: int) -> float:
    """RMS level of the speech frames only (dBFS), so SNR does not depend on leading silence."""
    db = frame_db(x, rate)
    active = db[db > db.max() - 30.0]
    return float(10 * np.log10(np.mean(10 ** (active / 10)))) if len(active) else -120.0


def at_level(x: np.ndarray, rate: int, dbfs: float) -> np.ndarray:
    return (x * 10 ** ((dbfs - active_level_db(x, rate)) / 20)).astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def rumble_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """A fan, traffic or an old amplifier, of unit RMS: brown noise with its slow drift removed,
    mains hum (50 or 60 Hz and a few harmonics) and a little hiss, in random proportions."""
    brown = np.cumsum(rng.standard_normal(n))
    width = int(rng.integers(400, 3200))  # the drift removed: a high-pass at about 5-40 Hz
    brown -= np.convolve(brown, np.ones(width) / width, "same")
    t = np.arange(n) / RATE
    mains = float(rng.choice([50.0, 60.0]))
    hum = sum(rng.uniform(0, 1) / h * np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 2 * np.pi))
              for h in range(1, int(rng.integers(2, 5))))
    parts = [brown / (np.std(brown) + 1e-12), hum / (np.std(hum) + 1e-12), rng.standard_normal(n)]
    x = sum(w * q for w, q in zip(rng.dirichlet([1.0, 1.0, 0.5]), parts, strict=True))
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise of unit RMS, shaped in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def room_ir(rate: int, rng: np.random.Generator, rt60: float = 0.3) -> np.ndarray:
    """A simple room: the direct path, then exponentially decaying noise (-60 dB at `rt60`)."""
    n = int(rt60 * 1.2 * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.908 * t / rt60)
    tail[: int(0.003 * rate)] = 0.0  # first reflections arrive a few ms after the direct sound
    tail *= 0.9 / np.sqrt(np.sum(tail**2))  # reverberant energy a little under the direct path's
    tail[0] = 1.0
    return tail.astype(np.float32)


def reverberate(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """x convolved with a fresh room_ir, by FFT (np.convolve takes seconds per clip)."""
    ir = room_ir(rate, rng)
    n = len(x) + len(ir) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[:n].astype(np.float32)


# ---- synthetic commands -----------------------------------------------------------------------

FESTIVAL_VOICES = ("voice_cmu_us_slt_arctic_hts", "voice_kal_diphone", "voice_ked_diphone")
ESPEAK_VOICES = ("en-us", "en+m3", "en+f3")
RATES = ("normal", "fast")
_ESPEAK_WPM = {"normal": 165, "fast": 215}
_FESTIVAL_STRETCH = {"normal": 1.0, "fast": 0.8}  # diphone voices: duration multiplier
_HTS_SPEED = {"normal": 1.0, "fast": 1.25}  # the HTS voice ignores Duration_Stretch; -r is its speed


def synth_tools_missing() -> list[str]:
    return [t for t in ("text2wave", "espeak-ng") if shutil.which(t) is None]


def synth_path(text: str, voice: str, rate: str, cache: Path) -> Path:
    digest = hashlib.sha1(f"{voice}|{rate}|{text}".encode()).hexdigest()[:16]
    return cache / "synth" / f"{voice.replace('+', '_')}-{rate}-{digest}.wav"


def synthesize(text: str, voice: str, rate: str, cache: Path) -> Path:
    """Speak `text` with a festival voice (voice_*) or an espeak-ng voice; cached as a WAV."""
    out = synth_path(text, voice, rate, cache)
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.{hashlib.sha1(os.urandom(8)).hexdigest()[:6]}.tmp")
    if voice.startswith("voice_"):
        if voice.endswith("_hts"):
            r = _HTS_SPEED[rate]
            speed = f'(set! hts_engine_params (append hts_engine_params (list (list "-r" {r}))))'
        else:
            speed = f"(Parameter.set 'Duration_Stretch {_FESTIVAL_STRETCH[rate]})"
        cmd = ["text2wave", "-eval", f"({voice})", "-eval", speed, "-otype", "riff", "-o", str(tmp)]
        subprocess.run(cmd, input=text.encode(), check=True, capture_output=True, timeout=120)
    else:
        cmd = ["espeak-ng", "-v", voice, "-s", str(_ESPEAK_WPM[rate]), "-w", str(tmp), text]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    tmp.rename(out)  # atomic: parallel workers never see half a file
    return out


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
