"""The follow-up reminder DM and what it becomes once answered (pure: no I/O).

The reminder is the lead's card (:func:`kit.cards.render_lead_card`, without the card's own buttons)
under one line saying what is due, with the reminder's buttons: *Done*, *Snooze 1 h*,
*Tomorrow 10:00* and *Log activity* (the card's own button, so the activity feature opens its form).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kit import ids
from kit.blocks import button
from kit.cards import render_lead_card
from kit.follow_ups import WORKSPACE_TZ
from kit.format import format_when, mrkdwn_escape, truncate, zone
from kit.packed import Packed, key
from kit.services import Services
from telecrm.schema import WorkspaceSchema

ACTIONS_BLOCK = "follow_up_actions"
ANSWER_BLOCK = "follow_up_answer"
_CARD_ACTIONS = "lead_card_actions"  # the card's own buttons (kit/cards.py), left out of a reminder


@dataclass(frozen=True)
class ReminderButton(Packed):
    """What a reminder's *Done* / *Snooze* / *Tomorrow* buttons carry: the lead and the reminder's
    version, so a button on an older reminder of the same lead is known to be out of date."""

    REQUIRED = ("lead_id", "version")

    lead_id: str = field(metadata=key("l"))
    version: int = field(metadata=key("v"))


def due_text(follow_up_at: float, tz: str, *, date_only: bool) -> str:
    """When the follow-up is: the day TeleCRM holds, or a day and a time where the person is."""
    if date_only:
        moment = datetime.fromtimestamp(follow_up_at, zone(WORKSPACE_TZ))
        return f"{moment.day} {moment:%b %Y}"
    return format_when(follow_up_at, tz)


def reminder_message(
    services: Services,
    schema: WorkspaceSchema,
    lead_id: str,
    fields: Mapping[str, object] | None,
    *,
    name: str,
    version: int,
    due: str,
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of the DM: what is due, the lead's card, the reminder's buttons.

    ``fields`` are the lead's current values; ``None`` when TeleCRM could not be read, and the card
    shows the name the bot knew.
    """
    shown = fields if fields is not None else {"name": name}
    _text, card = render_lead_card(services, schema, lead_id, shown, title="Follow up")
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": truncate(
                    f":alarm_clock: Time to follow up with *{mrkdwn_escape(name)}* — due {mrkdwn_escape(due)}.",
                    3000,
                ),
            },
        },
        *(b for b in card if b.get("block_id") != _CARD_ACTIONS),
    ]
    if fields is None:
        blocks.append(_context("TeleCRM could not be reached just now; the card shows what I last knew."))
    value = ReminderButton(lead_id, version).to_value()
    blocks.append(
        {
            "type": "actions",
            "block_id": ACTIONS_BLOCK,
            "elements": [
                button("Done", ids.ACT_FOLLOW_UP_DONE, value, style="primary"),
                button("Snooze 1 h", ids.ACT_FOLLOW_UP_SNOOZE, value),
                button("Tomorrow 10:00", ids.ACT_FOLLOW_UP_TOMORROW, value),
                button("Log activity", ids.ACT_CARD_ACTIVITY, lead_id),
            ],
        }
    )
    return f"Time to follow up with {mrkdwn_escape(name)} (due {mrkdwn_escape(due)})", blocks


def answered(blocks: Sequence[Mapping[str, Any]], note: str) -> list[dict[str, Any]]:
    """The reminder's blocks with its buttons replaced by ``note`` (what the person chose)."""
    kept = [dict(b) for b in blocks if b.get("block_id") not in {ACTIONS_BLOCK, ANSWER_BLOCK}]
    return [*kept, {**_context(note), "block_id": ANSWER_BLOCK}]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]}
