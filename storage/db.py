"""The bot's SQLite database: one file, one connection per thread, migrated on open.

Slack handlers, the outbox worker and the cache refresher all run on their own threads. SQLite
connections must not be shared across threads mid-transaction, so each thread gets its own, in WAL
mode (readers never wait for the writer) with a busy timeout (writers queue instead of failing).

The file holds names, phone numbers and emails, so it is created readable by its owner only (0600),
and so are its -wal/-shm files (SQLite gives them the database file's mode).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlite_utils import Database

from storage.dialect import SQLITE, Dialect
from storage.health import StoreHealth
from storage.insert_batches import InsertQueue, PendingRow, insert_sql, row_exists_sql
from storage.migrations import MIGRATIONS, Migration, check_order, latest_version

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# Each connection's page cache, in KiB (SQLite's default is 2,000 KiB). The bot has one connection
# per thread that touches the store (HTTP request threads, listeners, the worker's pools, periodic
# tasks: about 60 under load), and each cache fills with the pages its thread reads as the file
# grows, so with the default the process grew by up to 60 × 2 MB as the database did
# (docs/PERFORMANCE.md, memory). The pages a write touches again and again (the B-trees' upper
# levels) fit in far less; the rest is in the OS's file cache, a system call away.
PAGE_CACHE_KIB = 256
# The one connection every write of the process goes through (:meth:`Store._writing`) keeps the
# pages of every table and index the bot writes: one cache, so it can be the default size.
WRITER_CACHE_KIB = 2000
PRIVATE_MODE = 0o600
SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")


def open_connection(path: str) -> sqlite3.Connection:
    """SQLite's own open of the database file, as every thread of the bot does it."""
    return sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )


def _is_file_path(path: str) -> bool:
    return path not in ("", ":memory:") and not path.startswith("file:")


def _create_private(path: str) -> None:
    """Create the database file owner-only before SQLite opens it.

    SQLite would create it with the process umask (usually 0644: readable by every local user).
    ``fchmod`` after creation makes the mode exactly 0600 whatever the umask is, without changing
    the process-wide umask under other threads.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_MODE)
    finally:
        os.close(fd)


def _tighten(paths: Iterable[str]) -> None:
    """Take group and other permissions away from existing files (releases before this one created
    them 0644); one log line for all of them."""
    changed: list[str] = []
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        mode = stat.S_IMODE(st.st_mode)
        if not stat.S_ISREG(st.st_mode) or not mode & 0o077:
            continue
        try:
            os.chmod(path, mode & 0o700)
        except OSError as exc:
            logger.warning(
                "%s is readable by other users (%04o) and could not be restricted: %s", path, mode, exc
            )
            continue
        changed.append(f"{path} {mode:04o} -> {mode & 0o700:04o}")
    if changed:
        logger.warning(
            "restricted permissions of the database (it holds personal data): %s", ", ".join(changed)
        )


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


_thread_role = threading.local()

InsertShape = tuple[str, tuple[str, ...], tuple[str, ...]]  # table, columns, identity


def mark_urgent_writer() -> None:
    """This thread writes on Slack's acknowledgement path (a listener storing a gesture before its
    ``ack()``): its writes go before background ones, so a busy worker never holds an ack past 3 s.
    Meant as a thread pool's ``initializer``."""
    _thread_role.urgent = True


class _WriteGate:
    """One writer of this process at a time; urgent writers (:func:`mark_urgent_writer`) go first.

    A release wakes one waiter — the next urgent one, else the next background one — rather than
    every waiter (who would all take the lock in turn only for all but one to wait again: under ten
    concurrent commands that was a tenth of a listener's CPU, docs/PERFORMANCE.md).
    """

    def __init__(self) -> None:
        lock = threading.Lock()
        self._lock = lock
        self._urgent = threading.Condition(lock)
        self._background = threading.Condition(lock)
        self._busy = False
        self._urgent_waiting = 0
        self._background_waiting = 0

    def _wake_one(self) -> None:
        """With the lock held and the gate free: let the next waiter in line try."""
        if self._urgent_waiting:
            self._urgent.notify()
        elif self._background_waiting:
            self._background.notify()

    def _wait_turn(self, urgent: bool) -> None:
        """With the lock held: until the gate is free and, for a background writer, no urgent one waits."""
        if urgent:
            self._urgent_waiting += 1
        else:
            self._background_waiting += 1
        try:
            while self._busy or (not urgent and self._urgent_waiting):
                (self._urgent if urgent else self._background).wait()
        finally:
            if urgent:
                self._urgent_waiting -= 1
            else:
                self._background_waiting -= 1
        # (a waiter interrupted after it was woken passes its turn on: see ``held``)

    def acquire(self, *, urgent: bool) -> None:
        with self._lock:
            if self._busy or (not urgent and self._urgent_waiting):
                try:
                    self._wait_turn(urgent)
                except BaseException:
                    if not self._busy:
                        self._wake_one()
                    raise
            self._busy = True

    def release(self) -> None:
        with self._lock:
            self._busy = False
            self._wake_one()

    @contextlib.contextmanager
    def held(self, *, urgent: bool) -> Iterator[None]:
        self.acquire(urgent=urgent)
        try:
            yield
        finally:
            self.release()


