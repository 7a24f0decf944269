"""What ``/pipeline`` and the morning digest keep and read in SQLite.

* ``pipeline_reports``: a report shown to one person, kept so its *Share in channel* button can post
  the same numbers and chart later (a button value could not hold them), shared at most once;
* ``pipeline_digests``: one row per day whose digest was claimed, so the day is posted once across
  restarts and processes sharing the file (the claim and the queued job are one transaction);
* read-only sums over the core tables: payments recorded and completed in a period, per currency,
  and leads created from Slack (``lead_threads``).

Every row and sum is the current Slack workspace's (storage/tenancy.py); only the pruning of day-old
reports looks across workspaces.

storage/migrations.py imports this module for its tables, so, like storage/outbox.py, it imports
nothing from storage/db.py: a ``store`` here is the bot's :class:`storage.db.Store`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from storage.tenancy import team_key

Clock = Callable[[], float]
REPORT_KEEP_SECONDS = 24 * 3600  # a report's Share button works for a day, like the data it shows


def create_pipeline_tables(db: Any) -> None:
    """Migration step: shareable reports and claimed digest days."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS pipeline_reports (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            channel TEXT,
            text TEXT NOT NULL,
            blocks TEXT NOT NULL,
            created_at REAL NOT NULL,
            shared_at REAL,
            shared_by TEXT
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS pipeline_reports_created ON pipeline_reports (created_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS pipeline_digests (
            day TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            claimed_at REAL NOT NULL,
            state TEXT NOT NULL,
            message_ts TEXT,
            updated_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS payments_created ON payments (created_at)")


# --- reports ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredReport:
    id: str
    user_id: str
    channel: str | None
    text: str
    blocks: list[dict[str, Any]]
    created_at: float
    shared_at: float | None = None
    shared_by: str | None = None


class PipelineReports:
    def __init__(self, store: Any, *, clock: Clock = time.time) -> None:
        self._store = store
        self._clock = clock

    def save(
        self, report_id: str, user_id: str, channel: str | None, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        now = self._clock()
        with self._store.transaction() as db:
            # every workspace's day-old reports: their Share button no longer works
            db.execute("DELETE FROM pipeline_reports WHERE created_at < ?", [now - REPORT_KEEP_SECONDS])
            db.execute(
                "INSERT INTO pipeline_reports (team_id, id, user_id, channel, text, blocks, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team_id, id) DO UPDATE SET user_id = excluded.user_id,"
                " channel = excluded.channel, text = excluded.text, blocks = excluded.blocks,"
                " created_at = excluded.created_at, shared_at = NULL, shared_by = NULL",
                [team_key(), report_id, user_id, channel, text, json.dumps(blocks), now],
            )

    def get(self, report_id: str) -> StoredReport | None:
        rows = list(
            self._store.db.query(
                "SELECT * FROM pipeline_reports WHERE team_id = ? AND id = ?", [team_key(), report_id]
            )
        )
        if not rows or rows[0]["created_at"] < self._clock() - REPORT_KEEP_SECONDS:
            return None
        raw = dict(rows[0])
        del raw["team_id"]
        raw["blocks"] = json.loads(raw["blocks"])
        return StoredReport(**raw)

    def mark_shared(self, report_id: str, user_id: str) -> bool:
        """True for the one click that shares the report; a second click (or a second person) gets False."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE pipeline_reports SET shared_at = ?, shared_by = ? WHERE team_id = ? AND id = ?"
                " AND shared_at IS NULL",
                [self._clock(), user_id, team_key(), report_id],
            )
            return cursor.rowcount == 1

    def unmark_shared(self, report_id: str) -> None:
        """Posting failed: the report can be shared again."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE pipeline_reports SET shared_at = NULL, shared_by = NULL WHERE team_id = ? AND id = ?",
                [team_key(), report_id],
            )


# --- digest days -----------------------------------------------------------------------------------


class DigestDays:
    def __init__(self, store: Any, *, clock: Clock = time.time) -> None:
        self._store = store
        self._clock = clock

    def claim(self, day: str, channel: str) -> bool:
        """True for the one caller (of any process on this file) that claims ``day``; call inside the
        transaction that queues the digest job, so a claim never exists without its job."""
        now = self._clock()
        with self._store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO pipeline_digests (team_id, day, channel, claimed_at, state, updated_at)"
                " VALUES (?, ?, ?, ?, 'queued', ?) ON CONFLICT (team_id, day) DO NOTHING",
                [team_key(), day, channel, now, now],
            )
            return cursor.rowcount == 1

    def finish(self, day: str, state: str, message_ts: str | None = None) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE pipeline_digests SET state = ?, message_ts = COALESCE(?, message_ts), updated_at = ?"
                " WHERE team_id = ? AND day = ?",
                [state, message_ts, self._clock(), team_key(), day],
            )

    def state(self, day: str) -> str | None:
        rows = list(
            self._store.db.query(
                "SELECT state FROM pipeline_digests WHERE team_id = ? AND day = ?", [team_key(), day]
            )
        )
        return str(rows[0]["state"]) if rows else None


