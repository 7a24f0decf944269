"""The SQLite file holds names, phone numbers and emails in clear: only its owner may read it.

Checked for the database file and the -wal/-shm files SQLite creates next to it, whatever the
process umask is, after start and after writes, and for files an older release left readable.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.db import Store
from tests.conftest import Bot

SIDECARS = ("-wal", "-shm")


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def files_of(db: Path | str) -> list[Path]:
    """The database file and whichever of its -wal/-shm/-journal files exist."""
    db = Path(db)
    return [p for p in (db, *(Path(f"{db}{s}") for s in (*SIDECARS, "-journal"))) if p.exists()]


@pytest.fixture(params=[0o022, 0o000, 0o277], ids=["umask-022", "umask-000", "umask-277"])
def umask(request: Any) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def write_something(store: Store, n: int = 50) -> None:
    with store.transaction() as db:
        for i in range(n):
            db.execute(
                "INSERT INTO lead_threads (lead_id, channel, ts, name, identifier, created_at) "
                "VALUES (?, 'C1', '1.000100', 'Jane Doe', '919876543210', 1)",
                [f"L{i}-{os.urandom(4).hex()}"],
            )


def test_a_new_database_and_its_wal_and_shm_are_owner_only(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "bot.sqlite3"
    with Store(path) as store:
        assert mode(path) == 0o600
        write_something(store)
        found = files_of(path)
        assert {p.name for p in found} >= {"bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"}
        assert {str(p): oct(mode(p)) for p in found} == {str(p): oct(0o600) for p in found}
        # a connection opened later, on another thread, changes nothing
        other = sqlite3.connect(path)
        other.execute("SELECT count(*) FROM lead_threads").fetchone()
        other.close()
        write_something(store)
        assert all(mode(p) == 0o600 for p in files_of(path))


def test_a_running_bot_keeps_its_files_private(make_bot: Any) -> None:
    bot: Bot = make_bot()
    bot.command("/lead", 'name="Private Priya" phone=919800000777')
    bot.wait(lambda e: any("Private Priya" in str(m.get("blocks")) for m in bot.messages()))
    bot.settle()
    path = bot.services.store.path
    found = files_of(path)
    assert len(found) >= 3
    assert {str(p): oct(mode(p)) for p in found} == {str(p): oct(0o600) for p in found}


def test_files_an_older_release_left_readable_are_restricted_with_one_log_line(
    tmp_path: Path, caplog: Any
) -> None:
    path = tmp_path / "bot.sqlite3"
    with Store(path) as store:
        write_something(store)
    old = sqlite3.connect(path)  # an open reader keeps the -wal and -shm files in place
    old.execute("SELECT count(*) FROM lead_threads").fetchone()
    for p in files_of(path):
        os.chmod(p, 0o644)
    caplog.set_level(logging.INFO)
    with Store(path) as store:
        assert all(mode(p) == 0o600 for p in files_of(path))
        write_something(store)
    old.close()
    lines = [r.getMessage() for r in caplog.records if "permission" in r.getMessage()]
    assert len(lines) == 1 and str(path) in lines[0]
    caplog.clear()
    Store(path).close()  # already private: nothing to say
    assert not [r for r in caplog.records if "permission" in r.getMessage()]
