"""A field's value as a person reads it, one place for every feature.

Cards (:mod:`kit.cards`), lead replies and the Edit modal (:mod:`commands.lead`), activity results
(:mod:`commands.activity.result`) and the timeline (:mod:`commands.timeline.render`) all show values
through these functions, so a list, an empty value, money or an epoch-ms date reads the same way
wherever it appears. Pure: no I/O; the text is not escaped (callers escape for mrkdwn).
"""

from __future__ import annotations

from kit.format import DEFAULT_TZ, format_money, format_when
from telecrm.schema import FieldDef, FieldType

#: what an empty field shows in a before/after or a field list
EMPTY = "—"


def has_value(value: object) -> bool:
    """Whether a person filled this in: blank text and lists of blanks count as empty."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(has_value(v) for v in value)
    return True


def display_value(value: object) -> str:
    """Any value as text: lists comma-separated, ``None`` as nothing."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)


def display_text(f: FieldDef | None, value: object) -> str:
    """A field value for people: dates as dates (workspace time), lists comma-separated, nothing as "—"."""
    if not has_value(value):
        return EMPTY
    if f is not None and f.type is FieldType.DATE and not isinstance(value, list | tuple):
        return format_when(value, DEFAULT_TZ)  # type: ignore[arg-type]  # TeleCRM dates: epoch ms or a date string
    return display_value(value)


def card_text(f: FieldDef, value: object, currency: str) -> str:
    """A value on a lead card: money with its currency sign, TeleCRM's epoch-ms dates as dates."""
    text = display_value(value)
    if f.type is FieldType.MONEY and text:
        return format_money(text, currency)
    if f.type is FieldType.DATE and text.isdigit():
        return format_when(int(text), None)
    return text


def typed_text(f: FieldDef | None, value: object) -> str:
    """A sent value as the user typed it: dates read as dates, not epoch ms or a midnight time."""
    if f is not None and f.type is FieldType.DATE:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_when(value)
        return display_value(value).removesuffix(" 00:00:00")
    return display_value(value)
