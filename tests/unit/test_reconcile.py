"""kit/reconcile.py: an earlier attempt's action found with or without the undocumented row keys."""

from __future__ import annotations

from typing import Any

from kit.reconcile import CLOCK_SLACK_MS, EarlierAttempt, find_earlier_attempt, search_window


def visit(note: str, **extra: Any) -> dict[str, Any]:
    return {"type": "1001", "fields": {"note": note}, **extra}


def same_note(note: str) -> Any:
    return lambda row: row.get("type") == "1001" and row.get("fields", {}).get("note") == note


def test_documented_rows_find_the_action_but_not_its_id() -> None:
    rows = [visit("other"), visit("mine")]
    assert find_earlier_attempt(rows, same=same_note("mine"), since_ms=0) == EarlierAttempt(None)
    assert find_earlier_attempt(rows, same=same_note("absent"), since_ms=0) is None


def test_ids_times_and_performers_narrow_the_match_when_rows_carry_them() -> None:
    rows = [
        visit("mine", action_id="new", created_on=3000, performed_by="api@x.in"),
        visit("mine", action_id="old", created_on=500, performed_by="api@x.in"),
        visit("mine", action_id="theirs", created_on=2500, performed_by="api@x.in"),
    ]
    found = find_earlier_attempt(rows, same=same_note("mine"), since_ms=1000, others_ids=["theirs"])
    assert found == EarlierAttempt("new"), "before the window, or another job's, is not it"
    by_rep = [visit("mine", action_id="rep", created_on=3000, performed_by="rep@x.in"), *rows]
    assert find_earlier_attempt(
        by_rep, same=same_note("mine"), since_ms=1000, others_ids=["theirs"]
    ) == EarlierAttempt("new")
    assert (
        find_earlier_attempt(rows[2:], same=same_note("mine"), since_ms=1000, others_ids=["theirs"]) is None
    )


def test_without_ids_the_bots_other_writes_are_counted_out() -> None:
    rows = [visit("mine"), visit("mine")]
    assert find_earlier_attempt(rows, same=same_note("mine"), since_ms=0, others_count=2) is None
    assert find_earlier_attempt(rows, same=same_note("mine"), since_ms=0, others_count=1) == EarlierAttempt(
        None
    )


def test_the_search_window_reaches_past_now_for_clocks_that_differ() -> None:
    assert search_window(1_000.9, 2.0) == (1000, 2000 + CLOCK_SLACK_MS)
