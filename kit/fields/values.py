"""Converters of the scalar field types: text, email, phone, number, money, rating and web address.

Each ``convert_*`` takes the field, the raw value (typed text, or what a modal element held) and a
:class:`~kit.fields.base.ConvertCtx`, and returns the JSON TeleCRM stores or raises
:class:`~kit.fields.base.FieldError` saying what to type instead. ``normalize_phone`` and
``normalize_amount`` are public because ``/lead`` and ``/payment`` use them outside any field.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)

from kit.fields.base import PHONE_EXAMPLE, ConvertCtx, FieldError, fail, scalar_text, shown
from telecrm.schema import FieldDef


def convert_text(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    text = scalar_text(field, raw)
    if not text:
        raise fail(field, "a value is required")
    return text


def convert_email(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    text = strip_mailto(scalar_text(field, raw))
    try:
        return normalize_email(text)
    except EmailNotValidError as exc:
        raise fail(
            field, f"{shown(text)} is not an email address ({exc}) — use e.g. jane@example.com"
        ) from None


# A plain address: an unquoted ASCII local part of dot-separated atoms, and an ASCII domain name.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
)
# local parts email-validator lower-cases (RFC 2142 role names): left to it
_ROLE_NAMES = frozenset(name.lower() for name in CASE_INSENSITIVE_MAILBOX_NAMES)


def normalize_email(text: str) -> str:
    """email-validator's normalized address, or its ``EmailNotValidError``.

    The domain is most of what checking an address costs (IDNA rules) and repeats across a file
    (gmail.com), so for a plain address the domain's check is remembered and the local part, whose
    syntax the pattern already holds to, is kept as typed — exactly what email-validator returns for
    such an address. Anything else (quotes, non-ASCII, a display name, a role name, a domain it
    refuses, lengths past the limits) goes through email-validator whole, for its own words.
    """
    plain = _PLAIN_EMAIL.fullmatch(text)
    if (
        plain is not None
        and len(plain["local"]) <= LOCAL_PART_MAX_LENGTH
        and len(text) <= EMAIL_MAX_LENGTH
        and plain["local"].lower() not in _ROLE_NAMES
    ):
        domain = _checked_domain(plain["domain"])
        if domain is not None:
            return plain["local"] + "@" + domain
    return validate_email(text, check_deliverability=False).normalized


@functools.lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    """The domain as email-validator normalizes it, or None when it refuses it (said in its words by
    the full check)."""
    try:
        return validate_email("x@" + domain, check_deliverability=False).domain
    except EmailNotValidError:
        return None


def strip_mailto(text: str) -> str:
    text = text.strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def normalize_phone(text: str, default_country_code: str = "91") -> str:
    """``+91 98765 43210`` / ``098765 43210`` / ``9876543210`` → ``919876543210``: country code and
    number, digits only, as TeleCRM stores phones (telecrm/sandbox/values.py ``check_phone``).

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


