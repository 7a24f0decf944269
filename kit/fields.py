"""TeleCRM field types, in one table: type → Block Kit element → parser → validator.

Typed ``/lead`` values and modal submissions both go through :func:`convert`, so a value is checked
the same way whichever way it arrived, and is turned into exactly the JSON TeleCRM expects
(API.md §5.2, §11).  Nothing here does I/O: the cached :class:`WorkspaceSchema` is all it needs.

Choices made where TeleCRM leaves room:

* A choice field whose choices are not cached (a dropdown without options, an empty pipeline, no
  team members) accepts any non-empty value of the right syntax — it cannot be checked here, and
  refusing everything would make the field unusable.
* Tags are free text in TeleCRM; when the field has options, a tag matching one is given the option's
  spelling, other tags are kept as typed.
* Option values are limited to 150 characters by Slack; a longer label is sent as a stable short key
  (``~`` + hash) and mapped back by :func:`option_value_to_label` (which :func:`convert` applies).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from kit.format import truncate, zone
from telecrm.schema import FieldDef, FieldType, StatusDef, TeamMember, WorkspaceSchema

log = logging.getLogger(__name__)

TELECRM_DATETIME_FORMAT = "%d/%m/%Y %H:%M:%S"
PHONE_EXAMPLE = "919876543210"

# Slack Block Kit limits (slack-research.md §3; slack_sdk.models enforces the same numbers).
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
class _Ctx:
    schema: WorkspaceSchema
    default_country_code: str
    tz: str | None
    now: datetime | None


@dataclass(frozen=True)
class _ElementCtx:
    schema: WorkspaceSchema
    action_id: str
    initial: object
    preferred_member_email: str | None
    tz: str | None


def _fail(field: FieldDef, detail: str) -> FieldError:
    return FieldError(f"{field.label}: {detail}", detail=detail)


def _shown(raw: object, n: int = 40) -> str:
    return "“" + truncate(" ".join(str(raw).split()), n) + "”"


def _is_empty(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set | frozenset):
        return all(_is_empty(item) for item in raw)
    return False


def _scalar_text(field: FieldDef, raw: object) -> str:
    """The text of a single value; a list of one item (a select's state) counts as that item."""
    if isinstance(raw, list | tuple) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool) or raw is None or isinstance(raw, Mapping | list | tuple | set):
        raise _fail(field, f"expected a single value, got {_shown(raw)}")
    return str(raw).strip()


# --- choices and option values ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    label: str  # what TeleCRM stores
    text: str  # what Slack shows
    group: str = ""


def option_value(label: str) -> str:
    """The Slack option value for a label: the label itself, or a stable key when it is too long."""
    if len(label) <= MAX_OPTION_VALUE:
        return label
    return "~" + hashlib.sha1(label.encode()).hexdigest()[:24]


def _choices(field: FieldDef, schema: WorkspaceSchema) -> list[_Choice]:
    if field.type is FieldType.STATUS:
        return [_Choice(s.label, s.label, _stage_label(s)) for s in schema.active_statuses if s.label]
    if field.type is FieldType.ACTIVE_USERS:
        return [_Choice(m.email, _member_text(m)) for m in schema.active_members if m.email]
    if field.type is FieldType.RATING:
        return [_Choice(str(n), f"{'★' * n}{'☆' * (5 - n)}  {n}") for n in range(1, 6)]
    seen: set[str] = set()
    out = []
    for label in schema.choices_for(field):
        if label.strip() and label not in seen:
            seen.add(label)
            out.append(_Choice(label, label))
    return out


def option_value_to_label(field: FieldDef, schema: WorkspaceSchema, value: str) -> str:
    """Undo :func:`option_value` for this field's choices; any other value is returned unchanged."""
    if not value.startswith("~"):
        return value
    for choice in _choices(field, schema):
        if option_value(choice.label) == value:
            return choice.label
    return value


def _member_text(m: TeamMember) -> str:
    return f"{m.name} ({m.email})" if m.name and m.name != m.email else m.email


def _stage_label(s: StatusDef) -> str:
    return {"OPEN": "Open", "WON": "Won", "LOST": "Lost"}.get(s.stage_type.upper(), s.stage_type.title())


def _few(labels: Sequence[str], near: str, noun: str) -> str:
    """ "did you mean X? one of: A, B" or "130 options; e.g. A, B, C" — enough to fix the value."""
    lowered = {label.lower(): label for label in labels}
    close = [lowered[c] for c in difflib.get_close_matches(near.lower(), list(lowered), n=3, cutoff=0.6)]
    parts = []
    if close:
        parts.append("did you mean " + " or ".join(close) + "?")
    if len(labels) <= 8:
        parts.append("choose one of: " + ", ".join(labels))
    else:
        examples = [label for label in labels if label not in close][:5]
        parts.append(f"{len(labels)} {noun}; e.g. " + ", ".join(examples))
    return " ".join(parts)


def _match_choice(field: FieldDef, raw: object, labels: Sequence[str]) -> str | None:
    text = " ".join(_scalar_text(field, raw).split())
    for label in labels:
        if label == text:
            return label
    wanted = text.casefold()
    for label in labels:
        if " ".join(label.split()).casefold() == wanted:
            return label
    return None


