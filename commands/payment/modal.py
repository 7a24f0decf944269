"""The Record payment modal: what it asks for, drawing it, and reading a submission into a checked
:class:`PaymentRequest` (or errors keyed by block id).

Pure: the listeners (``commands/payment/listeners.py``) open it and queue what it reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from commands.payment.leads import check_lead_reference, lead_choice_label
from commands.payment.render import plain_text
from commands.payment.statuses import status_label
from kit import ids
from kit.fields import FieldError, normalize_amount
from kit.format import mrkdwn_escape, truncate
from kit.view_context import ViewContext
from storage.repositories import LeadThread
from telecrm.schema import PAYMENT_CURRENCIES, PAYMENT_STATUSES, WorkspaceSchema

# modal block ids (the element inside each input block has action id ``ids.ACT_FIELD_VALUE``)
BLOCK_LEAD = "lead"
BLOCK_RECENT = "recent_lead"
BLOCK_AMOUNT = "amount"
BLOCK_CURRENCY = "currency"
BLOCK_STATUS = "status"
PAYMENT_TITLE = "Record payment"


@dataclass(frozen=True)
class PaymentRequest:
    """A checked payment, ready to queue: amount is the plain numeric string TeleCRM wants."""

    amount: str
    currency: str
    status: str
    lead_ref: str = ""  # as typed: a lead id or an identifier value
    lead_id: str | None = None  # known already (card button, recent lead)


# Where a payment modal was opened from, carried (sealed) in ``private_metadata``: ``channel`` is
# where the user is, ``thread_channel``/``thread_ts`` the lead card it was opened on.
Origin = ViewContext


# --- drawing it ------------------------------------------------------------------------------------


def _option(text: str, value: str) -> dict[str, Any]:
    """A select option showing ``text`` (cut to Slack's 75 characters) for ``value``."""
    return {"text": plain_text(text), "value": value}


def render_payment_modal(
    origin: Origin,
    *,
    default_currency: str,
    recent: Sequence[LeadThread] = (),
    identifier_label: str = "identifier",
    lead_label: str | None = None,
    initial_lead: str | None = None,
) -> dict[str, Any]:
    """The Record payment modal: lead, amount, currency (workspace default), status (PENDING).

    Opened on a lead card (``origin.lead_id``) the lead is filled in and the recent-leads picker left
    out; ``initial_lead`` fills in what was typed after ``/payment``.
    """
    blocks = _lead_blocks(
        origin,
        identifier_label=identifier_label,
        lead_label=lead_label,
        initial_lead=initial_lead,
        has_recent=bool(recent),
    )
    if recent and not origin.lead_id:
        blocks.append(_recent_leads_block(recent))
    blocks.extend(_money_blocks(default_currency))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_PAYMENT,
        "title": plain_text(PAYMENT_TITLE, 24),
        "submit": plain_text("Record", 24),
        "close": plain_text("Cancel", 24),
        "private_metadata": origin.to_metadata(),
        "blocks": blocks,
    }


def _lead_blocks(
    origin: Origin,
    *,
    identifier_label: str,
    lead_label: str | None,
    initial_lead: str | None,
    has_recent: bool,
) -> list[dict[str, Any]]:
    """Which lead: said in words when opened on a card, and a text input (optional when a recent lead
    can be picked instead)."""
    blocks: list[dict[str, Any]] = []
    lead_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACT_FIELD_VALUE,
        "max_length": 200,
        "placeholder": plain_text(f"Lead id or {identifier_label.lower()}", 150),
    }
    initial = origin.lead_id or (initial_lead or "").strip()
    if initial:
        lead_input["initial_value"] = truncate(initial, 200)
    if origin.lead_id:
        shown = mrkdwn_escape(lead_label or origin.lead_id)
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": truncate(f":moneybag: Recording a payment for *{shown}*.", 3000),
                },
            }
        )
    either = not origin.lead_id and has_recent  # this box or the recent-lead select: one is needed
    hint = f"The TeleCRM lead id, or the lead's {identifier_label.lower()}."
    if either:
        hint += " Or pick a recent lead below — one of the two is needed."
    blocks.append(
        {
            "type": "input",
            "block_id": BLOCK_LEAD,
            "optional": either,
            "label": plain_text("Lead", 2000),
            "hint": plain_text(hint, 2000),
            "element": lead_input,
        }
    )
    return blocks


