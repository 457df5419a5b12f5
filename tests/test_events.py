"""The typed journal: every kind of event goes to a line and back unchanged, a misspelt field or
kind fails at the write, a kind this version does not know is kept as Unknown, and a real
session's journal reads back as typed events, schema on its first line."""

from __future__ import annotations

import dataclasses
import json
import types
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import events as E
from assistant.journal import Journal, read_events
from tests.conftest import ROOT, cli

FINITE = st.floats(allow_nan=False, allow_infinity=False)
BASE = {str: st.text(max_size=12), int: st.integers(-10**6, 10**6), float: FINITE, bool: st.booleans()}


def strategy(hint) -> st.SearchStrategy:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        return st.one_of(*(st.none() if a is type(None) else strategy(a) for a in args))
    if origin is list:
        return st.lists(strategy(typing.get_args(hint)[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)
    return BASE[hint]


def events_of(cls: type[E.Event]) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy(hints[f.name]) for f in dataclasses.fields(cls)}
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


ANY_EVENT = st.one_of(*(events_of(cls) for cls in E.kinds().values()))


def test_every_kind_the_session_and_runner_write_is_typed():
    assert len(E.kinds()) == 25
    assert {"session", "voice", "heard", "say", "cut", "stopped", "resumed", "duck", "echo", "summary",
            "hearing_lost", "speaker_back"} <= set(E.kinds())


@settings(max_examples=300, deadline=None)
@given(ANY_EVENT)
def test_every_event_goes_to_a_line_and_back_unchanged(event: E.Event):
    line = json.dumps(E.to_record(event))
    assert E.from_record(json.loads(line)) == event


@settings(max_examples=50, deadline=None)
@given(st.lists(ANY_EVENT, max_size=8))
def test_a_journal_reads_back_the_events_written(tmp_path_factory, written: list[E.Event]):
    path = tmp_path_factory.mktemp("j") / "j.jsonl"
    journal = Journal(path)
    for e in written:
        record = E.to_record(e)
        journal.write(record.pop("t"), record.pop("event"), **{k: v for k, v in record.items() if k != "w"})
    journal.close()
    assert list(read_events(path)) == [dataclasses.replace(e, t=round(e.t, 3), w=None) for e in written]


def test_a_misspelt_field_or_kind_fails_at_the_write(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    with pytest.raises(E.JournalError, match="stoped"):
        journal.write(1.0, "stoped", reason="stop", step=0, id="a")
    with pytest.raises(E.JournalError, match="resaon"):
        journal.write(1.0, "stopped", resaon="stop", step=0, id="a")
    with pytest.raises(E.JournalError, match="id"):
        journal.write(1.0, "stopped", reason="stop", step=0)


def test_a_kind_this_version_does_not_know_is_kept(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"t": 1.5, "event": "massage_chair", "speed": 3}\n'
                    '{"t": 2, "event": "rep", "step": 0, "n": 1}\n')
    unknown, rep = read_events(path)
    assert unknown == E.Unknown(t=1.5, name="massage_chair", data={"speed": 3})
    assert E.to_record(unknown) == {"t": 1.5, "event": "massage_chair", "speed": 3}
    assert rep == E.Rep(t=2.0, step=0, n=1)


def test_resumed_keeps_its_from_key():
    e = E.Resumed(t=3.0, from_="stopped", step=2, lighter=True)
    assert E.to_record(e) == {"t": 3.0, "event": "resumed", "from": "stopped", "step": 2, "lighter": True}


def test_a_real_session_reads_back_as_typed_events(tmp_path):
    journal = tmp_path / "j.jsonl"
    run = cli("run", "foam-roller", "--mic-file", str(ROOT / "examples" / "demo-mic.flac"),
              "--skip-safety-check", "--journal", str(journal))
    assert run.returncode == 0, run.stderr
    lines = journal.read_text().splitlines()
    typed = list(read_events(journal))
    assert len(typed) == len(lines) and not any(isinstance(e, E.Unknown) for e in typed)
    first = typed[0]
    assert isinstance(first, E.SessionStarted) and first.schema == E.SCHEMA == json.loads(lines[0])["schema"]
    kinds = {type(e) for e in typed}
    assert {E.VoiceUsed, E.Started, E.Said, E.Heard, E.StepBegun, E.Rep, E.Stopped, E.Resumed, E.Cut,
            E.Finished, E.Summary} <= kinds
    assert [e.reason for e in typed if isinstance(e, E.Stopped)] == ["stop"]
