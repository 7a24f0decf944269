"""Configuration never quietly pretends (README.md, *Configuration*): a half-set side is an error, not
a fall-back to a stand-in; every bad value is one line naming its variable, all of them at once, exit
status 2, never a traceback; and the admin commands read what the bot in sandbox mode stored.

The command line runs as an operator runs it: ``python -m bot.cli`` in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runtime import Runtime
from kit.config import ConfigError, Listen, Needs, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "configuration error: "
STARTED = ("NO TELECRM CREDENTIALS", "NO SLACK CREDENTIALS", "Slack Request URL", "Migrating")


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TELECRM_", "DATABASE_", "PORT", "LOG_LEVEL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", "/dev/null", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,  # a command that should have refused to start would otherwise run for ever
    )


def refused(result: subprocess.CompletedProcess) -> list[str]:
    """The lines of a refusal: exit status 2, only one-line problems, nothing started, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not [word for word in STARTED if word in result.stderr], result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(line.startswith(PREFIX) for line in lines), result.stderr
    return [line.removeprefix(PREFIX) for line in lines]


@pytest.fixture
def database(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}


# --- a half-set side is an error ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "env", "missing"),
    [
        (["run"], {"TELECRM_ENTERPRISE_ID": "6650a1c2e4b0d3f1a2b3c4d5"}, ["TELECRM_SYNC_TOKEN"]),
        (["run"], {"TELECRM_SYNC_TOKEN": "t", "TELECRM_ASYNC_TOKEN": "a"}, ["TELECRM_ENTERPRISE_ID"]),
        (["run"], {"TELECRM_ASYNC_TOKEN": "a"}, ["TELECRM_ENTERPRISE_ID", "TELECRM_SYNC_TOKEN"]),
        (["serve"], {"SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_SIGNING_SECRET"]),
        (["run"], {"SLACK_SIGNING_SECRET": "s"}, ["SLACK_BOT_TOKEN"]),
        (["run"], {"SLACK_APP_TOKEN": "xapp-1"}, ["SLACK_BOT_TOKEN"]),  # Socket Mode
        (["socket"], {"SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_APP_TOKEN"]),
        (["socket"], {}, ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]),  # Socket Mode has no stand-in
        (
            ["run"],
            {"TELECRM_ENTERPRISE_ID": "6650a1c2e4b0d3f1a2b3c4d5", "SLACK_BOT_TOKEN": "xoxb-1"},
            ["TELECRM_SYNC_TOKEN", "SLACK_SIGNING_SECRET"],
        ),
    ],
)
def test_a_half_set_side_stops_the_start_naming_each_missing_variable(
    tmp_path: Path, database: dict[str, str], command: list[str], env: dict[str, str], missing: list[str]
) -> None:
    port = [] if command == ["socket"] else ["--port", "0"]
    lines = refused(run_cli(command + port, {**database, **env}, tmp_path))
    assert [line.split()[0] for line in lines] == missing
    assert all(" is not set" in line for line in lines)
    assert not Path(database["DATABASE_PATH"]).exists()


def test_the_message_says_what_is_set_and_how_to_use_the_stand_in_instead() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            {"TELECRM_ENTERPRISE_ID": "6650a1c2e4b0d3f1a2b3c4d5"},
            dotenv_path=None,
            needs=Needs(slack="run", telecrm=True),
        )
    (line,) = raised.value.problems
    assert line == (
        "TELECRM_SYNC_TOKEN is not set, but TELECRM_ENTERPRISE_ID is: your TeleCRM workspace needs "
        "TELECRM_ENTERPRISE_ID and TELECRM_SYNC_TOKEN; or set none of TELECRM_ENTERPRISE_ID, "
        "TELECRM_SYNC_TOKEN, TELECRM_ASYNC_TOKEN to use the embedded TeleCRM sandbox"
    )


def test_secrets_are_never_echoed_in_a_problem() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_BOT_TOKEN": "xoxp-user-token-secret"}, dotenv_path=None)
    (line,) = raised.value.problems
    assert line == "SLACK_BOT_TOKEN must be a bot token starting with xoxb-"


