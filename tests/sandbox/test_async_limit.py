"""The Async limit made configurable (requests per window, window length) so tests and benchmarks show
the pacing in minutes, the counts of accepted and refused requests, and Async upserts as a bulk import
sends them: create-or-update by the workspace identifier, `ACTION_` actions and payments in the same
body, then visible to Sync searches."""

from __future__ import annotations

from typing import Any

import pytest

from telecrm.sandbox import Faults, Sandbox, email_identifier_workspace
from telecrm.sandbox.faults import async_limit_from_env

from .conftest import Harness, error_of


def test_limit_and_window_from_the_constructor_survive_reset(make_harness: Any) -> None:
    eh: Harness = make_harness(async_rate_limit=2, async_rate_window_seconds=60)
    answers = [eh.upsert({"fields": {"phone": f"91981120000{i}"}}) for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Retry-After" not in answers[2].headers
    assert error_of(answers[2]) == {
        "code": "TOO_MANY_REQUESTS",
        "message": "Rate limit of 2 requests per 60 seconds per token exceeded.",
    }
    assert eh.sandbox.drain_async()
    assert eh.sandbox.async_counts() == {
        "accepted": 2,
        "rate_limited": 1,
        "applied": 2,
        "created": 2,
        "updated": 0,
        "dropped": 0,
        "pending": 0,
    }
    eh.sandbox.reset()  # back to the configured limit, not the documented one; counts start again
    assert eh.sandbox.faults.async_rate_limit == 2
    assert eh.sandbox.faults.async_rate_window_seconds == 60
    assert eh.sandbox.async_counts()["accepted"] == 0


def test_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_ASYNC_LIMIT", "600")
    monkeypatch.setenv("SANDBOX_ASYNC_WINDOW_SECONDS", "60")
    sandbox = Sandbox()
    try:
        assert (sandbox.faults.async_rate_limit, sandbox.faults.async_rate_window_seconds) == (600, 60.0)
    finally:
        sandbox.close()
    assert async_limit_from_env({}) == (18_000, 3600.0)  # documented: 18,000 requests per hour


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SANDBOX_ASYNC_LIMIT": "lots"}, "SANDBOX_ASYNC_LIMIT"),
        ({"SANDBOX_ASYNC_LIMIT": "0"}, "SANDBOX_ASYNC_LIMIT"),
        ({"SANDBOX_ASYNC_WINDOW_SECONDS": "-5"}, "SANDBOX_ASYNC_WINDOW_SECONDS"),
    ],
)
def test_a_bad_limit_in_the_environment_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        async_limit_from_env(env)


def test_limit_and_window_through_the_admin_route(h: Harness) -> None:
    answer = h.raw.post("/_sandbox/faults", json={"async_rate_limit": 1, "async_rate_window_seconds": 30})
    assert answer.status_code == 200
    assert (answer.json()["async_rate_limit"], answer.json()["async_rate_window_seconds"]) == (1, 30.0)
    assert [h.upsert({"fields": {"phone": f"91981120010{i}"}}).status_code for i in range(2)] == [200, 429]
    state = h.raw.get("/_sandbox/state").json()
    assert (state["async"]["accepted"], state["async"]["rate_limited"]) == (1, 1)
    bad = h.raw.post("/_sandbox/faults", json={"async_rate_window_seconds": 0})
    assert bad.status_code == 400 and "async_rate_window_seconds" in error_of(bad)["message"]


def test_the_async_window_slides() -> None:
    now = [1000.0]
    faults = Faults(clock=lambda: now[0], async_limit=2, async_window_seconds=60)
    assert [faults.check_rate("async", "t") for _ in range(3)] == [None, None, 60]
    now[0] += 30
    assert faults.check_rate("async", "t") == 30  # the oldest request leaves the window in 30 s
    now[0] += 30
    assert faults.check_rate("async", "t") is None
    assert faults.check_rate("sync", "t") is None  # the Sync API is unlimited unless set


def test_injected_429s_are_not_counted_as_the_limiter(h: Harness) -> None:
    h.sandbox.faults.fail_next(1, 429, retry_after=2, path_contains="autoupdatelead")
    refused = h.upsert({"fields": {"phone": "919811200201"}})
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "2")
    assert h.upsert({"fields": {"phone": "919811200201"}}).status_code == 200
    counts = h.sandbox.async_counts()
    assert (counts["accepted"], counts["rate_limited"]) == (1, 0)


def _search(harness: Harness, fields: dict[str, Any]) -> list[dict[str, Any]]:
    answer = harness.api.post("/lead/search", json={"fields": fields})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def test_an_import_row_creates_then_updates_by_phone_with_actions_and_payment(h: Harness) -> None:
    row = {
        "fields": {"phone": "9811200301", "name": "Imported Lead", "email": "imported@example.com"},
        "actions": [
            {"type": "ACTION_1001", "fields": {"note": "from the spreadsheet", "outcome": "Interested"}},
            {"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "2500"},
        ],
    }
    assert h.upsert(row).json() == {"status": "QUEUED"}
    assert h.sandbox.drain_async()
    (found,) = _search(h, {"phone": "919811200301"})
    assert found["fields"]["name"] == "Imported Lead"
    assert [r["type"] for r in h.sandbox.actions(found["id"])] == ["1001", "PAYMENT"]
    # the same identifier again (written differently) updates the same lead
    h.upsert({"fields": {"phone": "+919811200301", "name": "Renamed"}})
    assert h.sandbox.drain_async()
    (again,) = _search(h, {"phone": "9811200301"})
    assert (again["id"], again["fields"]["name"]) == (found["id"], "Renamed")
    assert _search(h, {"email": "IMPORTED@example.com"})[0]["id"] == found["id"]
    counts = h.sandbox.async_counts()
    assert (counts["created"], counts["updated"]) == (1, 1)


def test_an_import_row_upserts_by_email_where_email_is_the_identifier(make_harness: Any) -> None:
    eh: Harness = make_harness(email_identifier_workspace())
    eh.upsert({"fields": {"email": "Bulk.Buyer@example.com", "name": "Bulk Buyer", "phone": "9811200401"}})
    eh.upsert({"fields": {"phone": "9811200402", "name": "No identifier"}})  # silently dropped
    assert eh.sandbox.drain_async()
    (found,) = _search(eh, {"email": "bulk.buyer@example.com"})
    eh.upsert({"fields": {"email": " bulk.buyer@EXAMPLE.com ", "rating": 5}})
    assert eh.sandbox.drain_async()
    (again,) = _search(eh, {"email": "bulk.buyer@example.com"})
    assert (again["id"], again["fields"]["rating"], again["fields"]["name"]) == (found["id"], 5, "Bulk Buyer")
    assert _search(eh, {"phone": "919811200402"}) == []
    counts = eh.sandbox.async_counts()
    assert (counts["created"], counts["updated"], counts["dropped"]) == (1, 1, 1)
