"""In OAuth mode the bot's own calls (user look-ups, the worker's posts) go with the token of the
workspace they are for: the request's, and for queued work the workspace that queued it."""

from __future__ import annotations

from tests.conftest import CHANNEL, Bot
from tests.oauth.conftest import TEAM_A, TEAM_B, install_and_connect


def calls(bot: Bot, method: str) -> list[dict]:
    return [c for c in bot.emulator.calls if c["method"] == method]


def test_a_lead_typed_inline_gets_its_card_from_the_installed_workspace(oauth_bot: Bot) -> None:
    install_and_connect(oauth_bot, TEAM_B)
    with oauth_bot.emulator.as_team(TEAM_B):
        oauth_bot.command("/lead", 'name="Jane Doe" phone=9876543210')
    oauth_bot.settle()
    posts = calls(oauth_bot, "chat.postMessage")
    assert posts and all(c["ok"] and c["team_id"] == TEAM_B for c in posts)
    assert any("Jane Doe" in m.get("text", "") for m in oauth_bot.messages(CHANNEL))


def test_queued_work_posts_with_the_token_of_the_workspace_that_asked(oauth_bot: Bot) -> None:
    install_and_connect(oauth_bot, TEAM_A)
    install_and_connect(oauth_bot, TEAM_B)
    for team, name in ((TEAM_B, "Jane Doe"), (TEAM_A, "Ravi Kumar")):
        with oauth_bot.emulator.as_team(team):
            oauth_bot.command("/lead", f'name="{name}" phone=98765{len(name):05d}')
        oauth_bot.settle()
    posts = calls(oauth_bot, "chat.postMessage")
    assert posts and all(c["ok"] for c in posts), [(c["error"], c["team_id"]) for c in posts]
    card_teams = {c["team_id"] for c in posts if "Jane Doe" in str(c["args"])}
    assert card_teams == {TEAM_B}
    assert {c["team_id"] for c in posts if "Ravi Kumar" in str(c["args"])} == {TEAM_A}


def test_calls_made_while_handling_a_request_use_that_requests_workspace(oauth_bot: Bot) -> None:
    install_and_connect(oauth_bot, TEAM_A)
    install_and_connect(oauth_bot, TEAM_B)
    for team in (TEAM_A, TEAM_B):
        with oauth_bot.emulator.as_team(team):
            oauth_bot.command("/lead")
        oauth_bot.settle()
    looked_up = calls(oauth_bot, "users.info")
    assert looked_up and all(c["ok"] for c in looked_up)
    assert {c["team_id"] for c in looked_up} <= {TEAM_A, TEAM_B}


def test_a_workspaces_token_is_checked_with_slack_once_not_on_every_request(oauth_bot: Bot) -> None:
    install_and_connect(oauth_bot, TEAM_A)  # the install itself asks auth.test who the new token is
    for _ in range(3):
        with oauth_bot.emulator.as_team(TEAM_A):
            oauth_bot.command("/lead")
        oauth_bot.settle()
    assert len(calls(oauth_bot, "auth.test")) == 2
    assert len(calls(oauth_bot, "views.open")) == 3
