"""history lists past sessions from their journals; run refuses to start without devices."""

from __future__ import annotations

import json
import subprocess

import pytest

from assistant.history import used_today
from assistant.journal import Journal, journal_dir, read_journal
from tests import conftest


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return conftest.cli(*args, timeout=120, env=env)


def session_line(routine: str) -> dict:
    return {"routine": routine, "file": f"{routine}.yaml", "engine": "embedded", "mic": "live", "echo": None,
            "aec": "speex", "started": "2026-01-01T10:00:00"}


def summary_line(paced_s: float) -> dict:
    return {"routine": "r", "step": 0, "mode": "finished", "paced_s": paced_s}


def write_session(name: str, events: list[tuple[float, str, dict]]) -> None:
    j = Journal(journal_dir() / name)
    for t, event, data in events:
        j.write(t, event, **data)
    j.close()


def test_history_lists_stops_and_pain_per_step():
    write_session("20260101-100000-lower-back.jsonl", [
        (0.0, "session", {**session_line("Lower back relief"), "started": "2026-01-01T10:00:00"}),
        (40.0, "rep", {"step": 0, "n": 1}),
        (60.0, "rep", {"step": 1, "n": 1}),
        (70.0, "stopped", {"reason": "pain", "step": 1, "id": "palm-circles"}),
        (80.0, "stopped", {"reason": "stop", "step": 1, "id": "palm-circles"}),
        (95.0, "finished", {"reason": "quit", "step": 1}),
        (96.0, "summary", summary_line(30.0)),
    ])
    out = cli("history", "--json")
    assert out.returncode == 0, out.stderr
    [rec] = [r for r in json.loads(out.stdout) if r["path"].endswith("20260101-100000-lower-back.jsonl")]
    assert rec["routine"] == "Lower back relief" and rec["started"] == "2026-01-01T10:00:00"
    assert (rec["stops"], rec["pains"], rec["steps_done"]) == (2, 1, 2)
    assert rec["pain_by_step"] == {"palm-circles": 1} and rec["end"] == "quit"
    text = cli("history").stdout
    assert "Lower back relief" in text and "palm-circles x1" in text


def test_used_today_sums_paced_time_of_that_routine_only():
    from datetime import date, datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    now = datetime.now().isoformat(timespec="seconds")
    write_session(f"{stamp}-foam.jsonl", [(0.0, "session", {**session_line("Foam"), "started": now}),
                                          (9.0, "summary", summary_line(120.0))])
    write_session(f"{stamp}-other.jsonl", [(0.0, "session", {**session_line("Other"), "started": now}),
                                           (9.0, "summary", summary_line(50.0))])
    assert used_today("Foam", today=date.today()) == pytest.approx(120.0)


def test_a_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"t": 0, "event": "session"}\n{"t": 1, "event": "say", "te')
    assert [e["event"] for e in read_journal(path)] == ["session"]


def test_no_sound_devices_gives_exit_3_and_names_what_was_found():
    from assistant.runner import DeviceError, check_devices

    try:
        check_devices()
    except DeviceError:
        pass
    else:  # pragma: no cover - a machine with a sound card
        pytest.skip("this machine has a sound card, so a missing one cannot be shown here")
    out = cli("run", "lower-back")
    assert out.returncode == 3
    assert "Cannot start:" in out.stderr and "Devices found:" in out.stderr
    assert "Traceback" not in out.stderr
