"""The keyboard fallback: a helper's keys or a foot pedal that types them.

Keys become the same `Heard` events as spoken commands (source "key"), so they pass the same
latch and the same journal. `command_for_key` is pure; `KeyReader` is the terminal adapter.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys

from .commands import Command
from .session import Mode

ESC = "\x1b"

KEYS = {
    "s": Command.STOP, "S": Command.STOP, ESC: Command.STOP,
    "n": Command.NEXT, "b": Command.BACK, "r": Command.REPEAT, "q": Command.QUIT,
    "y": Command.YES, "h": Command.HELP, "?": Command.HELP,
}
KEY_NAMES = {" ": "space", ESC: "escape"}
HELP_LINE = "keys: space pause/continue · s/Esc stop · n next · b back · r repeat · q quit · y/n answer"


def command_for_key(key: str, mode: Mode) -> Command | None:
    """The command a key stands for in this mode; space toggles pause and continue."""
    if key == " ":
        return Command.CONTINUE if mode in (Mode.PAUSED, Mode.STOPPED) else Command.PAUSE
    if key == "n" and mode is Mode.CHECK:
        return Command.NO  # a yes/no prompt: "n" answers no, as on any y/n prompt
    return KEYS.get(key)


def split_keys(data: str) -> list[str]:
    """Single keys from what the terminal sent. An escape sequence (an arrow or function key,
    ESC followed by [ or O) is one key that means nothing here; a lone ESC is the stop key."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        ch = data[i]
        if ch == ESC and i + 1 < len(data) and data[i + 1] in "[O":
            j = i + 2
            while j < len(data) and not (data[j].isalpha() or data[j] == "~"):
                j += 1
            keys.append(data[i:j + 1])
            i = j + 1
            continue
        keys.append(ch)
        i += 1
    return keys


class KeyReader:
    """Non-blocking single keys from the controlling terminal (cbreak mode while it runs)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self.fd: int | None = None
        self._saved = None
        with contextlib.suppress(AttributeError, ValueError, OSError):
            if self.stream.isatty():
                import termios
                import tty

                self.fd = self.stream.fileno()
                self._saved = termios.tcgetattr(self.fd)
                tty.setcbreak(self.fd)  # keys arrive one by one, unechoed; Ctrl-C still works

    @property
    def active(self) -> bool:
        return self.fd is not None

    def poll(self) -> list[str]:
        if self.fd is None:
            return []
        data = b""
        while select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 64)
            if not chunk:
                break
            data += chunk
        return split_keys(data.decode("utf-8", "replace")) if data else []

    def close(self) -> None:
        if self.fd is not None and self._saved is not None:
            import termios

            with contextlib.suppress(OSError):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        self.fd = None
