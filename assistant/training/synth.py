"""Renders of text by many synthetic voices, cached by recipe.

Training renders (`render`) name their engine in one string: espeak-ng "voice|speed|pitch",
festival "kal" or "kal|1.2" (diphone voice and duration stretch), flite "flite:awb|1.2|140"
(voice, duration stretch, mean F0 in Hz), Kokoro "kokoro:af_heart|0.9" or a mix of voices
"kokoro:af_heart+bm_george|1.1" (the mean of their style vectors: a speaker none of them is;
the second field is kokoro-onnx's speed). A recipe is the same on every machine, so the
training-data list names renders by recipe, and a file's name is a hash of it.

The benchmark's synthetic commands (`synthesize`) come from voices and rates no training config
may use: festival slt (HTS), kal and ked at durations 1.0 and 0.8, espeak-ng en-us, en+m3 and
en+f3 at 165 and 215 wpm.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import numpy as np

FESTIVAL_DIPHONES = ("kal", "ked")


def render_path(text: str, engine: str, cache: Path) -> Path:
    """Where `render` keeps (or will keep) this recipe's WAV."""
    return cache / f"{hashlib.sha1(f'{engine}|{text}'.encode()).hexdigest()[:16]}.wav"


def render(text: str, engine: str, cache: Path) -> Path:
    """The WAV of `text` said by `engine` (see the module's docstring), rendered once."""
    out = render_path(text, engine, cache)
    if out.exists():
        return out
    # a name of its own per call: two threads may render the same text and engine at once
    tmp = out.with_suffix(f".{uuid.uuid4().hex[:8]}.tmp.wav")
    if engine.split("|")[0] in FESTIVAL_DIPHONES:
        voice, _, stretch = engine.partition("|")
        cmd = ["text2wave", "-eval", f"(voice_{voice}_diphone)", "-otype", "riff", "-o", str(tmp)]
        if stretch:
            cmd[3:3] = ["-eval", f"(Parameter.set 'Duration_Stretch {stretch})"]
        subprocess.run(cmd, input=text.encode(), check=True, capture_output=True, timeout=120)
    elif engine.startswith("kokoro:"):
        from ..audio import write_wav

        voices, speed = engine.removeprefix("kokoro:").split("|")
        write_wav(tmp, kokoro_render(text, tuple(voices.split("+")), float(speed)), KOKORO_RATE)
    elif engine.startswith("flite:"):
        voice, stretch, f0 = engine.removeprefix("flite:").split("|")
        cmd = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}",
               "--setf", f"int_f0_target_mean={f0}", "-t", text, "-o", str(tmp)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    else:
        voice, speed, pitch = engine.split("|")
        cmd = ["espeak-ng", "-v", voice, "-s", speed, "-p", pitch, "-w", str(tmp), text]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    tmp.rename(out)
    return out


KOKORO_RATE = 24000
_kokoro: dict[str, object] = {}
_kokoro_lock = threading.Lock()


def kokoro_render(text: str, voices: tuple[str, ...], speed: float) -> np.ndarray:
    """`text` said by the mean of these Kokoro voices (the pinned model in models/kokoro-82m),
    float32 at KOKORO_RATE. One model per process, one render at a time (it uses both cores)."""
    from .. import kokoro_voice as kv

    with _kokoro_lock:
        if "renderer" not in _kokoro:
            _kokoro["renderer"] = kv.KokoroRenderer(threads=2)
        renderer = _kokoro["renderer"]
        style = np.mean([renderer.voices[v] for v in voices], axis=0).astype(np.float32)  # type: ignore[attr-defined]
        lang = kv.VOICES[voices[0]].lang
        audio, rate = renderer._kokoro.create(text, voice=style, speed=speed, lang=lang)  # type: ignore[attr-defined]
    assert rate == KOKORO_RATE
    return np.asarray(audio, dtype=np.float32)


def kokoro_engines(rng: np.random.Generator, n: int, voices: tuple[str, ...], mix_share: float,
                   speeds: tuple[float, ...]) -> list[str]:
    """`n` Kokoro recipes: one of `voices`, or (a `mix_share` of them) the mix of two, at a speed."""
    out = []
    for _ in range(n):
        k = 2 if rng.random() < mix_share else 1
        pick = sorted(str(v) for v in rng.choice(voices, size=k, replace=False))
        out.append(f"kokoro:{'+'.join(pick)}|{rng.choice(speeds)}")
    return out


def espeak_engines(rng: np.random.Generator, n: int, bases: tuple[str, ...], variants: tuple[str, ...],
                   speeds: tuple[int, ...], pitches: tuple[int, ...]) -> list[str]:
    """`n` espeak-ng recipes: a base voice with a variant, a speed and a pitch, drawn from `rng`."""
    combos = list(itertools.product(bases, variants))
    pick = rng.choice(len(combos), size=n, replace=n > len(combos))
    return [f"{combos[i][0]}{combos[i][1]}|{rng.choice(speeds)}|{rng.choice(pitches)}" for i in pick]


def flite_engine(rng: np.random.Generator, voice: str, stretches: tuple[str, ...],
                 f0s: tuple[int, ...]) -> str:
    return f"flite:{voice}|{rng.choice(stretches)}|{rng.choice(f0s)}"


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


