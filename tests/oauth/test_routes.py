"""The install routes behind the HTTP server's limits: GET only, a bounded query, no body read;
and neither tokens nor secrets reach the log while installing."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from bot.logs import setup_logging
from kit.config import SECRET_FIELDS
from tests.conftest import Bot
from tests.oauth.conftest import CLIENT_SECRET, STATE_SECRET, TEAM_A, install


@pytest.mark.parametrize("path", ["/slack/install", "/slack/oauth_redirect"])
def test_the_install_routes_take_only_get(oauth_bot: Bot, path: str) -> None:
    answer = httpx.post(oauth_bot.runtime.http.url + path, content=b"x")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"


def test_a_long_query_string_is_refused(oauth_bot: Bot) -> None:
    answer = httpx.get(oauth_bot.runtime.http.url + "/slack/oauth_redirect", params={"code": "c" * 5000})
    assert answer.status_code == 414


def test_a_body_on_the_install_page_is_not_read(oauth_bot: Bot) -> None:
    answer = httpx.request("GET", oauth_bot.runtime.http.url + "/slack/install", content=b"x" * 10)
    assert answer.status_code == 413


def test_a_redirect_without_its_cookie_is_refused(oauth_bot: Bot) -> None:
    answer = httpx.get(
        oauth_bot.runtime.http.url + "/slack/oauth_redirect", params={"code": "c", "state": "s"}
    )
    assert answer.status_code == 400  # Bolt: the browser that started the install must finish it


def test_single_workspace_mode_has_no_install_routes(bot: Bot) -> None:
    assert httpx.get(bot.runtime.http.url + "/slack/install").status_code == 404


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield
    root.handlers[:] = saved
    root.setLevel(level)


def test_installing_logs_no_token_nor_secret(
    oauth_bot: Bot, root_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process's log as the CLI sets it up (bot/logs.py), at DEBUG, with this bot's secrets."""
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    setup_logging("DEBUG", [getattr(oauth_bot.settings, name) for name in SECRET_FIELDS])
    install(oauth_bot, TEAM_A)
    token = next(iter(oauth_bot.emulator.oauth.tokens))
    logged = out.getvalue()
    assert "oauth.v2.access" in logged  # slack_sdk logs the exchange at DEBUG, answer included
    for secret in (token, token.split("-", 1)[1], CLIENT_SECRET, STATE_SECRET):
        assert secret not in logged
