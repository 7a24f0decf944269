"""Lead field values compared and shown the way people mean them (pure).

The Edit modal (:mod:`commands.lead.edit_form`) and the ``lead.update`` job
(:mod:`commands.lead.update_job`) compare values with :func:`canonical` / :func:`comparable`, so a
field is sent only when it really changed; cards and replies show them with :func:`field_text`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from kit.display import field_text, has_value
from kit.fields import FieldError, convert
from kit.format import DEFAULT_TZ
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

WORKSPACE_TZ = DEFAULT_TZ  # TeleCRM reads zone-less date strings in the workspace's (India's) time


def canonical(value: object) -> object:
    """A comparable form: numbers by value (``5000`` = ``"5000.00"``), lists as sets, text trimmed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float | Decimal):
        try:
            return ("n", Decimal(str(value)).normalize())
        except InvalidOperation:
            return ("s", str(value))
    if isinstance(value, list | tuple | set):
        items = sorted(str(canonical(v)) for v in value if canonical(v) is not None)
        return ("l", tuple(items)) if items else None
    text = " ".join(str(value).split())
    try:
        if text and text.lstrip("+-").replace(".", "", 1).isdigit():
            return ("n", Decimal(text).normalize())
    except InvalidOperation:
        pass
    return ("s", text)


def comparable(
    schema: WorkspaceSchema, f: FieldDef, value: object, *, default_country_code: str = "91"
) -> object:
    """A value read from TeleCRM, converted the way the bot would send it, then made canonical."""
    if not has_value(value):
        return None
    with contextlib.suppress(FieldError):
        value = convert(f, value, schema, default_country_code=default_country_code, tz=WORKSPACE_TZ)
    return canonical(value)


def display_fields(schema: WorkspaceSchema, fields: Mapping[str, object]) -> dict[str, object]:
    """Lead fields as a card should show them (epoch-ms dates as dates; system fields left out)."""
    out: dict[str, object] = {}
    for key, value in fields.items():
        f = schema.field(key)
        if f is None:
            continue
        out[f.api_name] = field_text(f, value) if f.type is FieldType.DATE else value
    return out
