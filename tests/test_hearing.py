"""Hearing, on real audio through `listen`: what must be heard, and what must not.

Out-of-vocabulary speech and background noise must produce no command at all (speech-to-
phrase's lesson: test what must not be recognised). Rates are the benchmark's business; these
are fixed clips that the default engine must get right.
"""

from __future__ import annotations

from tests.conftest import TUNE_STOP, cli, festival, real_clip, rumble, save, timeline

SENTENCES = [  # massage talk, like the assistant's own instructions, with no command in it
    "Rest both palms flat on the lower back and glide them slowly up towards the shoulders.",
    "Keep your fingers soft and let the heel of the hand do the work.",
    "The muscles beside the spine often hold tension after a long day at a desk.",
]


def listen(wav, engine: str = "embedded") -> list[list[str]]:
    out = cli("listen", "--mic-file", str(wav), "--engine", engine)
    assert out.returncode == 0, out.stderr
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


def test_background_noise_gives_no_command(tmp_path):
    wav = save(tmp_path / "noise.wav", rumble(60.0))
    assert listen(wav) == []


def test_out_of_vocabulary_speech_gives_no_command(tmp_path):
    placed, t = [], 1.0
    for voice in ("voice_kal_diphone", "voice_cmu_us_slt_arctic_hts"):
        for text in SENTENCES:
            clip = festival(text, voice)
            placed.append((t, clip))
            t += len(clip) / 16000 + 1.0
    wav = save(tmp_path / "talk.wav", timeline(t + 1.0, placed, noise_db=-60))
    assert listen(wav) == []


def test_a_real_stop_is_heard_at_once_on_the_partial_result(tmp_path):
    stop = real_clip(TUNE_STOP)
    wav = save(tmp_path / "stop.wav", timeline(6.0, [(2.0, stop)], noise_db=-60))
    [line] = listen(wav)
    t, command = float(line[0]), line[1]
    assert command == "stop" and "(partial)" in " ".join(line)
    assert 2.0 < t < 2.0 + len(stop) / 16000 + 0.5
