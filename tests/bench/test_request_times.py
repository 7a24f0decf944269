"""The benchmark's probe of each request's time inside the app (bench/request_times.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.request_times import take, timed


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [environ["PATH_INFO"].encode()]


def test_only_slacks_requests_are_timed_and_the_answer_is_the_apps() -> None:
    recorded: list[tuple[float, float]] = []
    wsgi = timed(_app, lambda start, end: recorded.append((start, end)))
    answers = [wsgi({"PATH_INFO": path}, lambda *a: None) for path in ("/healthz", "/slack/events")]
    assert answers == [[b"/healthz"], [b"/slack/events"]]
    assert len(recorded) == 1 and recorded[0][0] <= recorded[0][1]


def test_take_reads_the_durations_once(tmp_path: Path) -> None:
    path = tmp_path / "times"
    path.write_text("10.000000 10.002500\n11.000000 11.010000\n", encoding="ascii")
    assert [round(d, 4) for d in take(path)] == [0.0025, 0.01]
    assert take(path) == [] and take(tmp_path / "missing") == []
