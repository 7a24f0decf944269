"""What a timeline query is: which lead, which filters, which page — read without asking TeleCRM.

A :class:`TimelineQuery` travels in the *Older* / *Newer* buttons' value, so a page can be turned
long after the message was posted, by anyone, without server-side state.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from kit.fields import FieldError, convert, parse_datetime
from kit.format import truncate, zone
from telecrm.schema import WorkspaceSchema

#: Actions per message. 20 sections + header, context and buttons stay far below Slack's 50 blocks
#: (the per-row cap is ``MAX_ACTION_TEXT`` in commands/timeline/render.py).
PAGE_SIZE = 20

_LEAD_ID = re.compile(r"^[0-9a-fA-F]{24}$")


def is_lead_id(text: str) -> bool:
    """A TeleCRM lead id: 24 hex digits (what a lead card's *Timeline* button carries)."""
    return _LEAD_ID.match(text) is not None


@dataclass(frozen=True)
class LeadRef:
    """What the user named: a TeleCRM lead id, or a value of the workspace's identifier field."""

    kind: str  # "id" | "identifier"
    value: str
    typed: str


@dataclass(frozen=True)
class TimelineQuery:
    """One page of one lead's history; travels in the *Older*/*Newer* buttons' value."""

    lead_id: str
    type: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    skip: int = 0
    name: str | None = None  # the lead's name as shown, so a page turned far from its thread keeps it

    def to_value(self) -> str:
        """Compact JSON for a button value (Slack allows 2000 characters; the name is capped at 80)."""
        data = {
            "l": self.lead_id,
            "t": self.type,
            "a": self.start_ms,
            "b": self.end_ms,
            "s": self.skip,
            "n": truncate(self.name, 80) if self.name else None,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str) -> TimelineQuery | None:
        """The query a button carries; ``None`` for anything unreadable (an old or forged button)."""
        try:
            data = json.loads(value)
            lead_id = str(data["l"])
            return cls(
                lead_id=lead_id,
                type=str(data["t"]) if data.get("t") else None,
                start_ms=int(data["a"]) if data.get("a") is not None else None,
                end_ms=int(data["b"]) if data.get("b") is not None else None,
                skip=max(0, int(data.get("s") or 0)),
                name=str(data["n"]) if data.get("n") else None,
            )
        except (ValueError, TypeError, KeyError):
            return None

    def at(self, skip: int) -> TimelineQuery:
        """The same query on another page (never before the first)."""
        return replace(self, skip=max(0, skip))


def lead_reference(schema: WorkspaceSchema, text: str, *, default_country_code: str = "91") -> LeadRef | str:
    """Read "which lead" without TeleCRM: a 24-hex lead id, or an identifier value (phone normalised).

    Returns an error sentence when it can be neither, so nothing is sent for a typo.
    """
    typed = " ".join((text or "").split())
    if not typed:
        return f"say which lead: its lead id or its {schema.identifier.label.lower()}"
    if is_lead_id(typed):
        return LeadRef("id", typed.lower(), typed)
    ident = schema.identifier
    try:
        value = convert(ident, typed, schema, default_country_code=default_country_code)
    except FieldError as exc:
        return (
            f"“{truncate(typed, 40)}” is not a lead id (24 characters, 0–9 and a–f) nor a valid {exc.message}"
        )
    return LeadRef("identifier", str(value), typed)


def day_bounds_ms(
    date_from: str | None, date_to: str | None, tz: str | None
) -> tuple[int | None, int | None]:
    """Whole days in the user's time zone → inclusive epoch-ms bounds (first and last millisecond).

    Accepts what the grammar gives (``01/04/2026 00:00:00``) and what a datepicker gives (``2026-04-01``);
    raises ``ValueError`` for anything else.
    """
    zone_info = zone(tz)

    def midnight(text: str, days: int) -> int:
        day = parse_datetime(text, tz=tz).date() + timedelta(days=days)
        return int(datetime(day.year, day.month, day.day, tzinfo=zone_info).timestamp() * 1000)

    start = midnight(date_from, 0) if date_from else None
    end = midnight(date_to, 1) - 1 if date_to else None
    return start, end
