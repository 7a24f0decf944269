"""The outbox: every TeleCRM write is stored here before it is attempted.

A row is keyed by an idempotency key (the Slack delivery that asked for the write), so a redelivered
command, a re-submitted modal or a double click finds the existing row instead of adding a second
write. Rows survive restarts (and ``kill -9``).

Several processes may share one database (a restart overlapping the old process, a rolling deploy).
A row being worked on is ``running`` and *leased* to one process (``owner``) until ``lease_until``;
the owner renews the lease while it works, and only a lease that ran out — its owner died — lets
another process take the row. Every change a worker makes to a row checks that it still owns it.

Each row carries the Slack workspace that queued it (``team_id``, storage/tenancy.py's
:func:`~storage.tenancy.team_key`), written by the same statement, and its key is unique within that
workspace: the worker runs the job for it. The claim loop, lease renewal, start-up resume and the
listings of ``telecrm-bot outbox`` work across every workspace; everything else looks at the current
workspace's rows.

``progress`` holds the steps of a job that are done (e.g. "TeleCRM created lead X"), so an attempt
after a crash or a Slack failure continues after the last finished step instead of redoing it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.dialect import dialect_of
from storage.tenancy import team_key

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


def create_outbox_table(db: Any) -> None:
    """Migration step: the ``outbox`` table and its due-time index."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS outbox (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            lease_until REAL,
            last_error TEXT,
            result TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at)")


def add_outbox_leases(db: Any) -> None:
    """Migration step: who holds a running row (``owner``) and the steps a job has done (``progress``)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)").fetchall()}
    if "owner" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN owner TEXT")
    if "progress" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN progress TEXT")


def add_outbox_delivery(db: Any) -> None:
    """Migration step: the Slack delivery that asked for a row (``delivery``), unique, so the row is
    also the record that the delivery was handled (:mod:`storage.deliveries`)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)").fetchall()}
    if "delivery" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN delivery TEXT")
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS outbox_delivery ON outbox (delivery) WHERE delivery IS NOT NULL"
    )


def process_owner() -> str:
    """A name for this process's claims: unique per process, readable in `telecrm-bot outbox`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLost(Exception):
    """The row is no longer this process's: its lease ran out and another process may have it."""


