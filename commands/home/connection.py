"""OAuth mode: each Slack workspace's admin connects its own TeleCRM from App Home.

*Connect TeleCRM* opens a form (workspace id, Sync token, optional Async token). Its submission is
checked for shape at once (errors under the fields), acknowledged with a "Checking…" view, and then
TeleCRM is asked for the workspace's metadata with those credentials — the same read as
``telecrm-bot doctor`` — before anything is saved. *Disconnect* deletes the connection. The tokens are
never put back into a view, never logged.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from kit.format import format_when, mention, mrkdwn_escape, truncate
from kit.services import Services
from storage.telecrm_connections import Connection
from telecrm.client import TeleCRMClient
from telecrm.errors import TeleCRMAuthError, TeleCRMError, TeleCRMNotFound, TeleCRMUnavailable
from telecrm.redact import mask

log = logging.getLogger(__name__)

ACT_CONNECT = "home_connect_telecrm"
ACT_DISCONNECT = "home_disconnect_telecrm"
CB_CONNECT = "connect_telecrm"
WORKSPACE_BLOCK, SYNC_BLOCK, ASYNC_BLOCK = "telecrm_workspace_id", "telecrm_sync_token", "telecrm_async_token"
_VALUE = "value"

_WORKSPACE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # it becomes part of TeleCRM's URLs
_TOKEN = re.compile(r"[\x21-\x7e]{8,512}")  # printable, no spaces: pasted whole


# -- App Home ----------------------------------------------------------------------------------------
def connection_blocks(
    services: Services, connection: Connection | None, *, admin: bool, tz: str | None
) -> list[dict[str, Any]]:
    """The *TeleCRM connection* section of App Home (OAuth mode)."""
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": "TeleCRM connection"}},
    ]
    if connection is None:
        blocks.append(_section(_not_connected_text(services, admin=admin)))
        if admin:
            blocks.append(_buttons(_button("Connect TeleCRM", ACT_CONNECT, style="primary")))
        return blocks
    blocks.append(
        _section(
            f":white_check_mark: Connected to TeleCRM workspace `{mrkdwn_escape(connection.workspace_id)}` "
            f"by {mention(connection.connected_by)}, {format_when(connection.connected_at * 1000, tz)}."
        )
    )
    if admin:
        disconnect = _button("Disconnect", ACT_DISCONNECT, style="danger")
        disconnect["confirm"] = {
            "title": {"type": "plain_text", "text": "Disconnect TeleCRM?"},
            "text": {
                "type": "mrkdwn",
                "text": "Nobody in this Slack workspace can use TeleCRM from Slack until an admin connects "
                "it again. Nothing in TeleCRM is changed.",
            },
            "confirm": {"type": "plain_text", "text": "Disconnect"},
            "deny": {"type": "plain_text", "text": "Cancel"},
            "style": "danger",
        }
        blocks.append(_buttons(_button("Change connection", ACT_CONNECT), disconnect))
    return blocks


def _not_connected_text(services: Services, *, admin: bool) -> str:
    if admin:
        return (
            ":electric_plug: This Slack workspace is not connected to TeleCRM yet. Click *Connect TeleCRM* "
            "and enter your TeleCRM workspace id and a Sync token (TeleCRM → Settings → Website and API)."
        )
    admins = " or ".join(mention(u) for u in sorted(services.settings.admin_users)[:3])
    who = admins or "a Slack workspace admin"
    return (
        f":electric_plug: This Slack workspace is not connected to TeleCRM yet: ask {who} to connect it here."
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}


def _button(text: str, action_id: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": text}}
    button |= {"action_id": action_id, "value": action_id}
    if style:
        button["style"] = style
    return button


def _buttons(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "block_id": "home_telecrm_connection", "elements": list(elements)}


# -- the form ----------------------------------------------------------------------------------------
def connect_form(workspace_id: str = "", problem: str | None = None) -> dict[str, Any]:
    """The *Connect TeleCRM* modal; after a failed check, the workspace id again and why (no token)."""
    blocks: list[dict[str, Any]] = []
    if problem:
        blocks.append(_section(f":x: {problem}"))
    blocks += [
        _input(WORKSPACE_BLOCK, "TeleCRM workspace id", "TeleCRM → Settings → Website and API", workspace_id),
        _input(SYNC_BLOCK, "Sync token", "A Sync-typed token: the bot reads and updates leads with it"),
        _input(ASYNC_BLOCK, "Async token", "Optional: for bulk imports of leads", optional=True),
    ]
    return {
        "type": "modal",
        "callback_id": CB_CONNECT,
        "title": {"type": "plain_text", "text": "Connect TeleCRM"},
        "submit": {"type": "plain_text", "text": "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def _input(
    block_id: str, label: str, hint: str, initial: str = "", *, optional: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": _VALUE}
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": hint},
        "element": element,
    }


def message_view(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CB_CONNECT,
        "title": {"type": "plain_text", "text": "Connect TeleCRM"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [_section(text)],
    }


def submitted_values(view: dict[str, Any]) -> tuple[str, str, str]:
    values = (view.get("state") or {}).get("values") or {}

    def value(block: str) -> str:
        return str(((values.get(block) or {}).get(_VALUE) or {}).get("value") or "").strip()

    return value(WORKSPACE_BLOCK), value(SYNC_BLOCK), value(ASYNC_BLOCK)


def shape_errors(workspace_id: str, sync_token: str, async_token: str) -> dict[str, str]:
    """What is wrong with the form's values as typed, by field (before TeleCRM is asked)."""
    errors = {}
    if not _WORKSPACE_ID.fullmatch(workspace_id):
        errors[WORKSPACE_BLOCK] = (
            "Letters, digits, - and _ only, as TeleCRM shows it (e.g. 6650a1c2e4b0d3f1a2b3c4d5)."
        )
    if not _TOKEN.fullmatch(sync_token):
        errors[SYNC_BLOCK] = "Paste the whole Sync token: at least 8 characters, no spaces."
    if async_token and not _TOKEN.fullmatch(async_token):
        errors[ASYNC_BLOCK] = (
            "Paste the whole Async token (at least 8 characters, no spaces), or leave it empty."
        )
    return errors


# -- the check ---------------------------------------------------------------------------------------
def metadata_problem(services: Services, workspace_id: str, sync_token: str) -> str | None:
    """Why TeleCRM refused these credentials, in words for the admin; None when it answered."""
    settings = services.settings
    client = TeleCRMClient(
        base_url=settings.telecrm_api_url,
        enterprise_id=workspace_id,
        sync_token=sync_token,
        timeout=settings.telecrm_timeout_seconds,
        auth_remedy="",  # the form says what to check (_refusal)
    )
    try:
        client.get_metadata()
        return None
    except TeleCRMError as exc:
        log.warning("connecting TeleCRM workspace %s failed: %s %s", workspace_id, exc.status, exc.code)
        return _refusal(exc)
    finally:
        client.close()


def _refusal(exc: TeleCRMError) -> str:
    said = mrkdwn_escape(mask(exc.message, limit=200))
    if isinstance(exc, TeleCRMAuthError):
        return (
            f"TeleCRM refused the Sync token: the token or the workspace id is wrong ({exc.status}: {said})."
        )
    if isinstance(exc, TeleCRMNotFound):
        return f"TeleCRM knows no workspace with this id: the workspace id is wrong ({exc.status}: {said})."
    if isinstance(exc, TeleCRMUnavailable):
        return f"TeleCRM did not answer properly; nothing was saved, try again in a minute ({said})."
    return f"TeleCRM refused the connection ({exc.status}: {said})."
