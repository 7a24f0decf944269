"""The lead watcher's order and budget: recently active leads first, then round-robin over the rest,
never more requests in any 60 seconds than the budget (telecrm/budget.py, storage/lead_watch.py)."""

from __future__ import annotations

import pytest

from storage.db import Store
from storage.lead_watch import LeadWatches, Sighting
from storage.repositories import LeadThreads
from telecrm.budget import RequestBudget
from tests.storage.conftest import FakeClock

HOUR = 3600.0
DAY = 24 * HOUR


# --- the budget ---------------------------------------------------------------------------------------


def test_the_budget_allows_per_minute_requests_in_any_sixty_seconds(clock: FakeClock) -> None:
    budget = RequestBudget(3, clock=clock)
    assert [budget.take() for _ in range(4)] == [True, True, True, False]
    clock.advance(30)
    assert not budget.take() and budget.available() == 0
    assert budget.next_free_at() == clock.now + 30
    clock.advance(30)  # the first three are now 60 s old: out of the window
    assert budget.available() == 3 and budget.take()


def test_a_sliding_window_never_lets_a_burst_straddle_two_minutes(clock: FakeClock) -> None:
    budget = RequestBudget(60, clock=clock)
    sent = []
    for _ in range(10 * 60 * 4):  # ten minutes, asking four times a second
        if budget.take():
            sent.append(clock.now)
        clock.advance(0.25)
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 60) <= 60
    assert len(sent) == 600


def test_the_budget_counts_what_another_process_spent(clock: FakeClock) -> None:
    theirs = RequestBudget(5, clock=clock)
    for _ in range(4):
        theirs.take()
    mine = RequestBudget(5, clock=clock)
    mine.load(theirs.spent())
    mine.load(theirs.spent())  # loading the same requests twice counts them once
    assert mine.available() == 1


def test_a_budget_cannot_be_negative() -> None:
    with pytest.raises(ValueError):
        RequestBudget(-1)


# --- the order ------------------------------------------------------------------------------------------


def _threads(store: Store, clock: FakeClock, n: int) -> list[str]:
    threads = LeadThreads(store, clock=clock)
    ids = []
    for i in range(n):
        lead_id = f"lead{i:02d}"
        threads.remember(lead_id, "C1", f"{1000 + i}.000100", identifier=f"91987650{i:04d}")
        ids.append(lead_id)
        clock.advance(1)
    return ids


def _look(watches: LeadWatches, lead_id: str, *, changed: bool = False) -> None:
    row = watches.get(lead_id)
    version = row.version if row is not None else 0
    assert watches.record(lead_id, version, Sighting({"name": lead_id}, None, None, (), changed=changed))


def test_recently_active_leads_come_first_then_the_least_recently_checked(
    store: Store, clock: FakeClock
) -> None:
    ids = _threads(store, clock, 6)
    watches = LeadWatches(store, clock=clock)
    clock.advance(10 * DAY)  # every thread is old now: none is recently active
    for lead_id in ids:  # looked at in order: lead00 longest ago
        _look(watches, lead_id)
        clock.advance(60)
    watches.wrote("lead04")  # the bot changed lead04 a moment ago
    _look(watches, "lead02", changed=True)  # the watcher saw lead02 change (it was just checked)
    clock.advance(200)
    due = watches.due(now=clock(), interval=120, active_since=clock() - 3 * DAY)
    order = [c.lead_id for c in due]
    assert order[:2] == ["lead04", "lead02"]  # recently active first, least recently checked first
    assert order[2:] == ["lead00", "lead01", "lead03", "lead05"]  # then the rest, round-robin
    assert [c.recently_active for c in due] == [True, True, False, False, False, False]


def test_a_lead_checked_within_the_interval_held_or_gone_is_not_due(store: Store, clock: FakeClock) -> None:
    ids = _threads(store, clock, 4)
    watches = LeadWatches(store, clock=clock)
    never = [c.lead_id for c in watches.due(now=clock(), interval=120, active_since=0)]
    assert sorted(never) == ids  # never looked at: all due at once
    _look(watches, "lead00")
    watches.hold("lead01", 30)
    assert watches.mark_gone("lead02", 0)
    due = [c.lead_id for c in watches.due(now=clock(), interval=120, active_since=0)]
    assert due == ["lead03"]
    clock.advance(121)
    due = [c.lead_id for c in watches.due(now=clock(), interval=120, active_since=0)]
    assert sorted(due) == ["lead00", "lead01", "lead03"]  # the hold ran out; the gone lead stays gone


def test_round_robin_under_a_budget_reaches_every_lead(store: Store, clock: FakeClock) -> None:
    """One lead per request and 3 requests a minute: 9 quiet leads are each looked at every 3 minutes."""
    ids = _threads(store, clock, 9)
    watches = LeadWatches(store, clock=clock)
    clock.advance(10 * DAY)
    budget = RequestBudget(3, clock=clock)
    looks: dict[str, list[float]] = {lead_id: [] for lead_id in ids}
    for _ in range(12 * 12):  # twelve minutes in 5-second ticks
        for c in watches.due(now=clock(), interval=0, active_since=clock() - 3 * DAY):
            if not budget.take():
                break
            looks[c.lead_id].append(clock())
            _look(watches, c.lead_id)
        clock.advance(5)
    gaps = [b - a for times in looks.values() for a, b in zip(times, times[1:], strict=False)]
    assert all(len(times) == 4 for times in looks.values())
    assert max(gaps) <= 180


def test_a_record_is_refused_when_the_bot_wrote_the_lead_since_it_was_read(
    store: Store, clock: FakeClock
) -> None:
    _threads(store, clock, 1)
    watches = LeadWatches(store, clock=clock)
    (c,) = watches.due(now=clock(), interval=0, active_since=0)
    watches.hold("lead00", 30)  # the bot starts writing the lead after the watcher read it
    assert not watches.record(
        "lead00", c.watch.version, Sighting({"name": "x"}, None, None, (), changed=True)
    )
    watches.wrote("lead00", sent={"name": "y"})
    assert watches.get("lead00").held_until is None


# --- card refreshes coalesce --------------------------------------------------------------------------


def test_card_refreshes_asked_for_while_one_waits_are_one(store: Store, clock: FakeClock) -> None:
    watches = LeadWatches(store, clock=clock)
    waiting = {1}
    assert watches.ask_card("lead", queued=waiting.__contains__) == 1
    assert watches.ask_card("lead", queued=waiting.__contains__) is None  # refresh 1 will show it
    watches.begin_card("lead", 1)  # refresh 1 reads the lead now: a later change needs another
    assert watches.ask_card("lead", queued=waiting.__contains__) == 2
    assert watches.ask_card("lead", queued=lambda n: False) == 3  # refresh 2 was given up: ask anew


def test_one_request_in_five_goes_to_the_quiet_leads_while_active_ones_wait() -> None:
    from commands.lead.watch import QUIET_SHARE, interleave

    active = [f"a{n}" for n in range(1, 9)]
    assert interleave(active, ["q1", "q2"], 4) == ["a1", "a2", "a3", "q1", "a4", "a5", "a6", "q2", "a7", "a8"]
    assert interleave(active[:2], ["q1", "q2", "q3"], QUIET_SHARE) == ["a1", "a2", "q1", "q2", "q3"]
    assert interleave([], ["q1"], QUIET_SHARE) == ["q1"] and interleave(["a1"], [], QUIET_SHARE) == ["a1"]
