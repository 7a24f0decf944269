"""What Slack tells the app happened, as the driver plays it: any Events API event in its
``event_callback`` envelope (:meth:`Events.send_event`), a person's message (a ``link_shared`` event
for links on the app's unfurl domains), App Home opened, a workspace removing the app or revoking its
token, and gestures from another workspace the app is installed in (:meth:`Events.as_team`).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

from . import directory
from .delivery import Delivery
from .oauth import OAuthServer
from .readers import Readers
from .transport import Transport
from .unfurls import link_shared_event

VERIFICATION_TOKEN = "emulatorVerificationToken"


class Events(Transport, Readers):
    """A mixin of :class:`~slack_emulator.driver.Driver` (the emulator sets the attributes below)."""

    team_id: str
    clock: Callable[[], float]
    unfurl_domains: list[str]  # the app's (its manifest's, or set by the runtime)
    oauth: OAuthServer  # the teams the app can be installed into, and their tokens
    bot_events: set[str]
    _user_ref: Callable[[str], dict[str, Any]]
    _channel_ref: Callable[[str], dict[str, Any]]
    _action_ts: Callable[[], str]

    def send_event(
        self, event: dict[str, Any], *, retry_num: int | None = None, event_id: str | None = None
    ) -> Delivery:
        """Any Events API event, wrapped in an event_callback envelope as Slack sends it."""
        event = {**event, "event_ts": event.get("event_ts", self._action_ts())}
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": directory.APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or directory.random_id("Ev"),
            "event_time": int(self.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": directory.BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
        body = json.dumps(envelope)
        return self._send("event_callback", envelope, body, "application/json", retry_num=retry_num)

    # --- more than one workspace (OAuth: slack_emulator/oauth.py) -------------------------------

    @contextlib.contextmanager
    def as_team(self, team_id: str) -> Iterator[None]:
        """Gestures in the block come from ``team_id`` (one of ``oauth.teams``): their payloads name
        it, as Slack's do for a person of that workspace."""
        if team_id not in self.oauth.teams:
            raise LookupError(f"unknown team {team_id!r}; known: {sorted(self.oauth.teams)}")
        before, self.team_id = self.team_id, team_id
        try:
            yield
        finally:
            self.team_id = before

    def uninstall(self, team_id: str) -> Delivery | None:
        """A workspace admin removes the app: its tokens stop working, and the app is told with
        ``app_uninstalled`` (which it gets even though its tokens are gone) when it subscribes to it
        (its manifest's ``bot_events``); None when it does not."""
        self.oauth.revoke(team_id)
        if "app_uninstalled" not in self.bot_events:
            return None
        with self.as_team(team_id):
            return self.send_event({"type": "app_uninstalled"})

    def revoke_tokens(self, team_id: str) -> Delivery | None:
        """The bot token of ``team_id`` is revoked (``tokens_revoked`` names the bot user), told to
        the app when it subscribes to the event."""
        self.oauth.revoke(team_id)
        if "tokens_revoked" not in self.bot_events:
            return None
        with self.as_team(team_id):
            return self.send_event(
                {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [directory.BOT_USER_ID]}}
            )

    def app_home_opened(self, user: str) -> Delivery:
        self._user_ref(user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D" + user[1:],
            "tab": "home",
        }
        home = self.home_view(user)
        if home is not None:
            event["view"] = home
        return self.send_event(event)

    def post_user_message(self, *, user: str, channel: str, text: str, thread_ts: str | None = None) -> str:
        """A person writes in a channel; links on the app's unfurl domains make a ``link_shared`` event."""
        self._user_ref(user)
        self._channel_ref(channel)
        with self.ws.cond:
            message: dict[str, Any] = {
                "user": user,
                "type": "message",
                "ts": self.ws.next_ts(),
                "text": text,
                "team": self.team_id,
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            self.ws.add_message(channel, message)
        event = link_shared_event(self.ws, channel, message["ts"], self.unfurl_domains)
        if event is not None and (self.app_url or self.delivers_over_socket):  # as Slack, when it can
            self.send_event(event)
        return str(message["ts"])
