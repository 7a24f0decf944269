"""Sending an import's rows through the Async API: who is sending it, which request is in flight, and
the pace every process keeps together (migration 13).

Three tables, next to ``imports`` / ``import_rows`` (storage/imports.py, which they never rewrite):

* ``import_senders`` — one row per import being sent: the process holding it (``owner``) until
  ``lease_until``, renewed while it works, so two processes (or a *Resume* racing the old run) never
  send the same import at once; ``sending_since`` is when the first request went out (ETA, rate, and
  "created or updated" in the summary);
* ``import_row_attempts`` — written (committed) *before* a row's request goes out and removed in the
  same transaction that marks the row ``sent``. A row still ``ready`` with an attempt recorded is one
  whose outcome is unknown (the process died, or the answer was lost): the sender reconciles it
  before sending it again (kit/imports/sending.py);
* ``import_row_checks`` — what reading a row back found: the lead's id and whether the import created
  it (its ``created_on`` after sending began) or updated it, so a restart mid-verify keeps the counts;
* ``async_pacing`` — the shared token bucket of Async requests (kit/imports/pacing.py): when the next
  request may go, so a process taking over keeps the pace of the one that died.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.dialect import dialect_of
from storage.tenancy import team_key

REFUSED = "refused"  # an import row TeleCRM refused (a 4xx other than 401/429): never resent


def create_import_sending_tables(db: Any) -> None:
    """Migration step: ``import_senders``, ``import_row_attempts``, ``async_pacing``, ``import_row_checks``."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS import_senders (
            import_id TEXT PRIMARY KEY,
            owner TEXT,
            lease_until REAL,
            sending_since REAL,
            note TEXT  -- the outbox job that posts the summary (claim_summary)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS import_row_attempts (
            import_id TEXT NOT NULL,
            row_no INTEGER NOT NULL,
            sent_at REAL NOT NULL,
            PRIMARY KEY (import_id, row_no)
        )
        """
    )
    db.execute("CREATE TABLE IF NOT EXISTS async_pacing (name TEXT PRIMARY KEY, next_at REAL NOT NULL)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS import_row_checks (
            import_id TEXT NOT NULL,
            row_no INTEGER NOT NULL,
            lead_id TEXT,
            created INTEGER,
            PRIMARY KEY (import_id, row_no)
        )
        """
    )


@dataclass(frozen=True)
class UnknownAttempt:
    """A row whose request may have reached TeleCRM: sent at ``sent_at``, never marked."""

    row_no: int
    sent_at: float