class StoreError(Exception):
    """The database cannot be used as it is."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer release; opening it with this one could corrupt it."""


class StoreUnavailable(StoreError):
    """The file cannot be opened or read as a SQLite database (missing folder, a directory,
    permissions, corruption, not a database at all)."""


def _explain(path: str, problem: str, named: str = "") -> str:
    """One line for an operator: which file (``named`` as the variable that names it), what is wrong."""
    return f"{named or f'DATABASE_PATH={path}'} cannot be used as the bot's database: {problem}."


def _file_system_problem(path: str) -> str | None:
    if not _is_file_path(path):
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "it is a directory, not a database file"
    if not os.path.isdir(folder):
        return f"its folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):  # SQLite writes its -wal and -shm files beside it
        return f"its folder {folder} is not writable (the bot's user must be able to create files there)"
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        return "permission denied (the bot's user must be able to read and write it)"
    return None


def database_path_problem(path: str, named: str = "") -> str | None:
    """What the file system says against using ``path`` as the database, before opening it;
    ``named``: how the message names it (``DATABASE_PATH=<path>`` by default)."""
    problem = _file_system_problem(path)
    return _explain(path, problem, named) if problem else None


def _open_error_problem(error: BaseException) -> str:
    if isinstance(error, PermissionError):
        return "permission denied (the bot's user must be able to read and write it)"
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in str(error):
        return "the file is not a SQLite database (damaged, or some other kind of file)"
    if isinstance(error, sqlite3.DatabaseError) and "malformed" in str(error):
        return f"the database is damaged ({error})"
    return str(error) or type(error).__name__


def _explain_open_error(path: str, error: BaseException) -> str:
    """One line for an operator: which file, what is wrong with it, what to do."""
    return _explain(path, _file_system_problem(path) or _open_error_problem(error))


