"""Uninstalling: Slack's ``app_uninstalled`` and ``tokens_revoked`` events delete that workspace's
tokens, and only that workspace's."""

from __future__ import annotations

from tests.conftest import USER, Bot
from tests.oauth.conftest import TEAM_A, TEAM_B, install, install_and_connect


def store_of(bot: Bot):  # type: ignore[no-untyped-def]
    return bot.runtime.app.oauth_flow.settings.installation_store


def test_app_uninstalled_deletes_that_workspaces_tokens(oauth_bot: Bot) -> None:
    install_and_connect(oauth_bot, TEAM_A)
    install_and_connect(oauth_bot, TEAM_B)
    delivery = oauth_bot.emulator.uninstall(TEAM_B)
    assert delivery is not None and delivery.status == 200
    oauth_bot.settle()
    store = store_of(oauth_bot)
    assert store.find_bot(enterprise_id=None, team_id=TEAM_B) is None
    assert store.find_installation(enterprise_id=None, team_id=TEAM_B) is None
    assert store.find_bot(enterprise_id=None, team_id=TEAM_A) is not None
    # team A is still served; team B is told to reinstall
    with oauth_bot.emulator.as_team(TEAM_A):
        oauth_bot.command("/lead")
    oauth_bot.settle()
    with oauth_bot.emulator.as_team(TEAM_B):
        oauth_bot.command("/lead")
    assert oauth_bot.wait(lambda em: [m for m in em.ephemerals(USER) if "reinstall" in m["text"]])
    opens = [c for c in oauth_bot.emulator.calls if c["method"] == "views.open"]
    assert [c["team_id"] for c in opens] == [TEAM_A]


def test_tokens_revoked_deletes_the_bot_token(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    delivery = oauth_bot.emulator.revoke_tokens(TEAM_A)
    assert delivery is not None and delivery.status == 200
    oauth_bot.settle()
    store = store_of(oauth_bot)
    assert store.find_bot(enterprise_id=None, team_id=TEAM_A) is None
    installation = store.find_installation(enterprise_id=None, team_id=TEAM_A)
    assert installation is None or installation.bot_token is None


def test_reinstalling_after_uninstall_serves_the_workspace_again(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    oauth_bot.emulator.uninstall(TEAM_A)
    oauth_bot.settle()
    install_and_connect(oauth_bot, TEAM_A)
    with oauth_bot.emulator.as_team(TEAM_A):
        oauth_bot.command("/lead")
    oauth_bot.settle()
    opens = [c for c in oauth_bot.emulator.calls if c["method"] == "views.open"]
    assert [c["ok"] for c in opens] == [True]
