"""The keyboard fallback: keys map to the same commands as voice, read from a real terminal."""

from __future__ import annotations

import os
import pty

import pytest

from assistant.commands import Command
from assistant.keys import ESC, KeyReader, command_for_key, split_keys
from assistant.session import Mode


@pytest.mark.parametrize(("key", "mode", "command"), [
    (" ", Mode.PACE, Command.PAUSE), (" ", Mode.INSTRUCT, Command.PAUSE),
    (" ", Mode.PAUSED, Command.CONTINUE), (" ", Mode.STOPPED, Command.CONTINUE),
    ("s", Mode.PACE, Command.STOP), (ESC, Mode.INTRO, Command.STOP), ("S", Mode.PAUSED, Command.STOP),
    ("n", Mode.PACE, Command.NEXT), ("n", Mode.STOPPED, Command.NEXT), ("n", Mode.CHECK, Command.NO),
    ("y", Mode.CHECK, Command.YES), ("b", Mode.PACE, Command.BACK), ("r", Mode.PACE, Command.REPEAT),
    ("q", Mode.PACE, Command.QUIT), ("x", Mode.PACE, None), ("\x1b[A", Mode.PACE, None),
])
def test_keys_map_to_commands(key, mode, command):
    assert command_for_key(key, mode) is command


def test_escape_alone_is_a_key_but_an_arrow_is_one_other_key():
    assert split_keys("n\x1b[Bs\x1b") == ["n", "\x1b[B", "s", ESC]
    assert split_keys("\x1b\x1b") == [ESC, ESC]
    assert split_keys("\x1b[15~q") == ["\x1b[15~", "q"]  # F5, then q


def test_the_reader_takes_keys_from_a_real_terminal_and_restores_it():
    import termios

    master, slave = pty.openpty()
    with os.fdopen(slave, "r") as tty_in:
        before = termios.tcgetattr(slave)
        reader = KeyReader(tty_in)
        assert reader.active
        assert reader.poll() == []  # nothing typed: returns at once
        os.write(master, b" s\x1b[An")
        assert reader.poll() == [" ", "s", "\x1b[A", "n"]
        reader.close()
        assert termios.tcgetattr(slave) == before
    os.close(master)


def test_without_a_terminal_there_are_no_keys(tmp_path):
    with open(tmp_path / "f", "w+") as f:
        reader = KeyReader(f)
        assert not reader.active and reader.poll() == []
