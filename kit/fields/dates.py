"""Dates: any date a person types or a Slack picker sends, read as wall-clock time in the user's zone.

TeleCRM stores dates as ``DD/MM/YYYY HH:MM:SS`` text (:data:`~kit.fields.base.TELECRM_DATETIME_FORMAT`);
:func:`parse_datetime` is also used on its own by ``/timeline`` (commands/timeline/listeners.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from kit.fields.base import TELECRM_DATETIME_FORMAT, ConvertCtx, fail, shown
from kit.format import zone
from telecrm.schema import FieldDef

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


def convert_date(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    if isinstance(raw, list | tuple) and len(raw) == 1:
        raw = raw[0]
    try:
        moment = parse_datetime(raw, tz=ctx.tz, now=ctx.now)
    except (ValueError, OverflowError):
        raise fail(
            field,
            f"{shown(raw)} is not a date — use DD/MM/YYYY, optionally with a time (25/12/2026 10:30), "
            "or today / tomorrow",
        ) from None
    if not 1900 <= moment.year <= 2200:
        raise fail(field, f"{shown(raw)} is not a plausible date (year {moment.year})")
    return moment.strftime(TELECRM_DATETIME_FORMAT)
