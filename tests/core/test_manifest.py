"""``manifest.yml`` and the app agree: everything Slack will send has a handler, and every command,
shortcut and event the app handles is declared in the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kit import ids
from tests.conftest import CHANNEL, USER

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())


def declared_commands() -> list[str]:
    return [c["command"] for c in MANIFEST["features"]["slash_commands"]]


def declared_shortcuts() -> list[str]:
    return [s["callback_id"] for s in MANIFEST["features"]["shortcuts"]]


def test_every_id_the_app_defines_is_declared():
    commands = {v for k, v in vars(ids).items() if k.startswith("CMD_")}
    shortcuts = {v for k, v in vars(ids).items() if k.startswith("SHORTCUT_")}
    assert commands == set(declared_commands())
    assert shortcuts == set(declared_shortcuts())
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "link_shared",
        "app_uninstalled",
        "tokens_revoked",
    ]


def test_commands_are_described_for_users():
    for command in MANIFEST["features"]["slash_commands"]:
        assert command["description"] and command["usage_hint"], command["command"]
        assert command["url"].endswith("/slack/events")
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_scopes_are_least_privilege():
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "users:read",
        "users:read.email",
        "usergroups:read",
        # only to find the bot's own message after a crash (message metadata), so none is posted twice
        "channels:history",
        "groups:history",
        "im:history",
        # only to tell, before a New lead form is submitted, that the bot is not in the channel
        "channels:read",
        "groups:read",
        # only to open the DM of a follow-up reminder (its id lets a retry find the reminder posted)
        "im:write",
        # lead links pasted in Slack: link_shared, answered with chat.unfurl
        "links:read",
        "links:write",
        # to upload the /pipeline chart (privately, so the report's image block can show it) and an
        # import's CSV of problem rows
        "files:write",
        # to read the CSV/XLSX file of /lead import and *Import leads from this file*
        "files:read",
    }


def test_lead_links_unfurl_on_the_host_of_the_lead_url():
    from urllib.parse import urlsplit

    from kit.config import DEFAULT_TELECRM_LEAD_URL

    assert MANIFEST["features"]["unfurl_domains"] == [urlsplit(DEFAULT_TELECRM_LEAD_URL).hostname]


@pytest.mark.parametrize("command", declared_commands())
def test_every_declared_command_is_handled(bot, command):
    delivery = bot.emulator.slash_command(command, "help", user=USER, channel=CHANNEL)
    assert delivery.status == 200, delivery.body
    bot.wait(lambda emu: emu.ephemerals(USER) or emu.messages(CHANNEL) or emu.open_views(USER))


@pytest.mark.parametrize("callback_id", declared_shortcuts())
def test_every_declared_shortcut_is_handled(bot, callback_id):
    posted = bot.services.slack.chat_postMessage(
        channel=CHANNEL, text="Call Meena on +91 98450 12345, meena@example.com"
    )
    delivery = bot.emulator.message_shortcut(
        user=USER, callback_id=callback_id, channel=CHANNEL, message_ts=posted["ts"]
    )
    assert delivery.status == 200, delivery.body
    bot.wait(lambda emu: emu.open_views(USER) or emu.ephemerals(USER))


@pytest.mark.parametrize("revoke", ["uninstall", "revoke_tokens"])
def test_uninstall_events_are_handled_in_single_workspace_mode(bot, revoke, caplog):
    delivery = getattr(bot.emulator, revoke)(bot.emulator.team_id)
    assert delivery.status == 200, delivery.body
    bot.settle()
    assert any("SLACK_BOT_TOKEN" in r.getMessage() for r in caplog.records)


def test_home_event_is_handled(bot):
    delivery = bot.emulator.app_home_opened(USER)
    assert delivery.status == 200
    bot.wait(lambda emu: emu.home_view(USER))
