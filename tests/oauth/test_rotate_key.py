"""``telecrm-bot rotate-key``: a new key first in TOKEN_ENCRYPTION_KEY, the stored tokens encrypted
again with it, then the old key can go."""

from __future__ import annotations

from pathlib import Path

from slack_sdk.oauth.installation_store.models.installation import Installation

from storage.db import Store
from storage.installations import InstallationStore
from storage.secrets import TokenCipher, new_key
from storage.telecrm_connections import TelecrmConnections
from tests.core.test_configuration import run_cli

TOKEN = "xoxb-installed-workspace-token"
SYNC_TOKEN = "telecrm-sync-token-of-team-a"


def installed(path: Path, key: str) -> None:
    with Store(path) as store:
        InstallationStore(store, TokenCipher(key)).save(
            Installation(team_id="TA", bot_token=TOKEN, bot_id="B1", bot_user_id="UB", user_id="U1")
        )
        TelecrmConnections(store, TokenCipher(key)).save("TA", "ws-1", SYNC_TOKEN, None, "U1")


def token_with(path: Path, key: str) -> str | None:
    with Store(path) as store:
        bot = InstallationStore(store, TokenCipher(key)).find_bot(enterprise_id=None, team_id="TA")
        return bot.bot_token if bot else None


def sync_token_with(path: Path, key: str) -> str | None:
    with Store(path) as store:
        connection = TelecrmConnections(store, TokenCipher(key)).find("TA")
        return connection.sync_token if connection else None


def test_rotating_lets_the_old_key_go(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    old, new = new_key(), new_key()
    installed(db, old)
    env = {"DATABASE_PATH": str(db), "TOKEN_ENCRYPTION_KEY": f"{new},{old}"}
    done = run_cli(["rotate-key"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 installation row(s) and 1 TeleCRM connection(s)" in done.stdout
    assert token_with(db, new) == TOKEN
    assert sync_token_with(db, new) == SYNC_TOKEN
    assert TOKEN not in done.stdout + done.stderr and SYNC_TOKEN not in done.stdout + done.stderr


def test_without_the_old_key_nothing_changes(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    old = new_key()
    installed(db, old)
    done = run_cli(["rotate-key"], {"DATABASE_PATH": str(db), "TOKEN_ENCRYPTION_KEY": new_key()}, tmp_path)
    assert done.returncode == 1 and "keep the old ones" in done.stderr
    assert "Traceback" not in done.stderr
    assert token_with(db, old) == TOKEN


def test_rotate_key_needs_the_key(tmp_path: Path) -> None:
    done = run_cli(["rotate-key"], {"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("configuration error: TOKEN_ENCRYPTION_KEY is not set")
