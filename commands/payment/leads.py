"""Which lead a payment is for: a lead id or identifier value as typed, the lead a Slack message is
about, and how a lead is named in the recent-leads picker.

Pure: the listeners (``commands/payment/listeners.py``) check what was typed against the cached schema
with these, and the recording job (``commands/payment/jobs.py``) turns it into a TeleCRM lookup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from commands.payment.render import PaymentButton
from kit import ids
from kit.fields import FieldError, convert
from kit.format import truncate
from storage.repositories import LeadThread
from telecrm.schema import WorkspaceSchema

_LEAD_ID = re.compile(r"[0-9a-fA-F]{24}")


def looks_like_lead_id(text: str) -> bool:
    """TeleCRM lead and action ids are 24 hex characters."""
    return bool(_LEAD_ID.fullmatch((text or "").strip()))


def check_lead_reference(ref: str, schema: WorkspaceSchema | None, default_country_code: str) -> str | None:
    """Why ``ref`` cannot name a lead, or None. A lead id passes; anything else must be a valid
    identifier value (checked only when the schema is cached: the lookup itself happens later)."""
    ref = (ref or "").strip()
    if not ref:
        return "Say which lead: a lead id or its identifier value."
    if looks_like_lead_id(ref) or schema is None:
        return None
    ident = schema.identifier
    try:
        convert(ident, ref, schema, default_country_code=default_country_code)
    except FieldError as exc:
        return f"“{truncate(ref, 40)}” is not a lead id, and not a valid {ident.label.lower()}: {exc.detail}"
    return None


def identifier_query(ref: str, schema: WorkspaceSchema, default_country_code: str) -> object | None:
    """The identifier value to search for, normalised like the identifier type (None if invalid)."""
    try:
        return convert(schema.identifier, ref.strip(), schema, default_country_code=default_country_code)
    except FieldError:
        return None


def lead_in_message(message: Mapping[str, Any]) -> str | None:
    """The lead a message is about: a lead card (its Record payment button) or a payment message."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if not isinstance(element, Mapping):
                continue
            action_id = str(element.get("action_id") or "")
            value = str(element.get("value") or "")
            if action_id == ids.ACT_CARD_PAYMENT and value:
                return value
            if action_id == ids.ACT_PAYMENT_AMOUNT_HELP or action_id.startswith(ids.ACT_PAYMENT_STATUS):
                button = PaymentButton.from_value(value)
                if button is not None and button.lead_id:
                    return button.lead_id
    return None


def lead_choice_label(thread: LeadThread) -> str:
    """A known lead as the picker and the modal show it: "name · identifier", or what there is."""
    name = (thread.name or "").strip()
    ident = (thread.identifier or "").strip()
    if name and ident and name != ident:
        return f"{name} · {ident}"
    return name or ident or thread.lead_id


def identifier_label_of(schema: WorkspaceSchema | None) -> str:
    """The workspace's identifier as people call it ("Phone"); "identifier" before a schema is cached."""
    return schema.identifier.label if schema is not None else "identifier"
