"""The bot's database on PostgreSQL: the same surface as storage/db.py's SQLite ``Store``, so that
several replicas of the bot can share one database.

Connections come from a ``psycopg_pool.ConnectionPool``. Outside a transaction every statement
borrows a connection for itself (autocommit) and gives it back with its rows already read; inside
:meth:`PostgresStore.transaction` one connection is bound to the thread for the whole block (a nested
block is a savepoint). The repositories' ``?`` placeholders become psycopg's ``%s`` in one place
(:func:`to_postgres`).

Migrations (storage/postgres_schema.py) run as the store opens, in one transaction holding an
advisory lock, so two replicas starting at once migrate the database once and both start.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from storage.database_url import shown_url
from storage.db import SchemaTooNewError, StoreError, StoreUnavailable
from storage.dialect import POSTGRES, Dialect
from storage.health import FULL, OK, READ_ONLY, StoreHealth
from storage.insert_batches import insert_sql
from storage.postgres_schema import POSTGRES_MIGRATIONS, PostgresMigration

logger = logging.getLogger(__name__)

# Connections a process may hold: Slack's listeners, the worker's threads and the periodic tasks each
# borrow one per statement (or per transaction), so a few are enough for many threads; a thread that
# finds them all taken waits up to BORROW_TIMEOUT_SECONDS.
POOL_MAX = 16
CONNECT_TIMEOUT_SECONDS = 10
BORROW_TIMEOUT_SECONDS = 30.0
# pg_advisory_xact_lock's key for migrating ("telecrm" as a number): one replica migrates at a time
MIGRATION_LOCK = 7_346_174_257


@functools.lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """``?`` placeholders (outside quoted text) as ``%s``, and a literal ``%`` as ``%%``."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if char == "%":
            out.append("%%")
        elif quote is not None:
            out.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


