"""Outbox claims under contention: several processes take rows from one queue of ready writes with
the real :meth:`storage.outbox.Outbox.claim`, as the workers of several replicas do.

Each claimer is a process of its own (its own store, connection pool and owner name, like a replica)
and claims until the queue is empty. Every claim's time is recorded; the keys claimed by all of them
together show whether any row was taken twice.
"""

from __future__ import annotations

import collections
import multiprocessing
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bench.stats import Latency
from storage.outbox import Outbox
from storage.stores import open_store

KIND = "bench_claim"


def claimed_twice(keys: Iterable[str]) -> int:
    """How many claims took a row some other claim had already taken (0 when each row went once)."""
    return sum(count - 1 for count in collections.Counter(keys).values() if count > 1)


@dataclass(frozen=True)
class ClaimRun:
    """What the claimers of one run saw together."""

    claimers: int
    rows: int
    latency: Latency  # of one claim that took a row
    wall: float  # first claim started → last claim finished
    claimed: int
    twice: int
    busiest: int  # rows the claimer that took the most took: how evenly the claims were shared

    @property
    def rows_per_second(self) -> float:
        return self.claimed / self.wall if self.wall > 0 else 0.0


def fill_queue(database_url: str, rows: int) -> None:
    """``rows`` writes due now, in a fresh store (opening it migrates the database)."""
    store = open_store(database_url)
    try:
        outbox = Outbox(store)
        for i in range(rows):
            outbox.add(f"bench-claim-{i:06d}", KIND, {"n": i})
    finally:
        store.close()


def _claimer(database_url: str, start: Any, results: Any) -> None:
    """One claimer process: open the store, wait for the others, claim until nothing is left."""
    store = open_store(database_url)
    outbox = Outbox(store)
    keys: list[str] = []
    took: list[float] = []
    start.wait()
    began = time.monotonic()
    while True:
        t0 = time.perf_counter()
        item = outbox.claim(lease_seconds=600)
        if item is None:
            break
        took.append(time.perf_counter() - t0)
        keys.append(item.key)
    results.put((keys, took, began, time.monotonic()))
    store.close()


def measure(database_url: str, *, claimers: int, rows: int) -> ClaimRun:
    """Fill a queue of ``rows`` ready writes, then let ``claimers`` processes empty it at once."""
    fill_queue(database_url, rows)
    context = multiprocessing.get_context("spawn")  # a clean interpreter, like a replica's
    start = context.Barrier(claimers)
    results = context.Queue()
    processes = [
        context.Process(target=_claimer, args=(database_url, start, results), daemon=True)
        for _ in range(claimers)
    ]
    for p in processes:
        p.start()
    gathered = [results.get(timeout=600) for _ in processes]
    for p in processes:
        p.join(30)
    keys = [k for got in gathered for k in got[0]]
    took = [t for got in gathered for t in got[1]]
    wall = max(got[3] for got in gathered) - min(got[2] for got in gathered)
    if not took:
        raise RuntimeError("no claimer took a row")
    busiest = max(len(got[0]) for got in gathered)
    return ClaimRun(claimers, rows, Latency.of(took), wall, len(keys), claimed_twice(keys), busiest)
