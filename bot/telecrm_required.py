"""OAuth mode: a workspace that has not connected its TeleCRM yet is told how to, in one place.

Every slash command, shortcut and message action needs the workspace's TeleCRM, so the request
middleware (bot/app.py) asks :func:`answer_if_not_connected` first: when the workspace has no
connection, the gesture is acknowledged with one ephemeral explanation and no listener runs, so
nothing is queued for a TeleCRM that does not exist. App Home, its *Connect TeleCRM* form and every
other event pass through.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import BoltResponse

from kit.services import Services

log = logging.getLogger(__name__)

CONNECT_FIRST = (
    ":electric_plug: This Slack workspace is not connected to TeleCRM yet. An admin opens the app's "
    "*Home* tab in Slack and clicks *Connect TeleCRM*, then enters the TeleCRM workspace id and a Sync "
    "token (TeleCRM → Settings → Website and API). Until then the bot cannot send anything to TeleCRM."
)

# the gestures that are someone asking the bot to work with TeleCRM
_SHORTCUTS = {"shortcut", "message_action"}


def needs_telecrm(body: dict[str, Any]) -> bool:
    """A slash command, a global shortcut or a message action (App Home and forms pass through)."""
    return bool(body.get("command")) or body.get("type") in _SHORTCUTS


def answer_if_not_connected(
    services: Services, team_id: str | None, body: dict[str, Any]
) -> BoltResponse | None:
    """The acknowledgement of a gesture from a workspace with no TeleCRM connection; None otherwise."""
    teams = services.team_telecrms
    if teams is None or not needs_telecrm(body) or teams.is_connected(team_id or ""):
        return None
    if body.get("command"):  # the acknowledgement itself is the answer, seen only by the person
        answer = {"response_type": "ephemeral", "text": CONNECT_FIRST}
        return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
    # a shortcut's acknowledgement carries no message: told in the channel it was used in, else in a DM
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id")
    if user:
        services.listeners.submit(services.ephemeral, channel, user, CONNECT_FIRST)
    return BoltResponse(status=200, body="")
