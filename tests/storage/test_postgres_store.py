"""The store on PostgreSQL (storage/postgres.py) as several replicas of the bot share it: one schema
however many start at once, outbox claims that never hand one row to two workers, and one clear line
when the database cannot be used."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from storage.database_url import parse_database_url, shown_url
from storage.db import SchemaTooNewError, Store, StoreUnavailable
from storage.import_sending import ImportSending
from storage.lead_index import IndexEntry
from storage.outbox import Outbox
from storage.postgres import PostgresStore, to_postgres
from storage.postgres_schema import POSTGRES_MIGRATIONS
from storage.stores import lead_index_for, open_store
from tests.storage.conftest import FakeClock, columns_of


def test_placeholders_become_psycopg_ones_and_a_percent_stays_a_percent() -> None:
    assert to_postgres("SELECT ? AS a, '?' AS b, 'x%' AS c WHERE d LIKE ?") == (
        "SELECT %s AS a, '?' AS b, 'x%%' AS c WHERE d LIKE %s"
    )


def test_a_percent_and_a_question_mark_in_values_are_just_values(pg_url: str) -> None:
    with PostgresStore(pg_url) as store:
        row = store.db.execute("SELECT ? AS a, '50%' AS b, '?' AS c", ["is it 100%?"]).fetchone()
    assert row == ("is it 100%?", "50%", "?")


def test_every_sqlite_table_has_the_same_columns_on_postgresql(pg_url: str, db_path: Path) -> None:
    with Store(db_path) as sqlite, PostgresStore(pg_url) as pg:
        tables = [
            name
            for (name,) in sqlite.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'lead_index_fts%'"
                " AND name NOT LIKE 'lead_index_names%' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        ]
        assert len(tables) == 29  # every table the SQLite migrations make (a new one must be here too)
        for table in tables:
            pg_columns = columns_of(pg, table)
            if table == "lead_threads":  # SQLite's implicit rowid, made explicit
                assert "rowid" in pg_columns
                pg_columns.remove("rowid")
            assert pg_columns == columns_of(sqlite, table), table


def test_two_replicas_starting_at_once_both_start_on_one_schema(pg_url: str) -> None:
    opened: list[PostgresStore] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def replica() -> None:
        start.wait()
        try:
            opened.append(PostgresStore(pg_url))
        except BaseException as exc:  # noqa: BLE001  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert {s.schema_version for s in opened} == {POSTGRES_MIGRATIONS[-1][0]}
        rows = opened[0].db.execute("SELECT count(*) FROM schema_version").fetchone()
        assert rows == (1,)
        assert opened[0].db.execute("SELECT count(*) FROM lead_index_state").fetchone() == (1,)
    finally:
        for s in opened:
            s.close()


def test_two_replicas_claiming_from_many_threads_never_take_the_same_write(pg_url: str) -> None:
    with PostgresStore(pg_url) as first, PostgresStore(pg_url) as second:
        Outbox(first).add("setup", "noop", {})  # (the schema exists before the replicas race)
        for n in range(300):
            Outbox(first).add(f"w{n}", "lead.create", {"n": n})
        taken: list[tuple[str, str]] = []
        lock = threading.Lock()
        start = threading.Barrier(12)

        def worker(store: PostgresStore) -> None:
            outbox = Outbox(store)
            start.wait()
            while (item := outbox.claim(lease_seconds=600)) is not None:
                with lock:
                    taken.append((item.key, outbox.owner))

        threads = [threading.Thread(target=worker, args=(s,)) for s in (first, second) * 6]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        keys = [key for key, _ in taken]
        assert len(keys) == len(set(keys)) == 301  # every write once, none twice
        assert len({owner for _, owner in taken}) > 1  # and the replicas shared the work
        running = first.db.execute("SELECT count(*) FROM outbox WHERE state = 'running'").fetchone()
        assert running == (301,)


def test_a_row_being_claimed_by_one_replica_is_passed_over_by_the_other(pg_url: str) -> None:
    with PostgresStore(pg_url) as first, PostgresStore(pg_url) as second:
        outbox = Outbox(first)
        outbox.add("older", "k", {})
        outbox.add("newer", "k", {})
        with first.transaction():  # the first replica's claim is not committed yet: its row is locked
            held = outbox.claim()
            assert held is not None and held.key == "older"
            other = Outbox(second).claim()  # does not wait for the first (it would hang here)
            assert other is not None and other.key == "newer"
            assert Outbox(second).claim() is None
        assert Outbox(second).claim() is None  # committed: the first one's lease holds it


def test_a_database_written_by_a_newer_release_is_refused(pg_url: str) -> None:
    with PostgresStore(pg_url) as store:
        store.db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(SchemaTooNewError, match="DATABASE_URL=.*schema version 99"):
        PostgresStore(pg_url)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the socket is closed


def test_a_server_that_cannot_be_reached_is_one_line_naming_database_url_without_the_password() -> None:
    url = f"postgresql://bot:s3cret-pw@127.0.0.1:{_closed_port()}/telecrm"
    with pytest.raises(StoreUnavailable) as raised:
        open_store(url)
    message = str(raised.value)
    assert message.startswith("DATABASE_URL=postgresql://bot:***@127.0.0.1:")
    assert "s3cret-pw" not in message and "\n" not in message
    assert "refused" in message or "connect" in message


def test_a_database_that_does_not_exist_is_named(postgres_url: str) -> None:
    with pytest.raises(StoreUnavailable, match='database "no_such_db" does not exist'):
        open_store(postgres_url.rsplit("/", 1)[0] + "/no_such_db")


def test_the_health_probe_writes_to_postgresql(pg_url: str) -> None:
    with PostgresStore(pg_url) as store:
        assert store.health.state() == "ok"
        assert store.db.execute("SELECT count(*) FROM health").fetchone() == (1,)
        assert store.health.record(psycopg.errors.DiskFull("no space")) == "full"
        assert store.health.record(psycopg.OperationalError("server closed the connection")) == (
            "error: server closed the connection"
        )
        assert store.health.record(ValueError("a bug")) is None


@pytest.mark.parametrize(
    ("url", "kind", "where"),
    [
        ("sqlite:///bot.sqlite3", "sqlite", "bot.sqlite3"),
        ("sqlite:////srv/bot/bot.sqlite3", "sqlite", "/srv/bot/bot.sqlite3"),
        ("postgresql://bot@db:5432/telecrm", "postgresql", "postgresql://bot@db:5432/telecrm"),
        ("postgres://bot@db/telecrm", "postgresql", "postgres://bot@db/telecrm"),
    ],
)
def test_database_url_names_a_sqlite_file_or_a_postgresql_server(url: str, kind: str, where: str) -> None:
    target = parse_database_url(url)
    assert (target.kind, target.where) == (kind, where)


@pytest.mark.parametrize("url", ["mysql://bot:pw@db/telecrm", "bot.sqlite3", "sqlite://", "postgresql://"])
def test_any_other_database_url_is_refused_saying_what_is_expected(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_database_url(url)
    assert "sqlite:///PATH" in str(raised.value) and "postgresql://" in str(raised.value)
    assert "pw" not in str(raised.value)


def test_a_shown_url_has_no_password() -> None:
    assert shown_url("postgresql://bot:pw@db:5432/x?sslmode=require") == (
        "postgresql://bot:***@db:5432/x?sslmode=require"
    )
    assert shown_url("postgresql://bot@db/x") == "postgresql://bot@db/x"


def test_open_store_opens_sqlite_for_a_sqlite_url(db_path: Path) -> None:
    store: Any = open_store(f"sqlite:///{db_path}")
    try:
        assert isinstance(store, Store) and store.path == str(db_path)
    finally:
        store.close()


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(n)`` on ``count`` threads let go at once; their answers (an exception is an answer)."""
    start = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(n: int) -> None:
        start.wait()
        try:
            answers[n] = work(n)
        except BaseException as exc:  # noqa: BLE001  # the caller asserts on it
            answers[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_the_shared_async_pace_is_kept_by_many_replicas_at_once(pg_url: str) -> None:
    with PostgresStore(pg_url) as first, PostgresStore(pg_url) as second:
        clock = FakeClock()
        senders = [ImportSending(s, clock=clock) for s in (first, second)]
        assert senders[0].take_turn("async", interval=0.2) == 0.0  # the pace's row exists
        clock.advance(1.0)  # idle for a while: the bucket has caught up by one turn
        waits = _race(16, lambda n: senders[n % 2].take_turn("async", interval=0.2))
        assert sorted(waits) == [0.0, 0.0] + [pytest.approx(0.2)] * 14  # that turn and this one, no more


def test_two_replicas_recording_the_same_leads_at_once_keep_one_row_each(pg_url: str) -> None:
    with PostgresStore(pg_url) as first, PostgresStore(pg_url) as second:
        indexes = [lead_index_for(s) for s in (first, second)]
        leads = [IndexEntry(f"{n:024x}", name=f"Lead {n}", seen_at=1000.0 + n) for n in range(60)]

        def record(n: int) -> int:
            order = leads if n % 2 else list(reversed(leads))  # other orders: no deadlock either
            return indexes[n % 2].record(order)

        assert _race(8, record) == [60] * 8
        assert indexes[0].stats().leads == 60
        assert [e.name for e in indexes[1].search("lead 5").entries][:2] == ["Lead 5", "Lead 59"]
