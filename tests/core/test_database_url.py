"""``DATABASE_URL`` chooses the database (README.md, *Configuration*): the SQLite file by default,
a PostgreSQL server when it says ``postgresql://``, and anything else is refused before anything
starts, in one line that names the variable and never shows a password."""

from __future__ import annotations

import socket
from pathlib import Path

from bot.doctor import database
from bot.runtime import Runtime
from kit.config import Needs, Settings, load_settings
from storage.dialect import POSTGRES, SQLITE
from storage.postgres_schema import POSTGRES_MIGRATIONS
from tests.core.test_configuration import refused, run_cli


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_database_url_the_bot_uses_the_sqlite_file_at_database_path(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, dotenv_path=None)
    assert settings.database == f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    assert settings.database_shown == str(tmp_path / "bot.sqlite3")


def test_a_database_url_of_another_kind_is_one_line_saying_what_is_expected(tmp_path: Path) -> None:
    lines = refused(run_cli(["outbox"], {"DATABASE_URL": "mysql://bot:hunter2@db/telecrm"}, tmp_path))
    assert len(lines) == 1
    assert lines[0].startswith("DATABASE_URL must be sqlite:///PATH")
    assert "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" in lines[0] and "(got mysql://)" in lines[0]
    assert "hunter2" not in lines[0]


def test_a_postgresql_url_needs_no_database_file(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://bot@db/telecrm", "DATABASE_PATH": str(tmp_path / "no" / "x")}
    settings = load_settings(env, dotenv_path=None, needs=Needs(database=True))  # nothing refused
    assert settings.database_shown == "postgresql://bot@db/telecrm"
    assert "bot@db" not in repr(settings)  # the URL (which may hold a password) is never printed


def test_an_unreachable_server_stops_the_command_in_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://bot:hunter2@127.0.0.1:{_closed_port()}/telecrm"
    result = run_cli(["outbox"], {"DATABASE_URL": url}, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("telecrm-bot: DATABASE_URL=postgresql://bot:***@127.0.0.1:")
    assert "hunter2" not in result.stderr


def test_the_bot_runs_on_postgresql_and_the_admin_commands_read_what_it_stored(
    tmp_path: Path, pg_url: str
) -> None:
    before = database(Settings(database_url=pg_url))
    latest = POSTGRES_MIGRATIONS[-1][0]
    assert before.problem is None and f"schema version 0: needs migrating to {latest}" in before.detail
    runtime = Runtime(Settings(database_url=pg_url))  # no credentials: the stand-ins
    try:
        services = runtime.build_services()
        assert services.store.dialect is POSTGRES
        services.cache.get()  # the workspace schema is stored in PostgreSQL
        assert runtime.health()["store"] == "ok"
        services.lead_index.record([])
        assert services.lead_index.stats().leads == 0
    finally:
        runtime.stop()
    after = database(Settings(database_url=pg_url))
    assert (
        after.problem is None
        and f"schema version {latest}: current" in after.detail
        and "DATABASE_URL=" in after.detail
    )

    env = {"DATABASE_URL": pg_url}
    shown = run_cli(["cache", "show"], env, tmp_path)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "[identifier]" in shown.stdout and "city" in shown.stdout
    outbox = run_cli(["outbox"], env, tmp_path)
    assert outbox.returncode == 0 and "no pending writes" in outbox.stdout, outbox.stderr


def test_the_default_store_is_still_sqlite(tmp_path: Path) -> None:
    runtime = Runtime(Settings(database_path=str(tmp_path / "bot.sqlite3")))
    try:
        assert runtime.build_services().store.dialect is SQLITE
    finally:
        runtime.stop()


def test_database_url_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    assert "| `DATABASE_URL` |" in (root / "README.md").read_text()
    assert "\nDATABASE_URL=\n" in (root / ".env.example").read_text()


def test_doctor_does_not_check_another_database_than_a_bad_database_url_would_name() -> None:
    bad = {"DATABASE_URL": "DATABASE_URL must be sqlite:///PATH or postgresql://… (got mysql://)"}
    check = database(Settings(), bad)
    assert check.problem is not None and check.problem.startswith("not checked")


def test_an_unusable_sqlite_url_is_named_as_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'bot.sqlite3'}"
    lines = refused(run_cli(["outbox"], {"DATABASE_URL": url}, tmp_path))
    assert lines == [
        f"DATABASE_URL={url} cannot be used as the bot's database: its folder {tmp_path / 'missing'} does not exist."
    ]


def test_doctor_names_an_unreachable_postgresql_server_without_its_password() -> None:
    url = f"postgresql://bot:hunter2@127.0.0.1:{_closed_port()}/telecrm"
    check = database(Settings(database_url=url))
    assert check.problem is not None and check.problem.startswith("DATABASE_URL=postgresql://bot:***@")
    assert "hunter2" not in check.line and "\n" not in check.line
