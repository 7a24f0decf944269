"""Slack deliveries already seen, so a redelivered request does nothing twice (kept for a day)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

RETENTION_SECONDS = 24 * 3600


def create_deliveries_table(db: Any) -> None:
    """Migration step: the ``deliveries`` table."""
    db.execute("CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)")
    db.execute("CREATE INDEX IF NOT EXISTS deliveries_seen ON deliveries (seen_at)")


class Deliveries:
    def __init__(self, store: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._since_prune = 0

    def first_time(self, key: str) -> bool:
        """Record ``key``; True only for the first delivery that carries it."""
        now = self._clock()
        with self._store.transaction() as db:
            cursor = db.execute("INSERT OR IGNORE INTO deliveries (key, seen_at) VALUES (?, ?)", [key, now])
            first = cursor.rowcount == 1
            self._since_prune += 1
            if self._since_prune >= 500:
                self._since_prune = 0
                db.execute("DELETE FROM deliveries WHERE seen_at < ?", [now - RETENTION_SECONDS])
        return first
