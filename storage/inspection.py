"""A look at the database file without changing it, for ``telecrm-bot doctor`` (bot/doctor.py).

:class:`storage.db.Store` migrates the file as it opens it; an operator asking "is this file fine
for this release?" must get the answer without that happening, so this opens it with SQLite alone,
reads its schema version and takes (and at once gives back) the write lock to prove it can be written.
A PostgreSQL database (``DATABASE_URL``) is looked at the same way: :func:`inspect_postgres`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

import psycopg

from storage.database_url import shown_url
from storage.db import _explain_open_error, _is_file_path, database_path_problem, open_connection
from storage.migrations import latest_version
from storage.postgres import CONNECT_TIMEOUT_SECONDS, first_line
from storage.postgres_schema import POSTGRES_MIGRATIONS

CURRENT = "current"
NEEDS_MIGRATING = "needs migrating"
TOO_NEW = "too new"
NOT_CREATED = "not created yet"
NOT_A_FILE = "not a file"


@dataclass(frozen=True)
class DatabaseState:
    """What was found at ``path``: a ``problem`` that stops the bot from using it, else how its
    schema ``version`` stands against this release's ``latest`` (``state``, one of the names above)."""

    path: str
    latest: int
    state: str = ""
    version: int | None = None
    problem: str | None = None


def inspect_database(path: str) -> DatabaseState:
    """Read-only except for an empty write transaction; never creates the file."""
    latest = latest_version()
    if not _is_file_path(path):  # ":memory:" or a URI: nothing on disk to look at
        return DatabaseState(path, latest, NOT_A_FILE)
    if problem := database_path_problem(path):
        return DatabaseState(path, latest, problem=problem)
    if not os.path.exists(path):
        return DatabaseState(path, latest, NOT_CREATED)
    try:
        version = _read_version(path)
    except (sqlite3.Error, OSError) as exc:
        return DatabaseState(path, latest, problem=_explain_open_error(path, exc))
    if version > latest:
        return DatabaseState(path, latest, TOO_NEW, version)
    return DatabaseState(path, latest, CURRENT if version == latest else NEEDS_MIGRATING, version)


def _read_version(path: str) -> int:
    conn = open_connection(path)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"malformed: {check}")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        # the write lock, taken as the bot takes it and given back untouched: a read-only file, mount
        # or a lock held past the busy timeout fails here as it would fail the bot's first write
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return version
    finally:
        conn.close()


def inspect_postgres(url: str) -> DatabaseState:
    """The same look at a PostgreSQL database: reachable, its schema version, and a write transaction
    begun and rolled back (a read-only server or a missing privilege fails there); changes nothing."""
    latest = POSTGRES_MIGRATIONS[-1][0]
    shown = shown_url(url)
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn, conn.transaction():
            made = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            found = (
                conn.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
                if made and made[0]
                else None
            )
            version = int(found[0]) if found else 0
            conn.execute("CREATE TEMPORARY TABLE doctor_probe (id INTEGER)")  # a write, rolled back:
            raise psycopg.Rollback()  # psycopg ends the transaction here, without an error
    except psycopg.Error as exc:
        return DatabaseState(
            shown,
            latest,
            problem=f"DATABASE_URL={shown} cannot be used as the bot's database: {first_line(exc)}.",
        )
    if version > latest:
        return DatabaseState(shown, latest, TOO_NEW, version)
    return DatabaseState(shown, latest, CURRENT if version == latest else NEEDS_MIGRATING, version)