class Result:
    """A statement's answer, read whole before its connection went back to the pool: what the
    repositories use of a sqlite3 cursor (``rowcount``, ``fetchone``, ``fetchall``, iteration)."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, names: Sequence[str] = ()) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.names = list(names)
        self._next = 0

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self.rows):
            return None
        self._next += 1
        return self.rows[self._next - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rest, self._next = self.rows[self._next :], len(self.rows)
        return rest

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())

    def dicts(self) -> Iterator[dict[str, Any]]:
        return (dict(zip(self.names, row, strict=True)) for row in self.fetchall())


def _run(conn: psycopg.Connection[Any], sql: str, params: Iterable[Any]) -> Result:
    cursor = conn.execute(to_postgres(sql), list(params))
    if cursor.description is None:
        return Result([], cursor.rowcount)
    return Result(cursor.fetchall(), cursor.rowcount, [d.name for d in cursor.description])


class PostgresDatabase:
    """The part of sqlite-utils' ``Database`` the repositories use, on the store's pool."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    @property
    def conn(self) -> PostgresDatabase:
        """Itself: the repositories call ``db.conn.executemany`` / ``db.conn.in_transaction`` as on sqlite3."""
        return self

    @property
    def in_transaction(self) -> bool:
        return self._store.bound() is not None

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Result:
        conn = self._store.bound()
        if conn is not None:
            return _run(conn, sql, params)
        with self._store.borrow() as conn:
            return _run(conn, sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Result:
        def many(conn: psycopg.Connection[Any]) -> Result:
            with conn.cursor() as cursor:
                cursor.executemany(to_postgres(sql), [list(r) for r in rows])
                return Result([], cursor.rowcount)

        conn = self._store.bound()
        if conn is not None:
            return many(conn)
        with self._store.borrow() as conn:
            return many(conn)

    def query(self, sql: str, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        return self.execute(sql, params).dicts()


def postgres_outage_state(error: BaseException) -> str | None:
    """``"full"``, ``"read-only"`` or ``"error: …"`` when ``error`` means the database cannot be written
    (disk full, a read-only server, the server unreachable, no connection free); None otherwise."""
    if isinstance(error, psycopg.errors.DiskFull):
        return FULL
    if isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
        return READ_ONLY
    if isinstance(error, PoolTimeout):
        return f"error: no database connection free within {BORROW_TIMEOUT_SECONDS:.0f} s"
    if isinstance(error, psycopg.OperationalError):
        return f"error: {first_line(error)}"
    return None


def first_line(error: BaseException, limit: int = 300) -> str:
    """The server's or the driver's words, as one bounded line."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


class PostgresHealth(StoreHealth):
    """The write probe on PostgreSQL: one committed write of the ``health`` row (the server's own disk
    is its business: a full one answers ``DiskFull`` to that write)."""

    def classify(self, error: BaseException) -> str | None:
        return postgres_outage_state(error)

    def _probe(self) -> str:
        try:
            with self._store.transaction() as db:
                db.execute(
                    "INSERT INTO health (id, checked_at) VALUES (1, extract(epoch from now()))"
                    " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
                )
        except Exception as exc:
            return self.classify(exc) or f"error: {type(exc).__name__}: {first_line(exc)}"
        return OK


class PostgresStore:
    """The bot's PostgreSQL database; thread-safe (see the module's docstring)."""

    dialect: Dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        max_size: int = POOL_MAX,
        migrations: Sequence[PostgresMigration] | None = None,
    ) -> None:
        self.url = url
        self.path = shown_url(url)  # how messages name it, as a file's path names a SQLite store
        self._migrations = list(POSTGRES_MIGRATIONS if migrations is None else migrations)
        self._local = threading.local()
        self.health = PostgresHealth(self)
        self._reachable()
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            timeout=BORROW_TIMEOUT_SECONDS,
            name="telecrm-bot",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
            self._migrate()
        except StoreError:
            self.close()
            raise
        except (psycopg.Error, PoolTimeout) as exc:
            self.close()
            raise StoreUnavailable(self._explain(first_line(exc))) from exc
        except BaseException:
            self.close()
            raise

    def _explain(self, problem: str) -> str:
        """One line for an operator: which database, what is wrong with it."""
        return f"DATABASE_URL={self.path} cannot be used as the bot's database: {problem}."

    def _reachable(self) -> None:
        """One connection first, so a wrong host, password or database name is told in the server's
        words rather than as a pool that timed out."""
        try:
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
        except psycopg.Error as exc:
            raise StoreUnavailable(self._explain(first_line(exc))) from exc

    def __repr__(self) -> str:
        return f"PostgresStore({self.path!r})"

    # --- connections ------------------------------------------------------------------------------

    def bound(self) -> psycopg.Connection[Any] | None:
        """The connection this thread's open transaction holds, if any."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        return conn

    @contextlib.contextmanager
    def borrow(self) -> Iterator[psycopg.Connection[Any]]:
        with self._pool.connection() as conn:
            yield conn

    @property
    def db(self) -> PostgresDatabase:
        return PostgresDatabase(self)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostgresDatabase]:
        """``BEGIN`` … ``COMMIT`` (``ROLLBACK`` on error) on one connection; nested use is a savepoint."""
        db = PostgresDatabase(self)
        conn = self.bound()
        if conn is not None:
            with conn.transaction():
                yield db
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield db
            finally:
                self._local.conn = None

    def write(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """One statement as a transaction of its own (autocommit), or part of this thread's open one."""
        return self.db.execute(sql, params)

    def insert_new(
        self, table: str, columns: Sequence[str], values: Sequence[Any], *, identity: Sequence[str]
    ) -> bool:
        """``INSERT … ON CONFLICT DO NOTHING`` of one row: whether it was inserted (``identity``: see
        :meth:`storage.db.Store.insert_new`; here each statement's count is its own)."""
        return bool(self.write(insert_sql(table, tuple(columns), 1), values).rowcount == 1)

    def reset_connections(self) -> None:
        """Nothing to do: the pool drops a connection that broke and opens a new one when needed."""

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -----------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        rows = list(self.db.query("SELECT version FROM schema_version WHERE id = 1"))
        return int(rows[0]["version"]) if rows else 0

    def _migrate(self) -> None:
        target = self._migrations[-1][0] if self._migrations else 0
        with self.transaction() as db:
            db.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
            )
            rows = list(db.query("SELECT version FROM schema_version WHERE id = 1"))
            current = int(rows[0]["version"]) if rows else 0
            if current > target:
                raise SchemaTooNewError(
                    self._explain(
                        f"it has schema version {current}, but this release of telecrm-slack knows "
                        f"versions up to {target}: it was written by a newer release; upgrade "
                        "telecrm-slack, or point DATABASE_URL at another database"
                    )
                )
            for version, description, step in self._migrations:
                if version <= current:
                    continue
                logger.info("Migrating %s to version %d: %s", self.path, version, description)
                try:
                    step(db)
                except psycopg.Error as exc:
                    raise StoreError(
                        f"Migration {version} ({description}) of {self.path} failed: {exc}"
                    ) from exc
            db.execute(
                "INSERT INTO schema_version (id, version) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                [max(current, target)],
            )
