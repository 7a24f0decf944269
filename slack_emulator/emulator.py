"""SlackEmulator: a strict loopback stand-in for Slack, as both Web API server and request sender.

The Web API side answers the bot's calls (see `webapi.py`); the driver side plays the user, sending
the bot signed slash commands, button clicks, modal submissions, options requests, shortcuts and
events exactly as Slack would, then applies the bot's HTTP answer the way Slack does (a submission
answered with `response_action: errors` keeps the modal open with the errors shown, and so on).
An app connected in Socket Mode (see `socket_mode.py`) gets the same payloads in envelopes over its
WebSocket instead, and the payload of its ack is applied like an HTTP answer.

This module builds the parts and is the one object tests hold. The parts, each by its job:

* slack_emulator/state.py — the workspace (channels, messages, views, triggers) behind one lock;
* slack_emulator/webapi.py — the Web API methods the bot calls;
* slack_emulator/unfurls.py — app unfurling: ``link_shared`` events and ``chat.unfurl``;
* slack_emulator/routing.py — HTTP routing (WSGI) to the Web API, response_urls and the page;
* slack_emulator/driver.py — the user the emulator plays;
* slack_emulator/views.py — what Slack keeps of a modal and does with the app's answers;
* slack_emulator/transport.py — sending to the app over HTTP or Socket Mode;
* slack_emulator/readers.py — copies of the state for tests, and ``wait_for``;
* slack_emulator/web.py — the browser page.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx

from . import directory
from .delivery import Delivery
from .driver import VERIFICATION_TOKEN, Driver
from .faults import WebApiFaults
from .oauth import SECOND_TEAM, OAuthServer
from .routing import Routes
from .socket_mode import SocketModeServer
from .state import Workspace
from .transport import SLACK_TIMEOUT
from .views import ClientValidationError
from .web import WebUI
from .webapi import WebApi

# names other modules and tests import from here
__all__ = ["SLACK_TIMEOUT", "VERIFICATION_TOKEN", "ClientValidationError", "Delivery", "SlackEmulator"]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every emulator in the process (an app's Request URL may be https): loading
    the CA bundle costs about 30 ms, and a test session starts an emulator per test."""
    return httpx.create_ssl_context()


class SlackEmulator(Driver, Routes):
    """A faithful, strict stand-in for Slack for one workspace and one app."""

    def __init__(
        self,
        *,
        signing_secret: str,
        bot_token: str = "xoxb-emulator-token",
        app_token: str = "xapp-1-A0TELECRMAPP-emulator",
        app_url: str | None = None,
        socket_mode: bool | None = None,
        team_id: str = "T0EMULATOR",
        users: list[dict[str, Any]] | None = None,
        channels: list[dict[str, Any]] | None = None,
        trigger_ttl: float = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token
        self.app_url = app_url
        # None: deliver over Socket Mode when no app_url is set and an app is connected
        self.socket_mode = socket_mode
        self.team_id = team_id
        self.url: str | None = None
        self.clock = clock
        self.ws = Workspace(team_id=team_id, users=users, channels=channels, clock=clock)
        self.api = WebApi(self.ws, base_url=lambda: self.url, trigger_ttl=trigger_ttl)
        self.web_faults = WebApiFaults()
        self.ack_timeout = SLACK_TIMEOUT
        # keep-alive as large as the pool: httpcore otherwise closes "surplus" idle connections, including
        # one another sender thread was just handed (EBADF or a hang under 50 concurrent deliveries)
        self._http = httpx.Client(
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
            verify=_tls(),
        )
        self.ui = WebUI(self)
        self.unfurl_domains = list(self.ui.app.get("unfurl_domains") or [])
        # the manifest's bot_events: a shared file's message is an event only where the app subscribes
        self.bot_events = set(self.ui.app.get("bot_events") or [])
        # the manifest's bot scopes (None: no manifest, nothing checked): a method needing another is
        # refused with missing_scope (slack_emulator/routing.py METHOD_SCOPES)
        scopes = self.ui.app.get("bot_scopes")
        self.bot_scopes: set[str] | None = None if scopes is None else set(scopes)
        self.socket = SocketModeServer(app_id=directory.APP_ID, notify=self._state_changed)
        # OAuth v2 (slack_emulator/oauth.py): off until configure_oauth() gives the app its credentials
        self.oauth = OAuthServer(
            client_id="",
            client_secret="",
            teams={team_id: directory.TEAM_NAME, SECOND_TEAM[0]: SECOND_TEAM[1]},
            bot_scopes=self.bot_scopes,
            clock=clock,
        )

    def configure_oauth(self, *, client_id: str, client_secret: str, redirect_urls: list[str]) -> None:
        """The app's OAuth settings, as on its settings page: credentials and redirect URLs."""
        self.oauth.client_id, self.oauth.client_secret = client_id, client_secret
        self.oauth.redirect_urls = list(redirect_urls)

    def _state_changed(self) -> None:
        with self.ws.cond:
            self.ws.changed()

    def new_trigger_id(self, user: str) -> str:
        """A fresh trigger id for `user`, as an interaction would carry (for driving views.* directly)."""
        self._user_ref(user)
        return self.ws.new_trigger(user)

    @property
    def trigger_ttl(self) -> float:
        """Seconds a trigger_id stays usable (Slack: 3)."""
        return self.api.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        self.api.trigger_ttl = seconds

    # --- addresses -----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Base URL for `WebClient(base_url=...)`."""
        if self.url is None:
            raise RuntimeError("the emulator is not served yet; call serve_in_thread(emulator)")
        return self.url + "/api/"

    def close(self) -> None:
        """Release the HTTP connection pool used for deliveries and the browser page's long polls."""
        self.ui.close()
        self.socket.close()
        self._http.close()
