"""The default voice, Kokoro-82M, for real: assembled and checked, deterministic, rendered whole
before the first word and cached, listed and picked by --voice, paced by --rate, heard over by
the ears, and replaced by pyttsx3 (said once, journalled) when it is absent or fails."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from assistant import kokoro_voice as kv
from assistant.audio import RATE, read_audio
from assistant.voice import KOKORO, PYTTSX3, TtsError, Voice, VoiceSettings
from tests.conftest import TUNE_STOP, cli, real_clip, save, timeline

pytestmark = pytest.mark.slow

TINY = """\
name: Tiny
for: tests of the voice
position: Sit upright.
safety: Not on broken skin.
steps:
  - id: glide
    title: Glide
    say: Glide both palms up the back, slowly.
    pressure: light
    pace: {reps: 2, seconds_per_rep: 4, cues: [up, down]}
"""


# The sessions here speak at a brisk 240 wpm: a cold start renders every phrase (1920 characters
# for TINY), Kokoro's time grows with the audio it makes, and nothing checked depends on the pace
# (test_rate_sets_the_pace_of_kokoro checks the pace). Their renders are cached for the suite.
BRISK = "240"


@pytest.fixture
def kokoro_default(monkeypatch):
    """The voice a user gets: no MASSAGE_ASSISTANT_VOICE."""
    monkeypatch.delenv("MASSAGE_ASSISTANT_VOICE", raising=False)


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def events(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def whisper_words(samples: np.ndarray) -> str:
    from faster_whisper import WhisperModel

    from assistant.recognizers import default_model_dir

    model = WhisperModel(str(default_model_dir() / "whisper-base"), device="cpu", compute_type="int8",
                         cpu_threads=2)
    segments, _ = model.transcribe(samples.astype(np.float32) / 32768, language="en", beam_size=1,
                                   condition_on_previous_text=False)
    return " ".join(s.text for s in segments).lower()


def test_the_model_and_voices_are_the_pinned_ones():
    directory = kv.check()
    assert len(kv.load_voices(directory)) == 28 == len(kv.VOICES)


def test_a_model_that_is_not_the_pinned_one_is_refused(tmp_path):
    shutil.copy(kv.model_dir() / kv.VOICES_FILE, tmp_path / kv.VOICES_FILE)
    (tmp_path / kv.MODEL_FILE).write_bytes(b"not the model")
    with pytest.raises(kv.KokoroError, match="sha256 does not match"):
        kv.check(tmp_path)
    with pytest.raises(kv.KokoroError, match="sha256 does not match"):
        kv.KokoroRenderer(tmp_path)


def test_a_render_is_the_same_whatever_came_before_it(tmp_path, kokoro_default):
    alone = Voice(VoiceSettings(), RATE, cache=tmp_path / "a")
    alone.render_all(["Breathe out slowly."])
    after = Voice(VoiceSettings(), RATE, cache=tmp_path / "b")
    after.render_all(["Press with the heel of the hand, a little firmer now.", "Breathe out slowly."])
    assert alone.choice.engine == KOKORO
    first, second = alone.render("Breathe out slowly."), after.render("Breathe out slowly.")
    assert len(first) > RATE // 2 and np.array_equal(first, second)


def test_rate_sets_the_pace_of_kokoro(tmp_path, kokoro_default):
    text = "Glide both palms up the back, slowly, and down again."
    slow = Voice(VoiceSettings(rate=120), RATE, cache=tmp_path).render(text)
    fast = Voice(VoiceSettings(rate=240), RATE, cache=tmp_path).render(text)
    assert 1.4 < len(slow) / len(fast) < 2.6


def test_run_speaks_with_kokoro_renders_everything_first_and_starts_warm_the_second_time(
        tmp_path, tiny, kokoro_default):
    mic = save(tmp_path / "mic.wav", timeline(12.0, [], noise_db=-60))
    first = cli("run", str(tiny), "--mic-file", str(mic), "--skip-safety-check", "--rate", BRISK,
                "--journal", str(tmp_path / "1.jsonl"), "--speaker-file", str(tmp_path / "speaker.wav"))
    assert first.returncode == 0, first.stderr
    assert "Voice: Kokoro af_heart, " in first.stdout and "phrases rendered" in first.stdout
    voice = next(e for e in events(tmp_path / "1.jsonl") if e["event"] == "voice")
    assert (voice["engine"], voice["voice"], voice["fallback"]) == (KOKORO, "af_heart", None)
    assert voice["rendered"] >= 20  # the whole session's phrases, not only the first
    heard = whisper_words(read_audio(tmp_path / "speaker.wav")[: 12 * RATE])
    assert "welcome" in heard and "tiny" in heard, heard
    second = cli("run", str(tiny), "--mic-file", str(mic), "--skip-safety-check", "--rate", BRISK,
                 "--journal", str(tmp_path / "2.jsonl"))
    assert second.returncode == 0 and "Voice: Kokoro af_heart, every phrase cached" in second.stdout
    assert next(e for e in events(tmp_path / "2.jsonl") if e["event"] == "voice")["rendered"] == 0


def test_its_own_kokoro_voice_in_the_room_never_stops_it_and_a_real_stop_over_it_does(
        tmp_path, tiny, kokoro_default):
    quiet = save(tmp_path / "quiet.wav", timeline(30.0, [], noise_db=-55))
    run = cli("run", str(tiny), "--mic-file", str(quiet), "--skip-safety-check", "--echo", "40,-10",
              "--rate", BRISK, "--journal", str(tmp_path / "quiet.jsonl"))
    assert run.returncode == 0, run.stderr
    journal = events(tmp_path / "quiet.jsonl")
    assert [e["t"] for e in journal if e["event"] == "stopped"] == []
    assert [e for e in journal if e["event"] == "heard" and e["accepted"]] == []
    assert any(e["event"] == "finished" and e["reason"] == "completed" for e in journal)
    said = save(tmp_path / "stop.wav", timeline(20.0, [(6.0, real_clip(TUNE_STOP))], noise_db=-55))
    run = cli("run", str(tiny), "--mic-file", str(said), "--skip-safety-check", "--echo", "40,-10",
              "--rate", BRISK, "--journal", str(tmp_path / "stop.jsonl"))
    stops = [e["t"] for e in events(tmp_path / "stop.jsonl") if e["event"] == "stopped"]
    assert len(stops) == 1 and 6.0 < stops[0] < 7.5, stops


def test_voice_list_shows_both_engines_and_a_voice_is_picked_by_name(tmp_path, tiny, kokoro_default):
    listed = cli("run", "lower-back", "--voice", "list")
    assert listed.returncode == 0
    assert sum(v in listed.stdout for v in kv.VOICES) == 28 and "(default)" in listed.stdout
    assert "pyttsx3 voices" in listed.stdout and "en-us" in listed.stdout
    # picked by name (the CLI passes --voice to VoiceSettings; a name it cannot find is exit 2 below)
    george = Voice(VoiceSettings(voice="bm_george"), RATE, cache=tmp_path)
    assert (george.choice.engine, george.choice.voice) == (KOKORO, "bm_george")
    heard = whisper_words(george.render("Breathe out slowly, and rest."))
    assert "breathe" in heard and "rest" in heard, heard
    mic = save(tmp_path / "mic.wav", timeline(3.0, [], noise_db=-60))
    bad = cli("run", str(tiny), "--mic-file", str(mic), "--voice", "nosuchvoice")
    assert bad.returncode == 2 and "no voice matches 'nosuchvoice'" in bad.stderr


def test_without_kokoro_it_speaks_with_pyttsx3_and_says_so_once(tmp_path, tiny, kokoro_default):
    mic = save(tmp_path / "mic.wav", timeline(3.0, [], noise_db=-60))
    run = cli("run", str(tiny), "--mic-file", str(mic), "--skip-safety-check", "--journal",
              str(tmp_path / "j.jsonl"), env={"MASSAGE_ASSISTANT_MODELS": str(tmp_path / "none")})
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("the Kokoro voice is not usable") == 1
    voice = next(e for e in events(tmp_path / "j.jsonl") if e["event"] == "voice")
    assert voice["engine"] == PYTTSX3 and "kokoro-82m" in voice["fallback"]


def test_a_kokoro_failure_mid_session_falls_back_to_pyttsx3_for_every_phrase(tmp_path, kokoro_default):
    class FailingKokoro(Voice):
        def _kokoro_batch(self, texts, choice, done=None):
            raise TtsError("the render process died")

    voice = FailingKokoro(VoiceSettings(), RATE, cache=tmp_path)
    assert voice.choice.engine == KOKORO
    voice.render_all(["One.", "Two."])
    assert voice.choice.engine == PYTTSX3 and "the render process died" in (voice.notice or "")
    assert len(voice.render("Three.")) > 0


def test_after_the_prerender_every_phrase_is_in_memory_stop_first(tiny, kokoro_default):
    from assistant.routine import load_routine
    from assistant.runner import prerender
    from assistant.session import STOP_TEXT, sayable_texts

    routine = load_routine(tiny)
    voice = Voice(VoiceSettings(rate=int(BRISK)), RATE)  # the suite's cache: warm after the runs above
    prerender(voice, routine)

    def no_render(*_args, **_kwargs):
        raise AssertionError("a render during the session")

    voice._kokoro_batch = no_render  # type: ignore[method-assign]
    voice._pyttsx3_render = no_render  # type: ignore[method-assign]
    assert len(voice.render(STOP_TEXT)) > 0
    for text in sayable_texts(routine):
        voice.render(text)
