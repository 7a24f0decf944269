"""Follow-up reminders: one row per lead whose follow-up date is known, the only place their SQL lives.

A row says when the lead is to be followed up (``follow_up_at``, the lead's date as TeleCRM holds it),
when its person is reminded (``remind_at``: the same moment, or later once they snoozed it), who that
person is (a Slack user id, and the lead's assignee's TeleCRM email, whose Slack account is looked
for again when the reminder is sent), and where the reminder is in its life:

* ``pending`` — waiting for ``remind_at``;
* ``sent`` — claimed by :meth:`FollowUps.claim`, which flips it in the same transaction that queues the
  DM (so a reminder is queued once, however many processes look at the same time);
* ``done`` — the person pressed *Done*.

``version`` grows with every change of time (a new date, a snooze), so a reminder job and a button
that belong to an earlier version can tell they are out of date. Rows are the current Slack
workspace's (storage/tenancy.py): the reminder pass runs once per workspace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.tenancy import team_key

PENDING = "pending"
SENT = "sent"
DONE = "done"


def create_follow_ups_table(db: Any) -> None:
    """Migration step: the ``follow_ups`` table and its due-time index."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS follow_ups (
            lead_id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            assignee TEXT,
            field TEXT NOT NULL,
            follow_up_at REAL NOT NULL,
            remind_at REAL NOT NULL,
            state TEXT NOT NULL,
            version INTEGER NOT NULL,
            name TEXT,
            updated_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS follow_ups_due ON follow_ups (state, remind_at)")


@dataclass(frozen=True)
class FollowUp:
    lead_id: str
    user_id: str
    assignee: str | None
    field: str
    follow_up_at: float
    remind_at: float
    state: str
    version: int
    name: str | None = None
    updated_at: float = 0.0


def _row(raw: dict[str, Any]) -> FollowUp:
    return FollowUp(**{k: raw[k] for k in FollowUp.__dataclass_fields__ if k in raw})


class FollowUps:
    def __init__(self, store: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def get(self, lead_id: str) -> FollowUp | None:
        rows = list(
            self._store.db.query(
                "SELECT * FROM follow_ups WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id]
            )
        )
        return _row(rows[0]) if rows else None

    def arm(
        self,
        lead_id: str,
        *,
        user_id: str,
        assignee: str | None,
        field: str,
        follow_up_at: float,
        remind_at: float,
        name: str | None,
    ) -> FollowUp:
        """A new follow-up time for the lead: pending again, at ``remind_at``, as a new version."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO follow_ups (team_id, lead_id, user_id, assignee, field, follow_up_at, remind_at,"
                " state, version, name, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
                " ON CONFLICT (team_id, lead_id) DO UPDATE SET user_id = excluded.user_id, assignee = excluded.assignee,"
                " field = excluded.field, follow_up_at = excluded.follow_up_at, remind_at = excluded.remind_at,"
                " state = excluded.state, version = follow_ups.version + 1,"
                " name = COALESCE(excluded.name, follow_ups.name), updated_at = excluded.updated_at",
                [
                    team_key(),
                    lead_id,
                    user_id,
                    assignee,
                    field,
                    follow_up_at,
                    remind_at,
                    PENDING,
                    name,
                    self._clock(),
                ],
            )
            raw = list(
                db.query("SELECT * FROM follow_ups WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id])
            )[0]
        return _row(raw)

    def reassign(self, lead_id: str, user_id: str, assignee: str | None, name: str | None = None) -> None:
        """Someone else is to be reminded (the lead changed hands, or their Slack account was found);
        the time stays."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE follow_ups SET user_id = ?, assignee = ?, name = COALESCE(?, name), updated_at = ?"
                " WHERE team_id = ? AND lead_id = ?",
                [user_id, assignee, name, self._clock(), team_key(), lead_id],
            )

    def forget(self, lead_id: str) -> bool:
        """No follow-up any more (the date was cleared, or lies too far in the past)."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "DELETE FROM follow_ups WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id]
            )
            return bool(cursor.rowcount == 1)

    def due(self, now: float, limit: int = 100) -> list[FollowUp]:
        """Pending reminders whose time has come, the earliest first."""
        rows = self._store.db.query(
            "SELECT * FROM follow_ups WHERE team_id = ? AND state = ? AND remind_at <= ? ORDER BY remind_at LIMIT ?",
            [team_key(), PENDING, now, limit],
        )
        return [_row(r) for r in rows]

    def claim(self, lead_id: str, version: int) -> bool:
        """``pending`` → ``sent`` for that version: True for the one caller that moved it."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE follow_ups SET state = ?, updated_at = ? WHERE team_id = ? AND lead_id = ? AND version = ?"
                " AND state = ?",
                [SENT, self._clock(), team_key(), lead_id, version, PENDING],
            )
            return cursor.rowcount == 1

    def done(self, lead_id: str, version: int) -> bool:
        """*Done*: no more reminders for this follow-up (a new date arms it again)."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE follow_ups SET state = ?, updated_at = ? WHERE team_id = ? AND lead_id = ? AND version = ?",
                [DONE, self._clock(), team_key(), lead_id, version],
            )
            return cursor.rowcount == 1

    def snooze(self, lead_id: str, version: int, remind_at: float) -> FollowUp | None:
        """Remind again at ``remind_at`` (a new version); ``None`` when the reminder has moved on."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE follow_ups SET remind_at = ?, state = ?, version = version + 1, updated_at = ?"
                " WHERE team_id = ? AND lead_id = ? AND version = ?",
                [remind_at, PENDING, self._clock(), team_key(), lead_id, version],
            )
            if cursor.rowcount != 1:
                return None
            raw = list(
                db.query("SELECT * FROM follow_ups WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id])
            )[0]
        return _row(raw)
