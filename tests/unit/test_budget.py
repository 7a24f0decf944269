"""The shared per-minute budget of background TeleCRM requests (telecrm/budget.py)."""

from __future__ import annotations

import threading

import pytest

from telecrm.budget import RequestBudget


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_at_most_the_budget_in_any_minute() -> None:
    clock = Clock()
    budget = RequestBudget(3, clock=clock)
    assert budget.take()
    clock.now += 10
    assert [budget.take() for _ in range(3)] == [True, True, False]
    assert budget.available() == 0 and budget.seconds_until_free() == pytest.approx(50)
    clock.now += 49.9
    assert not budget.take()
    clock.now += 0.1  # the first request is a minute old: one more may go, not two
    assert budget.take() and not budget.take()


def test_a_sliding_window_not_a_clock_minute() -> None:
    clock = Clock()
    budget = RequestBudget(2, clock=clock)
    taken = []
    for _ in range(600):  # ten minutes in steps of a second, asking every time
        if budget.take():
            taken.append(clock.now)
        clock.now += 1
    assert all(sum(1 for t in taken if start <= t < start + 60) <= 2 for start in taken)
    assert len(taken) == 20


def test_threads_sharing_one_budget_never_exceed_it() -> None:
    budget = RequestBudget(50)  # the real clock: the test takes far less than a minute
    granted: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        for _ in range(40):
            ok = budget.take()
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 50 and budget.available() == 0


def test_a_budget_needs_at_least_one_request() -> None:
    with pytest.raises(ValueError):
        RequestBudget(0)
