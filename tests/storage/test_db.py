"""The Store: per-thread connections, transactions and migrations."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage.db import PAGE_CACHE_KIB, SchemaTooNewError, Store, StoreError, _WriteGate
from storage.migrations import MIGRATIONS, check_order, latest_version


def test_new_database_is_migrated_to_latest(sqlite_store: Store) -> None:
    store = sqlite_store
    assert store.schema_version == latest_version() == MIGRATIONS[-1][0]
    assert {"schema_cache", "lead_threads", "payments", "user_links"} <= set(store.db.table_names())


def test_connection_settings(sqlite_store: Store) -> None:
    store = sqlite_store
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # a bounded page cache per connection: the process does not grow with the database (PERFORMANCE.md)
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == -PAGE_CACHE_KIB


def test_each_thread_gets_its_own_connection(sqlite_store: Store) -> None:
    store = sqlite_store
    seen: list[Database] = []
    thread = threading.Thread(target=lambda: seen.append(store.db))
    thread.start()
    thread.join()
    assert seen[0] is not store.db
    assert store.db is store.db


def test_transaction_commits_and_rolls_back(store: Store) -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U1', 1)")
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U2', 1)")
        raise RuntimeError("boom")
    ids = [r["slack_user_id"] for r in store.db.query("SELECT slack_user_id FROM user_links")]
    assert ids == ["U1"]
    assert not store.db.conn.in_transaction


def test_nested_transaction_is_a_savepoint(store: Store) -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U1', 1)")
        with pytest.raises(ValueError), store.transaction() as inner:
            inner.execute("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U2', 1)")
            raise ValueError
    ids = [r["slack_user_id"] for r in store.db.query("SELECT slack_user_id FROM user_links")]
    assert ids == ["U1"]


def test_closed_store_refuses_use(db_path: Path) -> None:
    s = Store(db_path)
    s.close()
    with pytest.raises(StoreError, match="closed"):
        _ = s.db


def test_database_written_by_migration_1_only_is_upgraded(db_path: Path) -> None:
    with Store(db_path, migrations=MIGRATIONS[:1]) as old:
        assert old.schema_version == 1
        old.db.execute(
            "INSERT INTO lead_threads (lead_id, channel, ts, created_at) VALUES ('L1', 'C1', '1.000100', 5)"
        )

    added: list[int] = []

    def step(db: Database) -> None:
        added.append(1)
        db["notes"].create({"id": int, "text": str}, pk="id")

    future = [*MIGRATIONS, (len(MIGRATIONS) + 1, "notes for the test", step)]
    with Store(db_path, migrations=future) as upgraded:
        assert upgraded.schema_version == len(future)
        assert "notes" in upgraded.db.table_names()
        rows = list(upgraded.db.query("SELECT ts FROM lead_threads"))
        assert rows == [{"ts": "1.000100"}]

    with Store(db_path, migrations=future) as again:  # nothing left to do
        assert again.schema_version == len(future)
    assert added == [1]


def test_current_code_opens_a_migration_1_database(db_path: Path) -> None:
    Store(db_path, migrations=MIGRATIONS[:1]).close()
    with Store(db_path) as s:
        assert s.schema_version == latest_version()


def test_newer_database_is_refused_clearly(db_path: Path) -> None:
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {latest_version() + 5}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer release"):
        Store(db_path)


def test_failed_migration_changes_nothing(db_path: Path) -> None:
    Store(db_path, migrations=MIGRATIONS[:1]).close()

    def broken(db: Database) -> None:
        db["half"].create({"id": int}, pk="id")
        raise RuntimeError("bad step")

    steps = [*MIGRATIONS[:1], (2, "broken", broken)]
    with pytest.raises(StoreError, match="broken"):
        Store(db_path, migrations=steps)
    with Store(db_path, migrations=MIGRATIONS[:1]) as s:
        assert s.schema_version == 1
        assert "half" not in s.db.table_names()


def test_migration_numbering_is_checked() -> None:
    check_order(MIGRATIONS)
    with pytest.raises(ValueError, match="expected 2"):
        check_order([MIGRATIONS[0], (3, "gap", lambda db: None)])


def test_twenty_threads_write_and_read_without_lock_errors(store: Store) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                with store.transaction() as db:
                    count = next(db.query("SELECT count(*) AS n FROM user_links"))["n"]
                    db.execute(
                        "INSERT INTO user_links (slack_user_id, email, updated_at) VALUES (?, ?, ?)",
                        [f"U{n}-{i}", f"seen {count}", float(i)],
                    )
                list(store.db.query("SELECT * FROM user_links WHERE slack_user_id = ?", [f"U{n}-{i}"]))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert next(store.db.query("SELECT count(*) AS n FROM user_links"))["n"] == 500


def test_concurrent_opens_migrate_once(db_path: Path) -> None:
    stores: list[Store] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def open_store() -> None:
        try:
            start.wait()
            stores.append(Store(db_path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {s.schema_version for s in stores} == {latest_version()}
    for s in stores:
        s.close()


def test_the_write_gate_lets_one_writer_in_at_a_time_and_every_writer_through() -> None:
    gate = _WriteGate()
    inside = 0
    most = 0
    done: list[bool] = []
    guard = threading.Lock()

    def writer(urgent: bool) -> None:
        nonlocal inside, most
        for _ in range(200):
            with gate.held(urgent=urgent):
                with guard:
                    inside += 1
                    most = max(most, inside)
                with guard:
                    inside -= 1
        done.append(urgent)

    threads = [threading.Thread(target=writer, args=(i % 3 == 0,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 12, "a writer was never let in (a lost wake-up)"
    assert most == 1


def test_a_lone_write_is_a_transaction_of_its_own_and_part_of_an_enclosing_one(store: Store) -> None:
    cursor = store.write("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U1', 1)")
    assert cursor.rowcount == 1
    with pytest.raises(RuntimeError), store.transaction():
        store.write("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U2', 1)")
        raise RuntimeError("boom")
    ids = [r["slack_user_id"] for r in store.db.query("SELECT slack_user_id FROM user_links")]
    assert ids == ["U1"]


def test_inside_a_transaction_the_thread_reads_what_it_wrote_and_others_do_not_yet(store: Store) -> None:
    seen_elsewhere: list[int] = []

    def count_from_another_thread() -> None:
        seen_elsewhere.append(store.db.execute("SELECT COUNT(*) FROM user_links").fetchone()[0])

    with store.transaction() as db:
        db.execute("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U1', 1)")
        assert store.db.execute("SELECT COUNT(*) FROM user_links").fetchone()[0] == 1
        reader = threading.Thread(target=count_from_another_thread)
        reader.start()
        reader.join()
    assert seen_elsewhere == [0]
    count_from_another_thread()
    assert seen_elsewhere == [0, 1]


def test_writes_from_many_threads_share_one_sqlite_connection_one_at_a_time(db_path: Path) -> None:
    store = Store(db_path)  # on SQLite: one writer per process, its page cache kept between writes
    writers: set[int] = set()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with store.transaction() as db:
                writers.add(id(db.conn))
                db.execute("INSERT INTO user_links (slack_user_id, updated_at) VALUES (?, 1)", [f"U{n}"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(writers) == 1
    assert store.db.execute("SELECT COUNT(*) FROM user_links").fetchone()[0] == 20
