"""The *Log activity* modal of a lead card: the lead it is for, then the "Log an activity" section
(:mod:`kit.activity_section`, required here), or a word on how to define activities when the
workspace has none.

Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from kit import ids
from kit.activity_section import MAX_MODAL_BLOCKS, activity_blocks
from kit.format import mrkdwn_escape, truncate
from kit.view_context import ViewContext
from telecrm.schema import WorkspaceSchema

ACTIVITY_TITLE = "Log activity"


def _plain(text: str, n: int) -> dict[str, Any]:
    """Plain text cut to the ``n`` characters Slack allows where it goes."""
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def activity_modal(
    schema: WorkspaceSchema,
    *,
    lead_id: str,
    lead_name: str,
    channel: str | None,
    action_code: str | None = None,
) -> dict[str, Any]:
    """The *Log activity* modal of a lead card (from the cache only: it opens within the 3 s trigger)."""
    meta = ViewContext(channel=channel, lead_id=lead_id).to_metadata()
    intro = {
        "type": "context",
        "block_id": "activity_lead",
        "elements": [
            {
                "type": "mrkdwn",
                "text": truncate(
                    f"For *{mrkdwn_escape(lead_name)}* · lead id `{mrkdwn_escape(lead_id)}`", 3000
                ),
            }
        ],
    }
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.VIEW_ACTIVITY,
        "title": _plain(ACTIVITY_TITLE, 24),
        "close": _plain("Cancel", 24),
        "private_metadata": meta,
    }
    if not schema.custom_actions:
        view["blocks"] = [
            intro,
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "This TeleCRM workspace defines no custom activities yet. An admin can add them in "
                    "TeleCRM (Settings → Custom actions); the bot picks them up on its next schema refresh.",
                },
            },
        ]
        return view
    view["submit"] = _plain("Save", 24)
    view["blocks"] = [intro, *activity_blocks(schema, action_code, max_blocks=MAX_MODAL_BLOCKS - 1)]
    return view
