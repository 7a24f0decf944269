"""Per-type value checks shared by the Sync and Async routes and by workspace seeding.

One checker per TeleCRM field type. A checker returns the value as the sandbox stores
it, raises `InvalidValue` (with the remark text the API reports) when the value does not fit the
type, or `DroppedValue` when TeleCRM accepts the value but does not store it (archived statuses
and lost reasons).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

FIELD_TYPES: tuple[str, ...] = (
    "TEXT",
    "NUMBER",
    "EMAIL",
    "PHONE",
    "DATE",
    "DROPDOWN",
    "TAGS",
    "MONEY",
    "WEBSITE",
    "MEDIALINK",
    "ACTIVE_USERS",
    "RATING",
    "STATUS",
    "LOST_REASON",
)
IDENTIFIER_TYPES: tuple[str, ...] = ("PHONE", "EMAIL", "TEXT")
#: The types a custom action's fields may have, exactly the documented ones: the Async API's custom
#: action schema lists TextField, DateField, DropdownField, NumberField, ActiveUsersField and
#: MedialinkField (seed page "Telecrm Async APIs (1.0.0)").
ACTION_FIELD_TYPES: tuple[str, ...] = ("TEXT", "DATE", "DROPDOWN", "NUMBER", "ACTIVE_USERS", "MEDIALINK")
OPTION_TYPES: tuple[str, ...] = ("DROPDOWN", "TAGS")

#: Date strings carry no zone; the sandbox reads them as India Standard Time (the docs' running example).
WORKSPACE_TZ = timezone(timedelta(hours=5, minutes=30), "IST")
DATE_FORMAT = "DD/MM/YYYY HH:mm:ss"

#: Integers below this are almost certainly epoch *seconds*; the sandbox refuses them so that a
#: client sending seconds finds out here rather than seeing dates in January 1970.
MIN_EPOCH_MS = 100_000_000_000

PHONE_REMARK = (
    "Phone number is invalid: expected country code + number, digits only with an optional leading +, "
    "e.g. 919999999999"
)
DATE_REMARK = (
    "Date is invalid: expected epoch milliseconds (e.g. 1672561800000) or DD/MM/YYYY with optional "
    "HH:mm:ss (e.g. 01/06/2026 10:30:00)"
)
CREATED_ON_REMARK = (
    "created_on is invalid: expected a Unix timestamp in seconds or milliseconds (e.g. 1672552800 or "
    "1672552800000) or DD/MM/YYYY with optional HH:mm:ss (e.g. 01/01/2023 11:30:00)"
)
EMAIL_REMARK = "Email is invalid"
RATING_REMARK = "Rating must be between 1 and 5"

_DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})(?: (\d{2}):(\d{2}):(\d{2}))?$")
_PHONE_RE = re.compile(r"^\+?\d+$")
_MONEY_RE = re.compile(r"^-?\d+(?:\.\d+)?$")


class InvalidValue(ValueError):
    """The value does not fit its field type; `remark` is the human text the API reports."""

    def __init__(self, remark: str) -> None:
        super().__init__(remark)
        self.remark = remark


class DroppedValue(Exception):
    """The value is accepted by the request but not stored (archived status / lost reason)."""


@dataclass(frozen=True)
class ValueContext:
    """Workspace lookups a checker needs; kept as callables so checkers stay pure."""

    default_country_code: str
    member_email: Callable[[str], str | None]
    status_state: Callable[[str], str | None]
    lost_reason_state: Callable[[str], str | None]


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


# -- phone -------------------------------------------------------------------------------------


def check_phone(value: Any, default_country_code: str) -> str:
    """Strict write-side check: `+` optional, digits only, valid with its country code.

    Without a `+`, the number is first read as a number of the workspace's default country (its
    country code "not specified", whatever its length) and, when that is not a valid number, as
    country code + number (the documented form, e.g. 919999999999).
    """
    if not isinstance(value, str):
        raise InvalidValue(PHONE_REMARK)
    text = value.strip()
    if not _PHONE_RE.match(text):
        raise InvalidValue(PHONE_REMARK)
    digits = with_country_code(
        text.lstrip("+"), has_plus=text.startswith("+"), default_country_code=default_country_code
    )
    if digits is None:
        raise InvalidValue(PHONE_REMARK)
    return digits


def _valid_international(digits: str) -> bool:
    """Country code + number, valid as written (libphonenumber would also take `+1 1…` or `+44 0…`
    by dropping the national prefix; those digits are not the number, so they are refused)."""
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(parsed) and e164 == "+" + digits


def with_country_code(digits: str, *, has_plus: bool, default_country_code: str) -> str | None:
    """`digits` as country code + number, or None when it is not a valid phone number either way.

    With a `+` the country code is given. Without one, the default country code is put in front when
    that makes a valid number of that country (a number typed without its country code, of any length);
    otherwise the digits must already be a valid country code + number.
    """
    if not digits.isdigit():
        return None
    if not has_plus and _valid_international(default_country_code + digits):
        return default_country_code + digits
    return digits if _valid_international(digits) else None


def phone_match_key(value: Any, default_country_code: str) -> str | None:
    """Lenient read-side normalisation for matching: digits only, then as `check_phone` would store
    them (the default country code in front when that is a valid number of that country)."""
    keys = phone_match_keys(value, default_country_code)
    return keys[0] if keys else None


def phone_match_keys(value: Any, default_country_code: str) -> list[str]:
    """Every stored form a phone query may mean, best first: as `check_phone` would store it, and
    the digits as typed (a search is lenient: it may be either)."""
    if is_int(value):
        value = str(value)
    if not isinstance(value, str):
        return []
    text = value.strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return []
    best = with_country_code(digits, has_plus=text.startswith("+"), default_country_code=default_country_code)
    return list(dict.fromkeys(k for k in (best, digits) if k))


# -- dates -------------------------------------------------------------------------------------


def parse_date(value: Any, *, end_of_day: bool = False, remark: str = DATE_REMARK) -> int:
    """Epoch ms, an all-digit string of epoch ms, or `DD/MM/YYYY[ HH:mm:ss]` (IST) → epoch ms.

    With `end_of_day`, a date without a time means the last millisecond of that day (used for the
    inclusive `to` bound of range filters).
    """
    if is_int(value):
        if value < MIN_EPOCH_MS:
            raise InvalidValue(remark)
        return int(value)
    if not isinstance(value, str):
        raise InvalidValue(remark)
    text = value.strip()
    if text.isdigit():
        return parse_date(int(text), remark=remark)
    match = _DATE_RE.match(text)
    if not match:
        raise InvalidValue(remark)
    day, month, year, hh, mm, ss = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), tzinfo=WORKSPACE_TZ)
        if hh is not None:
            moment = moment.replace(hour=int(hh), minute=int(mm), second=int(ss))
    except ValueError as exc:
        raise InvalidValue(remark) from exc
    ms = int(moment.timestamp() * 1000)
    if hh is None and end_of_day:
        ms += 86_400_000 - 1
    return ms


def parse_unix_or_date(value: Any, *, remark: str = CREATED_ON_REMARK) -> int:
    """An action's `created_on` → epoch ms: a Unix timestamp in seconds or in milliseconds (a number
    or an all-digit string; below 10^11 it is seconds), or `DD/MM/YYYY` with optional ` HH:mm:ss`
    (IST). Anything else raises `InvalidValue`."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if is_number(value):
        if value < 0:
            raise InvalidValue(remark)
        return int(value * 1000) if value < MIN_EPOCH_MS else int(value)
    if not isinstance(value, str):
        raise InvalidValue(remark)
    return parse_date(value, remark=remark)