def _text_of(field: FieldDef, raw: object, schema: WorkspaceSchema) -> str:
    text = _scalar_text(field, raw)
    if not text:
        raise _fail(field, "a value is required")
    return option_value_to_label(field, schema, text)


# --- converters: user input → TeleCRM JSON -----------------------------------------------------------


def _convert_text(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    text = _scalar_text(field, raw)
    if not text:
        raise _fail(field, "a value is required")
    return text


def _convert_email(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    text = _strip_mailto(_scalar_text(field, raw))
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise _fail(
            field, f"{_shown(text)} is not an email address ({exc}) — use e.g. jane@example.com"
        ) from None


def _strip_mailto(text: str) -> str:
    text = text.strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def normalize_phone(text: str, default_country_code: str = "91") -> str:
    """``+91 98765 43210`` / ``098765 43210`` / ``9876543210`` → ``919876543210`` (API.md §11).

    Raises ``ValueError`` with a sentence saying what is wrong.
    """
    text = text.strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    if re.search(r"[^\W\d_]", text):
        raise ValueError("has letters in it")
    digits = re.sub(r"\D", "", text)
    if len(digits) < 5:
        raise ValueError("is too short")
    if len(digits) > 17:
        raise ValueError("is too long")
    cc = re.sub(r"\D", "", default_country_code or "") or "91"
    region = phonenumbers.region_code_for_country_code(int(cc[:3]))
    candidates = [text] if text.startswith("+") else [text, "+" + digits]
    reason = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
        reason = reason or phonenumbers.is_possible_number_with_reason(number)
    reasons = phonenumbers.ValidationResult
    if reason in (reasons.TOO_SHORT, reasons.INVALID_LENGTH):
        raise ValueError("is too short")
    if reason == reasons.TOO_LONG:
        raise ValueError("is too long")
    if reason == reasons.INVALID_COUNTRY_CODE:
        raise ValueError("has an unknown country code")
    raise ValueError("is not a valid phone number")


def _convert_phone(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    text = _scalar_text(field, raw)
    try:
        return normalize_phone(text, ctx.default_country_code)
    except ValueError as exc:
        raise _fail(
            field,
            f"{_shown(text)} is not a phone number ({exc}) — use country code + number, e.g. {PHONE_EXAMPLE}",
        ) from None


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def _ungroup(text: str) -> str | None:
    """Remove digit-grouping commas (``1,000`` and Indian ``1,00,000``); ``None`` when ambiguous.

    ``5,00`` or ``12,5`` might be a decimal comma, so they are refused rather than misread.
    """
    text = text.replace(" ", "").replace("\u00a0", "").replace("_", "")
    if "," not in text:
        return text
    whole, dot, fraction = text.partition(".")
    if "," in fraction:
        return None
    groups = whole.lstrip("+-").split(",")
    if not groups[0] or len(groups[-1]) != 3 or any(len(g) not in (2, 3) for g in groups[1:-1]):
        return None
    return whole.replace(",", "") + dot + fraction


def _convert_number(field: FieldDef, raw: object, ctx: _Ctx) -> int | float:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, Decimal):
        if not raw.is_finite() or raw.adjusted() > 300:
            raise _fail(field, f"{_shown(raw)} is not a usable number — use e.g. 1500 or 12.5")
        return int(raw) if raw == raw.to_integral_value() else float(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _fail(field, f"{_shown(raw)} is not a number — use e.g. 1500 or 12.5")
        return raw
    text = _scalar_text(field, raw)
    cleaned = _ungroup(text)
    if cleaned is None:
        raise _fail(
            field,
            f"{_shown(text)} is ambiguous — use . for decimals and , only between thousands, e.g. 1,500.5",
        )
    if not _NUMBER.fullmatch(cleaned):
        raise _fail(field, f"{_shown(text)} is not a number — use digits, e.g. 1500 or 12.5")
    if "." not in cleaned:
        return int(cleaned)
    value = float(cleaned)
    if value in (float("inf"), float("-inf")):
        raise _fail(field, f"{_shown(text)} is too large")
    return value


_CURRENCY_AFFIX = re.compile(r"^(?:₹|\$|rs\.?|inr|usd)\s*|\s*(?:₹|\$|rs\.?|inr|usd|/-)$", re.IGNORECASE)


def normalize_amount(text: object) -> str:
    """``₹5,000.50`` → ``5000.50``: a positive amount as the plain numeric string TeleCRM wants.

    Raises :class:`FieldError` saying what is wrong.
    """
    if isinstance(text, bool) or text is None:
        raise FieldError(f"Amount: {_shown(text)} is not an amount — use e.g. 5000 or 5000.50")
    if isinstance(text, float | int | Decimal):
        try:
            number = Decimal(repr(text) if isinstance(text, float) else str(text))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise FieldError(f"Amount: {_shown(text)} is not an amount — use e.g. 5000 or 5000.50")
        cleaned = format(number, "f")
    else:
        cleaned = str(text).strip()
        for _ in range(2):
            cleaned = _CURRENCY_AFFIX.sub("", cleaned).strip()
        ungrouped = _ungroup(cleaned)
        if ungrouped is None:
            detail = f"{_shown(text)} is ambiguous — use . for decimals and , only between thousands, e.g. 5,000.50"
            raise FieldError(f"Amount: {detail}", detail=detail)
        cleaned = ungrouped
    match = re.fullmatch(r"([+-]?)(\d*)(?:\.(\d*))?", cleaned)
    if not cleaned or not match or not (match.group(2) or match.group(3)):
        raise FieldError(
            f"Amount: {_shown(text)} is not an amount — use digits, e.g. 5000 or 5000.50",
            detail=f"{_shown(text)} is not an amount — use digits, e.g. 5000 or 5000.50",
        )
    sign, whole, fraction = match.group(1), match.group(2).lstrip("0") or "0", match.group(3) or ""
    if len(whole) > 15:
        raise FieldError(f"Amount: {_shown(text)} is too large", detail=f"{_shown(text)} is too large")
    value = whole + ("." + fraction if fraction else "")
    if sign == "-" or Decimal(value) <= 0:
        detail = f"{_shown(text)} — the amount must be more than 0"
        raise FieldError(f"Amount: {detail}", detail=detail)
    return value


def _convert_money(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    if isinstance(raw, list | tuple) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, str) and not raw.strip():
        raise _fail(field, "a value is required")
    try:
        return normalize_amount(raw)
    except FieldError as exc:
        raise _fail(field, exc.detail) from None


_STARS = re.compile(r"^\s*[★⭐]+[☆\s]*$")


def _convert_rating(field: FieldDef, raw: object, ctx: _Ctx) -> int:
    expected = "a whole number from 1 to 5"
    number: Decimal
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        if (
            isinstance(raw, float)
            and not math.isfinite(raw)
            or isinstance(raw, Decimal)
            and not raw.is_finite()
        ):
            raise _fail(field, f"{_shown(raw)} is not a rating — use {expected}")
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        text = _scalar_text(field, raw)
        if _STARS.match(text):
            number = Decimal(text.count("★") + text.count("⭐"))
        else:
            match = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)\s*(?:/\s*5|stars?|★)?", text, re.IGNORECASE)
            if not match:
                raise _fail(field, f"{_shown(text)} is not a rating — use {expected}")
            number = Decimal(match.group(1))
    if number != number.to_integral_value():
        raise _fail(field, f"{_shown(raw)} is not a whole number — use {expected}")
    if not 1 <= number <= 5:
        raise _fail(field, f"{_shown(raw)} is out of range — rating must be between 1 and 5")
    return int(number)


# --- dates -----------------------------------------------------------------------------------------

_TIME = r"(?:[ T,]+(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(?:\.\d+)?\s*([ap]\.?m\.?)?)?"
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})" + _TIME, re.IGNORECASE)
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + r"\s*(z|[+-]\d{2}:?\d{2})?", re.IGNORECASE)
_RELATIVE = re.compile(r"(today|tomorrow|yesterday|now)" + _TIME, re.IGNORECASE)
_WORDY = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")


