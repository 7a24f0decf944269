"""What a timeline query is: which lead, which filters, which page — read without asking TeleCRM.

A :class:`TimelineQuery` travels in the *Older* / *Newer* buttons' value, so a page can be turned
long after the message was posted, by anyone, without server-side state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from kit.fields import FieldError, convert, parse_datetime
from kit.format import truncate, zone
from kit.packed import Packed, key
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
class TimelineQuery(Packed):
    """One page of one lead's history; travels in the *Older*/*Newer* buttons' value."""

    REQUIRED = ("lead_id",)

    lead_id: str = field(metadata=key("l"))
    type: str | None = field(default=None, metadata=key("t"))
    start_ms: int | None = field(default=None, metadata=key("a"))
    end_ms: int | None = field(default=None, metadata=key("b"))
    skip: int = field(default=0, metadata=key("s"))
    # the lead's name as shown, so a page turned far from its thread keeps it
    name: str | None = field(default=None, metadata=key("n", max_len=80))

    def __post_init__(self) -> None:
        object.__setattr__(self, "skip", max(0, self.skip))  # a forged negative page is the first

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
