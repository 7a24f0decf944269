"""Two bots (two replicas) on one PostgreSQL run each periodic task once across both, through
``Runtime.every`` as the commands schedule them; a replica that stops hands its tasks over."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Bot


def test_a_periodic_task_ticks_in_one_replica_and_moves_when_it_stops(
    make_bot: Callable[..., Bot], pg_url: str
) -> None:
    first, second = make_bot(database_url=pg_url), make_bot(database_url=pg_url)
    ran: list[str] = []
    for name, bot in (("first", first), ("second", second)):
        bot.runtime.every("tally", 60.0, lambda name=name: ran.append(name))
    first_tick, second_tick = first.runtime.periodics[-1].fn, second.runtime.periodics[-1].fn
    for _ in range(5):  # both replicas' loops come round, interleaved
        first_tick()
        second_tick()
    assert ran == ["first"] * 5

    first.runtime.stop()
    ran.clear()
    for _ in range(3):
        second_tick()
    assert ran == ["second"] * 3