def format_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, WORKSPACE_TZ).strftime("%d/%m/%Y %H:%M:%S")


def parse_relative_or_date(value: Any, now: int) -> int:
    """Seed timestamps may also be relative to start-up, e.g. `-3d`, `-2h30m`, `+2d`."""
    relative = parse_relative(value, now)
    return relative if relative is not None else parse_date(value)


def parse_relative(value: Any, now: int) -> int | None:
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"([+-])(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?", value.strip())
    if not match or not any(match.groups()[1:]):
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups()[1:])
    offset = ((days * 24 + hours) * 60 + minutes) * 60_000
    return now - offset if match.group(1) == "-" else now + offset


# -- emails and URLs ---------------------------------------------------------------------------


def is_valid_email(value: Any) -> bool:
    if not isinstance(value, str) or not value or value != value.strip():
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def check_url(value: Any, remark: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(remark)
    text = value.strip()
    if not text or any(ch.isspace() for ch in text):
        raise InvalidValue(remark)
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidValue(remark) from exc
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or ("." not in host and host != "localhost"):
        raise InvalidValue(remark)
    return text


def parse_decimal(value: Any) -> Decimal | None:
    if is_number(value):
        return Decimal(str(value))
    if isinstance(value, str) and _MONEY_RE.match(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


# -- the per-type checker ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Limits:
    """What a field's definition adds to its type: its option labels and its maximum length."""

    options: Sequence[str] | None
    fixed_options: bool
    max_length: int | None


def _text(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    if not isinstance(value, str):
        raise InvalidValue("Text must be a string")
    if limits.max_length is not None and len(value) > limits.max_length:
        raise InvalidValue(f"Text is longer than the {limits.max_length} characters this field allows")
    return value


def _number(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    if not is_number(value):
        raise InvalidValue("Number must be a JSON number, e.g. 156 or 12.5 (not a string)")
    return value


def _email(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    if not isinstance(value, str) or not is_valid_email(value.strip()):
        raise InvalidValue(EMAIL_REMARK)
    return value.strip()


def _phone(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    return check_phone(value, ctx.default_country_code)


def _date(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    return parse_date(value)


def _dropdown(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("Dropdown value must be a non-empty string (an option label)")
    if limits.fixed_options and limits.options is not None and value not in limits.options:
        raise InvalidValue(f"Value must be one of: {', '.join(limits.options)}")
    return value


def _tags(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise InvalidValue('Tags must be a JSON array of strings, e.g. ["VIP", "Returning"]')
    if limits.fixed_options and limits.options is not None:
        unknown = [t for t in value if t not in limits.options]
        if unknown:
            raise InvalidValue(f"Tags must be among: {', '.join(limits.options)}")
    return list(dict.fromkeys(value))


def _money(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    if not isinstance(value, str) or not _MONEY_RE.match(value.strip()):
        raise InvalidValue('Money must be a numeric string, e.g. "1000"')
    return value.strip()


def _website(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    return check_url(value, "Website must be an http(s) URL, e.g. https://example.com")


def _medialink(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    return check_url(
        value,
        "Media link must be a publicly accessible http(s) URL, e.g. https://cdn.example.com/file.pdf",
    )


def _active_user(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    email = ctx.member_email(value) if isinstance(value, str) else None
    if email is None:
        raise InvalidValue("Must be the email of a team member of this workspace (deleted members excluded)")
    return email


def _rating(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    if not is_int(value):
        raise InvalidValue('Rating must be an integer between 1 and 5, e.g. 3 (not "3")')
    if not 1 <= value <= 5:
        raise InvalidValue(RATING_REMARK)
    return value


def _status(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    state = ctx.status_state(value) if isinstance(value, str) else None
    if state == "archived":
        raise DroppedValue()
    if state != "active":
        raise InvalidValue(
            f"Status {value!r} is not an active status label of the lead stage pipeline (labels are case-sensitive)"
        )
    return value


def _lost_reason(value: Any, ctx: ValueContext, limits: _Limits) -> Any:
    state = ctx.lost_reason_state(value) if isinstance(value, str) else None
    if state == "archived":
        raise DroppedValue()
    if state != "active":
        raise InvalidValue(f"Lost reason {value!r} is not an active lost reason of the lead stage pipeline")
    return value


_CHECKERS: dict[str, Callable[[Any, ValueContext, _Limits], Any]] = {
    "TEXT": _text,
    "NUMBER": _number,
    "EMAIL": _email,
    "PHONE": _phone,
    "DATE": _date,
    "DROPDOWN": _dropdown,
    "TAGS": _tags,
    "MONEY": _money,
    "WEBSITE": _website,
    "MEDIALINK": _medialink,
    "ACTIVE_USERS": _active_user,
    "RATING": _rating,
    "STATUS": _status,
    "LOST_REASON": _lost_reason,
}


def check_value(
    ftype: str,
    value: Any,
    ctx: ValueContext,
    *,
    options: Sequence[str] | None = None,
    fixed_options: bool = False,
    max_length: int | None = None,
) -> Any:
    """Return the stored form of `value` for a field of type `ftype`, or raise.

    `options` are the known labels of a DROPDOWN/TAGS field; unknown labels are allowed (TeleCRM
    auto-creates the option) unless `fixed_options` (custom-action schemas have fixed lists).
    """
    if value is None:
        raise InvalidValue(f"Value must not be null (expected {_EXPECTED[ftype]})")
    checker = _CHECKERS.get(ftype)
    if checker is None:
        raise InvalidValue(f"Unsupported field type {ftype}")
    return checker(value, ctx, _Limits(options, fixed_options, max_length))


_EXPECTED: dict[str, str] = {
    "TEXT": "a string",
    "NUMBER": "a number",
    "EMAIL": "an email address",
    "PHONE": "country code + number, e.g. 919999999999",
    "DATE": "epoch milliseconds or DD/MM/YYYY HH:mm:ss",
    "DROPDOWN": "an option label",
    "TAGS": "an array of strings",
    "MONEY": 'a numeric string, e.g. "1000"',
    "WEBSITE": "an http(s) URL",
    "MEDIALINK": "an http(s) URL",
    "ACTIVE_USERS": "a team member's email",
    "RATING": "an integer between 1 and 5",
    "STATUS": "an active status label",
    "LOST_REASON": "an active lost reason label",
}
