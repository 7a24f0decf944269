"""Installing the app into two workspaces through OAuth v2, end to end: the real Bolt app behind the
real HTTP server, the Slack emulator's install page and ``oauth.v2.access``, signed requests."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import USER, Bot
from tests.oauth.conftest import TEAM_A, TEAM_B, approve, install, install_and_connect, start_install


def bot_tokens(bot: Bot) -> dict[str, str]:
    """The bot token the emulator granted each team."""
    return {g.team_id: t for t, g in bot.emulator.oauth.tokens.items() if not g.revoked}


def test_two_workspaces_install_and_each_gets_its_own_token(oauth_bot: Bot) -> None:
    first = install(oauth_bot, TEAM_A)
    second = install(oauth_bot, TEAM_B)
    assert first.done.status_code == 200 and second.done.status_code == 200
    store = oauth_bot.runtime.app.oauth_flow.settings.installation_store
    tokens = bot_tokens(oauth_bot)
    for team in (TEAM_A, TEAM_B):
        bot = store.find_bot(enterprise_id=None, team_id=team)
        assert bot is not None and bot.bot_token == tokens[team]
        assert store.find_installation(enterprise_id=None, team_id=team).user_id == "U0PRIYA"
    assert tokens[TEAM_A] != tokens[TEAM_B]


def test_the_install_link_asks_for_the_manifests_scopes(oauth_bot: Bot) -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
    with httpx.Client() as http:
        link, _ = start_install(oauth_bot, http)
    scope = httpx.URL(link).params["scope"]
    assert scope.split(",") == manifest["oauth_config"]["scopes"]["bot"]


def test_tokens_are_encrypted_in_the_database_file(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    install(oauth_bot, TEAM_B)
    oauth_bot.runtime.stop()  # everything written and checkpointed into the file
    path = Path(oauth_bot.settings.database_path)
    raw = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))
    tokens = bot_tokens(oauth_bot)
    assert len(tokens) == 2
    for token in tokens.values():
        assert token.encode() not in raw
    assert TEAM_B.encode() in raw  # which workspaces are installed stays readable


def test_a_command_from_each_team_is_answered_with_that_teams_token(oauth_bot: Bot) -> None:
    install_and_connect(oauth_bot, TEAM_A)
    install_and_connect(oauth_bot, TEAM_B)
    tokens = bot_tokens(oauth_bot)
    for team in (TEAM_A, TEAM_B):
        with oauth_bot.emulator.as_team(team):
            oauth_bot.command("/lead")
        oauth_bot.settle()
    opens = [c for c in oauth_bot.emulator.calls if c["method"] == "views.open"]
    assert [c["ok"] for c in opens] == [True, True]
    assert [c["team_id"] for c in opens] == [TEAM_A, TEAM_B]
    assert {c["team_id"] for c in oauth_bot.emulator.calls if c.get("team_id")} <= set(tokens)


def test_a_state_is_used_once(oauth_bot: Bot) -> None:
    first = install(oauth_bot, TEAM_A)
    with httpx.Client() as http:
        again = http.get(first.redirect, headers={"Cookie": first.cookie})
    assert again.status_code == 401  # Bolt's "invalid_state"
    assert "invalid_state" in again.text


def test_a_state_the_bot_did_not_issue_is_refused(oauth_bot: Bot) -> None:
    with httpx.Client() as http:
        link, _ = start_install(oauth_bot, http)
        forged = link.replace("state=", "state=x")
        back = approve(http, forged, TEAM_A)
        redirect = back.headers["location"]
        state = httpx.URL(redirect).params["state"]
        answer = http.get(redirect, headers={"Cookie": f"slack-app-oauth-state={state}"})
    assert answer.status_code == 401
    assert (
        oauth_bot.runtime.app.oauth_flow.settings.installation_store.find_bot(
            enterprise_id=None, team_id=TEAM_A
        )
        is None
    )


def test_a_workspace_that_did_not_install_is_not_served(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    with oauth_bot.emulator.as_team(TEAM_B):
        oauth_bot.command("/lead")
    # Bolt's answer, through the command's response_url
    told = oauth_bot.wait(lambda em: [m for m in em.ephemerals(USER) if "reinstall" in m["text"]])
    assert told
    assert not [c for c in oauth_bot.emulator.calls if c["method"] == "views.open"]


def test_a_local_bot_started_again_finds_its_workspaces_still_installed(tmp_path: Path) -> None:
    """With the emulator standing in for Slack, a restart is not a reinstall: Slack keeps an app's
    installs, and so does the emulator for the ones in the bot's database."""
    from tests.conftest import start_bot
    from tests.oauth.conftest import connect, oauth_settings

    settings = oauth_settings()
    first = start_bot(tmp_path, cold=True, **settings)
    try:
        install(first, TEAM_A)
        connect(first, TEAM_A)
    finally:
        first.runtime.stop()
    again = start_bot(tmp_path, cold=True, sandbox=first.sandbox, **settings)  # a new emulator
    try:
        with again.emulator.as_team(TEAM_A):
            again.command("/lead")
        again.settle()
        opens = [c for c in again.emulator.calls if c["method"] == "views.open"]
        assert [(c["ok"], c["team_id"]) for c in opens] == [(True, TEAM_A)]
        assert not again.emulator.oauth.codes  # nobody went through the install page again
    finally:
        again.runtime.stop()
