"""One YAML config per model: every setting the training code reads, checked before any work.

A config names its trainer (`model:`) and gives every field of that trainer's `Config`
dataclass, no more and no fewer: a misspelt or missing key is an error naming the file and line,
not a silent default that trains a different model.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

CONFIGS = Path(__file__).resolve().parent / "configs"

T = TypeVar("T")


class ConfigError(ValueError):
    """A config that does not describe a model: file, line and key in the message."""


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (inner, _ellipsis) = typing.get_args(hint)
        return tuple(_convert(v, inner, where) for v in value)
    if origin is types.UnionType or origin is typing.Union:
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        return _convert(value, next(a for a in args if a is not type(None)), where)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    raise ConfigError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def load(path: Path, cls: type[T]) -> T:
    """The config at `path` as a `cls` (a frozen dataclass), every field given and typed."""
    text = Path(path).read_text()
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}: a config is a mapping of settings")
    lines = {k.value: k.start_mark.line + 1 for k, _ in node.value}
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    raw.pop("model", None)
    for key in raw:
        if key not in names:
            raise ConfigError(f"{path}:{lines.get(key, 1)}: {key}: not a setting of {cls.__module__}")
    missing = [n for n in names if n not in raw]
    if missing:
        raise ConfigError(f"{path}: missing settings: {', '.join(missing)}")
    values = {n: _convert(raw[n], hints[n], f"{path}:{lines[n]}: {n}") for n in names}
    return cls(**values)


def model_of(path: Path) -> str:
    """The trainer a config names (`model: stop_head`)."""
    raw = yaml.safe_load(Path(path).read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), str):
        raise ConfigError(f"{path}:1: model: every config names its trainer (stop_head, command_head, ...)")
    return raw["model"]


def named(name: str) -> Path:
    """The shipped config of a model: configs/<name>.yaml."""
    return CONFIGS / f"{name}.yaml"
