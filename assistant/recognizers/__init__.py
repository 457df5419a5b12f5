"""Recognizer adapters behind one small protocol (base.py); the hearing factory is in
assistant.hearing (make_ears)."""

from __future__ import annotations

import os
from pathlib import Path

from .base import Heard, Recognizer, RecognizerError

ENGINES = ("embedded", "pocketsphinx", "vosk")


def default_model_dir() -> Path:
    """models/ beside the project, or $MASSAGE_ASSISTANT_MODELS."""
    override = os.environ.get("MASSAGE_ASSISTANT_MODELS")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "models"


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


__all__ = ["ENGINES", "Heard", "Recognizer", "RecognizerError", "default_model_dir", "find_vosk_model"]
