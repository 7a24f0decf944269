"""The /pipeline benchmark's workspace is one the sandbox accepts, and the bot's log line it reads is
the one the bot writes."""

from __future__ import annotations

from bench.pipeline import _LOGGED, big_workspace
from telecrm.sandbox import Sandbox


def test_the_big_workspace_is_valid_and_has_its_reps() -> None:
    ws = big_workspace(leads=60, reps=4)
    sandbox = Sandbox(ws)
    assert [m["email"] for m in sandbox.team_members()] == [f"rep0{i}@bench.example" for i in range(1, 5)]
    assert sandbox._state.search_leads({}, skip=0, limit=1)["total_count"] == 60


def test_the_report_log_line_is_read() -> None:
    line = "/pipeline week: 65 TeleCRM searches (0 from cache), chart 57655 bytes drawn in 219 ms"
    match = _LOGGED.search(line)
    assert match is not None and match.groups() == ("65", "0", "57655", "219")
