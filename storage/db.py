"""The bot's SQLite database: one file, one connection per thread, migrated on open.

Slack handlers, the outbox worker and the cache refresher all run on their own threads. SQLite
connections must not be shared across threads mid-transaction, so each thread gets its own, in WAL
mode (readers never wait for the writer) with a busy timeout (writers queue instead of failing).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence

from sqlite_utils import Database

from storage.migrations import MIGRATIONS, Migration, check_order, latest_version

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL once; the switch needs a moment alone with the file.

    SQLite answers "database is locked" at once (without using the busy timeout) when two connections
    convert a new file at the same moment, so the loser retries until the winner is done.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


class StoreError(Exception):
    """The database cannot be used as it is."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer release; opening it with this one could corrupt it."""


class Store:
    """The bot's SQLite database. Thread-safe: one connection per thread (WAL mode, busy_timeout 5000 ms,
    foreign keys on)."""

    def __init__(
        self, path: str | os.PathLike[str], *, migrations: Sequence[Migration] | None = None
    ) -> None:
        self.path = os.fspath(path)
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        check_order(self._migrations)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._connections: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._closed = False
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"Store({self.path!r})"

    # --- connections ------------------------------------------------------------------------------

    def _connect(self) -> Database:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error:
            conn.close()
            raise
        with self._lock:
            if self._closed:
                conn.close()
                raise StoreError(f"Store {self.path} is closed")
            self._prune_dead_threads()
            self._connections.append((weakref.ref(threading.current_thread()), conn))
        return Database(conn)

    def _prune_dead_threads(self) -> None:
        """Close connections of threads that have ended (e.g. finished background refreshes)."""
        alive = []
        for thread_ref, conn in self._connections:
            thread = thread_ref()
            if thread is not None and thread.is_alive():
                alive.append((thread_ref, conn))
            else:
                conn.close()
        self._connections = alive

    @property
    def db(self) -> Database:
        """This thread's connection (opened on first use)."""
        if self._closed:
            raise StoreError(f"Store {self.path} is closed")
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error); nested use becomes a savepoint.

        IMMEDIATE takes the write lock up front, so a read-then-write never fails half-way with
        "database is locked": concurrent writers wait (up to the busy timeout) instead.
        """
        db = self.db
        if db.conn.in_transaction:
            with db.atomic():
                yield db
            return
        # Writers of this process queue on a lock, first come first served: SQLite's own busy wait
        # polls with backoff and is not fair, so under load one writer could starve past the timeout.
        with self._write_lock:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            try:
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for _, conn in self._connections:
                conn.close()
            self._connections.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -----------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        target = latest_version(self._migrations)
        with self.transaction() as db:
            current = int(db.conn.execute("PRAGMA user_version").fetchone()[0])
            if current > target:
                raise SchemaTooNewError(
                    f"The database {self.path} has schema version {current}, but this release of "
                    f"telecrm-slack knows versions up to {target}. It was written by a newer release: "
                    "upgrade telecrm-slack, or point DATABASE_PATH at another file."
                )
            for version, description, step in self._migrations:
                if version <= current:
                    continue
                logger.info("Migrating %s to version %d: %s", self.path, version, description)
                try:
                    step(db)
                except Exception as exc:
                    raise StoreError(
                        f"Migration {version} ({description}) of {self.path} failed: {exc}"
                    ) from exc
                db.conn.execute(f"PRAGMA user_version = {int(version)}")
