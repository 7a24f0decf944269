"""A field's value as a person reads it, one place for every feature.

Cards (:mod:`kit.cards`), lead replies and the Edit modal (:mod:`commands.lead`), activity results
(:mod:`commands.activity.result`) and the timeline (:mod:`commands.timeline.render`) all show values
through :func:`field_text` (raw values without a field through :func:`display_value`; what a person
typed, echoed back, through :func:`typed_text`), so a list, an empty value, money or a TeleCRM date
reads the same way wherever it appears. Pure: no I/O; the text is not escaped (callers escape for mrkdwn).
"""

from __future__ import annotations

from kit.format import format_money, format_when
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


def field_text(
    f: FieldDef | None, value: object, *, currency: str | None = None, tz: str | None = None
) -> str:
    """A field's value for people, wherever it is shown: nothing as "—", lists comma-separated,
    TeleCRM's dates (epoch ms or ``DD/MM/YYYY HH:mm:ss``) as dates in ``tz`` (default: the
    workspace's), money with the currency's sign when ``currency`` is known."""
    if not has_value(value):
        return EMPTY
    if f is not None and not isinstance(value, list | tuple):
        if f.type is FieldType.DATE and isinstance(value, int | float | str) and not isinstance(value, bool):
            return format_when(value, tz)
        if f.type is FieldType.MONEY and currency:
            return format_money(display_value(value), currency)
    return display_value(value)


def typed_text(f: FieldDef | None, value: object) -> str:
    """A sent value as the user typed it: dates read as dates, not epoch ms or a midnight time."""
    if f is not None and f.type is FieldType.DATE:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_when(value)
        return display_value(value).removesuffix(" 00:00:00")
    return display_value(value)