# --- every bad value: one line each, all at once, for every command ----------------------------------

BAD_VALUES = {
    "PORT": "abc",
    "CACHE_TTL_SECONDS": "soon",
    "DEFAULT_COUNTRY_CODE": "India",
    "DEFAULT_CURRENCY": "EURO",
    "SLACK_API_URL": "slack.com/api",
    "TELECRM_API_URL": "ftp://next.telecrm.in/autoupdate/v2",
    "TELECRM_ASYNC_API_URL": "https://",
    "TELECRM_LEAD_URL": "https://next.telecrm.in/leads",
    "LOG_LEVEL": "loud",
}


@pytest.mark.parametrize(
    "command",
    [["run"], ["serve"], ["socket"], ["sandbox"], ["cache", "show"], ["cache", "refresh"], ["outbox"]],
    ids=lambda c: " ".join(c),
)
def test_every_bad_value_is_one_line_naming_it_for_every_command(
    tmp_path: Path, database: dict[str, str], command: list[str]
) -> None:
    lines = refused(run_cli(command, {**database, **BAD_VALUES}, tmp_path))
    for name, value in BAD_VALUES.items():
        (line,) = [line for line in lines if line.startswith(name + " ")]
        assert f"{name} must be " in line and repr(value) in line
    # nothing else, but for `socket` the Slack credentials it has no stand-in for
    others = [line.split()[0] for line in lines if line.split()[0] not in BAD_VALUES]
    assert others == (["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"] if command == ["socket"] else [])


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SLACK_API_URL", "https://slack.com:api/", "an http:// or https:// URL"),
        ("SLACK_HOOKS_URL", "hooks.slack.com", "an http:// or https:// URL"),
        ("TELECRM_API_URL", "https://next.telecrm .in", "an http:// or https:// URL"),
        ("TELECRM_LEAD_URL", "https://x.example/{lead}", "{lead_id}"),
        ("TELECRM_LEAD_URL", "https://x.example/{lead_id", "{lead_id}"),
        ("TELECRM_LEAD_URL", "/leads/{lead_id}", "{lead_id}"),
        ("CACHE_TTL_SECONDS", "nan", "a number of seconds, 0 or more"),
        ("PAYMENT_WATCH_SECONDS", "-5", "a number of seconds, 0 or more"),
        ("TELECRM_TIMEOUT_SECONDS", "0", "greater than 0"),
        ("WORKER_THREADS", "0", "a whole number of at least 1"),
        ("PORT", "70000", "a port number from 1 to 65535"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token", "an app-level token starting with xapp-"),
        ("DIGEST_TZ", "Mars/Olympus_Mons", "a time zone name such as Asia/Kolkata"),
    ],
)
def test_each_value_is_checked_against_what_it_must_be(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({name: value}, dotenv_path=None)
    (line,) = raised.value.problems
    assert line.startswith(f"{name} must be ") and expected in line


def test_the_example_configuration_is_valid() -> None:
    settings = load_settings({}, dotenv_path=ROOT / ".env.example")
    assert settings.uses_telecrm_sandbox and settings.uses_slack_emulator
    assert settings.port == 3000 and settings.log_level == "INFO"


def test_port_and_log_level_are_read_from_the_dotenv_file_too(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=8080\nLOG_LEVEL=debug\n")
    settings = load_settings({}, dotenv_path=dotenv)
    assert settings.port == 8080 and settings.log_level == "DEBUG"


# --- the database file and the port ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_path", "expected"),
    [
        (lambda tmp: tmp, "it is a directory"),
        (lambda tmp: tmp / "no-such-folder" / "bot.sqlite3", "does not exist"),
        (lambda tmp: Path("/proc/self/bot.sqlite3"), "is not writable"),  # read-only even for root
    ],
    ids=["directory", "missing-folder", "read-only-folder"],
)
@pytest.mark.parametrize("command", [["run", "--port", "0"], ["outbox"]], ids=lambda c: c[0])
def test_an_unusable_database_path_is_reported_with_the_other_problems(
    tmp_path: Path, make_path, expected: str, command: list[str]
) -> None:
    path = make_path(tmp_path)
    env = {"DATABASE_PATH": str(path), "CACHE_TTL_SECONDS": "soon"}
    lines = refused(run_cli(command, env, tmp_path))
    assert len(lines) == 2
    assert lines[0].startswith("CACHE_TTL_SECONDS must be a number")
    assert lines[1].startswith(f"DATABASE_PATH={path} cannot be used") and expected in lines[1]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    ("command", "from_env", "change_with"),
    [
        (["serve", "--host", "127.0.0.1", "--port", "{port}"], False, "PORT or --port"),
        (["run"], True, "PORT or --port"),
        (["sandbox", "--port", "{port}"], False, "--port"),
    ],
    ids=["serve", "run-PORT", "sandbox"],
)
def test_a_port_in_use_is_one_line_before_anything_starts(
    tmp_path: Path,
    database: dict[str, str],
    taken_port: int,
    command: list[str],
    from_env: bool,
    change_with: str,
) -> None:
    args = [arg.format(port=taken_port) for arg in command]
    env = {**database, **({"PORT": str(taken_port)} if from_env else {})}
    (line,) = refused(run_cli(args, env, tmp_path))
    assert line == (
        f"port {taken_port} on 127.0.0.1 cannot be used (Address already in use): "
        f"set {change_with} to a free port"
    )