def _clock(
    hour: str | None, minute: str | None, second: str | None, ampm: str | None
) -> tuple[int, int, int]:
    h, m, s = int(hour or 0), int(minute or 0), int(second or 0)
    if ampm:
        if not 1 <= h <= 12:
            raise ValueError("hour must be 1–12 with am/pm")
        h = h % 12 + (12 if ampm.lower().startswith("p") else 0)
    return h, m, s


def parse_datetime(raw: object, *, tz: str | None = None, now: datetime | None = None) -> datetime:
    """Any date a person or a Slack picker gives → a naive wall-clock ``datetime`` in ``tz``.

    Raises ``ValueError``. Epoch numbers (seconds, or milliseconds when ≥ 10¹¹) are converted in ``tz``.
    """
    zone_info = zone(tz)
    if isinstance(raw, datetime):
        return raw.astimezone(zone_info).replace(tzinfo=None) if raw.tzinfo else raw
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day)
    if isinstance(raw, bool) or raw is None:
        raise ValueError("not a date")
    if isinstance(raw, int | float):
        return _from_epoch(float(raw), zone_info)
    text = " ".join(str(raw).split())
    if re.fullmatch(r"\d{9,}(?:\.\d+)?", text):
        return _from_epoch(float(text), zone_info)
    if match := _RELATIVE.fullmatch(text):
        current = now or datetime.now(zone_info)
        if current.tzinfo:
            current = current.astimezone(zone_info).replace(tzinfo=None)
        word = match.group(1).lower()
        if word == "now":
            return current.replace(microsecond=0)
        day = current.date() + timedelta(days={"today": 0, "tomorrow": 1, "yesterday": -1}[word])
        return datetime(day.year, day.month, day.day, *_clock(*match.groups()[1:5]))
    if match := _DMY.fullmatch(text):
        d, mo, y = (int(g) for g in match.groups()[:3])
        return datetime(y, mo, d, *_clock(*match.groups()[3:7]))
    if match := _YMD.fullmatch(text):
        y, mo, d = (int(g) for g in match.groups()[:3])
        local = datetime(y, mo, d, *_clock(*match.groups()[3:7]))
        offset = match.group(8)
        if offset:
            aware = datetime.fromisoformat(
                local.isoformat() + ("+00:00" if offset.lower() == "z" else offset)
            )
            return aware.astimezone(zone_info).replace(tzinfo=None)
        return local
    cleaned = text.replace(",", " ")
    cleaned = " ".join(cleaned.split())
    for fmt in _WORDY:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    raise ValueError("not a date")


