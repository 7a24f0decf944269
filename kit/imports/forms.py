"""The two modals of an import: *Import leads* (the file) and *Change mapping* (where each column goes).

*Import leads* is opened by ``/lead import`` (commands/lead/command.py calls :func:`open_import_form`,
so the lead feature never imports the import feature); its submission is handled in
commands/lead_import. It needs no workspace schema, so it opens at once from the trigger.

About rows whose identifier already exists in TeleCRM: the Async API is create-or-update by the
identifier (docs/API.md §4) and has no "create only" mode, so an import always updates such a lead
with the row's values. The form says so rather than offering a "skip" it could not keep.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from kit import ids
from kit.format import truncate
from kit.imports.mapping import PAYMENT_PREFIX, Mapping_, all_targets
from kit.services import Services
from kit.view_context import ViewContext
from storage.imports import ImportRecord
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)

IMPORT_TITLE = "Import leads"
MAPPING_TITLE = "Change mapping"
BLOCK_CHANNEL = "import_channel"
ACTION_FILE = "file"
ACTION_CHANNEL = "channel"
ACTION_TARGET = "target"
LEAVE_OUT = "-"  # the option value of "leave out"
MAPPING_BLOCK_PREFIX = "col:"
_MAX_COLUMNS = 90  # Slack allows 100 blocks a modal; the rest keep their mapping (said in the form)


def _plain(text: str, n: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def import_view(channel: str | None) -> dict[str, Any]:
    """The *Import leads* modal: the file, and the channel whose thread shows the preview."""
    channel_element: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": ACTION_CHANNEL,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel and channel[:1] in ("C", "G"):
        channel_element["initial_conversation"] = channel
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_IMPORT,
        "title": _plain(IMPORT_TITLE, 24),
        "submit": _plain("Preview", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": ViewContext(channel=channel).to_metadata(),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "A CSV or Excel (.xlsx) file with a header row and one lead per row. Columns are "
                    "matched to your TeleCRM fields by API name or label; you can change that in the "
                    "preview. *Nothing is sent until you confirm the preview.*",
                },
            },
            {
                "type": "input",
                "block_id": ids.BLOCK_IMPORT_FILE,
                "label": _plain("File"),
                "element": {
                    "type": "file_input",
                    "action_id": ACTION_FILE,
                    "filetypes": ["csv", "xlsx"],
                    "max_files": 1,
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_CHANNEL,
                "label": _plain("Post the preview in"),
                "element": channel_element,
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "*Rows whose phone already exists in TeleCRM update that lead* with the row's "
                        "values: TeleCRM's Async API creates or updates by the lead identifier and cannot "
                        "skip existing leads. To leave a lead alone, take its row out of the file.",
                    }
                ],
            },
        ],
    }


def open_import_form(
    services: Services, client: WebClient, *, trigger_id: str, user: str, channel: str | None
) -> None:
    """Open *Import leads* (after the ack: the trigger lives 3 s, and this needs no TeleCRM call)."""
    try:
        client.views_open(
            trigger_id=trigger_id, view=services.view_seal.seal(import_view(channel), user=user)
        )
    except SlackApiError as exc:
        log.warning("views.open failed for /lead import: %s", exc.response.get("error"))
        services.ephemeral(
            channel, user, ":warning: Slack did not open the import form in time; try `/lead import` again."
        )


def submitted_file_ids(values: dict[str, Any]) -> list[str]:
    """The file ids of the submitted ``file_input`` (Slack gives the files' objects)."""
    state = (values.get(ids.BLOCK_IMPORT_FILE) or {}).get(ACTION_FILE) or {}
    return [str(f.get("id")) for f in state.get("files") or [] if isinstance(f, dict) and f.get("id")]


def submitted_channel(values: dict[str, Any]) -> str | None:
    state = (values.get(BLOCK_CHANNEL) or {}).get(ACTION_CHANNEL) or {}
    return state.get("selected_conversation") or None


def mapping_view(schema: WorkspaceSchema, record: ImportRecord) -> dict[str, Any]:
    """*Change mapping*: one select per column of the file, each with the workspace's fields, the
    payment's parts, the custom actions' fields and "leave out"."""
    groups = _target_groups(schema)
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Where each column of the file goes. The file is checked again with this mapping "
                "and the preview updated.",
            },
        }
    ]
    columns = list(record.mapping.items())
    for n, (header, target) in enumerate(columns[:_MAX_COLUMNS]):
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": ACTION_TARGET,
            "option_groups": groups,
        }
        chosen = _option(target, schema) if target else _leave_out()
        if chosen is not None:
            element["initial_option"] = chosen
        blocks.append(
            {
                "type": "input",
                "block_id": f"{MAPPING_BLOCK_PREFIX}{n}",
                "label": _plain(header, 2000),
                "element": element,
            }
        )
    if len(columns) > _MAX_COLUMNS:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"{len(columns) - _MAX_COLUMNS} more columns keep their mapping "
                        "(Slack shows at most 100 inputs in a form).",
                    }
                ],
            }
        )
    context = ViewContext(import_id=record.id, channel=record.channel)
    return {
        "type": "modal",
        "callback_id": ids.VIEW_IMPORT_MAPPING,
        "title": _plain(MAPPING_TITLE, 24),
        "submit": _plain("Check again", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": context.to_metadata(),
        "blocks": blocks,
    }


def submitted_mapping(record: ImportRecord, values: dict[str, Any]) -> Mapping_:
    """The columns' new targets; a column not in the form keeps its old one."""
    out: Mapping_ = dict(record.mapping)
    for n, header in enumerate(record.mapping):
        state = (values.get(f"{MAPPING_BLOCK_PREFIX}{n}") or {}).get(ACTION_TARGET)
        if state is None:
            continue
        value = ((state.get("selected_option") or {}).get("value")) or LEAVE_OUT
        out[header] = None if value == LEAVE_OUT else value
    return out


def _leave_out() -> dict[str, Any]:
    return {"text": _plain("— leave out —"), "value": LEAVE_OUT}


def _option(target: str, schema: WorkspaceSchema) -> dict[str, Any] | None:
    for t in all_targets(schema):
        if t.key == target:
            return {"text": _plain(t.label), "value": t.key}
    return None


def _target_groups(schema: WorkspaceSchema) -> list[dict[str, Any]]:
    """Option groups (each at most 100 options, at most 100 groups): fields, payment, each action."""
    fields, payment, actions = [], [], []
    for t in all_targets(schema):
        option = {"text": _plain(t.label), "value": t.key}
        if t.key.startswith(PAYMENT_PREFIX):
            payment.append(option)
        elif ":" in t.key and t.key.startswith("action:"):
            actions.append(option)
        else:
            fields.append(option)
    groups = [{"label": _plain("Leave out"), "options": [_leave_out()]}]
    groups.append({"label": _plain("Lead fields"), "options": fields[:100]})
    groups.append({"label": _plain("Payment"), "options": payment})
    for start in range(0, len(actions), 100):
        groups.append({"label": _plain("Custom actions"), "options": actions[start : start + 100]})
    return [g for g in groups if g["options"]][:100]
