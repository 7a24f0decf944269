"""OAuth mode's Web API client for everything that is not a listener's own ``client``: each call
goes with the bot token of the workspace it is for.

Bolt hands each listener a client with its request's token; the rest of the bot (``services.slack``:
user look-ups, the worker's posts, reminders, the digest) calls through this one. The workspace is
the one of the Slack request being handled (:data:`current_team`, set around each request by the
app's middleware and carried into the listener's thread), else — for background work, whose queued
jobs do not record a workspace — the only workspace the app is installed in. With several
installed and no request to go by, the call goes without a token (Slack answers ``not_authed``) and
a log line says why.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from storage.installations import InstallationStore
from storage.tenancy import current_team

log = logging.getLogger(__name__)

__all__ = ["WorkspaceClient", "current_team"]


class WorkspaceClient(WebClient):
    """A :class:`WebClient` without a token of its own, taking each call's from the installations."""

    def __init__(self, *, base_url: str, installations: InstallationStore) -> None:
        super().__init__(base_url=base_url)
        self.installations = installations

    def _workspace_token(self) -> str | None:
        team = current_team.get() or self.installations.only_team()
        if team is None:
            log.warning(
                "a Slack call outside a request cannot tell which of the installed workspaces it is for"
            )
            return None
        bot = self.installations.find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            log.warning("no bot token for workspace %s: the app is not installed there", team)
            return None
        return str(bot.bot_token)

    def api_call(self, api_method: str, *, headers: dict | None = None, **kwargs: Any) -> SlackResponse:
        # a token given with the call wins; slack_sdk passes ``token=None`` along when none was given
        # (files_upload_v2 to each of its steps), which is not one
        explicit = self.token or any((kwargs.get(k) or {}).get("token") for k in ("params", "json", "data"))
        token = None if explicit else self._workspace_token()
        if token:
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        return super().api_call(api_method, headers=headers, **kwargs)
