"""vosk adapter: any vosk model directory, restricted to the command vocabulary.

Safety phrases act on partial results; navigation waits for the final result and is dropped
when vosk marks the speech as out of vocabulary ([unk]).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..commands import PHRASES, Command, parse
from ..heard import Heard
from .base import RecognizerError


class VoskRecognizer:
    name = "vosk"
    safety = True  # its partial results carry the stops: it hears each block on the stop path

    def __init__(self, model_dir: str | Path, phrases: list[str] | None = None,
                 command_of: Callable[[str], Command | None] = parse):
        import vosk

        vosk.SetLogLevel(-1)
        path = Path(model_dir)
        if not path.is_dir():
            raise RecognizerError(f"vosk model directory not found: {path}")
        try:
            self._model = vosk.Model(str(path))
        except Exception as e:  # vosk raises a bare Exception when a model fails to load
            raise RecognizerError(f"vosk could not load the model in {path}: {e}") from e
        self.phrases = phrases if phrases is not None else sorted(PHRASES)
        self._command_of = command_of  # another language's model maps its own words
        self._vosk = vosk
        self.reset()

    def reset(self) -> None:
        grammar = json.dumps([*self.phrases, "[unk]"], ensure_ascii=False)
        self._rec = self._vosk.KaldiRecognizer(self._model, 16000, grammar)
        self._rec.SetWords(True)
        self._safety_fired = False
        self._spent = 0  # words of the current partial already acted on
        self.last_partial = ""

    def feed(self, block) -> list[Heard]:
        """`block`: a hearing Block (its `audio` and `t`)."""
        raw = np.asarray(block.audio, dtype=np.int16).tobytes()
        if self._rec.AcceptWaveform(raw):
            result = json.loads(self._rec.Result())
            fired, self._safety_fired = self._safety_fired, False
            self._spent = 0
            self.last_partial = ""
            return self._final(block.t, result, fired)
        partial = json.loads(self._rec.PartialResult()).get("partial", "")
        self.last_partial = partial
        words = partial.split()
        fresh = " ".join(words[self._spent:])  # only words not yet acted on can fire again
        command = self._command_of(fresh) if fresh else None
        if command is not None and command.is_safety:
            self._safety_fired = True
            self._spent = len(words)
            return [Heard(block.t, command, fresh, None, final=False, path=self.name, start=block.t - 1.0)]
        return []

    def _final(self, t: float, result: dict, fired: bool) -> list[Heard]:
        text = result.get("text", "")
        if not text or "[unk]" in text:
            return []
        words = result.get("result") or []
        confidence = min((w.get("conf", 1.0) for w in words), default=None)
        command = self._command_of(text)
        if command is None or (command.is_safety and fired):
            return []
        # no start: vosk's own endpointing decides what one utterance is, and no tail rule applies
        return [Heard(t, command, text, confidence, final=True, path=self.name)]
