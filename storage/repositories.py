"""Small repositories over the core tables; the only place their SQL lives.

Each returns typed, frozen rows, so callers never handle raw dicts or column names. Every row is the
current Slack workspace's (storage/tenancy.py's :func:`~storage.tenancy.team_key`): a repository
writes it into the rows it adds and reads, changes and deletes only that workspace's rows. The schema
cache is keyed by the TeleCRM workspace's id instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, TypeVar

from storage.dialect import BotStore
from storage.tenancy import team_key
from telecrm.schema import WorkspaceSchema, schema_from_json, schema_to_json

Row = TypeVar("Row")
Clock = Callable[[], float]

OPEN_PAYMENT_STATUSES = ("PENDING", "PROCESSING")


def _row(cls: type[Row], raw: dict[str, Any]) -> Row:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]  # every Row is a dataclass
    return cls(**{k: v for k, v in raw.items() if k in names})


def _first(store: BotStore, sql: str, params: Iterable[Any]) -> dict[str, Any] | None:
    rows = list(store.db.query(sql, list(params)))
    return rows[0] if rows else None


# --- lead threads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadThread:
    """The Slack message whose thread is "the lead's thread"."""

    lead_id: str
    channel: str
    ts: str
    identifier: str | None = None
    name: str | None = None
    created_by: str | None = None
    created_at: float = 0.0


class LeadThreads:
    def __init__(self, store: BotStore, *, clock: Clock = time.time) -> None:
        self._store = store
        self._clock = clock

    def remember(
        self,
        lead_id: str,
        channel: str,
        ts: str,
        *,
        identifier: str | None = None,
        name: str | None = None,
        created_by: str | None = None,
        replace: bool = False,
    ) -> LeadThread:
        """Record the lead's thread and return the one in force.

        A lead has one thread: unless ``replace`` is set, a second card posted for the same lead (a
        retried delivery, a race between two users) does not move it; the first thread is returned.
        """
        on_conflict = (
            "DO UPDATE SET channel = excluded.channel, ts = excluded.ts, identifier = excluded.identifier,"
            " name = excluded.name, created_by = excluded.created_by, created_at = excluded.created_at"
            if replace
            else "DO NOTHING"
        )
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO lead_threads (team_id, lead_id, channel, ts, identifier, name, created_by,"
                f" created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team_id, lead_id) {on_conflict}",
                [team_key(), lead_id, channel, str(ts), identifier, name, created_by, self._clock()],
            )
            raw = list(
                db.query(
                    "SELECT * FROM lead_threads WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id]
                )
            )[0]
        return _row(LeadThread, raw)

    def get(self, lead_id: str) -> LeadThread | None:
        raw = _first(
            self._store, "SELECT * FROM lead_threads WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id]
        )
        return _row(LeadThread, raw) if raw else None

    def by_message(self, channel: str, ts: str) -> LeadThread | None:
        """The lead whose thread starts at this Slack message, if the bot posted its card there."""
        raw = _first(
            self._store,
            "SELECT * FROM lead_threads WHERE team_id = ? AND channel = ? AND ts = ?",
            [team_key(), channel, str(ts)],
        )
        return _row(LeadThread, raw) if raw else None

    def rename(self, lead_id: str, name: str) -> bool:
        """The lead's current name, so every later message names it as TeleCRM does; True if it changed."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE lead_threads SET name = ? WHERE team_id = ? AND lead_id = ? AND COALESCE(name, '') != ?",
                [name, team_key(), lead_id, name],
            )
            return cursor.rowcount == 1

    def recent(self, limit: int = 10, created_by: str | None = None) -> list[LeadThread]:
        """Newest first; ``created_by`` (a Slack user id) narrows to one user's leads."""
        if created_by is None:
            rows = self._store.db.query(
                "SELECT * FROM lead_threads WHERE team_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                [team_key(), limit],
            )
        else:
            rows = self._store.db.query(
                "SELECT * FROM lead_threads WHERE team_id = ? AND created_by = ?"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                [team_key(), created_by, limit],
            )
        return [_row(LeadThread, r) for r in rows]


