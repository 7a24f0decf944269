"""The bot in OAuth mode behind its real HTTP server, installed through the Slack emulator's OAuth v2
pages by a browser-less client that follows what a browser would."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from storage.secrets import new_key
from tests.conftest import Bot

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-0123456789"
STATE_SECRET = "state-secret-0123456789"
TEAM_A = "T0EMULATOR"
TEAM_B = "T0SECOND"
INSTALLER = "U0PRIYA"


def oauth_settings(key: str | None = None) -> dict[str, Any]:
    return {
        "slack_bot_token": "",
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "slack_state_secret": STATE_SECRET,
        "token_encryption_key": key or new_key(),
    }


@dataclass
class Install:
    """What an installer's browser went through."""

    link: str  # the emulator's authorize URL from the bot's install page
    cookie: str  # the state cookie the install page set
    redirect: str  # where the emulator sent the browser back to (the bot's redirect URL)
    done: httpx.Response  # the bot's answer to that redirect


def start_install(bot: Bot, http: httpx.Client) -> tuple[str, str]:
    """Open the bot's install page: (the link to Slack's authorize page, the state cookie set)."""
    page = http.get(bot.runtime.http.url + "/slack/install")
    assert page.status_code == 200, page.text
    match = re.search(r'href="([^"]*/oauth/v2/authorize\?[^"]*)"', page.text)
    assert match, page.text
    # the cookie is Secure: a browser sends it back to localhost, httpx only over https, so by hand
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    return html.unescape(match.group(1)), cookie


def approve(http: httpx.Client, link: str, team: str, user: str = INSTALLER) -> httpx.Response:
    """On the emulator's authorize page, the person picks who they are and the workspace."""
    assert http.get(link).status_code == 200
    fields = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(link))
    return http.post(origin + "/oauth/v2/authorize", data={**fields, "team": team, "user": user})


def install(bot: Bot, team: str) -> Install:
    with httpx.Client(timeout=10) as http:
        link, cookie = start_install(bot, http)
        back = approve(http, link, team)
        assert back.status_code == 302, back.text
        redirect = back.headers["location"]
        done = http.get(redirect, headers={"Cookie": cookie})
    return Install(link, cookie, redirect, done)


def connect(bot: Bot, team: str, sandbox: Any = None) -> None:
    """The workspace's admin connected TeleCRM (the sandbox, or ``sandbox``) — as App Home's form
    saves it once TeleCRM accepted the credentials (tests/oauth/test_connect_telecrm.py)."""
    telecrm = sandbox or bot.sandbox
    teams = bot.services.team_telecrms
    teams.connect(team, telecrm.enterprise_id, telecrm.sync_token, telecrm.async_token, INSTALLER)


def install_and_connect(bot: Bot, team: str) -> Install:
    done = install(bot, team)
    connect(bot, team)
    return done


class Enterprises:
    """Several TeleCRM sandboxes behind one URL, each answering for its own workspace id — as TeleCRM
    serves every workspace at one address, the id in the path (``/enterprise/{id}/…``)."""

    def __init__(self, *sandboxes: Any) -> None:
        self.first = sandboxes[0]
        self.by_id = {s.enterprise_id: s for s in sandboxes}
        # what the bot's settings take from "the sandbox" (bot/sandbox_mode.py pointed_at)
        self.enterprise_id, self.sync_token = self.first.enterprise_id, self.first.sync_token
        self.async_token = self.first.async_token

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        parts = environ.get("PATH_INFO", "").split("/")
        named = parts[parts.index("enterprise") + 1] if "enterprise" in parts[:-1] else None
        return self.by_id.get(named, self.first).wsgi_app(environ, start_response)


@pytest.fixture
def oauth_bot(make_bot: Callable[..., Bot]) -> Bot:
    # cold: no workspace is connected to TeleCRM yet, so there is no schema to load before it starts
    return make_bot(cold=True, **oauth_settings())
