"""The command vocabulary and the cuttable player."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.commands import PHRASES, Command, parse, vocabulary_words
from assistant.player import Drained, Player, Started
from assistant.recognizers.sphinx import grammar_text


@pytest.mark.parametrize(("text", "command"), [
    ("Next", Command.NEXT), ("go back", Command.BACK), ("how long", Command.TIME_LEFT),
    ("stop", Command.STOP), ("Stop, it hurts!", Command.PAIN), ("ouch", Command.PAIN),
    ("too hard", Command.PAIN), ("please stop now", Command.STOP), ("where am I", Command.WHERE),
    ("next please", None), ("the", None), ("", None),
])
def test_parse(text, command):
    assert parse(text) is command


def test_every_command_has_a_phrase_and_the_grammar_holds_them_all():
    assert set(PHRASES.values()) == set(Command)
    grammar = grammar_text()
    for phrase in PHRASES:
        assert phrase in grammar
    assert "stop" in vocabulary_words()


def test_player_plays_in_order_and_reports_drain():
    p = Player(1000)
    p.enqueue("a", "info", np.full(30, 1, np.int16))
    p.enqueue("b", "info", np.full(15, 2, np.int16))
    block, events = p.read(20)
    assert list(block) == [1] * 20 and events == [Started("a", "info", 0.03, 0)]
    block, events = p.read(20)
    assert list(block) == [1] * 10 + [2] * 10
    assert events == [Started("b", "info", 0.015, 10)]
    block, events = p.read(20)
    assert list(block) == [2] * 5 + [0] * 15 and events == [Drained()]
    assert p.read(20)[1] == []


def test_cut_silences_the_next_block_and_sends_no_drain():
    p = Player(1000)
    p.enqueue("long", "instruction", np.full(1000, 7, np.int16))
    p.enqueue("more", "instruction", np.full(1000, 7, np.int16))
    p.read(20)
    playing = p.cut()
    assert playing is not None and playing.text == "long"
    block, events = p.read(20)
    assert not block.any() and events == []
    assert p.cut() is None


def test_a_duck_lowers_the_next_blocks_over_a_ramp_and_a_cut_restores_the_level():
    p = Player(16000)
    p.enqueue("long", "instruction", np.full(16000, 10000, np.int16))
    assert p.read(320)[0].max() == 10000
    p.duck(-20.0)
    block, _ = p.read(320)
    assert block[0] < 10000 and block[79] == 1000 and (block[80:] == 1000).all()  # 5 ms ramp
    assert np.all(np.diff(block[:80].astype(int)) <= 0)  # no click: it only goes down
    assert (p.read(320)[0] == 1000).all() and p.gain_db == pytest.approx(-20.0)
    p.duck(0.0)
    block, _ = p.read(320)
    assert block[0] < 10000 and (block[80:] == 10000).all()
    p.duck(-20.0)
    p.read(320)
    p.cut()  # what follows a cut answers the person: at full level
    p.enqueue("Stopped.", "stop", np.full(320, 10000, np.int16))
    assert (p.read(320)[0] == 10000).all() and p.gain_db == 0.0
