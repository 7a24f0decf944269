"""*Create lead from message*: the phone, email and name a Slack message mentions (pure).

The shortcut listener (:mod:`commands.lead.new_lead`) opens the New lead form with these values.
"""

from __future__ import annotations

import re

from kit.fields import normalize_phone
from kit.format import truncate
from kit.grammar import slack_unescape
from telecrm.schema import FieldType, WorkspaceSchema

_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])\+?\d[\d ().-]{5,}\d(?!\w)")
_NAME_LABEL = re.compile(r"\bname\s*[:=\-–]\s*([^\n,;|<>]{2,60})", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})\b")
_NOT_NAMES = {
    "call", "contact", "email", "mail", "phone", "mobile", "please", "lead", "customer", "client", "new",
    "hi", "hello", "hey", "from", "number", "whatsapp", "ping", "meet", "reach", "message", "note", "the",
    "today", "tomorrow", "yesterday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "site", "visit", "follow", "asked", "wants", "interested", "can", "could", "he", "she", "they",
}  # fmt: skip


def _guess_name(text: str) -> str | None:
    """A "name: …" label if there is one, else the first capitalised words that are not filler."""
    labelled = _NAME_LABEL.search(text)
    if labelled:
        return " ".join(labelled.group(1).split()).strip(" .")
    for match in _CAPITALISED.finditer(text):
        words = [w for w in match.group(1).split() if w.lower() not in _NOT_NAMES]
        if words:
            return " ".join(words)
    return None


def prefill_from_text(
    schema: WorkspaceSchema, text: str, *, default_country_code: str = "91"
) -> dict[str, object]:
    """The phone, email and name found in a message, keyed by this workspace's field API names."""
    plain = slack_unescape(text or "")
    found: dict[str, object] = {}
    phone_fields = [f for f in schema.fields if f.type is FieldType.PHONE]
    email_fields = [f for f in schema.fields if f.type is FieldType.EMAIL]
    ident = schema.identifier
    for candidates, values in (
        (phone_fields, [m.group(0) for m in _PHONE_IN_TEXT.finditer(plain)]),
        (email_fields, _EMAIL_IN_TEXT.findall(plain)),
    ):
        target = next(
            (f for f in candidates if f.api_name == ident.api_name), candidates[0] if candidates else None
        )
        for value in values:
            if target is None:
                break
            if target.type is FieldType.PHONE:
                try:
                    value = normalize_phone(value, default_country_code)
                except ValueError:
                    continue
            found[target.api_name] = value
            break
    name_field = schema.field("name")
    without = _EMAIL_IN_TEXT.sub(" ", _PHONE_IN_TEXT.sub(" ", plain))
    name = _guess_name(without) if name_field is not None else None
    if name_field is not None and name:
        found[name_field.api_name] = truncate(name, 80)
    return found
