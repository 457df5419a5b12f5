"""Recognizer adapters behind one small protocol, and the factory that picks one by name."""

from __future__ import annotations

from pathlib import Path

from .base import Heard, Recognizer, RecognizerError

ENGINES = ("embedded", "pocketsphinx", "vosk")


def default_model_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "models"


def find_vosk_model(explicit: str | None = None) -> Path | None:
    """An explicit model directory, or the first vosk model found in models/."""
    if explicit:
        return Path(explicit)
    root = default_model_dir()
    if root.is_dir():
        for d in sorted(root.iterdir()):
            if (d / "am" / "final.mdl").exists() or (d / "final.mdl").exists():
                return d
    return None


def make_recognizer(engine: str | None = None, model: str | None = None) -> Recognizer:
    """vosk when a model is configured or present in models/; otherwise the embedded engine."""
    if engine is None:
        # The embedded engine: the trained spotter hears real "stop" far more often than
        # pocketsphinx's keyword spotter (scripts/bench.py --engines embedded,pocketsphinx).
        engine = "vosk" if find_vosk_model(model) else "embedded"
    if engine == "vosk":
        from .vosk_engine import VoskRecognizer

        path = find_vosk_model(model)
        if path is None:
            raise RecognizerError(
                "no vosk model: pass --model DIR or run 'massage-assistant get-model'")
        return VoskRecognizer(path)
    if engine == "pocketsphinx":
        from .sphinx import SphinxRecognizer

        return SphinxRecognizer()
    if engine == "embedded":  # pocketsphinx, with the trained heads hearing "stop" and verifying
        from . import command_head  # the grammar's navigation and pain results
        from .sphinx import SphinxRecognizer
        from .stop_spotter import StopSpotter

        return SphinxRecognizer(stop_spotter=StopSpotter(command_head=command_head.load_head(),
                                                         pain_head=command_head.load_pain_head()))
    raise RecognizerError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


__all__ = ["ENGINES", "Heard", "Recognizer", "RecognizerError", "make_recognizer"]
