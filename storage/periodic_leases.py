"""Periodic work that must run once across the fleet: a lease per task name.

Several replicas of the bot share one database (PostgreSQL, or several processes on one SQLite file).
Each runs the same periodic tasks (watchers, reminders, the lead index mirror, retention, the
digest); without coordination each tick would run once per replica — a reminder posted twice, a
watcher spending the Async rate budget twice. A replica runs a tick only when it holds the task's
lease or takes one that has run out (:meth:`PeriodicLeases.take`, one portable statement); a replica
that dies simply stops renewing, and another takes over once the lease has run out. A graceful stop
hands the leases back at once (:meth:`PeriodicLeases.release`).
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

# A lease outlives the holder's next tick by this margin, so a slow tick does not let another replica
# in while the holder is still renewing on schedule.
LEASE_MARGIN_SECONDS = 30.0

_TAKE = (
    "INSERT INTO periodic_leases (name, owner, lease_until) VALUES (?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until"
    " WHERE periodic_leases.lease_until < ? OR periodic_leases.owner = excluded.owner"
)


def create_periodic_leases_table(db: Any) -> None:
    """Migration step (SQLite and PostgreSQL alike): who runs each periodic task, and until when."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS periodic_leases"
        " (name TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until DOUBLE PRECISION NOT NULL)"
    )


def new_owner() -> str:
    """A name for this process among the replicas: readable in the table, unique per start."""
    return f"{socket.gethostname()[:40]}-{secrets.token_hex(4)}"


def lease_seconds(interval: float) -> float:
    """How long a tick's lease lasts: past the holder's next tick, with a margin."""
    return interval + max(interval, LEASE_MARGIN_SECONDS)


class PeriodicLeases:
    def __init__(
        self, store: Any, *, owner: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self.owner = owner or new_owner()
        self._clock = clock

    def take(self, name: str, seconds: float) -> bool:
        """Hold ``name`` for ``seconds`` more if this replica holds it or nobody's lease is current;
        True when this replica is to run the tick."""
        now = self._clock()
        with self._store.transaction() as db:
            cursor = db.execute(_TAKE, [name, self.owner, now + seconds, now])
        return bool(cursor.rowcount == 1)

    def release(self) -> None:
        """Give back every lease this replica holds (a graceful stop: the others need not wait)."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM periodic_leases WHERE owner = ?", [self.owner])

    def holder(self, name: str) -> str | None:
        """Who holds ``name`` now (for /healthz and tests)."""
        now = self._clock()
        row = self._store.db.execute(
            "SELECT owner FROM periodic_leases WHERE name = ? AND lease_until >= ?", [name, now]
        ).fetchone()
        return None if row is None else str(row[0])
