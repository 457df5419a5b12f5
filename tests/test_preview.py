"""`preview`: the plan an author reads, and the speech they hear, without a session."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from assistant.audio import RATE
from tests.conftest import cli


def test_the_plan_lists_questions_steps_timings_and_the_total():
    out = cli("preview", "lower-back")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("Lower back relief")
    assert "  1. Has there been surgery, an injury or any treatment on the back recently?" in text
    # every step with its pacing, length and pressure, in order
    rows = [line for line in text.splitlines() if line[:5].strip().rstrip(".").isdigit()
            and "rounds x" in line]
    assert [r.split()[0] for r in rows] == ["1.", "2.", "3.", "4.", "5."]
    assert "8 rounds x 6 s" in rows[0] and rows[0].rstrip().endswith("0:48  light")
    assert "starts at 1:28 of paced time" in text  # glide 48 s + palm circles 40 s
    assert "Paced time: 3:26." in text and "about six minutes" in text


def test_a_broken_routine_is_named_and_nothing_is_said(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfor: y\nposition: z\nsafety: s\nsteps:\n  - {id: a, title: A}\n")
    out = cli("preview", str(bad), "--say", "--speaker-file", str(tmp_path / "out.wav"))
    assert out.returncode == 2
    assert f"{bad}:6: steps[0].say: is missing" in out.stderr
    assert not (tmp_path / "out.wav").exists()


def test_say_reads_the_routine_aloud_into_a_wav(tmp_path):
    wav = tmp_path / "out.wav"
    out = cli("preview", "foam-roller", "--say", "--speaker-file", str(wav))
    assert out.returncode == 0, out.stderr
    audio, rate = sf.read(str(wav), dtype="int16")
    assert rate == RATE
    seconds = len(audio) / RATE
    assert 60 < seconds < 180, seconds  # intro, two questions, four steps: a minute or two of speech
    # speech throughout, with the half-second pauses between utterances
    frames = np.abs(audio[: len(audio) // 1600 * 1600].reshape(-1, 1600)).max(axis=1)
    assert (frames > 1000).mean() > 0.6
    assert (frames == 0).sum() >= 7