def test_run_in_socket_mode_listens_on_no_port_so_a_taken_one_is_no_problem(taken_port: int) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "PORT": str(taken_port)}
    run = Needs(slack="run", listen=Listen("127.0.0.1", None))
    assert load_settings(env, dotenv_path=None, needs=run).socket_mode
    with pytest.raises(ConfigError, match=f"port {taken_port} on 127.0.0.1 cannot be used"):
        load_settings({**env, "SLACK_APP_TOKEN": ""}, dotenv_path=None, needs=run)


# --- sandbox mode: the admin commands read what the bot stored ---------------------------------------


def test_cache_show_and_outbox_read_the_database_of_the_bot_in_sandbox_mode(
    tmp_path: Path, database: dict[str, str]
) -> None:
    runtime = Runtime(Settings(database_path=database["DATABASE_PATH"]))  # no credentials: stand-ins
    try:
        runtime.build()
        runtime.services.cache.get()  # what the bot's warm-up does at start
    finally:
        runtime.stop()

    shown = run_cli(["cache", "show"], database, tmp_path)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "sandbox mode" in shown.stdout
    assert "[identifier]" in shown.stdout and "city" in shown.stdout
    refreshed = run_cli(["cache", "refresh"], database, tmp_path)
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert "refreshed: 21 fields" in refreshed.stdout
    outbox = run_cli(["outbox"], database, tmp_path)
    assert outbox.returncode == 0 and "no pending writes" in outbox.stdout


def test_the_sandbox_prints_every_demo_value_it_falls_back_to(tmp_path: Path) -> None:
    env = {"TELECRM_SYNC_TOKEN": "my-own-sync-token"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELECRM_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", "/dev/null", "sandbox", "--port", "0"],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # printed before the server logs that it listens
            if "sandbox listening" in line:
                break
    finally:
        process.terminate()
        printed, _ = process.communicate(timeout=10)
    from telecrm.sandbox import DEMO_ASYNC_TOKEN, DEMO_ENTERPRISE_ID

    assert f"enterprise id: {DEMO_ENTERPRISE_ID}   (demo value: TELECRM_ENTERPRISE_ID is not set)" in printed
    assert f"Async token: {DEMO_ASYNC_TOKEN}   (demo value: TELECRM_ASYNC_TOKEN is not set)" in printed
    assert "Sync token: as set   (from TELECRM_SYNC_TOKEN)" in printed
    assert "my-own-sync-token" not in printed