# --- payments --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    action_id: str
    lead_id: str
    amount: str
    currency: str
    status: str
    recorded_by: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    last_checked_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.status.upper() in OPEN_PAYMENT_STATUSES


class Payments:
    """PAYMENT actions the bot recorded, with the Slack message that shows each one."""

    def __init__(self, store: BotStore, *, clock: Clock = time.time) -> None:
        self._store = store
        self._clock = clock

    def save(
        self,
        action_id: str,
        lead_id: str,
        amount: str | Decimal | int | float,
        currency: str,
        status: str,
        *,
        recorded_by: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
        message_ts: str | None = None,
    ) -> Payment:
        """Insert, or update an existing row (keeping ``created_at`` and known Slack coordinates)."""
        now = self._clock()
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO payments (team_id, action_id, lead_id, amount, currency, status, recorded_by,"
                " channel, thread_ts, message_ts, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (team_id, action_id) DO UPDATE SET lead_id = excluded.lead_id, amount = excluded.amount,"
                " currency = excluded.currency, status = excluded.status,"
                " recorded_by = COALESCE(excluded.recorded_by, payments.recorded_by),"
                " channel = COALESCE(excluded.channel, payments.channel),"
                " thread_ts = COALESCE(excluded.thread_ts, payments.thread_ts),"
                " message_ts = COALESCE(excluded.message_ts, payments.message_ts),"
                " updated_at = excluded.updated_at",
                [
                    team_key(),
                    action_id,
                    lead_id,
                    str(amount),
                    currency,
                    status,
                    recorded_by,
                    channel,
                    None if thread_ts is None else str(thread_ts),
                    None if message_ts is None else str(message_ts),
                    now,
                    now,
                ],
            )
            raw = list(
                db.query(
                    "SELECT * FROM payments WHERE team_id = ? AND action_id = ?", [team_key(), action_id]
                )
            )[0]
        return _row(Payment, raw)

    def get(self, action_id: str) -> Payment | None:
        raw = _first(
            self._store, "SELECT * FROM payments WHERE team_id = ? AND action_id = ?", [team_key(), action_id]
        )
        return _row(Payment, raw) if raw else None

    def for_lead(self, lead_id: str) -> list[Payment]:
        rows = self._store.db.query(
            "SELECT * FROM payments WHERE team_id = ? AND lead_id = ? ORDER BY created_at",
            [team_key(), lead_id],
        )
        return [_row(Payment, r) for r in rows]

    def set_status(self, action_id: str, new_status: str, expected_old: str | None = None) -> bool:
        """Compare-and-set: True only for the call that actually changed the status.

        With ``expected_old`` the change happens only from that status; without it, only if the status
        differs. Either way a double click (or two users at once) changes it once.
        """
        with self._store.transaction() as db:
            if expected_old is None:
                cursor = db.execute(
                    "UPDATE payments SET status = ?, updated_at = ? WHERE team_id = ? AND action_id = ?"
                    " AND status != ?",
                    [new_status, self._clock(), team_key(), action_id, new_status],
                )
            else:
                cursor = db.execute(
                    "UPDATE payments SET status = ?, updated_at = ? WHERE team_id = ? AND action_id = ?"
                    " AND status = ?",
                    [new_status, self._clock(), team_key(), action_id, expected_old],
                )
            return cursor.rowcount == 1

    def set_message(
        self, action_id: str, *, channel: str, message_ts: str, thread_ts: str | None = None
    ) -> None:
        """Remember the Slack message showing the payment, so status changes can edit it in place."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE payments SET channel = ?, message_ts = ?, thread_ts = COALESCE(?, thread_ts),"
                " updated_at = ? WHERE team_id = ? AND action_id = ?",
                [channel, str(message_ts), thread_ts, self._clock(), team_key(), action_id],
            )

    def open_payments(
        self, limit: int | None = None, statuses: Iterable[str] = OPEN_PAYMENT_STATUSES
    ) -> list[Payment]:
        """Payments whose status may still change in TeleCRM, least recently checked first."""
        wanted = list(statuses)
        marks = ", ".join("?" for _ in wanted)
        sql = (
            f"SELECT * FROM payments WHERE team_id = ? AND status IN ({marks})"
            " ORDER BY COALESCE(last_checked_at, 0), created_at"
        )
        params: list[Any] = [team_key(), *wanted]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_row(Payment, r) for r in self._store.db.query(sql, params)]

    def mark_checked(self, action_id: str, at: float | None = None) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE payments SET last_checked_at = ? WHERE team_id = ? AND action_id = ?",
                [self._clock() if at is None else at, team_key(), action_id],
            )


# --- user links ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserLink:
    """A Slack user and the TeleCRM team member they act as (matched by email)."""

    slack_user_id: str
    email: str | None = None
    member_email: str | None = None
    updated_at: float = 0.0


class UserLinks:
    def __init__(self, store: BotStore, *, clock: Clock = time.time) -> None:
        self._store = store
        self._clock = clock

    def link(self, slack_user_id: str, *, email: str | None, member_email: str | None) -> UserLink:
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO user_links (team_id, slack_user_id, email, member_email, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id, slack_user_id) DO UPDATE SET email = excluded.email,"
                " member_email = excluded.member_email, updated_at = excluded.updated_at",
                [team_key(), slack_user_id, email, member_email, self._clock()],
            )
            raw = list(
                db.query(
                    "SELECT * FROM user_links WHERE team_id = ? AND slack_user_id = ?",
                    [team_key(), slack_user_id],
                )
            )[0]
        return _row(UserLink, raw)

    def get(self, slack_user_id: str) -> UserLink | None:
        raw = _first(
            self._store,
            "SELECT * FROM user_links WHERE team_id = ? AND slack_user_id = ?",
            [team_key(), slack_user_id],
        )
        return _row(UserLink, raw) if raw else None

    def by_member_email(self, member_email: str) -> list[UserLink]:
        rows = self._store.db.query(
            "SELECT * FROM user_links WHERE team_id = ? AND lower(member_email) = lower(?) ORDER BY slack_user_id",
            [team_key(), member_email.strip()],
        )
        return [_row(UserLink, r) for r in rows]

    def forget(self, slack_user_id: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "DELETE FROM user_links WHERE team_id = ? AND slack_user_id = ?", [team_key(), slack_user_id]
            )


# --- cached workspace schema -----------------------------------------------------------------------


class CachedSchemas:
    """Rows of ``schema_cache``: one serialised :class:`WorkspaceSchema` per enterprise id."""

    def __init__(self, store: BotStore) -> None:
        self._store = store

    def load(self, enterprise_id: str) -> WorkspaceSchema | None:
        raw = _first(
            self._store,
            "SELECT schema_json, fetched_at FROM schema_cache WHERE enterprise_id = ?",
            [enterprise_id],
        )
        if raw is None:
            return None
        return schema_from_json(json.loads(raw["schema_json"])).with_fetched_at(float(raw["fetched_at"]))

    def fetched_at(self, enterprise_id: str) -> float | None:
        raw = _first(
            self._store, "SELECT fetched_at FROM schema_cache WHERE enterprise_id = ?", [enterprise_id]
        )
        return None if raw is None else float(raw["fetched_at"])

    def save(self, enterprise_id: str, schema: WorkspaceSchema) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO schema_cache (enterprise_id, schema_json, fetched_at) VALUES (?, ?, ?)"
                " ON CONFLICT (enterprise_id) DO UPDATE SET schema_json = excluded.schema_json,"
                " fetched_at = excluded.fetched_at",
                [enterprise_id, json.dumps(schema_to_json(schema)), schema.fetched_at],
            )
