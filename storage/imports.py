"""Bulk imports: one row per file a person (or an operator) asked to import, and one per valid row.

An import lives through these states, each change a compare-and-set so two processes (or a double
click) never both move it:

* ``preview`` — the file was read and checked; the preview is in Slack (or on the terminal), and
  nothing has been sent. The mapping can still change, which replaces the import's rows.
* ``sending`` — *Import N valid rows* was pressed: the rows are being sent through the Async API.
* ``paused`` — *Pause*: sending stops after the request in flight; *Resume* goes back to ``sending``.
* ``verifying`` — everything was sent; leads are being read back through the Sync API.
* ``done`` — the summary was posted.
* ``cancelled`` — *Cancel* before or during sending; rows not sent stay unsent.

``import_rows`` holds only the rows that passed the checks, each as the Async request body it becomes
(``body``, JSON) with the lead's identifier (phone or email) used to read it back; a row's ``state``
moves ``ready`` → ``sent`` → ``verified`` or ``missing``. Rows that failed a check are not stored:
they are reported (counts per problem in ``problems``, and a CSV of them uploaded to the thread).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from storage.dialect import dialect_of
from storage.tenancy import team_key

PREVIEW = "preview"
SENDING = "sending"
PAUSED = "paused"
VERIFYING = "verifying"
DONE = "done"
CANCELLED = "cancelled"
IMPORT_STATES = (PREVIEW, SENDING, PAUSED, VERIFYING, DONE, CANCELLED)

READY = "ready"
SENT = "sent"
VERIFIED = "verified"
MISSING = "missing"
ROW_STATES = (READY, SENT, VERIFIED, MISSING)

_ROW_BATCH = 1000  # rows written per executemany: bounded memory for a 200,000-row file


def create_import_tables(db: Any) -> None:
    """Migration step: the ``imports`` and ``import_rows`` tables."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS imports (
            id TEXT PRIMARY KEY,
            file_sha256 TEXT NOT NULL,
            file_name TEXT NOT NULL,
            file_id TEXT,
            source TEXT NOT NULL,
            user_id TEXT,
            channel TEXT,
            thread_ts TEXT,
            progress_ts TEXT,
            mapping TEXT NOT NULL,
            on_existing TEXT NOT NULL,
            state TEXT NOT NULL,
            total_rows INTEGER NOT NULL,
            valid_rows INTEGER NOT NULL,
            problem_rows INTEGER NOT NULL,
            problems TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS imports_file ON imports (file_sha256)")
    db.execute("CREATE INDEX IF NOT EXISTS imports_state ON imports (state)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS import_rows (
            import_id TEXT NOT NULL,
            row_no INTEGER NOT NULL,
            identifier TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (import_id, row_no)
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS import_rows_state ON import_rows (import_id, state, row_no)")


@dataclass(frozen=True)
class ImportRecord:
    """One import as stored. ``mapping`` is column header → target (a field's API name, or a
    ``payment.*`` / ``action:<code>.<field>`` target, or ``None`` for a column left out);
    ``problems`` is problem → number of rows with it."""

    id: str
    file_sha256: str
    file_name: str
    source: str
    mapping: dict[str, str | None]
    on_existing: str
    state: str
    total_rows: int
    valid_rows: int
    problem_rows: int
    problems: dict[str, int]
    created_at: float
    updated_at: float
    file_id: str | None = None
    user_id: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    progress_ts: str | None = None


@dataclass(frozen=True)
class ImportRow:
    import_id: str
    row_no: int
    identifier: str
    body: dict[str, Any]
    state: str


@dataclass(frozen=True)
class CheckedRow:
    """A row that passed the checks, as the preview hands it to :meth:`Imports.replace_rows`."""

    row_no: int
    identifier: str
    body: dict[str, Any]


def _record(raw: dict[str, Any]) -> ImportRecord:
    values = {k: raw[k] for k in ImportRecord.__dataclass_fields__ if k in raw}
    values["mapping"] = json.loads(raw["mapping"])
    values["problems"] = json.loads(raw["problems"])
    return ImportRecord(**values)


def _import_row(raw: dict[str, Any]) -> ImportRow:
    return ImportRow(
        raw["import_id"], raw["row_no"], raw["identifier"], json.loads(raw["body"]), raw["state"]
    )


class Imports:
    """The only place the imports' SQL lives; every import is the current Slack workspace's."""

    def __init__(self, store: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def create(
        self,
        *,
        file_sha256: str,
        file_name: str,
        source: str,
        on_existing: str,
        file_id: str | None = None,
        user_id: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> ImportRecord:
        """A new import in ``preview``, with no rows yet."""
        now = self._clock()
        import_id = "imp-" + secrets.token_hex(6)
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO imports (team_id, id, file_sha256, file_name, file_id, source, user_id, channel,"
                " thread_ts, mapping, on_existing, state, total_rows, valid_rows, problem_rows, problems,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, 0, 0, 0, '{}', ?, ?)",
                [
                    team_key(),
                    import_id,
                    file_sha256,
                    file_name,
                    file_id,
                    source,
                    user_id,
                    channel,
                    thread_ts,
                    on_existing,
                    PREVIEW,
                    now,
                    now,
                ],
            )
        found = self.get(import_id)
        assert found is not None  # just inserted
        return found

    def get(self, import_id: str) -> ImportRecord | None:
        rows = list(
            self._store.db.query(
                "SELECT * FROM imports WHERE team_id = ? AND id = ?", [team_key(), import_id]
            )
        )
        return _record(rows[0]) if rows else None

    def with_file(self, file_sha256: str) -> list[ImportRecord]:
        """Earlier imports of the same bytes that were not cancelled, newest first."""
        rows = self._store.db.query(
            "SELECT * FROM imports WHERE team_id = ? AND file_sha256 = ? AND state != ? ORDER BY created_at DESC",
            [team_key(), file_sha256, CANCELLED],
        )
        return [_record(raw) for raw in rows]

    def in_state(self, *states: str) -> list[ImportRecord]:
        marks = ", ".join("?" for _ in states)
        rows = self._store.db.query(
            f"SELECT * FROM imports WHERE team_id = ? AND state IN ({marks}) ORDER BY created_at",
            [team_key(), *states],
        )
        return [_record(raw) for raw in rows]

    def replace_rows(
        self,
        import_id: str,
        *,
        mapping: dict[str, str | None],
        total_rows: int,
        problems: dict[str, int],
        problem_rows: int,
        rows: Iterable[CheckedRow],
    ) -> bool:
        """Store the outcome of checking the file under ``mapping``, replacing any earlier one.

        Only while the import is in ``preview`` (False otherwise, and nothing changes): once sending
        has started, its rows are what was confirmed. ``rows`` is consumed in batches, so a large file
        is never held in memory as a whole.
        """
        now = self._clock()
        team = team_key()
        with self._store.transaction() as db:
            lock = dialect_of(self._store).lock_rows
            state = list(
                db.query(f"SELECT state FROM imports WHERE team_id = ? AND id = ?{lock}", [team, import_id])
            )
            if not state or state[0]["state"] != PREVIEW:
                return False
            db.execute("DELETE FROM import_rows WHERE team_id = ? AND import_id = ?", [team, import_id])
            valid = 0
            for batch in _batches(rows, _ROW_BATCH):
                db.conn.executemany(
                    "INSERT INTO import_rows (team_id, import_id, row_no, identifier, body, state, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (team, import_id, r.row_no, r.identifier, json.dumps(r.body), READY, now)
                        for r in batch
                    ],
                )
                valid += len(batch)
            db.execute(
                "UPDATE imports SET mapping = ?, total_rows = ?, valid_rows = ?, problem_rows = ?, problems = ?,"
                " updated_at = ? WHERE team_id = ? AND id = ?",
                [
                    json.dumps(mapping),
                    total_rows,
                    valid,
                    problem_rows,
                    json.dumps(problems),
                    now,
                    team,
                    import_id,
                ],
            )
        return True

    def move(self, import_id: str, *, to: str, only_from: Iterable[str]) -> bool:
        """Compare-and-set the import's state; False when it was not in one of ``only_from``."""
        sources = list(only_from)
        marks = ", ".join("?" for _ in sources)
        with self._store.transaction() as db:
            cursor = db.execute(
                f"UPDATE imports SET state = ?, updated_at = ? WHERE team_id = ? AND id = ? AND state IN ({marks})",
                [to, self._clock(), team_key(), import_id, *sources],
            )
            return bool(cursor.rowcount)

    def set_thread(
        self, import_id: str, *, channel: str, thread_ts: str, progress_ts: str | None = None
    ) -> None:
        """Where the import's thread is (and its progress message, once posted)."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE imports SET channel = ?, thread_ts = ?, progress_ts = COALESCE(?, progress_ts),"
                " updated_at = ? WHERE team_id = ? AND id = ?",
                [channel, thread_ts, progress_ts, self._clock(), team_key(), import_id],
            )

    def rows(
        self, import_id: str, *, state: str | None = None, after: int = 0, limit: int = 500
    ) -> list[ImportRow]:
        """The import's rows in file order, ``limit`` at a time after row ``after`` (for paging)."""
        where, params = "team_id = ? AND import_id = ? AND row_no > ?", [team_key(), import_id, after]
        if state is not None:
            where += " AND state = ?"
            params.append(state)
        rows = self._store.db.query(
            f"SELECT * FROM import_rows WHERE {where} ORDER BY row_no LIMIT ?", [*params, limit]
        )
        return [_import_row(raw) for raw in rows]

    def mark_rows(self, import_id: str, row_nos: Iterable[int], *, to: str) -> None:
        with self._store.transaction() as db:
            db.conn.executemany(
                "UPDATE import_rows SET state = ?, updated_at = ? WHERE team_id = ? AND import_id = ? AND row_no = ?",
                [(to, self._clock(), team_key(), import_id, n) for n in row_nos],
            )

    def row_counts(self, import_id: str) -> dict[str, int]:
        """Rows per state, every state present (0 when none)."""
        counts = dict.fromkeys(ROW_STATES, 0)
        rows = self._store.db.query(
            "SELECT state, COUNT(*) AS n FROM import_rows WHERE team_id = ? AND import_id = ? GROUP BY state",
            [team_key(), import_id],
        )
        for raw in rows:
            counts[raw["state"]] = raw["n"]
        return counts


def _batches(rows: Iterable[CheckedRow], size: int) -> Iterable[list[CheckedRow]]:
    batch: list[CheckedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
