"""Slack requests that arrive while the bot cannot write to its database (disk full, read-only file,
I/O error).

Every gesture is stored before it is acknowledged, so such a request fails before its ``ack()``.
Left to Bolt that is an HTTP 500, which Slack shows as a vague app failure (and retries). Instead
Slack gets its 200 and the user a plain "not saved, try again": nothing was stored, so nothing will
be sent to TeleCRM later either.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext, BoltResponse

from kit.services import Services
from storage.health import describe

log = logging.getLogger(__name__)


def not_saved_text(state: str) -> str:
    return (
        f":warning: Not saved — the bot can't write to its database right now ({describe(state)}). "
        "Nothing was sent to TeleCRM; please try again in a minute."
    )


def answer_store_outage(
    services: Services, body: dict[str, Any], context: BoltContext, state: str, *, acknowledged: bool
) -> BoltResponse | None:
    """The acknowledgement for a request that hit a store outage (None when it was already sent),
    and, where the acknowledgement itself cannot carry the message, an ephemeral on the side."""
    text = not_saved_text(state)
    log.warning("not saved (%s): a Slack %s could not be stored", describe(state), _kind(body))
    if not acknowledged:
        direct = _answer_in_ack(body, text)
        if direct is not None:
            return direct
    _tell_later(services, body, context, text)
    return None if acknowledged else BoltResponse(status=200, body="")


def _kind(body: dict[str, Any]) -> str:
    if body.get("command"):
        return f"command {body['command']}"
    return str(body.get("type") or "request")


def _answer_in_ack(body: dict[str, Any], text: str) -> BoltResponse | None:
    """Slash commands show the ack's text to the user; a submitted form shows errors on its inputs
    and stays open with everything typed; a type-ahead gets no options."""
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    kind = body.get("type")
    if kind == "view_submission":
        blocks = (body.get("view") or {}).get("blocks") or []
        inputs = [b["block_id"] for b in blocks if b.get("type") == "input" and b.get("block_id")]
        if inputs:
            return BoltResponse(status=200, body={"response_action": "errors", "errors": {inputs[0]: text}})
    if kind == "block_suggestion":
        return BoltResponse(status=200, body={"options": []})
    return None


def _tell_later(services: Services, body: dict[str, Any], context: BoltContext, text: str) -> None:
    """An ephemeral (or DM) to the person who clicked, posted off the request thread so the
    acknowledgement is not held up by a Slack API call."""
    if body.get("type") in {"event_callback", "view_closed", "block_suggestion"}:
        return  # nobody waits on an answer to these
    if not context.user_id:
        return
    services.listeners.submit(services.ephemeral, context.channel_id, context.user_id, text)
