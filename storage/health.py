"""Can the bot write to its SQLite file right now? A cheap, rate-limited write probe.

A full disk or a read-only file does not stop the process from serving, so "the HTTP server answers"
says nothing about whether a Slack gesture can be stored. The probe answers with one word:
``"ok"``, ``"read-only"``, ``"full"`` or ``"error: <what SQLite said>"``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

logger = logging.getLogger(__name__)

OK = "ok"
READ_ONLY = "read-only"
FULL = "full"

# A flood of health checks must not turn into a flood of writes: one probe per interval, the last
# answer in between.
PROBE_INTERVAL_SECONDS = 5.0
# Below this much free space on the file's filesystem the store is reported full: SQLite may still
# rewrite pages it already has, but the next write that needs a new page will fail.
LOW_SPACE_BYTES = 1024 * 1024
# The probe also checks that the database can still grow by this much (a typical Slack gesture
# writes far less), then rolls that part back.
ROOM_BYTES = 64 * 1024

# SQLite primary result codes that mean the file cannot be written (or read) right now, and the
# state each one is reported as ("" reports SQLite's own words: "error: disk I/O error").
_OUTAGE_CODES = {
    8: READ_ONLY,  # SQLITE_READONLY
    10: "",  # SQLITE_IOERR
    11: "",  # SQLITE_CORRUPT
    13: FULL,  # SQLITE_FULL
    14: "",  # SQLITE_CANTOPEN
    26: "",  # SQLITE_NOTADB
}
# the same, for an error raised without a result code
_OUTAGE_WORDS = {
    "database or disk is full": FULL,
    "readonly database": READ_ONLY,
    "disk i/o error": "",
    "unable to open": "",
    "malformed": "",
    "not a database": "",
}


class ProbedStore(Protocol):
    """What the probe needs of the store (storage/db.py's ``Store`` hands itself in).

    Described here rather than imported, so this module stays below storage/db.py: the store
    builds its health, the health never reaches up for the store's module.
    """

    @property
    def path(self) -> str: ...

    def transaction(self) -> AbstractContextManager[Any]: ...

    def reset_connections(self) -> None: ...


def create_health_table(db: Any) -> None:
    """Migration step: the one-row table the probe writes to."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, checked_at REAL NOT NULL, room BLOB)"
    )


def outage_state(error: BaseException) -> str | None:
    """``"full"``, ``"read-only"`` or ``"error: …"`` when ``error`` means the store cannot be written
    (disk full, read-only file, I/O error, file gone or damaged); None for any other error."""
    if not isinstance(error, sqlite3.DatabaseError):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        state = _OUTAGE_CODES.get(code & 0xFF)
    else:
        message = str(error).lower()
        state = next((s for words, s in _OUTAGE_WORDS.items() if words in message), None)
    if state is None:
        return None
    return state or f"error: {error}"


def describe(state: str) -> str:
    """A state in words for people: "the disk is full", "the database is read-only", "disk I/O error"."""
    if state == FULL:
        return "the disk is full"
    if state == READ_ONLY:
        return "the database is read-only"
    return state.removeprefix("error: ")


class StoreHealth:
    """The store's write state, probed at most once per ``interval`` and updated by real failures."""

    def __init__(
        self,
        store: ProbedStore,
        *,
        interval: float = PROBE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._probing = threading.Lock()
        self._state = OK
        self._checked_at: float | None = None

    def state(self) -> str:
        """The current state; probes when the last answer is older than ``interval``.

        Concurrent callers do not queue behind a running probe: they get the last answer.
        """
        with self._lock:
            due = self._checked_at is None or self._clock() - self._checked_at >= self.interval
            if not due:
                return self._state
        if not self._probing.acquire(blocking=False):
            with self._lock:
                return self._state
        try:
            return self._set(self._probe())
        finally:
            self._probing.release()

    def classify(self, error: BaseException) -> str | None:
        """The state ``error`` means for this store (None: not an outage); SQLite's errors here."""
        return outage_state(error)

    def record(self, error: BaseException) -> str | None:
        """Note an outage a real write ran into, so health reports it before the next probe."""
        state = self.classify(error)
        if state is not None:
            self._set(state)
            self._reopen_if_it_can_help(state)
        return state

    def _reopen_if_it_can_help(self, state: str) -> None:
        """SQLite keeps a file it opened read-only read-only (and a connection that hit an I/O error
        may stay broken), so once the file is fixed only fresh connections see it. A full disk is
        the filesystem's state: reopening changes nothing there."""
        if state not in (OK, FULL):
            self._store.reset_connections()

    def _set(self, state: str) -> str:
        with self._lock:
            previous, self._state, self._checked_at = self._state, state, self._clock()
        if state != previous:
            if state == OK:
                logger.info("the database %s can be written again", self._store.path)
            else:
                logger.error("the database %s cannot be written: %s", self._store.path, describe(state))
        return state

    def _probe(self) -> str:
        with self._lock:
            last = self._state
        self._reopen_if_it_can_help(last)  # so a fixed file is seen at once, not one probe later
        try:
            if _free_bytes(self._store.path) < LOW_SPACE_BYTES:
                return FULL
            self._write_probe()
        except Exception as exc:
            state = self.classify(exc)
            if state is None:
                return f"error: {type(exc).__name__}: {exc}"
            self._reopen_if_it_can_help(state)
            return state
        return OK

    def _write_probe(self) -> None:
        """One real committed write, plus a check (rolled back) that the file can still grow."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO health (id, checked_at) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                [time.time()],
            )
            db.execute("SAVEPOINT health_room")
            try:
                db.execute(
                    "INSERT INTO health (id, checked_at, room) VALUES (2, 0, zeroblob(?))", [ROOM_BYTES]
                )
            finally:
                if db.conn.in_transaction:
                    db.execute("ROLLBACK TO health_room")
                    db.execute("RELEASE health_room")


def _free_bytes(path: str) -> int:
    st = os.statvfs(os.path.dirname(os.path.abspath(path)))
    return st.f_bavail * st.f_frsize
