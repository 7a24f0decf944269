"""Periodic work runs once across replicas sharing one database (storage/periodic_leases.py): two
stores on the same database stand for two replicas, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from storage.periodic_leases import PeriodicLeases, lease_seconds
from storage.stores import open_store
from tests.storage.conftest import FakeClock

INTERVAL = 60.0


@pytest.fixture
def other(store_url: str) -> Iterator[Any]:
    """A second replica's own connection to the same database."""
    s = open_store(store_url)
    yield s
    s.close()


def ticks(clock: FakeClock, replicas: list[PeriodicLeases], rounds: int) -> list[str]:
    """Each replica tries the task every interval, as Runtime.every does; who ran each round ("-":
    nobody)."""
    ran = []
    for _ in range(rounds):
        ran.append(
            "".join(r.owner for r in replicas if r.take("payment-watch", lease_seconds(INTERVAL))) or "-"
        )
        clock.advance(INTERVAL)
    return ran


def test_a_periodic_task_ticks_in_one_replica_only(store: Any, other: Any) -> None:
    clock = FakeClock()
    a = PeriodicLeases(store, owner="a", clock=clock)
    b = PeriodicLeases(other, owner="b", clock=clock)
    assert ticks(clock, [a, b], rounds=10) == ["a"] * 10
    assert b.holder("payment-watch") == "a"


def test_when_the_holder_dies_another_replica_takes_over_after_the_lease(store: Any, other: Any) -> None:
    clock = FakeClock()
    a = PeriodicLeases(store, owner="a", clock=clock)
    b = PeriodicLeases(other, owner="b", clock=clock)
    assert ticks(clock, [a, b], rounds=3) == ["a"] * 3
    # "a" is killed: it renews no more; "b" keeps trying and runs once the lease has run out
    # (its last lease, taken one interval ago, runs two intervals: to the end of the next round)
    assert ticks(clock, [b], rounds=5) == ["-", "-", "b", "b", "b"]
    assert ticks(clock, [a, b], rounds=3) == ["b"] * 3  # "a" back again does not run it a second time


def test_a_graceful_stop_hands_the_task_over_at_once(store: Any, other: Any) -> None:
    clock = FakeClock()
    a = PeriodicLeases(store, owner="a", clock=clock)
    b = PeriodicLeases(other, owner="b", clock=clock)
    assert ticks(clock, [a, b], rounds=2) == ["a", "a"]
    a.release()
    assert ticks(clock, [b], rounds=1) == ["b"]


def test_each_task_has_its_own_lease(store: Any, other: Any) -> None:
    clock = FakeClock()
    a = PeriodicLeases(store, owner="a", clock=clock)
    b = PeriodicLeases(other, owner="b", clock=clock)
    assert a.take("retention", 3600) and not b.take("retention", 3600)
    assert b.take("follow-ups", 60) and not a.take("follow-ups", 60)