class Store:
    """The bot's SQLite database. Thread-safe: one connection per thread (WAL mode, busy_timeout 5000 ms,
    foreign keys on)."""

    dialect: Dialect = SQLITE

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        migrations: Sequence[Migration] | None = None,
        opener: Callable[[str], sqlite3.Connection] = open_connection,
    ) -> None:
        self.path = os.fspath(path)
        # how each thread opens the file; tests swap it to open the file read-only, as a read-only
        # mount or a chmod'd file would be opened
        self.opener = opener
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        check_order(self._migrations)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_gate = _WriteGate()
        self._connections: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._generation = 0
        # every write of this process goes through one connection, one writer at a time (the gate):
        # its page cache stays valid from one write to the next, where each thread's own connection
        # found its cache stale (another connection had written since) and read its pages again
        self._writer: Database | None = None
        self._writer_generation = 0
        self._writer_thread: int | None = None  # the thread inside a write now
        self._insert_queues: dict[tuple[InsertShape, bool], InsertQueue] = {}  # see insert_new
        self._closed = False
        self.health = StoreHealth(self)
        try:
            self._open()
        except StoreError:
            self.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise StoreUnavailable(_explain_open_error(self.path, exc)) from exc
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        """Check the file is a sound SQLite database, migrate it, keep it private."""
        # a damaged file is refused here, in one clear sentence, rather than at the first request
        problem = self.db.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise StoreUnavailable(
                _explain_open_error(self.path, sqlite3.DatabaseError(f"malformed: {problem}"))
            )
        self._migrate()
        if _is_file_path(self.path):
            _tighten([self.path, *(self.path + suffix for suffix in SIDECAR_SUFFIXES)])

    def __repr__(self) -> str:
        return f"Store({self.path!r})"

    # --- connections ------------------------------------------------------------------------------

    def _connect(self) -> Database:
        """This thread's connection, registered so it is closed when the thread ends."""
        conn = self._open_connection()
        with self._lock:
            if self._closed:
                conn.close()
                raise StoreError(f"Store {self.path} is closed")
            self._prune_dead_threads()
            self._connections.append((weakref.ref(threading.current_thread()), conn))
        return Database(conn)

    def _open_connection(self) -> sqlite3.Connection:
        if _is_file_path(self.path):
            _create_private(self.path)
        conn = self.opener(self.path)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

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
        """This thread's connection (opened on first use, reopened after :meth:`reset_connections`)."""
        if self._closed:
            raise StoreError(f"Store {self.path} is closed")
        if self._writer_thread == threading.get_ident() and self._writer is not None:
            return self._writer  # inside this thread's write: what it reads must see what it wrote
        db: Database | None = getattr(self._local, "db", None)
        if db is not None and self._local.generation != self._generation and not db.conn.in_transaction:
            self._forget(db.conn)
            db = None
        if db is None:
            generation = self._generation
            db = self._connect()
            self._local.db, self._local.generation = db, generation
        return db

    def reset_connections(self) -> None:
        """Every thread reopens its connection at its next use (outside a transaction).

        After a write failed because the file was read-only or unreachable: SQLite keeps a file it
        opened read-only read-only, so once the operator has fixed the file only a fresh open sees it.
        """
        with self._lock:
            self._generation += 1

    def _forget(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._connections = [(t, c) for t, c in self._connections if c is not conn]
        conn.close()

    def _take_writer(self) -> Database:
        """The process's write connection, for this thread until :meth:`_give_back_writer`.

        Writers of this process queue on a lock, first come first served: SQLite's own busy wait
        polls with backoff and is not fair, so under load one writer could starve past the timeout.
        (Plain calls rather than a context manager: this is on every acknowledgement's path.)
        """
        self._write_gate.acquire(urgent=getattr(_thread_role, "urgent", False))
        try:
            writer = self._writer
            if writer is None or self._writer_generation != self._generation:
                writer = self._reopen_writer()
        except BaseException:
            self._write_gate.release()
            raise
        self._writer_thread = threading.get_ident()
        return writer

    def _give_back_writer(self) -> None:
        self._writer_thread = None
        self._write_gate.release()

    def _reopen_writer(self) -> Database:
        """With the gate held: a fresh write connection (first use, or after :meth:`reset_connections`)."""
        if self._writer is not None:
            self._writer.conn.close()
            self._writer = None
        generation = self._generation
        writer = Database(self._open_connection())
        writer.conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        with self._lock:
            if self._closed:
                writer.conn.close()
                raise StoreError(f"Store {self.path} is closed")
            self._writer, self._writer_generation = writer, generation
        return writer

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Database]:
        """The process's write connection, this thread's alone for the block."""
        writer = self._take_writer()
        try:
            yield writer
        finally:
            self._give_back_writer()

    def _in_write(self) -> bool:
        return self._writer_thread == threading.get_ident()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error); nested use becomes a savepoint.

        IMMEDIATE takes the write lock up front, so a read-then-write never fails half-way with
        "database is locked": concurrent writers wait (up to the busy timeout) instead.
        """
        if self._in_write():
            db = self.db
            with db.atomic():
                yield db
            return
        with self._writing() as db:
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

    def write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One statement as a transaction of its own, through the same queue as :meth:`transaction`.

        SQLite runs a lone statement outside ``BEGIN`` as its own transaction and takes the write lock
        before it reads (as ``BEGIN IMMEDIATE`` does), so a write that is one statement needs neither
        ``BEGIN`` nor ``COMMIT``: a quarter of the calls into SQLite, each of which gives Python's
        lock to other threads and takes it back (the acknowledgement's CPU, docs/PERFORMANCE.md).
        Inside a :meth:`transaction` it is part of that transaction.
        """
        if self._in_write():
            return self.db.conn.execute(sql, params)
        writer = self._take_writer()
        try:
            return writer.conn.execute(sql, params)
        finally:
            self._give_back_writer()

    def insert_new(
        self, table: str, columns: Sequence[str], values: Sequence[Any], *, identity: Sequence[str]
    ) -> bool:
        """``INSERT … ON CONFLICT DO NOTHING`` of one row, a transaction of its own: whether it was
        inserted. Rows other threads insert into the same columns at the same moment go into the same
        statement (:mod:`storage.insert_batches`): the acknowledgements' one write.

        ``identity``: columns whose values tell this row from any other insert of it; read back only
        when some row of a batch conflicted (SQLite counts a statement's rows, not which they were).
        Inside a :meth:`transaction` the row is part of that transaction."""
        if self._in_write():
            return self.db.conn.execute(insert_sql(table, tuple(columns), 1), values).rowcount == 1
        shape = (table, tuple(columns), tuple(identity))
        # urgent rows queue apart: their writer takes the gate as urgent (mark_urgent_writer), so an
        # acknowledgement never waits behind a background writer's place in line
        line = (shape, getattr(_thread_role, "urgent", False))
        queue = self._insert_queues.get(line)
        if queue is None:
            with self._lock:
                queue = self._insert_queues.setdefault(
                    line, InsertQueue(self._writing, lambda rows: self._insert_rows(shape, rows))
                )
        return queue.insert(values)

    def _insert_rows(self, shape: InsertShape, rows: list[PendingRow]) -> None:
        """With the gate held: one statement for ``rows``; then each row's ``inserted``."""
        table, columns, identity = shape
        conn = self.db.conn  # the write connection: this thread holds the gate
        params = [value for row in rows for value in row.values]
        try:
            changed = conn.execute(insert_sql(table, columns, len(rows)), params).rowcount
        except sqlite3.IntegrityError:
            if len(rows) == 1:
                raise
            for row in rows:  # one bad row (a NOT NULL, a CHECK) fails only its own thread
                try:
                    self._insert_rows(shape, [row])
                except sqlite3.IntegrityError as exc:
                    row.error = exc
            return
        if changed == len(rows):
            for row in rows:
                row.inserted = True
            return
        where = [columns.index(name) for name in identity]
        exists = row_exists_sql(table, identity)
        for row in rows:
            row.inserted = conn.execute(exists, [row.values[i] for i in where]).fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for _, conn in self._connections:
                conn.close()
            self._connections.clear()
            if self._writer is not None:
                self._writer.conn.close()
                self._writer = None

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