def _recent_leads_block(recent: Sequence[LeadThread]) -> dict[str, Any]:
    """The "…or pick a recent lead" select: each lead once, at most Slack's 100 options."""
    seen: set[str] = set()
    options: list[dict[str, Any]] = []
    for thread in recent:
        if thread.lead_id in seen or len(options) >= 100:
            continue
        seen.add(thread.lead_id)
        options.append(_option(lead_choice_label(thread), thread.lead_id))
    return {
        "type": "input",
        "block_id": BLOCK_RECENT,
        "optional": True,
        "label": plain_text("…or pick a recent lead", 2000),
        "hint": plain_text("Needed when no lead is typed above.", 2000),
        "element": {
            "type": "static_select",
            "action_id": ids.ACT_FIELD_VALUE,
            "placeholder": plain_text("Recent leads", 150),
            "options": options,
        },
    }


def _money_blocks(default_currency: str) -> list[dict[str, Any]]:
    """Amount, currency (the workspace default picked) and status (PENDING picked)."""
    currency = default_currency if default_currency in PAYMENT_CURRENCIES else PAYMENT_CURRENCIES[0]
    return [
        {
            "type": "input",
            "block_id": BLOCK_AMOUNT,
            "label": plain_text("Amount", 2000),
            "hint": plain_text("More than 0. Commas and ₹ or $ are fine, e.g. ₹5,000.50.", 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": ids.ACT_FIELD_VALUE,
                "max_length": 40,
                "placeholder": plain_text("e.g. 5000", 150),
            },
        },
        {
            "type": "input",
            "block_id": BLOCK_CURRENCY,
            "label": plain_text("Currency", 2000),
            "element": {
                "type": "static_select",
                "action_id": ids.ACT_FIELD_VALUE,
                "options": [_option(c, c) for c in PAYMENT_CURRENCIES],
                "initial_option": _option(currency, currency),
            },
        },
        {
            "type": "input",
            "block_id": BLOCK_STATUS,
            "label": plain_text("Status", 2000),
            "element": {
                "type": "static_select",
                "action_id": ids.ACT_FIELD_VALUE,
                "options": [_option(status_label(s), s) for s in PAYMENT_STATUSES],
                "initial_option": _option(status_label("PENDING"), "PENDING"),
            },
        },
    ]


# --- reading a submission --------------------------------------------------------------------------


def _selected(values: Mapping[str, Any], block_id: str) -> str | None:
    """What an input block holds: a select's chosen value or a text input's text."""
    element = (values.get(block_id) or {}).get(ids.ACT_FIELD_VALUE) or {}
    option = element.get("selected_option")
    if isinstance(option, Mapping):
        return str(option.get("value") or "") or None
    value = element.get("value")
    return None if value is None else str(value)


def read_payment_form(
    values: Mapping[str, Any],
    origin: Origin,
    *,
    schema: WorkspaceSchema | None,
    default_currency: str,
    default_country_code: str,
) -> tuple[PaymentRequest | None, dict[str, str]]:
    """The modal's ``state.values`` → a checked request, or errors keyed by block id."""
    errors: dict[str, str] = {}
    typed = (_selected(values, BLOCK_LEAD) or "").strip()
    picked = (_selected(values, BLOCK_RECENT) or "").strip()
    lead_id: str | None = None
    lead_ref = typed
    if typed and picked and typed != picked:
        errors[BLOCK_LEAD] = "You typed a lead and picked a recent one — keep only one of them."
    elif not typed and not picked:
        block = BLOCK_LEAD if BLOCK_LEAD in values else BLOCK_RECENT
        errors[block] = "Say which lead: type its lead id or identifier value, or pick a recent lead."
    elif picked and not typed:
        lead_id, lead_ref = picked, picked
    elif origin.lead_id and typed == origin.lead_id:
        lead_id = typed
    else:
        problem = check_lead_reference(typed, schema, default_country_code)
        if problem:
            errors[BLOCK_LEAD] = problem
    amount: str | None = None
    raw_amount = _selected(values, BLOCK_AMOUNT)
    if raw_amount is None or not raw_amount.strip():
        errors[BLOCK_AMOUNT] = "Enter the amount, e.g. 5000 or 5,000.50."
    else:
        try:
            amount = normalize_amount(raw_amount)
        except FieldError as exc:
            errors[BLOCK_AMOUNT] = exc.detail
    currency = (_selected(values, BLOCK_CURRENCY) or default_currency or "").upper()
    if currency not in PAYMENT_CURRENCIES:
        errors[BLOCK_CURRENCY] = f"Pick one of {', '.join(PAYMENT_CURRENCIES)}."
    status = (_selected(values, BLOCK_STATUS) or "PENDING").upper()
    if status not in PAYMENT_STATUSES:
        errors[BLOCK_STATUS] = f"Pick one of {', '.join(PAYMENT_STATUSES)}."
    if errors or amount is None:
        return None, errors
    return PaymentRequest(amount, currency, status, lead_ref=lead_ref, lead_id=lead_id), {}