class ImportSending:
    """The only place the sending tables' SQL lives; every row is the current Slack workspace's (its
    imports, and the pace of its own TeleCRM's Async API)."""

    def __init__(self, store: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    # -- who sends an import ------------------------------------------------------------------------
    def claim(self, import_id: str, owner: str, *, lease_seconds: float) -> bool:
        """Hold the import for ``owner`` (free, already its own, or its holder's lease ran out)."""
        now = self._clock()
        with self._store.transaction() as db:
            _ensure_sender(db, import_id)
            cursor = db.execute(
                "UPDATE import_senders SET owner = ?, lease_until = ? WHERE team_id = ? AND import_id = ?"
                " AND (owner IS NULL OR owner = ? OR lease_until < ?)",
                [owner, now + lease_seconds, team_key(), import_id, owner, now],
            )
            return cursor.rowcount == 1

    def renew(self, import_id: str, owner: str, *, lease_seconds: float) -> bool:
        """Extend the hold; False when ``owner`` no longer holds the import (it must stop)."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE import_senders SET lease_until = ? WHERE team_id = ? AND import_id = ? AND owner = ?",
                [self._clock() + lease_seconds, team_key(), import_id, owner],
            )
            return cursor.rowcount == 1

    def release(self, import_id: str, owner: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE import_senders SET owner = NULL, lease_until = NULL WHERE team_id = ? AND import_id = ?"
                " AND owner = ?",
                [team_key(), import_id, owner],
            )

    def sending_since(self, import_id: str) -> float | None:
        rows = list(
            self._store.db.query(
                "SELECT sending_since FROM import_senders WHERE team_id = ? AND import_id = ?",
                [team_key(), import_id],
            )
        )
        return rows[0]["sending_since"] if rows else None

    def mark_started(self, import_id: str) -> float:
        """When sending began (set once; later runs keep the first)."""
        now = self._clock()
        with self._store.transaction() as db:
            _ensure_sender(db, import_id)
            db.execute(
                "UPDATE import_senders SET sending_since = COALESCE(sending_since, ?)"
                " WHERE team_id = ? AND import_id = ?",
                [now, team_key(), import_id],
            )
        since = self.sending_since(import_id)
        return since if since is not None else now

    def claim_summary(self, import_id: str, by: str) -> bool:
        """Whether ``by`` (an outbox job's key) is the one to post the import's summary: the first to
        ask, or the same one again (its retry). A *Resume* that raced the run never posts a second."""
        with self._store.transaction() as db:
            _ensure_sender(db, import_id)
            cursor = db.execute(
                "UPDATE import_senders SET note = ? WHERE team_id = ? AND import_id = ?"
                " AND (note IS NULL OR note = ?)",
                [by, team_key(), import_id, by],
            )
            return cursor.rowcount == 1

    # -- one row's request ----------------------------------------------------------------------------
    def begin_row(self, import_id: str, row_no: int) -> None:
        """Record, durably, that the row's request is about to go out."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO import_row_attempts (team_id, import_id, row_no, sent_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (team_id, import_id, row_no) DO UPDATE SET sent_at = excluded.sent_at",
                [team_key(), import_id, row_no, self._clock()],
            )

    def finish_row(self, import_id: str, row_no: int, *, to: str) -> None:
        """The row's outcome is known: move it (from ``ready`` only) and forget the attempt, together."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE import_rows SET state = ?, updated_at = ? WHERE team_id = ? AND import_id = ?"
                " AND row_no = ? AND state = 'ready'",
                [to, self._clock(), team_key(), import_id, row_no],
            )
            _forget_attempt(db, import_id, row_no)

    def forget_attempt(self, import_id: str, row_no: int) -> None:
        """The request was refused before TeleCRM took it (429): the row is simply still ready."""
        with self._store.transaction() as db:
            _forget_attempt(db, import_id, row_no)

    def unknown_attempts(self, import_id: str) -> list[UnknownAttempt]:
        """Rows still ``ready`` whose request may have been sent (file order)."""
        rows = self._store.db.query(
            "SELECT a.row_no, a.sent_at FROM import_row_attempts a JOIN import_rows r"
            " ON r.team_id = a.team_id AND r.import_id = a.import_id AND r.row_no = a.row_no"
            " WHERE a.team_id = ? AND a.import_id = ? AND r.state = 'ready' ORDER BY a.row_no",
            [team_key(), import_id],
        )
        return [UnknownAttempt(raw["row_no"], raw["sent_at"]) for raw in rows]

    # -- the shared pace ----------------------------------------------------------------------------
    def take_turn(self, name: str, *, interval: float) -> float:
        """A turn of the shared bucket: 0 when the caller may send now (and the next turn moves
        ``interval`` on), else the seconds to wait before asking again (nothing taken)."""
        now, team = self._clock(), team_key()
        with self._store.transaction() as db:
            # the row first, so that the read below can lock it: one turn at a time across processes
            db.execute(
                "INSERT INTO async_pacing (team_id, name, next_at) VALUES (?, ?, ?)"
                " ON CONFLICT (team_id, name) DO NOTHING",
                [team, name, now],
            )
            lock = dialect_of(self._store).lock_rows
            next_at = list(
                db.query(
                    f"SELECT next_at FROM async_pacing WHERE team_id = ? AND name = ?{lock}", [team, name]
                )
            )[0]["next_at"]
            if next_at > now:
                return next_at - now
            db.execute(
                "UPDATE async_pacing SET next_at = ? WHERE team_id = ? AND name = ?",
                [max(next_at, now - interval) + interval, team, name],
            )
            return 0.0

    def hold_off(self, name: str, *, until: float) -> None:
        """Nobody sends before ``until`` (a 429's ``Retry-After``)."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO async_pacing (team_id, name, next_at) VALUES (?, ?, ?)"
                " ON CONFLICT (team_id, name) DO UPDATE SET next_at = CASE"
                " WHEN excluded.next_at > async_pacing.next_at THEN excluded.next_at ELSE async_pacing.next_at END",
                [team_key(), name, until],
            )

    # -- reading rows back --------------------------------------------------------------------------
    def sent_row_numbers(self, import_id: str) -> list[int]:
        """Every row that was sent (whatever reading it back found since), in file order."""
        rows = self._store.db.query(
            "SELECT row_no FROM import_rows WHERE team_id = ? AND import_id = ?"
            " AND state IN ('sent', 'verified', 'missing') ORDER BY row_no",
            [team_key(), import_id],
        )
        return [raw["row_no"] for raw in rows]

    def record_checks(self, import_id: str, found: dict[int, tuple[str | None, bool | None]]) -> None:
        """Rows read back: row → (lead id, created by this import?); each row moves to ``verified``."""
        now, team = self._clock(), team_key()
        with self._store.transaction() as db:
            db.conn.executemany(
                "INSERT INTO import_row_checks (team_id, import_id, row_no, lead_id, created) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (team_id, import_id, row_no) DO UPDATE SET lead_id = excluded.lead_id,"
                " created = excluded.created",
                [
                    (team, import_id, n, lead_id, None if created is None else int(created))
                    for n, (lead_id, created) in found.items()
                ],
            )
            db.conn.executemany(
                "UPDATE import_rows SET state = 'verified', updated_at = ? WHERE team_id = ? AND import_id = ?"
                " AND row_no = ?",
                [(now, team, import_id, n) for n in found],
            )

    def created_updated(self, import_id: str) -> tuple[int, int]:
        """(rows whose lead this import created, rows whose lead existed before)."""
        rows = list(
            self._store.db.query(
                "SELECT SUM(CASE WHEN created = 1 THEN 1 ELSE 0 END) AS created,"
                " SUM(CASE WHEN created = 0 THEN 1 ELSE 0 END) AS updated FROM import_row_checks"
                " WHERE team_id = ? AND import_id = ?",
                [team_key(), import_id],
            )
        )
        return (rows[0]["created"] or 0, rows[0]["updated"] or 0) if rows else (0, 0)


def _ensure_sender(db: Any, import_id: str) -> None:
    db.execute(
        "INSERT INTO import_senders (team_id, import_id) VALUES (?, ?) ON CONFLICT (team_id, import_id) DO NOTHING",
        [team_key(), import_id],
    )


def _forget_attempt(db: Any, import_id: str, row_no: int) -> None:
    db.execute(
        "DELETE FROM import_row_attempts WHERE team_id = ? AND import_id = ? AND row_no = ?",
        [team_key(), import_id, row_no],
    )
