"""What the repositories may assume of a store, whichever database it is on (storage/stores.py opens one).

The repositories' SQL is written once, in the subset SQLite (≥ 3.24) and PostgreSQL share — ``?``
placeholders, ``INSERT … ON CONFLICT (…) DO NOTHING / DO UPDATE``, ``CASE`` rather than two-argument
``MAX`` — and asks the store's :class:`Dialect` only for the few words that differ. On SQLite a write
transaction holds the whole file (``BEGIN IMMEDIATE``), so a read followed by a write in it can never
be overtaken; on PostgreSQL several replicas write at once, so such a read locks the rows it read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg_pool import PoolTimeout


@dataclass(frozen=True)
class Dialect:
    name: str
    # after a SELECT whose rows the transaction goes on to change: nobody else changes them meanwhile
    lock_rows: str
    # after a SELECT that claims one row of a queue: a row another worker holds is passed over
    skip_locked: str


SQLITE = Dialect("sqlite", lock_rows="", skip_locked="")
POSTGRES = Dialect("postgresql", lock_rows=" FOR UPDATE", skip_locked=" FOR UPDATE SKIP LOCKED")

# what a store raises when the database cannot be used right now (full, read-only, unreachable)
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error, PoolTimeout)


class StoreHealthView(Protocol):
    """What callers ask of a store's health (storage/health.py)."""

    def state(self) -> str: ...

    def record(self, error: BaseException) -> str | None: ...


class BotStore(Protocol):
    """The surface every repository and feature uses: ``db`` (``query(sql, params)`` yielding dicts,
    ``execute(sql, params)`` returning a cursor with ``rowcount``/``fetchone``/``fetchall``, and
    ``conn.executemany``), ``transaction()`` (nested use is a savepoint), ``write()`` (one statement,
    its own transaction), ``insert_new()``, the health probe and ``close``."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def path(self) -> str:
        """How messages name the database: a file, or a URL without its password."""
        ...

    @property
    def health(self) -> StoreHealthView: ...

    @property
    def db(self) -> Any: ...

    def transaction(self) -> AbstractContextManager[Any]: ...

    def write(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """One statement as a transaction of its own (or part of this thread's open one)."""
        ...

    def insert_new(
        self, table: str, columns: Sequence[str], values: Sequence[Any], *, identity: Sequence[str]
    ) -> bool:
        """``INSERT … ON CONFLICT DO NOTHING`` of one row, a transaction of its own (or part of this
        thread's open one): whether it was inserted."""
        ...

    def reset_connections(self) -> None: ...

    def close(self) -> None: ...


def dialect_of(store: Any) -> Dialect:
    """The store's dialect (SQLite for a store that does not say)."""
    dialect = getattr(store, "dialect", SQLITE)
    return dialect if isinstance(dialect, Dialect) else SQLITE
