"""``telecrm-bot import`` in OAuth mode: the file goes to the TeleCRM that the named Slack workspace
connected, and the import is that workspace's; without ``--team`` it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.import_cli import cmd_import
from kit.imports.preview import file_sha256
from storage.imports import Imports
from storage.tenancy import team_scope
from tests.conftest import Bot
from tests.oauth.conftest import TEAM_A, TEAM_B, install, install_and_connect


def leads_csv(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text("name,phone\nAsha Rao,9812345670\nVikram Shah,9812345671\n")
    return path


def test_an_import_goes_to_the_named_workspaces_telecrm_and_is_its_own(
    oauth_bot: Bot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_and_connect(oauth_bot, TEAM_A)
    settings = oauth_bot.settings.with_overrides(
        telecrm_async_rate_per_hour=36_000, import_verify_wait_seconds=1.0
    )
    path = leads_csv(tmp_path)
    assert cmd_import(settings, str(path), dry_run=False, team=TEAM_A) == 0
    assert "2 rows sent" in capsys.readouterr().out
    assert oauth_bot.sandbox.find_lead("9812345670") is not None
    imports = Imports(oauth_bot.services.store)
    with team_scope(TEAM_A):
        assert [r.source for r in imports.with_file(file_sha256(path))] == ["cli"]
    with team_scope(TEAM_B):
        assert imports.with_file(file_sha256(path)) == []


def test_without_a_team_or_a_connection_nothing_is_read_or_sent(
    oauth_bot: Bot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(oauth_bot, TEAM_B)  # installed, TeleCRM not connected
    path = str(leads_csv(tmp_path))
    assert cmd_import(oauth_bot.settings, path, dry_run=True) == 2
    assert "--team" in capsys.readouterr().err
    assert cmd_import(oauth_bot.settings, path, dry_run=True, team=TEAM_B) == 1
    assert f"Slack workspace {TEAM_B} is not connected to TeleCRM" in capsys.readouterr().err
    assert oauth_bot.telecrm_writes() == 0
