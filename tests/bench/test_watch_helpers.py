"""The lead-watcher benchmark's arithmetic (bench/watch.py)."""

from __future__ import annotations

from bench.watch import max_in_window


def test_the_most_requests_in_any_sixty_seconds() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0, 10, 59.9, 60, 61]) == 4  # 0..59.9 and 10..61 hold four each
    assert max_in_window([5.0] * 7 + [100.0]) == 7
    assert max_in_window([0, 30, 60, 90], window=60) == 2
