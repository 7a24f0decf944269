"""The PostgreSQL fixtures of the tests: one real server per test session (bench/postgres_server.py
starts it) and a fresh schema per test. Never skipped: without the server they fail, saying how to
install it.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from bench.postgres_server import PostgresServer, PostgresUnavailable, start_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session; a test uses :meth:`PostgresServer.url`."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """``postgresql://telecrm@127.0.0.1:<port>/telecrm_test`` of the session's server."""
    return postgres_server.url()


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A URL of the session's server whose tables go into a fresh schema of their own (dropped after
    the test), so that tests on PostgreSQL stay as independent as tests on their own SQLite file."""
    import psycopg

    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