@dataclass(frozen=True)
class OutboxItem:
    key: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: float
    lease_until: float | None
    last_error: str | None
    result: dict[str, Any] | None
    created_at: float
    updated_at: float
    owner: str | None = None
    progress: dict[str, Any] | None = None
    team: str = ""  # the Slack workspace that queued it ('' in single-workspace mode)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OutboxItem:
        return cls(
            key=row["key"],
            kind=row["kind"],
            payload=json.loads(row["payload"]),
            state=row["state"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            lease_until=row["lease_until"],
            last_error=row["last_error"],
            result=json.loads(row["result"]) if row["result"] else None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            owner=row.get("owner"),
            progress=json.loads(row["progress"]) if row.get("progress") else None,
            team=row.get("team_id") or "",
        )


# what Outbox.add writes; another add of the same row (a redelivery, another process) has its own
# clock reading, so these tell the row an add wrote from any other
_ADDED_COLUMNS = (
    "key",
    "kind",
    "payload",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
    "updated_at",
    "delivery",
    "team_id",
)
_ADDED_IDENTITY = ("team_id", "key", "created_at", "kind", "payload")


class Outbox:
    """Durable, idempotent queue of writes, on the bot's store, shared safely by several processes."""

    def __init__(
        self, store: Any, *, clock: Callable[[], float] = time.time, owner: str | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self.owner = owner or process_owner()

    def _row(self, db: Any, key: str, team: str) -> OutboxItem | None:
        rows = list(db.query("SELECT * FROM outbox WHERE team_id = ? AND key = ?", [team, key]))
        return OutboxItem.from_row(rows[0]) if rows else None

    def add(
        self, key: str, kind: str, payload: dict[str, Any], *, delivery: str | None = None
    ) -> tuple[OutboxItem, bool]:
        """Store a write unless one with this key, or from this delivery, exists. Returns the row and
        whether it is new.

        ``delivery``: the Slack delivery that asked for it, stored in the row (unique): the row is the
        record that the delivery was handled, so the acknowledgement costs one statement, a transaction
        of its own (:meth:`storage.db.Store.insert_new`). The row is the current workspace's."""
        now = self._clock()
        team = team_key()
        inserted = self._store.insert_new(
            "outbox",
            _ADDED_COLUMNS,
            [key, kind, json.dumps(payload), PENDING, 0, now, now, now, delivery, team],
            identity=_ADDED_IDENTITY,
        )
        if inserted:  # the row is what was just written: no need to read it back
            return OutboxItem(
                key, kind, payload, PENDING, 0, now, None, None, None, now, now, team=team
            ), True
        item = self._row(self._store.db, key, team) or self._delivered(delivery, team)
        if item is None:  # only a retention pass between the two statements could do this
            raise LookupError(f"outbox row {key} conflicted but is gone")
        return item, False

    def _delivered(self, delivery: str | None, team: str) -> OutboxItem | None:
        """The row a delivery already queued (a redelivery whose listener chose another key)."""
        if delivery is None:
            return None
        rows = list(
            self._store.db.query("SELECT * FROM outbox WHERE team_id = ? AND delivery = ?", [team, delivery])
        )
        return OutboxItem.from_row(rows[0]) if rows else None

    def get(self, key: str) -> OutboxItem | None:
        """The current workspace's row ``key``."""
        return self._row(self._store.db, key, team_key())

    def claim(self, *, lease_seconds: float = 120.0) -> OutboxItem | None:
        """Take the oldest due row of any workspace, or one whose owner's lease ran out, and lease it
        to this process (the item says its workspace: :attr:`OutboxItem.team`).

        A row another process holds under a live lease is never taken, however long it has run. On
        PostgreSQL the row is read ``FOR UPDATE SKIP LOCKED``: a row another replica is claiming at
        this moment is passed over, neither waited for nor taken twice.
        """
        now = self._clock()
        with self._store.transaction() as db:
            rows = list(
                db.query(
                    "SELECT team_id, key FROM outbox WHERE (state = ? AND next_attempt_at <= ?)"
                    " OR (state = ? AND lease_until < ?) ORDER BY next_attempt_at, created_at LIMIT 1"
                    + dialect_of(self._store).skip_locked,
                    [PENDING, now, RUNNING, now],
                )
            )
            if not rows:
                return None
            team, key = rows[0]["team_id"], rows[0]["key"]
            db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, owner = ?, lease_until = ?, updated_at = ?"
                " WHERE team_id = ? AND key = ?",
                [RUNNING, self.owner, now + lease_seconds, now, team, key],
            )
            return self._row(db, key, team)

    def renew(self, *, lease_seconds: float) -> int:
        """Extend the lease of every row this process is working on, whatever its workspace; returns
        how many."""
        now = self._clock()
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE outbox SET lease_until = ? WHERE state = ? AND owner = ?",
                [now + lease_seconds, RUNNING, self.owner],
            )
            return cursor.rowcount

    def checkpoint(self, key: str, step: str, value: Any, *, team: str | None = None) -> None:
        """Record that ``step`` of the job is done (with what it produced), durably, before going on.

        ``team``: the row's workspace (the current one when not given)."""
        team = team_key() if team is None else team
        with self._store.transaction() as db:
            rows = list(
                db.query(
                    "SELECT progress FROM outbox WHERE team_id = ? AND key = ? AND state = ? AND owner = ?"
                    + dialect_of(self._store).lock_rows,
                    [team, key, RUNNING, self.owner],
                )
            )
            if not rows:
                raise LeaseLost(key)
            progress = json.loads(rows[0]["progress"]) if rows[0]["progress"] else {}
            progress[step] = value
            db.execute(
                "UPDATE outbox SET progress = ?, updated_at = ? WHERE team_id = ? AND key = ?",
                [json.dumps(progress), self._clock(), team, key],
            )

    def next_due_at(self) -> float | None:
        """When the next row of any workspace is due (the worker's loop serves them all)."""
        rows = list(
            self._store.db.query(
                "SELECT MIN(CASE WHEN state = ? THEN next_attempt_at ELSE lease_until END) AS due"
                " FROM outbox WHERE state IN (?, ?)",
                [PENDING, PENDING, RUNNING],
            )
        )
        return rows[0]["due"] if rows and rows[0]["due"] is not None else None

    def _finish(
        self, key: str, state: str, *, error: str | None, result: dict[str, Any] | None, at: float
    ) -> bool:
        """Move a row of the current workspace this process holds to ``state``; False (and nothing
        changed) when it lost the row."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, result = ?, next_attempt_at = ?, lease_until = NULL,"
                " owner = NULL, updated_at = ? WHERE team_id = ? AND key = ? AND state = ? AND owner = ?",
                [
                    state,
                    error,
                    json.dumps(result) if result is not None else None,
                    at,
                    self._clock(),
                    team_key(),
                    key,
                    RUNNING,
                    self.owner,
                ],
            )
            return cursor.rowcount == 1

    def succeed(self, key: str, result: dict[str, Any] | None = None) -> bool:
        return self._finish(key, DONE, error=None, result=result or {}, at=self._clock())

    def retry_at(self, key: str, when: float, error: str) -> bool:
        return self._finish(key, PENDING, error=error, result=None, at=when)

    def give_up(self, key: str, error: str, result: dict[str, Any] | None = None) -> bool:
        return self._finish(key, FAILED, error=error, result=result, at=self._clock())

    def resume_waiting(self) -> int:
        """At start-up, rows waiting for a retry, of every workspace, become due at once (the restart
        was the wait).

        Rows another process is running are left alone: they are its own until its lease runs out.
        """
        now = self._clock()
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE state = ? AND next_attempt_at > ?",
                [now, PENDING, now],
            )
            return cursor.rowcount

    # the listings below are the operator's (telecrm-bot outbox): every workspace's rows
    def pending(self) -> list[OutboxItem]:
        rows = self._store.db.query(
            "SELECT * FROM outbox WHERE state IN (?, ?) ORDER BY created_at", [PENDING, RUNNING]
        )
        return [OutboxItem.from_row(r) for r in rows]

    def recent(self, limit: int = 50) -> list[OutboxItem]:
        rows = self._store.db.query("SELECT * FROM outbox ORDER BY updated_at DESC LIMIT ?", [limit])
        return [OutboxItem.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._store.db.query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: r["n"] for r in rows}
