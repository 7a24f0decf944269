"""The session's PostgreSQL server (tests/postgres.py) is real, and does what the replicas of issue 16
will rely on: transactions, a claim of one row per worker with ``FOR UPDATE SKIP LOCKED``, and advisory
locks held by one connection at a time — through psycopg and its connection pool."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from bench.postgres_server import PostgresServer

# the outbox's claim on PostgreSQL: a row another worker holds is passed over, not waited for
CLAIM = "SELECT id FROM jobs WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"


@pytest.fixture
def jobs(postgres_url: str) -> Iterator[str]:
    """A fresh ``jobs`` table of three pending rows."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS jobs")
        conn.execute("CREATE TABLE jobs (id integer PRIMARY KEY, state text NOT NULL)")
        conn.execute("INSERT INTO jobs (id, state) VALUES (1, 'pending'), (2, 'pending'), (3, 'pending')")
    yield postgres_url


def claim(conn: psycopg.Connection) -> int | None:
    row = conn.execute(CLAIM).fetchone()
    return None if row is None else int(row[0])


def test_the_server_is_real_postgresql_run_by_an_unprivileged_user(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.url()) as conn:
        version = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
        assert version is not None and version[0] >= 150000
        assert conn.execute("SELECT current_database()").fetchone() == ("telecrm_test",)
    assert postgres_server.process is not None and postgres_server.process.poll() is None
    with open(f"/proc/{postgres_server.process.pid}/status") as status:
        uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
    assert uid != 0 and (os.geteuid() != 0 or postgres_server.user is not None)


def test_a_transaction_commits_or_rolls_back_whole(jobs: str) -> None:
    with psycopg.connect(jobs) as conn:
        with conn.transaction():
            conn.execute("UPDATE jobs SET state = 'done' WHERE id = 1")
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute("UPDATE jobs SET state = 'done' WHERE id = 2")
            conn.execute("INSERT INTO jobs (id, state) VALUES (3, 'pending')")  # a duplicate key
        states = conn.execute("SELECT id, state FROM jobs ORDER BY id").fetchall()
    assert states == [(1, "done"), (2, "pending"), (3, "pending")]


def test_two_workers_claim_different_rows_and_neither_waits_for_the_other(jobs: str) -> None:
    with psycopg.connect(jobs) as first, psycopg.connect(jobs) as second:
        with first.transaction():
            assert claim(first) == 1
            with second.transaction():
                assert claim(second) == 2  # row 1 is held: passed over at once
                with pytest.raises(psycopg.errors.LockNotAvailable):  # and it really is held
                    second.execute("SELECT id FROM jobs WHERE id = 1 FOR UPDATE NOWAIT")
            with second.transaction():
                assert claim(second) == 2  # the failed transaction gave row 2 back
                second.execute("UPDATE jobs SET state = 'running' WHERE id = 2")
            first.execute("UPDATE jobs SET state = 'running' WHERE id = 1")
        with second.transaction():
            assert claim(second) == 3
        with first.transaction():
            assert claim(first) == 3  # second's transaction ended: the row is free again


def test_the_pool_hands_out_connections_that_claim_apart(jobs: str) -> None:
    with ConnectionPool(jobs, min_size=2, max_size=2, open=True) as pool:
        pool.wait()
        with pool.connection() as a, pool.connection() as b:
            assert a is not b
            with a.transaction(), b.transaction():
                assert {claim(a), claim(b)} == {1, 2}
        stats = pool.get_stats()
    assert stats["pool_max"] == 2


def test_an_advisory_lock_is_held_by_one_connection_and_freed_when_it_ends(postgres_url: str) -> None:
    key = 16_016  # e.g. "the lead watcher runs here"
    with psycopg.connect(postgres_url, autocommit=True) as second:
        first = psycopg.connect(postgres_url, autocommit=True)
        try:
            assert first.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (True,)
            assert second.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (False,)
            assert first.execute("SELECT pg_advisory_unlock(%s)", [key]).fetchone() == (True,)
            assert second.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (True,)
            assert first.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (False,)
        finally:
            first.close()
        # a replica that dies loses its locks with its connection (the server ends the backend;
        # the timeout makes pg_terminate_backend return once it has ended, not when it was asked to)
        second.execute("SELECT pg_advisory_unlock(%s)", [key])
        with psycopg.connect(postgres_url, autocommit=True) as holder:
            assert holder.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (True,)
            assert second.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (False,)
            pid = holder.info.backend_pid
            assert second.execute("SELECT pg_terminate_backend(%s, 30000)", [pid]).fetchone() == (True,)
            assert second.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (True,)


def test_a_transaction_advisory_lock_ends_with_its_transaction(postgres_url: str) -> None:
    key = 16_017
    with psycopg.connect(postgres_url) as first, psycopg.connect(postgres_url) as second:
        with first.transaction():
            assert first.execute("SELECT pg_try_advisory_xact_lock(%s)", [key]).fetchone() == (True,)
            with second.transaction():
                assert second.execute("SELECT pg_try_advisory_xact_lock(%s)", [key]).fetchone() == (False,)
        with second.transaction():
            assert second.execute("SELECT pg_try_advisory_xact_lock(%s)", [key]).fetchone() == (True,)
