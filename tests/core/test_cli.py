"""The ``telecrm-bot`` command line and configuration, as an operator uses them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main, mode_for
from kit.config import ConfigError, Settings, load_settings
from telecrm.sandbox import Sandbox, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELECRM_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_real_environment_wins_over_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "DEFAULT_CURRENCY=USD\nCACHE_TTL_SECONDS=60\nPAYMENT_ALLOWED_USERS=U1, @sales-managers\n"
    )
    settings = load_settings({"CACHE_TTL_SECONDS": "120"}, dotenv_path=dotenv)
    assert settings.default_currency == "USD"
    assert settings.cache_ttl_seconds == 120
    assert settings.payment_allowed_users == ("U1", "@sales-managers")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CACHE_TTL_SECONDS", "soon", "CACHE_TTL_SECONDS must be a number"),
        ("DEFAULT_CURRENCY", "EURO", "DEFAULT_CURRENCY must be one of INR"),
        ("DEFAULT_COUNTRY_CODE", "India", "DEFAULT_COUNTRY_CODE must be a country calling code"),
        ("LEAD_INDEX_DAYS", "-5", "LEAD_INDEX_DAYS must be a whole number of days"),
        ("TELECRM_WATCH_BUDGET_PER_MINUTE", "0", "TELECRM_WATCH_BUDGET_PER_MINUTE must be a whole number"),
    ],
)
def test_bad_configuration_names_the_variable(name, value, expected):
    with pytest.raises(ConfigError, match=expected):
        load_settings({name: value}, dotenv_path=None)


def test_lead_index_settings_and_their_defaults():
    assert (Settings().lead_index_days, Settings().telecrm_watch_budget_per_minute) == (90, 60)
    settings = load_settings(
        {"LEAD_INDEX_DAYS": "0", "TELECRM_WATCH_BUDGET_PER_MINUTE": "120"}, dotenv_path=None
    )
    assert (settings.lead_index_days, settings.telecrm_watch_budget_per_minute) == (0, 120)


def test_secrets_are_not_in_the_settings_repr():
    settings = Settings(slack_bot_token="xoxb-very-secret", telecrm_sync_token="sync-secret-123")
    assert "xoxb-very-secret" not in repr(settings) and "sync-secret-123" not in repr(settings)


def test_run_picks_socket_mode_only_with_an_app_token():
    assert mode_for(Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")) == "socket"
    assert mode_for(Settings(slack_bot_token="xoxb-1", slack_signing_secret="s")) == "http"
    assert mode_for(Settings()) == "http"


def test_socket_without_app_token_explains(capsys, monkeypatch):
    for key in list(os.environ):
        if key.startswith(("SLACK_", "TELECRM_")):
            monkeypatch.delenv(key)
    assert main(["--env-file", "/dev/null", "socket"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


def test_cache_show_refresh_and_outbox(tmp_path):
    sandbox = Sandbox()
    server = serve_in_thread(sandbox)
    env = {
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "TELECRM_API_URL": server.url + "/autoupdate/v2",
        "TELECRM_ENTERPRISE_ID": sandbox.enterprise_id,
        "TELECRM_SYNC_TOKEN": sandbox.sync_token,
    }
    try:
        empty = run_cli(["--env-file", "/dev/null", "cache", "show"], env, tmp_path)
        assert empty.returncode == 1 and "cache refresh" in empty.stdout
        refreshed = run_cli(["--env-file", "/dev/null", "cache", "refresh"], env, tmp_path)
        assert refreshed.returncode == 0, refreshed.stderr
        assert "fields" in refreshed.stdout and "team members" in refreshed.stdout
        shown = run_cli(["--env-file", "/dev/null", "cache", "show"], env, tmp_path)
        assert shown.returncode == 0
        assert "[identifier]" in shown.stdout and "city" in shown.stdout and "(archived)" in shown.stdout
        assert sandbox.sync_token not in shown.stdout + shown.stderr
        outbox = run_cli(["--env-file", "/dev/null", "outbox"], env, tmp_path)
        assert outbox.returncode == 0 and "no pending writes" in outbox.stdout
    finally:
        server.stop()


def test_cache_refresh_with_a_wrong_token_says_so(tmp_path):
    sandbox = Sandbox()
    server = serve_in_thread(sandbox)
    env = {
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "TELECRM_API_URL": server.url + "/autoupdate/v2",
        "TELECRM_ENTERPRISE_ID": sandbox.enterprise_id,
        "TELECRM_SYNC_TOKEN": "wrong-token-value",
    }
    try:
        result = run_cli(["--env-file", "/dev/null", "cache", "refresh"], env, tmp_path)
    finally:
        server.stop()
    assert result.returncode != 0
    assert "token" in (result.stdout + result.stderr).lower()
    assert "wrong-token-value" not in result.stdout + result.stderr


def test_an_env_file_that_is_not_there_is_refused_not_ignored(tmp_path):
    for missing in (tmp_path / "prod.env", tmp_path):  # a typo, and a directory
        result = run_cli(
            ["--env-file", str(missing), "outbox"], {"DATABASE_PATH": str(tmp_path / "b.sqlite3")}, tmp_path
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"--env-file {missing}: no such file" in result.stderr
    assert not (tmp_path / "b.sqlite3").exists()  # nothing was started


def test_output_cut_short_by_the_reader_is_not_an_error(tmp_path):
    """`telecrm-bot cache show | head -1`: the reader leaves early; no traceback, a clean exit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_PATH": str(tmp_path / "bot.sqlite3")}
    env = {k: v for k, v in env.items() if not k.startswith(("SLACK_", "TELECRM_"))}
    argv = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull]
    subprocess.run(
        [*argv, "cache", "refresh"], env=env, cwd=tmp_path, capture_output=True, timeout=60, check=True
    )
    shown = subprocess.Popen(
        [*argv, "cache", "show"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert shown.stdout is not None
    shown.stdout.close()  # hang up before it writes (starting Python takes far longer than this)
    _, err = shown.communicate(timeout=60)
    assert shown.returncode == 0 and b"Traceback" not in err and b"BrokenPipe" not in err


def test_purge_deletes_one_workspace_and_refuses_without_a_team(tmp_path):
    from storage.db import Store
    from storage.repositories import LeadThreads
    from storage.tenancy import team_scope

    database = tmp_path / "bot.sqlite3"
    with Store(database) as store:
        for team in ("T0AAAAAAA", "T0BBBBBBB"):
            with team_scope(team):
                LeadThreads(store).remember("1", "C1", "1.1")
    env = {"DATABASE_PATH": str(database)}

    refused = run_cli(["--env-file", "/dev/null", "purge"], env, tmp_path)
    assert refused.returncode == 2 and "--team" in refused.stderr
    purged = run_cli(["--env-file", "/dev/null", "purge", "--team", "T0AAAAAAA"], env, tmp_path)

    assert purged.returncode == 0, purged.stderr
    assert "lead_threads: 1 row(s) deleted" in purged.stdout.splitlines()
    assert "outbox: 0 row(s) deleted" in purged.stdout.splitlines()
    with Store(database) as store:
        assert [r[0] for r in store.db.execute("SELECT team_id FROM lead_threads").fetchall()] == [
            "T0BBBBBBB"
        ]
