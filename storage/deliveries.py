"""Slack deliveries already seen, so a redelivered request does nothing twice (kept for a day).

A gesture that queues a write is recorded by that write: the outbox row carries its delivery, unique
(:meth:`storage.outbox.Outbox.add` with ``delivery=``), so the acknowledgement costs one statement.
Other gestures record it here on their own (:meth:`Deliveries.record`); :meth:`Deliveries.seen`
looks in both places. Deliveries are kept per Slack workspace (storage/tenancy.py); the day-old
ones are pruned across all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from storage.tenancy import team_key

RETENTION_SECONDS = 24 * 3600
PRUNE_EVERY = 500  # recorded deliveries between two prunes of day-old rows


def create_deliveries_table(db: Any) -> None:
    """Migration step: the ``deliveries`` table."""
    db.execute("CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)")
    db.execute("CREATE INDEX IF NOT EXISTS deliveries_seen ON deliveries (seen_at)")


def insert_delivery(db: Any, key: str, now: float) -> bool:
    """Within a write transaction: record ``key`` for the current workspace; True only the first time."""
    cursor = db.execute(
        "INSERT INTO deliveries (team_id, key, seen_at) VALUES (?, ?, ?) ON CONFLICT (team_id, key) DO NOTHING",
        [team_key(), key, now],
    )
    return bool(cursor.rowcount == 1)


class Deliveries:
    def __init__(self, store: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._since_prune = 0

    def seen(self, key: str) -> bool:
        """Whether a delivery with ``key`` was recorded, here or by the write it queued (a read: no
        write lock is taken)."""
        rows = self._store.db.execute(
            "SELECT 1 FROM deliveries WHERE team_id = ? AND key = ?"
            " UNION ALL SELECT 1 FROM outbox WHERE team_id = ? AND delivery = ? LIMIT 1",
            [team_key(), key, team_key(), key],
        ).fetchall()
        return bool(rows)

    def first_time(self, key: str) -> bool:
        """Record ``key``; True only for the first delivery that carries it."""
        return self.record(key)

    def record(self, key: str) -> bool:
        """Record ``key`` (pruning day-old rows now and then); True only the first time."""
        now = self._clock()
        with self._store.transaction() as db:
            first = insert_delivery(db, key, now)
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:
                self._since_prune = 0
                db.execute("DELETE FROM deliveries WHERE seen_at < ?", [now - RETENTION_SECONDS])
        return first
