"""What every field converter and element builder shares: the error types, the context each is
given, and Slack's size limits.

Kept apart from the converters so that :mod:`kit.fields.values`, :mod:`kit.fields.dates`,
:mod:`kit.fields.choices` and :mod:`kit.fields.elements` depend on it and never on each other's
internals more than they must.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from kit.format import truncate
from telecrm.schema import FieldDef, WorkspaceSchema

TELECRM_DATETIME_FORMAT = "%d/%m/%Y %H:%M:%S"
PHONE_EXAMPLE = "919876543210"

# Slack Block Kit limits (slack_sdk.models enforces the same numbers, and so does the emulator's
# checker, slack_emulator/blockkit/, so a test fails where Slack would refuse the view).
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_ACTION_ID = 255


@dataclass(frozen=True)
class Problem:
    """One bad value, worded for the person who typed it."""

    api_name: str
    label: str
    message: str


class FieldError(ValueError):
    """A value that does not fit its field. ``message`` is complete ("Phone: … — use …")."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message


@dataclass(frozen=True)
class ConvertCtx:
    """What a converter may consult besides the value: the cached workspace, the country code a
    phone number without one gets, and the time zone and clock relative dates are read in."""

    schema: WorkspaceSchema
    default_country_code: str
    tz: str | None
    now: datetime | None


@dataclass(frozen=True)
class ElementCtx:
    """What an element builder is given. ``convert`` is the field type's converter (from the table in
    :mod:`kit.fields.kinds`), handed in so a select can show its initial value as one of its options
    without this package's element builders importing the table that lists them."""

    schema: WorkspaceSchema
    action_id: str
    initial: object
    preferred_member_email: str | None
    tz: str | None
    convert: Callable[[FieldDef, object, ConvertCtx], object]


def fail(field: FieldDef, detail: str) -> FieldError:
    """The error for a bad value of `field`: its label first, so the sentence stands on its own."""
    return FieldError(f"{field.label}: {detail}", detail=detail)


def shown(raw: object, n: int = 40) -> str:
    """The value as the person typed it, quoted and cut short, for quoting back in an error."""
    return "“" + truncate(" ".join(str(raw).split()), n) + "”"


def is_empty(raw: object) -> bool:
    """Nothing given: None, blank text, or a list of only those (an untouched select counts as empty)."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set | frozenset):
        return all(is_empty(item) for item in raw)
    return False


def scalar_text(field: FieldDef, raw: object) -> str:
    """The text of a single value; a list of one item (a select's state) counts as that item."""
    if isinstance(raw, list | tuple) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool) or raw is None or isinstance(raw, Mapping | list | tuple | set):
        raise fail(field, f"expected a single value, got {shown(raw)}")
    return str(raw).strip()
