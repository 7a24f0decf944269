"""The replicas section's own logic: the balancer, the claim count, the estimate's arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.__main__ import parse_only
from bench.balancer import Balancer
from bench.outbox_claims import claimed_twice, measure
from bench.replicas import Estimate, latency_label, parent_pid, ratio
from slack_emulator import serve_wsgi


def test_the_section_is_registered() -> None:
    assert parse_only("replicas") == ["replicas"]


def test_a_row_claimed_by_two_claimers_is_counted_once_per_extra_claim() -> None:
    assert claimed_twice(["a", "b", "c"]) == 0
    assert claimed_twice(["a", "b", "a", "c", "a", "b"]) == 3
    assert claimed_twice([]) == 0


def test_parent_pid_is_read_past_a_command_name_with_spaces_and_parentheses() -> None:
    stat = "4242 (postgres: telecrm (x) idle) S 4100 4100 4100 0 -1 4194560 " + "0 " * 40
    assert parent_pid(stat) == 4100


def test_ratio_is_of_the_medians_and_zero_without_a_denominator() -> None:
    assert ratio([30.0, 40.0, 50.0], [20.0, 20.0]) == pytest.approx(2.0)
    assert ratio([30.0], []) == 0.0
    assert ratio([30.0], [0.0]) == 0.0


def test_sandbox_latency_labels() -> None:
    assert latency_label(0.0) == "0 s"
    assert latency_label(0.1) == "100 ms"


def test_the_estimate_shows_its_arithmetic() -> None:
    estimate = Estimate(cpu_per_command=0.010, commands_per_rep_hour=36, reps=100, cpu_budget=0.5)
    assert estimate.workspace_per_second == pytest.approx(1.0)
    assert estimate.replica_per_second == pytest.approx(50.0)
    assert estimate.workspaces == 50
    text = estimate.arithmetic()
    assert "100 reps × 36 commands/h = 3,600/h = 1.00/s" in text
    assert "10.0 ms CPU per command = 50 commands/s" in text
    assert text.endswith("= 50 workspaces")


def _answering(name: str) -> Callable[..., list[bytes]]:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        retry = environ.get("HTTP_X_SLACK_RETRY_NUM", "-")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{name} {retry}".encode()]

    return app


def test_the_balancer_takes_backends_in_turn_and_skips_one_that_is_down() -> None:
    first, second = serve_wsgi(_answering("first")), serve_wsgi(_answering("second"))
    balancer = Balancer([first.url, second.url])
    front = serve_wsgi(balancer)
    try:
        answers = [httpx.post(front.url + "/slack/events", content=b"x").text for _ in range(4)]
        assert answers == ["first -", "second -", "first -", "second -"]
        first.stop()
        answers = [httpx.post(front.url + "/slack/events", content=b"x").text for _ in range(2)]
        assert answers == ["second 1", "second -"]
    finally:
        front.stop()
        second.stop()
        balancer.close()


def test_claimers_in_their_own_processes_take_every_row_once(tmp_path: Path) -> None:
    run = measure(f"sqlite:///{tmp_path / 'claims.sqlite3'}", claimers=2, rows=40)
    assert (run.claimed, run.twice, run.latency.n) == (40, 0, 40)
    assert 20 <= run.busiest <= 40