def _from_epoch(number: float, zone_info: Any) -> datetime:
    if number != number:
        raise ValueError("not a date")
    seconds = number / 1000 if abs(number) >= 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, zone_info).replace(tzinfo=None)
    except (OverflowError, OSError) as exc:
        raise ValueError("out of range") from exc


def _convert_date(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    if isinstance(raw, list | tuple) and len(raw) == 1:
        raw = raw[0]
    try:
        moment = parse_datetime(raw, tz=ctx.tz, now=ctx.now)
    except (ValueError, OverflowError):
        raise _fail(
            field,
            f"{_shown(raw)} is not a date — use DD/MM/YYYY, optionally with a time (25/12/2026 10:30), "
            "or today / tomorrow",
        ) from None
    if not 1900 <= moment.year <= 2200:
        raise _fail(field, f"{_shown(raw)} is not a plausible date (year {moment.year})")
    return moment.strftime(TELECRM_DATETIME_FORMAT)


# --- choice-typed fields ----------------------------------------------------------------------------


def _convert_dropdown(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    text = _text_of(field, raw, ctx.schema)
    labels = [c.label for c in _choices(field, ctx.schema)]
    if not labels:
        return text
    found = _match_choice(field, text, labels)
    if found is None:
        raise _fail(field, f"{_shown(text)} is not an option — {_few(labels, text, 'options')}")
    return found


def _convert_pipeline_label(
    field: FieldDef, raw: object, ctx: _Ctx, labels: list[tuple[str, bool]], one: str, many: str
) -> str:
    """Statuses and lost reasons: only active labels are valid; an archived one gets its own message."""
    text = _text_of(field, raw, ctx.schema)
    if not labels:
        return text
    active = [label for label, is_active in labels if is_active]
    found = _match_choice(field, text, active)
    if found is not None:
        return found
    archived = _match_choice(field, text, [label for label, is_active in labels if not is_active])
    if archived is not None:
        raise _fail(field, f"“{archived}” is archived in TeleCRM; {_few(active, text, many)}")
    raise _fail(field, f"{_shown(text)} is not {one} — {_few(active, text, many)}")


def _convert_status(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    labels = [(s.label, s.active) for s in ctx.schema.statuses]
    return _convert_pipeline_label(field, raw, ctx, labels, "a status", "active statuses")


def _convert_lost_reason(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    labels = [(r.label, r.active) for r in ctx.schema.lost_reasons]
    return _convert_pipeline_label(field, raw, ctx, labels, "a lost reason", "lost reasons")


def _convert_member(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    text = _strip_mailto(_text_of(field, raw, ctx.schema))
    in_parens = re.fullmatch(r".*\(\s*(\S+@\S+?)\s*\)", text)
    if in_parens:
        text = in_parens.group(1)
    members = ctx.schema.team_members
    active_emails = [m.email for m in ctx.schema.active_members]
    if "@" in text:
        member = ctx.schema.member_by_email(text)
        if member is not None:
            if member.is_active:
                return member.email
            raise _fail(field, f"{_member_text(member)} is not an active team member in TeleCRM")
        if not members:
            return _convert_email(field, text, ctx)
        raise _fail(
            field, f"{_shown(text)} is not a team member — {_few(active_emails, text, 'active members')}"
        )
    wanted = " ".join(text.split()).casefold()
    named = [m for m in ctx.schema.active_members if " ".join(m.name.split()).casefold() == wanted]
    if len(named) == 1:
        return named[0].email
    if len(named) > 1:
        emails = ", ".join(m.email for m in named)
        raise _fail(field, f"more than one team member is called {_shown(text)} — use an email: {emails}")
    if not members:
        raise _fail(field, f"{_shown(text)} is not an email address — use a team member's email")
    names = [m.name for m in ctx.schema.active_members]
    raise _fail(
        field,
        f"{_shown(text)} is not a team member — use their email; {_few(names, text, 'active members')}",
    )


def _split_tags(raw: object) -> list[str]:
    items: Iterable[object]
    if isinstance(raw, str):
        items = re.split(r"[,\n]", raw)
    elif isinstance(raw, list | tuple | set | frozenset):
        items = raw
    else:
        items = [raw]
    out = []
    for item in items:
        if isinstance(item, list | tuple | set | Mapping) or item is None or isinstance(item, bool):
            continue
        text = " ".join(str(item).split())
        if text:
            out.append(text)
    return out


def _convert_tags(field: FieldDef, raw: object, ctx: _Ctx) -> list[str]:
    tags = [option_value_to_label(field, ctx.schema, t) for t in _split_tags(raw)]
    if not tags:
        raise _fail(field, f"{_shown(raw)} has no tags — use a comma-separated list, e.g. VIP, Returning")
    labels = [c.label for c in _choices(field, ctx.schema)]
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        canonical = _match_choice(field, tag, labels) or tag
        if canonical.casefold() not in seen:
            seen.add(canonical.casefold())
            out.append(canonical)
    return out


_HOST = re.compile(r"^(?:localhost|[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}|\d{1,3}(?:\.\d{1,3}){3})$")


def _convert_url(field: FieldDef, raw: object, ctx: _Ctx) -> str:
    text = _scalar_text(field, raw)
    expected = "use a web address, e.g. https://example.com"
    if not text or any(ch.isspace() for ch in text):
        raise _fail(field, f"{_shown(text)} is not a web address — {expected}")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        raise _fail(field, f"{_shown(text)} is not a web address — {expected}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _fail(field, f"{_shown(text)} is not an http(s) address — {expected}")
    host = parts.hostname or ""
    if not _HOST.match(host):
        raise _fail(field, f"{_shown(text)} is not a web address — {expected}")
    return parts.scheme.lower() + text[len(parts.scheme) :]


# --- Block Kit elements ------------------------------------------------------------------------------


def _plain(text: str, n: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def _option(choice: _Choice) -> dict[str, Any]:
    return {"text": _plain(choice.text, MAX_OPTION_TEXT), "value": option_value(choice.label)}


def _base(kind: str, ctx: _ElementCtx, placeholder: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": kind, "action_id": ctx.action_id[:MAX_ACTION_ID]}
    if placeholder:
        element["placeholder"] = _plain(placeholder, MAX_PLACEHOLDER)
    return element


def _initial_text(initial: object) -> str | None:
    if _is_empty(initial) or isinstance(initial, Mapping | bool):
        return None
    if isinstance(initial, list | tuple):
        return ", ".join(str(i) for i in initial if not _is_empty(i))
    return str(initial)


_MULTILINE = re.compile(
    r"note|description|comment|remark|address|message|detail|summary|feedback|requirement", re.IGNORECASE
)
_DATETIME_NAME = re.compile(r"time|(?:^|[_\s])at$|appointment|meeting|schedule|slot", re.IGNORECASE)


def _element_text(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    element = _base("plain_text_input", ctx, f"Enter {field.label.lower()}")
    if _MULTILINE.search(field.api_name) or _MULTILINE.search(field.label):
        element["multiline"] = True
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def _element_email(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    element = _base("email_text_input", ctx, "name@example.com")
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def _element_phone(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    element = _base("plain_text_input", ctx, f"e.g. {PHONE_EXAMPLE}")
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def _numeric_initial(initial: object) -> str | None:
    text = _initial_text(initial)
    if text is None:
        return None
    cleaned = _ungroup(text.strip())
    return cleaned if cleaned and _NUMBER.fullmatch(cleaned) else None


def _element_number(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    element = _base("number_input", ctx, "e.g. 1500")
    element["is_decimal_allowed"] = True
    if (text := _numeric_initial(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def _element_money(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    element = _base("number_input", ctx, "e.g. 5000")
    element["is_decimal_allowed"] = True
    element["min_value"] = "0.01"
    if not _is_empty(ctx.initial):
        with contextlib.suppress(FieldError):
            amount = normalize_amount(ctx.initial)
            if Decimal(amount) >= Decimal("0.01"):
                element["initial_value"] = amount
    return element


def _element_date(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    with_time = bool(_DATETIME_NAME.search(field.api_name) or _DATETIME_NAME.search(field.label))
    element = _base("datetimepicker" if with_time else "datepicker", ctx)
    if not with_time:
        element["placeholder"] = _plain("Pick a date", MAX_PLACEHOLDER)
    if _is_empty(ctx.initial):
        return element
    try:
        moment = parse_datetime(ctx.initial, tz=ctx.tz)
    except (ValueError, OverflowError):
        return element
    if with_time:
        with contextlib.suppress(OverflowError, OSError, ValueError):
            element["initial_date_time"] = int(moment.replace(tzinfo=zone(ctx.tz)).timestamp())
    else:
        element["initial_date"] = moment.strftime("%Y-%m-%d")
    return element


def _select(
    field: FieldDef, ctx: _ElementCtx, choices: list[_Choice], *, initial: Sequence[str], multi: bool = False
) -> dict[str, Any]:
    """static_select with options (grouped when choices carry groups), or external_select when too many."""
    chosen = [c for label in initial for c in choices if c.label == label][: 1 if not multi else None]
    kind = "multi_static_select" if multi else "static_select"
    noun = "Choose options" if multi else "Choose an option"
    if len(choices) > MAX_OPTIONS:
        kind = "multi_external_select" if multi else "external_select"
        element = _base(kind, ctx, "Type to search")
        element["min_query_length"] = 0
    else:
        element = _base(kind, ctx, noun)
        groups = list(dict.fromkeys(c.group for c in choices))
        if len(groups) > 1:
            element["option_groups"] = [
                {
                    "label": _plain(group or "Other", MAX_OPTION_TEXT),
                    "options": [_option(c) for c in choices if c.group == group],
                }
                for group in groups
            ]
        else:
            element["options"] = [_option(c) for c in choices]
    if chosen:
        if multi:
            element["initial_options"] = [_option(c) for c in chosen]
        else:
            element["initial_option"] = _option(chosen[0])
    return element


def _initial_labels(field: FieldDef, schema: WorkspaceSchema, initial: object) -> list[str]:
    if _is_empty(initial):
        return []
    ctx = _Ctx(schema, "91", None, None)
    try:
        value = _KINDS[field.type].convert(field, initial, ctx)
    except FieldError:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values]


def _element_choice(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    choices = _choices(field, ctx.schema)
    if not choices:
        return _element_text(field, ctx)
    return _select(field, ctx, choices, initial=_initial_labels(field, ctx.schema, ctx.initial))


def _element_tags(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    choices = _choices(field, ctx.schema)
    if not choices:
        element = _base("plain_text_input", ctx, "Comma-separated, e.g. VIP, Returning")
        if (text := _initial_text(ctx.initial)) is not None:
            element["initial_value"] = text
        return element
    return _select(field, ctx, choices, initial=_initial_labels(field, ctx.schema, ctx.initial), multi=True)


def _element_url(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    element = _base("url_text_input", ctx, "https://example.com")
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def _element_member(field: FieldDef, ctx: _ElementCtx) -> dict[str, Any]:
    choices = _choices(field, ctx.schema)
    if not choices:
        return _element_email(field, ctx)
    initial = _initial_labels(field, ctx.schema, ctx.initial)
    if not initial and ctx.preferred_member_email:
        preferred = ctx.schema.member_by_email(ctx.preferred_member_email)
        if preferred is not None and preferred.is_active:
            initial = [preferred.email]
    return _select(field, ctx, choices, initial=initial)


# --- descriptions ------------------------------------------------------------------------------------


def _describe_choices(labels: Sequence[str], noun: str) -> str:
    if not labels:
        return "text"
    if len(labels) <= 6:
        return "one of: " + ", ".join(labels)
    return f"one of {len(labels)} {noun}, e.g. " + ", ".join(labels[:3])


def _fixed(text: str) -> Callable[[FieldDef, WorkspaceSchema], str]:
    return lambda field, schema: text


def _describe_dropdown(field: FieldDef, schema: WorkspaceSchema) -> str:
    return _describe_choices([c.label for c in _choices(field, schema)], "options")


def _describe_status(field: FieldDef, schema: WorkspaceSchema) -> str:
    return _describe_choices([c.label for c in _choices(field, schema)], "statuses")


def _describe_lost_reason(field: FieldDef, schema: WorkspaceSchema) -> str:
    return _describe_choices([c.label for c in _choices(field, schema)], "lost reasons")


def _describe_member(field: FieldDef, schema: WorkspaceSchema) -> str:
    emails = [m.email for m in schema.active_members]
    example = f", e.g. {emails[0]}" if emails else ""
    return f"a team member's email{example}"


def _describe_tags(field: FieldDef, schema: WorkspaceSchema) -> str:
    labels = [c.label for c in _choices(field, schema)]
    if not labels:
        return "tags, comma-separated, e.g. VIP, Returning"
    return "tags, comma-separated, e.g. " + ", ".join(labels[:3])


# --- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldKind:
    """How one TeleCRM type is described, rendered as a Block Kit element, and converted."""

    describe: Callable[[FieldDef, WorkspaceSchema], str]
    element: Callable[[FieldDef, _ElementCtx], dict[str, Any]]
    convert: Callable[[FieldDef, object, _Ctx], object]
    hint: str = ""


_KINDS: dict[FieldType, FieldKind] = {
    FieldType.TEXT: FieldKind(_fixed("text"), _element_text, _convert_text),
    FieldType.EMAIL: FieldKind(
        _fixed("an email address, e.g. jane@example.com"), _element_email, _convert_email
    ),
    FieldType.PHONE: FieldKind(
        _fixed(f"a phone number with country code, e.g. {PHONE_EXAMPLE}"),
        _element_phone,
        _convert_phone,
        hint=f"Phone with country code, e.g. {PHONE_EXAMPLE}",
    ),
    FieldType.NUMBER: FieldKind(_fixed("a number, e.g. 1500 or 12.5"), _element_number, _convert_number),
    FieldType.MONEY: FieldKind(_fixed("an amount more than 0, e.g. 5000"), _element_money, _convert_money),
    FieldType.DATE: FieldKind(
        _fixed("a date, DD/MM/YYYY (optionally with a time, 25/12/2026 10:30), or today / tomorrow"),
        _element_date,
        _convert_date,
    ),
    FieldType.DROPDOWN: FieldKind(_describe_dropdown, _element_choice, _convert_dropdown),
    FieldType.TAGS: FieldKind(_describe_tags, _element_tags, _convert_tags),
    FieldType.WEBSITE: FieldKind(
        _fixed("a web address, e.g. https://example.com"), _element_url, _convert_url
    ),
    FieldType.MEDIALINK: FieldKind(
        _fixed("a public link to a file, e.g. https://example.com/brochure.pdf"), _element_url, _convert_url
    ),
    FieldType.ACTIVE_USERS: FieldKind(_describe_member, _element_member, _convert_member),
    FieldType.RATING: FieldKind(_fixed("1–5"), _element_choice, _convert_rating),
    FieldType.STATUS: FieldKind(_describe_status, _element_choice, _convert_status),
    FieldType.LOST_REASON: FieldKind(_describe_lost_reason, _element_choice, _convert_lost_reason),
}


def kind_of(field: FieldDef) -> FieldKind:
    return _KINDS.get(field.type, _KINDS[FieldType.TEXT])


# --- public API ----------------------------------------------------------------------------------------


def describe_type(field: FieldDef, schema: WorkspaceSchema) -> str:
    """What a value of this field must look like, for help texts and error messages."""
    return kind_of(field).describe(field, schema)


def convert(
    field: FieldDef,
    raw: object,
    schema: WorkspaceSchema,
    *,
    default_country_code: str = "91",
    tz: str | None = None,
    now: datetime | None = None,
) -> object:
    """User input (typed text, or a value read from a modal element) → the JSON value TeleCRM expects.

    Raises :class:`FieldError` and nothing else, so one bad value can always be reported, never crash.
    """
    if _is_empty(raw):
        raise _fail(field, "a value is required")
    ctx = _Ctx(schema, default_country_code, tz, now)
    try:
        return kind_of(field).convert(field, raw, ctx)
    except FieldError:
        raise
    except Exception:
        log.exception("unexpected error converting a %s value for %s", field.type, field.api_name)
        raise _fail(field, f"{_shown(raw)} could not be read — {describe_type(field, schema)}") from None


def validate_fields(
    schema: WorkspaceSchema,
    raw: Mapping[str, object],
    *,
    require_identifier: bool = True,
    default_country_code: str = "91",
    tz: str | None = None,
    now: datetime | None = None,
    fields: Sequence[FieldDef] | None = None,
) -> tuple[dict[str, object], list[Problem]]:
    """Check and convert a whole form. Keys are API names; results come back in the schema's order.

    Empty values are skipped (fields are optional), except that with ``require_identifier`` (a create)
    the identifier and any field marked required must be present. ``fields`` validates another set of
    fields (a custom action's ``fieldSchema``) against the same workspace. A key that is not a field is
    reported, never silently dropped.
    """
    defs = tuple(schema.fields if fields is None else fields)
    by_lower = {f.api_name.lower(): f for f in defs}
    identifier = schema.identifier.api_name.lower() if fields is None else None
    given: dict[str, object] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        f = by_lower.get(str(key).strip().lower())
        if f is None:
            problems.append(Problem(str(key), str(key), f"“{key}” is not a field of this workspace"))
        else:
            given[f.api_name] = value
    values: dict[str, object] = {}
    for f in defs:
        required = require_identifier and (f.required or f.api_name.lower() == identifier)
        value = given.get(f.api_name)
        if _is_empty(value):
            if required:
                problems.append(
                    Problem(f.api_name, f.label, f"{f.label} is required — {describe_type(f, schema)}")
                )
            continue
        try:
            values[f.api_name] = convert(
                f, value, schema, default_country_code=default_country_code, tz=tz, now=now
            )
        except FieldError as exc:
            problems.append(Problem(f.api_name, f.label, exc.message))
    return values, problems


def _norm_key(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text.casefold())


def resolve_keys(
    schema: WorkspaceSchema, pairs: Sequence[tuple[str, str]], *, fields: Sequence[FieldDef] | None = None
) -> tuple[dict[str, str], list[Problem]]:
    """Typed keys → API names: case-insensitive, by API name or label, ignoring ``-``, ``_`` and spaces.

    Unknown keys are reported with the closest field names; a field given twice is reported too.
    """
    defs = tuple(schema.fields if fields is None else fields)
    exact = {f.api_name.casefold(): f for f in defs}
    loose: dict[str, list[FieldDef]] = {}
    for f in defs:
        for name in {_norm_key(f.api_name), _norm_key(f.label)}:
            if name and f not in loose.setdefault(name, []):
                loose[name].append(f)
    resolved: dict[str, str] = {}
    typed_as: dict[str, str] = {}
    problems: list[Problem] = []
    for key, value in pairs:
        key = key.strip()
        if not key:
            problems.append(Problem("", "", f"missing field name before “={truncate(value, 30)}”"))
            continue
        found = exact.get(key.casefold())
        if found is None:
            candidates = loose.get(_norm_key(key), [])
            if len(candidates) > 1:
                names = " or ".join(c.api_name for c in candidates)
                problems.append(Problem(key, key, f"“{key}” could mean {names} — use the API name"))
                continue
            found = candidates[0] if candidates else None
        if found is None:
            problems.append(Problem(key, key, _unknown_key_message(key, defs)))
            continue
        if found.api_name in resolved:
            problems.append(
                Problem(
                    found.api_name,
                    found.label,
                    f"{found.label} is given twice ({typed_as[found.api_name]}= and {key}=) — give it once",
                )
            )
            continue
        resolved[found.api_name] = value
        typed_as[found.api_name] = key
    return resolved, problems


def _unknown_key_message(key: str, defs: Sequence[FieldDef]) -> str:
    names = {_norm_key(f.api_name): f.api_name for f in defs}
    names.update({_norm_key(f.label): f.api_name for f in defs})
    close = difflib.get_close_matches(_norm_key(key), list(names), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[c] for c in close))
    message = f"“{key}” is not a field of this workspace"
    if suggestions:
        return message + " — did you mean " + " or ".join(suggestions) + "?"
    listed = [f.api_name for f in defs][:12]
    more = "…" if len(defs) > 12 else ""
    return message + " — fields: " + ", ".join(listed) + more


def element_for(
    field: FieldDef,
    schema: WorkspaceSchema,
    *,
    action_id: str,
    initial: object = None,
    preferred_member_email: str | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """The Block Kit input element for a field, within Slack's limits whatever the workspace holds."""
    ctx = _ElementCtx(schema, action_id, initial, preferred_member_email, tz)
    return kind_of(field).element(field, ctx)


def input_block(
    field: FieldDef,
    schema: WorkspaceSchema,
    *,
    optional: bool,
    block_id: str | None = None,
    action_id: str = "value",
    initial: object = None,
    preferred_member_email: str | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """One modal input block; ``block_id`` is the field's API name so errors map back to the field."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id or field.api_name,
        "label": _plain(field.label or field.api_name, MAX_LABEL),
        "element": element_for(
            field,
            schema,
            action_id=action_id,
            initial=initial,
            preferred_member_email=preferred_member_email,
            tz=tz,
        ),
        "optional": optional,
    }
    hint = field.description.strip() or kind_of(field).hint
    if field.type is FieldType.TAGS and block["element"]["type"] == "plain_text_input":
        hint = hint or "Comma-separated, e.g. VIP, Returning"
    if hint:
        block["hint"] = _plain(hint, MAX_HINT)
    return block


def options_for_query(
    field: FieldDef, schema: WorkspaceSchema, query: str, *, limit: int = MAX_OPTIONS
) -> list[dict[str, Any]]:
    """Options for an external_select's type-ahead: prefix matches first, then word starts, then substrings."""
    wanted = " ".join((query or "").split()).casefold()
    ranked: list[tuple[int, int, _Choice]] = []
    for index, choice in enumerate(_choices(field, schema)):
        haystack = choice.text.casefold() + " " + choice.label.casefold()
        if (
            not wanted
            or choice.label.casefold().startswith(wanted)
            or choice.text.casefold().startswith(wanted)
        ):
            rank = 0
        elif re.search(r"(?:^|[\s(@._-])" + re.escape(wanted), haystack):
            rank = 1
        elif wanted in haystack:
            rank = 2
        else:
            continue
        ranked.append((rank, index, choice))
    ranked.sort(key=lambda item: item[:2])
    return [_option(choice) for _, _, choice in ranked[: max(0, min(limit, MAX_OPTIONS))]]


def _rich_text(node: object) -> str:
    if isinstance(node, Mapping):
        if node.get("type") in ("text", "link"):
            return str(node.get("text") or node.get("url") or "")
        return "".join(_rich_text(child) for child in node.get("elements") or [])
    if isinstance(node, list):
        return "".join(_rich_text(child) for child in node)
    return ""


def value_from_state(element_state: Mapping[str, Any]) -> object:
    """One element of ``view.state.values`` → the raw value the user gave (``None`` when nothing)."""
    kind = element_state.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element_state.get("selected_option")
        return option.get("value") if isinstance(option, Mapping) else None
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return [o.get("value") for o in element_state.get("selected_options") or [] if isinstance(o, Mapping)]
    if kind == "datepicker":
        return element_state.get("selected_date")
    if kind == "datetimepicker":
        return element_state.get("selected_date_time")
    if kind == "timepicker":
        return element_state.get("selected_time")
    if kind == "users_select":
        return element_state.get("selected_user")
    if kind == "multi_users_select":
        return list(element_state.get("selected_users") or [])
    if kind == "conversations_select":
        return element_state.get("selected_conversation")
    if kind == "multi_conversations_select":
        return list(element_state.get("selected_conversations") or [])
    if kind == "channels_select":
        return element_state.get("selected_channel")
    if kind == "multi_channels_select":
        return list(element_state.get("selected_channels") or [])
    if kind == "rich_text_input":
        text = _rich_text(element_state.get("rich_text_value"))
        return text or None
    if kind == "file_input":
        return list(element_state.get("files") or [])
    if "value" in element_state:
        return element_state.get("value")
    for key in ("selected_option", "selected_options"):
        if key in element_state:
            return value_from_state(
                {**element_state, "type": "static_select" if key[-1] == "n" else "checkboxes"}
            )
    return None


def form_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, object]:
    """A whole modal's ``view.state.values`` → ``{block_id: raw value}`` (first action of each block)."""
    out: dict[str, object] = {}
    for block_id, actions in (state_values or {}).items():
        if not isinstance(actions, Mapping):
            continue
        for element_state in actions.values():
            if isinstance(element_state, Mapping):
                out[block_id] = value_from_state(element_state)
                break
    return out


def order_fields_for_modal(
    schema: WorkspaceSchema, *, usage: Mapping[str, int] | None = None, max_fields: int
) -> tuple[list[FieldDef], list[FieldDef]]:
    """Pick the fields a modal shows: identifier first, then the most used, then the workspace's order.

    Returns ``(shown, rest)``; ``rest`` keeps the workspace's order so a "more fields" view reads naturally.
    """
    counts = {k.lower(): v for k, v in (usage or {}).items()}
    identifier = schema.identifier
    others = [f for f in schema.fields if f.api_name != identifier.api_name]
    position = {f.api_name: i for i, f in enumerate(others)}
    used = sorted(
        (f for f in others if counts.get(f.api_name.lower(), 0) > 0),
        key=lambda f: (-counts[f.api_name.lower()], position[f.api_name]),
    )
    unused = [f for f in others if counts.get(f.api_name.lower(), 0) <= 0]
    ranked = [identifier, *used, *unused]
    shown = ranked[: max(1, max_fields)]
    shown_names = {f.api_name for f in shown}
    rest = [f for f in others if f.api_name not in shown_names]
    return shown, rest
