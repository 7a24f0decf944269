"""OAuth mode's configuration: all three OAuth variables or none, a valid TOKEN_ENCRYPTION_KEY, no
bot token needed; each problem one line naming its variable, exit status 2, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.config import ConfigError, Needs, load_settings
from storage.secrets import new_key
from tests.core.test_configuration import refused, run_cli

OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret-value",
    "SLACK_STATE_SECRET": "state-secret-value",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
}


def problems(env: dict[str, str], mode: str = "http") -> list[str]:
    try:
        load_settings(env, dotenv_path=None, needs=Needs(slack=mode))  # type: ignore[arg-type]
    except ConfigError as exc:
        return exc.problems
    return []


def test_oauth_mode_needs_no_bot_token() -> None:
    env = {**OAUTH, "TOKEN_ENCRYPTION_KEY": new_key()}
    assert problems(env) == []
    settings = load_settings(env, dotenv_path=None)
    assert settings.oauth_mode and not settings.slack_bot_token


@pytest.mark.parametrize("missing", ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET"])
def test_each_missing_oauth_variable_is_named(missing: str) -> None:
    env = {k: v for k, v in {**OAUTH, "TOKEN_ENCRYPTION_KEY": new_key()}.items() if k != missing}
    found = problems(env)
    assert len(found) == 1 and found[0].startswith(f"{missing} is not set")


def test_the_encryption_key_is_required_in_oauth_mode() -> None:
    found = problems(OAUTH)
    assert len(found) == 1 and found[0].startswith("TOKEN_ENCRYPTION_KEY is not set")


def test_a_bad_encryption_key_is_refused_without_repeating_it() -> None:
    secret_looking = "not-a-fernet-key-but-secret"
    found = problems({**OAUTH, "TOKEN_ENCRYPTION_KEY": f"{new_key()},{secret_looking}"})
    assert len(found) == 1
    assert found[0].startswith("TOKEN_ENCRYPTION_KEY must be a comma-separated list of Fernet keys")
    assert "key 2 of 2" in found[0]
    assert secret_looking not in found[0]


def test_with_no_slack_credential_the_emulator_stands_in_and_its_workspaces_install() -> None:
    """Trying many workspaces locally: the OAuth variables alone, the emulator signs the requests."""
    env = {k: v for k, v in OAUTH.items() if k != "SLACK_SIGNING_SECRET"} | {
        "TOKEN_ENCRYPTION_KEY": new_key()
    }
    assert problems(env, "run") == [] and problems(env, "http") == []
    settings = load_settings(env, dotenv_path=None)
    assert settings.oauth_mode and settings.uses_slack_emulator


def test_a_real_slack_needs_the_signing_secret_in_oauth_mode() -> None:
    env = {k: v for k, v in OAUTH.items() if k != "SLACK_SIGNING_SECRET"} | {
        "TOKEN_ENCRYPTION_KEY": new_key(),
        "SLACK_BOT_TOKEN": "xoxb-1",
    }
    found = problems(env)
    assert len(found) == 1 and found[0].startswith("SLACK_SIGNING_SECRET is not set"), found


def test_oauth_mode_is_http_only() -> None:
    env = {**OAUTH, "TOKEN_ENCRYPTION_KEY": new_key(), "SLACK_APP_TOKEN": "xapp-1-A-1"}
    found = problems(env, "run")
    assert len(found) == 1 and found[0].startswith("SLACK_APP_TOKEN is set")


def test_serve_refuses_a_half_set_oauth_configuration(tmp_path: Path) -> None:
    env = {
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_SIGNING_SECRET": "signing-secret-value",
        "TOKEN_ENCRYPTION_KEY": "oops",
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "PORT": "0",
    }
    lines = refused(run_cli(["serve"], env, tmp_path))
    assert [line.split(" ", 1)[0] for line in lines] == [
        "TOKEN_ENCRYPTION_KEY",
        "SLACK_CLIENT_SECRET",
        "SLACK_STATE_SECRET",
    ]
    assert "oops" not in "\n".join(lines)


def test_doctor_says_oauth_mode_without_failing_on_the_missing_bot_token(tmp_path: Path) -> None:
    env = {
        **OAUTH,
        "TOKEN_ENCRYPTION_KEY": new_key(),
        "TELECRM_ENTERPRISE_ID": "e1",
        "TELECRM_SYNC_TOKEN": "t1",
        "TELECRM_API_URL": "http://127.0.0.1:9/autoupdate/v2",
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    lines = run_cli(["doctor"], env, tmp_path).stdout.splitlines()
    assert "configuration: ok (Slack: HTTP mode, installed into workspaces through OAuth" in lines[0]
    slack = next(line for line in lines if line.startswith("slack auth"))
    assert slack.startswith("slack auth: ok (OAuth mode")
