"""The streaming "stop" spotter (openWakeWord embedding + the shipped head): stream = clip, one fire
per spoken stop, none on noise or an ordinary sentence, any block size, reset."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import RATE, read_audio
from assistant.recognizers import stop_spotter as ss
from assistant.recognizers.stop_spotter import StopSpotter
from tests.conftest import TUNE_STOP, real_clip, rumble

BLOCK = 320  # the app's 20 ms blocks


def noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    """Pink (1/f) noise at `dbfs` RMS, as float samples on the int16 scale."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spec = np.fft.rfft(rng.standard_normal(n))
    spec /= np.sqrt(np.maximum(np.arange(len(spec)), 1.0))
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x**2)) * 32768 * 10 ** (dbfs / 20)


def stream(*parts: np.ndarray) -> np.ndarray:
    return np.clip(np.concatenate([p.astype(np.float64) for p in parts]), -32768, 32767).astype(np.int16)


def run(spotter: StopSpotter, audio: np.ndarray, blocks: list[int] | None = None) -> list[tuple[float, int]]:
    """Feed `audio` in `blocks` sizes (cycled; default 20 ms); every window's (score, end sample)."""
    sizes = blocks or [BLOCK]
    scores, i, j = [], 0, 0
    while i < len(audio):
        n = sizes[j % len(sizes)]
        scores += spotter.scores(audio[i:i + n])
        i, j = i + n, j + 1
    return scores


def detections(spotter: StopSpotter, audio: np.ndarray,
               blocks: list[int] | None = None) -> list[ss.Detection]:
    sizes = blocks or [BLOCK]
    out, i, j = [], 0, 0
    while i < len(audio):
        out += spotter.feed(audio[i:i + sizes[j % len(sizes)]])
        i, j = i + sizes[j % len(sizes)], j + 1
    return out


@pytest.fixture(scope="module")
def word() -> np.ndarray:
    return real_clip(TUNE_STOP)


@pytest.fixture(scope="module")
def quiet() -> np.ndarray:
    return noise(2.0, -60.0)


def test_shipped_head_loads():
    head = ss.load_head()
    assert 0.0 < head.threshold < 1.0
    assert head.k >= 1 and head.w0.shape[0] == head.k * ss.EMB_DIM
    assert head.meta["trained_by"] == "python -m assistant.training configs/stop_head.yaml"
    assert StopSpotter().threshold == head.threshold
    assert StopSpotter(threshold=0.9).threshold == 0.9


def test_stream_equals_clip_level(word, quiet):
    audio = stream(quiet, word, quiet)
    got = run(StopSpotter(), audio)
    want = ss.clip_scores(audio)
    assert len(got) == len(want) > 0
    np.testing.assert_allclose([s for s, _ in got], want, atol=1e-4)
    k = ss.load_head().k
    assert [e for _, e in got] == [int(ss.emb_end_sample(w + k - 1)) for w in range(len(want))]


def test_each_window_is_scored_in_the_block_that_completes_its_audio(word, quiet):
    """No audio is waited for beyond a window's own: a stop is heard as soon as its audio is in."""
    spotter, fed, lags = StopSpotter(), 0, []  # lag: samples fed beyond a scored window's end
    audio = stream(quiet, word, quiet)
    for i in range(0, len(audio), BLOCK):
        fed += len(audio[i:i + BLOCK])
        lags += [fed - e for _, e in spotter.scores(audio[i:i + BLOCK])]
    assert len(lags) > 20
    assert all(0 <= lag < BLOCK for lag in lags), sorted(set(lags))


def test_stop_in_a_stream_fires_once_near_the_word(word, quiet):
    lead = 3.0
    audio = stream(noise(lead, -60.0, 1), word, noise(4.0, -60.0, 2))
    dets = detections(StopSpotter(), audio)
    assert len(dets) == 1, dets
    # the clip is 1 s long; the word is in it, the fire comes after the word and within ~1 s of it
    assert lead + 0.2 < dets[0].at_s < lead + len(word) / RATE + 1.0
    assert dets[0].score >= StopSpotter().threshold


def test_two_stops_fire_twice_but_one_word_once(word, quiet):
    audio = stream(quiet, word, noise(1.5, -60.0, 3), word, quiet)
    assert len(detections(StopSpotter(), audio)) == 2


def test_noise_does_not_fire():
    for seed, db in ((4, -45.0), (5, -25.0)):
        assert detections(StopSpotter(), stream(noise(10.0, db, seed))) == []


@pytest.mark.parametrize("seed", [1, 2])
def test_rumble_and_hum_never_fire_wherever_the_80_ms_grid_falls(seed):
    """A word or a burst of noise can sit anywhere against the spotter's hops: all four 20 ms
    phases of the same minute of fan rumble and mains hum must stay silent."""
    noise = rumble(60.0, seed)
    for offset in (0, 320, 640, 960):
        assert detections(StopSpotter(), noise[offset:]) == [], offset


def test_sentence_without_stop_does_not_fire(tmp_path: Path):
    wav = tmp_path / "s.wav"
    text = ("Rest your palms on the shoulder blades, take a slow breath, "
            "then glide down the back and spread the hands out at the hips.")
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True, capture_output=True)
    audio = read_audio(wav)
    assert detections(StopSpotter(), stream(noise(1.0, -60.0), audio, noise(1.0, -60.0))) == []


def test_odd_block_sizes_give_the_same_result(word, quiet):
    audio = stream(quiet, word, quiet)
    ref = run(StopSpotter(), audio)
    for sizes in ([1, 7, 333, 4000, 159, 1281], [16000], [len(audio)]):
        got = run(StopSpotter(), audio, sizes)
        assert [e for _, e in got] == [e for _, e in ref]
        np.testing.assert_allclose([s for s, _ in got], [s for s, _ in ref], atol=1e-4)
        a = detections(StopSpotter(), audio, sizes)
        b = detections(StopSpotter(), audio)
        assert [(round(d.at_s, 3)) for d in a] == [round(d.at_s, 3) for d in b]


def test_reset_clears_state(word, quiet):
    spotter = StopSpotter()
    half = stream(quiet, word[: len(word) // 2])
    detections(spotter, half)
    spotter.reset()
    audio = stream(quiet, word, quiet)
    after = run(spotter, audio)
    fresh = run(StopSpotter(), audio)
    assert [e for _, e in after] == [e for _, e in fresh]
    np.testing.assert_allclose([s for s, _ in after], [s for s, _ in fresh], atol=1e-6)
    spotter.reset()
    assert len(detections(spotter, audio)) == 1


def test_refractory_period_survives_block_boundaries(word, quiet):
    spotter = StopSpotter()
    audio = stream(quiet, word, quiet)
    assert len(detections(spotter, audio)) == 1
    spotter.reset()  # and after a reset the same stop fires again
    assert len(detections(spotter, audio, [1281])) == 1