def convert_phone(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    text = scalar_text(field, raw)
    try:
        return normalize_phone(text, ctx.default_country_code)
    except ValueError as exc:
        raise fail(
            field,
            f"{shown(text)} is not a phone number ({exc}) — use country code + number, e.g. {PHONE_EXAMPLE}",
        ) from None


NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def ungroup(text: str) -> str | None:
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


def convert_number(field: FieldDef, raw: object, ctx: ConvertCtx) -> int | float:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, Decimal):
        if not raw.is_finite() or raw.adjusted() > 300:
            raise fail(field, f"{shown(raw)} is not a usable number — use e.g. 1500 or 12.5")
        return int(raw) if raw == raw.to_integral_value() else float(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise fail(field, f"{shown(raw)} is not a number — use e.g. 1500 or 12.5")
        return raw
    text = scalar_text(field, raw)
    cleaned = ungroup(text)
    if cleaned is None:
        raise fail(
            field,
            f"{shown(text)} is ambiguous — use . for decimals and , only between thousands, e.g. 1,500.5",
        )
    if not NUMBER.fullmatch(cleaned):
        raise fail(field, f"{shown(text)} is not a number — use digits, e.g. 1500 or 12.5")
    if "." not in cleaned:
        return int(cleaned)
    value = float(cleaned)
    if value in (float("inf"), float("-inf")):
        raise fail(field, f"{shown(text)} is too large")
    return value


_CURRENCY_AFFIX = re.compile(r"^(?:₹|\$|rs\.?|inr|usd)\s*|\s*(?:₹|\$|rs\.?|inr|usd|/-)$", re.IGNORECASE)


def normalize_amount(text: object) -> str:
    """``₹5,000.50`` → ``5000.50``: a positive amount as the plain numeric string TeleCRM wants.

    Raises :class:`FieldError` saying what is wrong.
    """
    if isinstance(text, bool) or text is None:
        raise FieldError(f"Amount: {shown(text)} is not an amount — use e.g. 5000 or 5000.50")
    if isinstance(text, float | int | Decimal):
        try:
            number = Decimal(repr(text) if isinstance(text, float) else str(text))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise FieldError(f"Amount: {shown(text)} is not an amount — use e.g. 5000 or 5000.50")
        cleaned = format(number, "f")
    else:
        cleaned = str(text).strip()
        for _ in range(2):
            cleaned = _CURRENCY_AFFIX.sub("", cleaned).strip()
        ungrouped = ungroup(cleaned)
        if ungrouped is None:
            detail = (
                f"{shown(text)} is ambiguous — use . for decimals and , only between thousands, e.g. 5,000.50"
            )
            raise FieldError(f"Amount: {detail}", detail=detail)
        cleaned = ungrouped
    match = re.fullmatch(r"([+-]?)(\d*)(?:\.(\d*))?", cleaned)
    if not cleaned or not match or not (match.group(2) or match.group(3)):
        raise FieldError(
            f"Amount: {shown(text)} is not an amount — use digits, e.g. 5000 or 5000.50",
            detail=f"{shown(text)} is not an amount — use digits, e.g. 5000 or 5000.50",
        )
    sign, whole, fraction = match.group(1), match.group(2).lstrip("0") or "0", match.group(3) or ""
    if len(whole) > 15:
        raise FieldError(f"Amount: {shown(text)} is too large", detail=f"{shown(text)} is too large")
    value = whole + ("." + fraction if fraction else "")
    if sign == "-" or Decimal(value) <= 0:
        detail = f"{shown(text)} — the amount must be more than 0"
        raise FieldError(f"Amount: {detail}", detail=detail)
    return value


def convert_money(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    if isinstance(raw, list | tuple) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, str) and not raw.strip():
        raise fail(field, "a value is required")
    try:
        return normalize_amount(raw)
    except FieldError as exc:
        raise fail(field, exc.detail) from None


_STARS = re.compile(r"^\s*[★⭐]+[☆\s]*$")


def convert_rating(field: FieldDef, raw: object, ctx: ConvertCtx) -> int:
    expected = "a whole number from 1 to 5"
    number: Decimal
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        if (
            isinstance(raw, float)
            and not math.isfinite(raw)
            or isinstance(raw, Decimal)
            and not raw.is_finite()
        ):
            raise fail(field, f"{shown(raw)} is not a rating — use {expected}")
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        text = scalar_text(field, raw)
        if _STARS.match(text):
            number = Decimal(text.count("★") + text.count("⭐"))
        else:
            match = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)\s*(?:/\s*5|stars?|★)?", text, re.IGNORECASE)
            if not match:
                raise fail(field, f"{shown(text)} is not a rating — use {expected}")
            number = Decimal(match.group(1))
    if number != number.to_integral_value():
        raise fail(field, f"{shown(raw)} is not a whole number — use {expected}")
    if not 1 <= number <= 5:
        raise fail(field, f"{shown(raw)} is out of range — rating must be between 1 and 5")
    return int(number)


_HOST = re.compile(r"^(?:localhost|[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}|\d{1,3}(?:\.\d{1,3}){3})$")


def convert_url(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    text = scalar_text(field, raw)
    expected = "use a web address, e.g. https://example.com"
    if not text or any(ch.isspace() for ch in text):
        raise fail(field, f"{shown(text)} is not a web address — {expected}")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        raise fail(field, f"{shown(text)} is not a web address — {expected}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise fail(field, f"{shown(text)} is not an http(s) address — {expected}")
    host = parts.hostname or ""
    if not _HOST.match(host):
        raise fail(field, f"{shown(text)} is not a web address — {expected}")
    return parts.scheme.lower() + text[len(parts.scheme) :]