# --- what the bot recorded itself ------------------------------------------------------------------


@dataclass(frozen=True)
class MoneyTotal:
    currency: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class PaymentTotals:
    """Payments recorded through the bot in a period, and those that became COMPLETED in it."""

    recorded: tuple[MoneyTotal, ...]
    completed: tuple[MoneyTotal, ...]

    @property
    def empty(self) -> bool:
        return not self.recorded and not self.completed


def _totals(rows: list[dict[str, Any]]) -> tuple[MoneyTotal, ...]:
    sums: dict[str, tuple[int, Decimal]] = {}
    for row in rows:
        try:
            amount = Decimal(str(row["amount"]))
        except (InvalidOperation, ValueError):
            continue
        count, total = sums.get(row["currency"], (0, Decimal(0)))
        sums[row["currency"]] = (count + 1, total + amount)
    ordered = sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))
    return tuple(MoneyTotal(currency, count, total) for currency, (count, total) in ordered)


def payment_totals(
    store: Any, start: float, end: float, recorded_by: tuple[str, ...] | None = None
) -> PaymentTotals:
    """Per currency: payments recorded in [start, end), and payments COMPLETED in it (their status
    last changed then). ``recorded_by``: only payments these Slack users recorded."""
    who = ""
    params: list[Any] = []
    if recorded_by is not None:
        who = f" AND recorded_by IN ({','.join('?' * len(recorded_by)) or 'NULL'})"
        params = list(recorded_by)
    recorded = store.db.query(
        f"SELECT amount, currency FROM payments WHERE team_id = ? AND created_at >= ? AND created_at < ?{who}",
        [team_key(), start, end, *params],
    )
    completed = store.db.query(
        "SELECT amount, currency FROM payments WHERE team_id = ? AND status = 'COMPLETED'"
        " AND updated_at >= ? AND updated_at < ?" + who,
        [team_key(), start, end, *params],
    )
    return PaymentTotals(_totals(list(recorded)), _totals(list(completed)))


def slack_leads(store: Any, start: float, end: float, created_by: tuple[str, ...] | None = None) -> int:
    """Leads whose card the bot posted in [start, end): leads created from Slack."""
    who, params = "", []
    if created_by is not None:
        who = f" AND created_by IN ({','.join('?' * len(created_by)) or 'NULL'})"
        params = list(created_by)
    rows = list(
        store.db.query(
            f"SELECT COUNT(*) AS n FROM lead_threads WHERE team_id = ? AND created_at >= ? AND created_at < ?{who}",
            [team_key(), start, end, *params],
        )
    )
    return int(rows[0]["n"]) if rows else 0


def slack_users_of(store: Any, member_email: str) -> tuple[str, ...]:
    """Slack users linked to a TeleCRM team member (``user_links``)."""
    rows = store.db.query(
        "SELECT slack_user_id FROM user_links WHERE team_id = ? AND lower(member_email) = lower(?)",
        [team_key(), member_email],
    )
    return tuple(str(r["slack_user_id"]) for r in rows)
