"""Fixtures for storage tests: the store on each database the bot runs on, and a controllable clock.

``store`` is a real SQLite file, then a real PostgreSQL database (the session's server,
tests/postgres.py) in a schema of its own, dropped afterwards, so tests stay independent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.database_url import sqlite_url
from storage.db import Store
from storage.dialect import SQLITE
from storage.postgres import PostgresStore


class FakeClock:
    """Time that only moves when a test says so."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Any]:
    """The bot's store on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        with Store(db_path) as s:
            yield s
        return
    with PostgresStore(request.getfixturevalue("pg_url")) as s:
        yield s


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[Store]:
    """The SQLite store alone, for what only SQLite has (PRAGMAs, one connection per thread)."""
    with Store(db_path) as s:
        yield s


@pytest.fixture
def store_url(store: Any) -> str:
    """The ``DATABASE_URL`` of ``store``, for another process to open it."""
    url = getattr(store, "url", None)
    return url if isinstance(url, str) else sqlite_url(store.path)


def columns_of(store: Any, table: str) -> list[str]:
    """The columns of ``table`` in order, on either database."""
    if store.dialect is SQLITE:
        return [row[1] for row in store.db.execute(f"PRAGMA table_info({table})").fetchall()]
    rows = store.db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " AND table_schema = current_schema() ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in rows]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
