"""``telecrm-bot doctor`` (README.md, *Checking an installation*): one line per check, ``ok`` or
``FAILED: <what is wrong and what to do>``, exit 0 only when every check passed, secrets never shown.

Run as an operator runs it, in its own process, against a real TeleCRM sandbox and Slack emulator on
loopback (or the stand-ins it starts itself when no credentials are set)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from slack_emulator import SlackEmulator
from slack_emulator import serve_in_thread as serve_emulator
from storage.db import Store
from storage.migrations import MIGRATIONS, latest_version
from telecrm.sandbox import Sandbox
from telecrm.sandbox import serve_in_thread as serve_sandbox
from tests.core.test_configuration import run_cli

CHECKS = ("configuration", "database", "slack auth", "telecrm auth")
BOT_TOKEN = "xoxb-doctor-bot-token-0123456789"
APP_TOKEN = "xapp-1-A0TELECRMAPP-doctor-0123456789"
SYNC_TOKEN = "sync-doctor-token-0123456789"


@dataclass
class Answer:
    code: int
    lines: dict[str, list[str]]  # check name -> what follows "name: " on each of its lines
    output: str

    def ok(self, check: str) -> str:
        [line] = self.lines[check]
        assert line.startswith("ok"), self.output
        return line

    def failed(self, check: str) -> list[str]:
        lines = self.lines[check]
        assert lines and all(line.startswith("FAILED: ") for line in lines), self.output
        return [line.removeprefix("FAILED: ") for line in lines]


def doctor(tmp_path: Path, env: dict[str, str]) -> Answer:
    result = run_cli(["doctor"], {"DATABASE_PATH": str(tmp_path / "bot.sqlite3"), **env}, tmp_path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    lines: dict[str, list[str]] = {name: [] for name in CHECKS}
    for line in result.stdout.splitlines():
        name, sep, rest = line.partition(": ")
        assert sep and name in CHECKS, f"not a check's line: {line!r}"
        assert rest.startswith(("ok", "FAILED: ")), line
        lines[name].append(rest)
    assert all(lines.values()), f"a check printed nothing:\n{output}"
    return Answer(result.returncode, lines, output)


@dataclass
class StandIns:
    emulator: SlackEmulator
    sandbox: Sandbox
    env: dict[str, str]  # a complete, correct configuration for both


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[StandIns]:
    """A Slack emulator and a TeleCRM sandbox served on loopback, as real Slack and TeleCRM would be."""
    emulator = SlackEmulator(signing_secret="doctor-secret", bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    slack = serve_emulator(emulator)
    sandbox = Sandbox(sync_token=SYNC_TOKEN)
    telecrm = serve_sandbox(sandbox)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "doctor-secret",
        "SLACK_API_URL": emulator.api_url,
        "TELECRM_ENTERPRISE_ID": sandbox.enterprise_id,
        "TELECRM_SYNC_TOKEN": SYNC_TOKEN,
        "TELECRM_API_URL": telecrm.url + "/autoupdate/v2",
    }
    yield StandIns(emulator, sandbox, env)
    emulator.close()
    slack.stop()
    telecrm.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def schema_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


# --- everything fine -----------------------------------------------------------------------------


def test_with_no_credentials_every_check_passes_against_the_stand_ins_the_bot_would_start(
    tmp_path: Path,
) -> None:
    answer = doctor(tmp_path, {})

    assert answer.code == 0, answer.output
    assert "local Slack emulator" in answer.ok("configuration")
    assert "does not exist yet" in answer.ok("database")
    assert not (tmp_path / "bot.sqlite3").exists()  # looked at, never created
    assert "no Slack credentials are set" in answer.ok("slack auth")
    assert "embedded TeleCRM sandbox" in answer.ok("telecrm auth")


def test_with_real_credentials_it_names_the_slack_workspace_and_the_telecrm_workspace(
    tmp_path: Path, stand_ins: StandIns
) -> None:
    Store(tmp_path / "bot.sqlite3").close()  # a database the bot has already migrated

    answer = doctor(tmp_path, stand_ins.env)

    assert answer.code == 0, answer.output
    assert "HTTP mode" in answer.ok("configuration")
    assert f"schema version {latest_version()}: current" in answer.ok("database")
    assert "T0EMULATOR" in answer.ok("slack auth")
    assert stand_ins.sandbox.enterprise_id in answer.ok("telecrm auth")
    assert "emulator" not in answer.ok("slack auth") and "sandbox" not in answer.ok("telecrm auth")


def test_socket_mode_checks_the_app_level_token_too(tmp_path: Path, stand_ins: StandIns) -> None:
    env = {**stand_ins.env, "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": APP_TOKEN}
    assert doctor(tmp_path, env).code == 0

    wrong = doctor(tmp_path, {**env, "SLACK_APP_TOKEN": "xapp-1-A0TELECRMAPP-wrong-9876543210"})

    assert wrong.code == 1
    [problem] = wrong.failed("slack auth")
    assert problem.startswith("Slack refused SLACK_APP_TOKEN (apps.connections.open: invalid_auth)")
    assert "wrong-9876543210" not in wrong.output


# --- what fails, and what to do ------------------------------------------------------------------


def test_tokens_slack_and_telecrm_refuse_are_each_one_line_saying_what_to_set_and_never_shown(
    tmp_path: Path, stand_ins: StandIns
) -> None:
    env = {
        **stand_ins.env,
        "SLACK_BOT_TOKEN": "xoxb-revoked-9876543210",
        "TELECRM_SYNC_TOKEN": "stale-9876543210",
    }

    answer = doctor(tmp_path, env)

    assert answer.code == 1
    answer.ok("configuration")
    answer.ok("database")
    [slack] = answer.failed("slack auth")
    assert slack.startswith("Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth)")
    assert "Bot User OAuth Token" in slack
    [telecrm] = answer.failed("telecrm auth")
    assert telecrm.startswith("TeleCRM refused TELECRM_SYNC_TOKEN")
    assert "Sync-typed token" in telecrm
    assert "9876543210" not in answer.output
    assert SYNC_TOKEN not in answer.output and BOT_TOKEN not in answer.output


def test_services_that_do_not_answer_are_named_with_the_variable_to_check(
    tmp_path: Path, stand_ins: StandIns
) -> None:
    port = closed_port()
    env = {
        **stand_ins.env,
        "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
        "TELECRM_API_URL": f"http://127.0.0.1:{port}/autoupdate/v2",
    }

    answer = doctor(tmp_path, env)

    assert answer.code == 1
    [slack] = answer.failed("slack auth")
    assert slack.startswith(f"could not reach Slack at SLACK_API_URL=http://127.0.0.1:{port}/api/")
    [telecrm] = answer.failed("telecrm auth")
    assert telecrm.startswith(f"could not reach TeleCRM at TELECRM_API_URL=http://127.0.0.1:{port}/")
    assert "ERROR" not in answer.output  # the lines say it; no log noise on top


def test_every_configuration_problem_is_a_line_and_what_depends_on_it_is_not_checked(
    tmp_path: Path, stand_ins: StandIns
) -> None:
    env = {
        **stand_ins.env,
        "SLACK_BOT_TOKEN": "not-a-bot-token",
        "CACHE_TTL_SECONDS": "soon",
        "TELECRM_ENTERPRISE_ID": "",
    }

    answer = doctor(tmp_path, env)

    assert answer.code == 1  # a failed check, not a refusal to start (2)
    problems = answer.failed("configuration")
    assert [p.split(" ")[0] for p in problems] == [
        "SLACK_BOT_TOKEN",
        "CACHE_TTL_SECONDS",
        "TELECRM_ENTERPRISE_ID",
    ]
    assert "not-a-bot-token" not in answer.output  # a secret's bad value is not repeated
    assert "'soon'" in problems[1]
    assert answer.failed("slack auth") == ["not checked: fix the configuration lines above first"]
    assert answer.failed("telecrm auth") == ["not checked: fix the configuration lines above first"]
    answer.ok("database")


# --- the database --------------------------------------------------------------------------------


def test_a_database_of_an_older_release_passes_and_is_left_for_the_bot_to_migrate(
    tmp_path: Path, stand_ins: StandIns
) -> None:
    Store(tmp_path / "bot.sqlite3", migrations=MIGRATIONS[:3]).close()

    answer = doctor(tmp_path, stand_ins.env)

    assert answer.code == 0
    assert f"schema version 3: needs migrating to {latest_version()}" in answer.ok("database")
    assert schema_version(tmp_path / "bot.sqlite3") == 3  # the doctor only looked


def test_a_database_of_a_newer_release_fails_saying_to_upgrade(tmp_path: Path, stand_ins: StandIns) -> None:
    Store(tmp_path / "bot.sqlite3").close()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")

    answer = doctor(tmp_path, stand_ins.env)

    assert answer.code == 1
    [problem] = answer.failed("database")
    assert f"schema version {latest_version() + 1}" in problem
    assert "upgrade telecrm-slack" in problem


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda path: path.mkdir(), "it is a directory"),
        (lambda path: path.write_text("not sqlite, just text\n" * 100), "not a SQLite database"),
        (lambda path: None, "does not exist"),  # the folder of DATABASE_PATH does not exist
    ],
    ids=["directory", "not-sqlite", "no-folder"],
)
def test_a_database_file_the_bot_cannot_use_fails_naming_the_file_and_the_reason(
    tmp_path: Path, stand_ins: StandIns, make, expected: str
) -> None:
    path = tmp_path / ("missing/bot.sqlite3" if expected == "does not exist" else "bot.sqlite3")
    make(path)

    answer = doctor(tmp_path, {**stand_ins.env, "DATABASE_PATH": str(path)})

    assert answer.code == 1
    [problem] = answer.failed("database")
    assert problem.startswith(f"DATABASE_PATH={path} cannot be used")
    assert expected in problem


# --- OAuth mode: each workspace ------------------------------------------------------------------


def test_oauth_mode_checks_each_installed_workspace_and_names_those_not_connected(
    tmp_path: Path, stand_ins: StandIns
) -> None:
    from slack_sdk.oauth.installation_store.models.installation import Installation

    from storage.installations import InstallationStore
    from storage.secrets import TokenCipher, new_key
    from storage.telecrm_connections import TelecrmConnections

    key = new_key()
    with Store(tmp_path / "bot.sqlite3") as store:
        installs, connections = (
            InstallationStore(store, TokenCipher(key)),
            TelecrmConnections(store, TokenCipher(key)),
        )
        for team, token in (("TA", BOT_TOKEN), ("TB", BOT_TOKEN), ("TC", "xoxb-revoked-0123456789")):
            installs.save(
                Installation(team_id=team, bot_token=token, bot_id="B1", bot_user_id="UB", user_id="U1")
            )
        connections.save("TA", stand_ins.sandbox.enterprise_id, SYNC_TOKEN, None, "U1")
        connections.save("TB", stand_ins.sandbox.enterprise_id, "wrong-sync-token-0123", None, "U1")
    env = {
        "SLACK_SIGNING_SECRET": "doctor-secret",
        "SLACK_API_URL": stand_ins.env["SLACK_API_URL"],
        "TELECRM_API_URL": stand_ins.env["TELECRM_API_URL"],
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "client-secret-0123456789",
        "SLACK_STATE_SECRET": "state-secret-0123456789",
        "TOKEN_ENCRYPTION_KEY": key,
    }

    answer = doctor(tmp_path, env)

    assert answer.code == 1
    slack = answer.lines["slack auth"]
    assert [line.split(" ", 3)[:3] for line in slack] == [
        ["ok", "(workspace", "TA:"],
        ["ok", "(workspace", "TB:"],
        ["FAILED:", "workspace", "TC:"],
    ]
    assert "its stored bot token (auth.test: invalid_auth)" in slack[2]
    telecrm = answer.lines["telecrm auth"]
    assert (
        telecrm[0].startswith("ok (workspace TA: TeleCRM workspace")
        and stand_ins.sandbox.enterprise_id in telecrm[0]
    )
    assert telecrm[1].startswith("FAILED: workspace TB: TeleCRM refused") and "Home tab" in telecrm[1]
    assert telecrm[2] == (
        "ok (installed but not connected to TeleCRM: TC (an admin there clicks Connect TeleCRM in the app's Home tab))"
    )
    assert SYNC_TOKEN not in answer.output and BOT_TOKEN not in answer.output and key not in answer.output
