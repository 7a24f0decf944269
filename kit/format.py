"""People-facing formatting of money, times and text for Slack messages.

Every function here is total: a value that cannot be formatted is shown as it came rather than
breaking the message it belongs to.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

DEFAULT_TZ = "Asia/Kolkata"

_SYMBOLS = {"INR": "₹", "USD": "$"}
_NO_MINOR_UNIT = {"XOF"}
_TELECRM_DATETIME = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")


def zone(tz: str | None) -> ZoneInfo:
    """The named time zone, or India's when the name is missing or unknown (TeleCRM's home zone)."""
    try:
        return ZoneInfo(tz or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def _group_indian(digits: str) -> str:
    """``10000000`` → ``1,00,00,000``: the last three digits, then pairs (lakh / crore)."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


def format_money(amount: str | float | int | Decimal, currency: str) -> str:
    """``₹1,00,000.00`` for INR (Indian grouping), ``$1,234.50``, ``AED 1,234.00`` for the rest."""
    code = (currency or "").strip().upper()
    try:
        value = Decimal(str(amount).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return f"{amount} {code}".strip()
    if not value.is_finite():
        return f"{amount} {code}".strip()
    places = 0 if code in _NO_MINOR_UNIT else 2
    text = f"{abs(value):.{places}f}"
    whole, _, fraction = text.partition(".")
    grouped = _group_indian(whole) if code == "INR" else f"{int(whole):,}"
    number = f"{grouped}.{fraction}" if fraction else grouped
    sign = "-" if value < 0 else ""
    symbol = _SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{code} {number}".strip()


def _to_datetime(when: int | float | str, tz: ZoneInfo) -> datetime | None:
    if isinstance(when, bool):
        return None
    if isinstance(when, str):
        text = when.strip()
        match = _TELECRM_DATETIME.match(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            try:
                return datetime(
                    int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                    tzinfo=tz,
                )  # fmt: skip
            except ValueError:
                return None
        if not re.fullmatch(r"\d{9,}(\.\d+)?", text):
            return None
        when = float(text)
    number = float(when)
    seconds = number / 1000 if abs(number) >= 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, tz)
    except (OverflowError, OSError, ValueError):
        return None


def format_when(when: int | float | str, tz: str | None = None) -> str:
    """``21 Nov 2026, 3:05 PM IST`` from epoch ms (or seconds) or a ``DD/MM/YYYY HH:mm:ss`` string."""
    zone_info = zone(tz)
    moment = _to_datetime(when, zone_info)
    if moment is None:
        return str(when)
    hour = moment.hour % 12 or 12
    return f"{moment.day} {moment:%b %Y}, {hour}:{moment:%M %p} {moment.tzname()}"


def ago(seconds: float | None) -> str:
    """How long ago, for people: ``12 s ago``, ``4 min ago``, ``3.5 h ago``, ``12 days ago``, or ``never``."""
    if seconds is None:
        return "never"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def format_date(when: int | float | str, tz: str | None = None) -> str:
    """A date field's value: ``21 Nov 2026`` when it is midnight (a date without a time, as TeleCRM
    stores days), else the date and time as :func:`format_when` writes them."""
    zone_info = zone(tz)
    moment = _to_datetime(when, zone_info)
    if moment is None:
        return str(when)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return f"{moment.day} {moment:%b %Y}"
    return format_when(when, tz)


def epoch_seconds(when: object) -> float | None:
    """Epoch seconds from TeleCRM's epoch milliseconds (or seconds); ``None`` for anything else."""
    if isinstance(when, bool) or not isinstance(when, int | float | str):
        return None
    moment = _to_datetime(when, zone(None))
    return moment.timestamp() if moment is not None else None


def slack_date(seconds: float, tz: str | None = None) -> str:
    """``<!date^…>``: Slack shows the time in each reader's own zone; the fallback is in ``tz``."""
    fallback = format_when(seconds, tz).replace("|", " ").replace(">", " ")
    return f"<!date^{int(seconds)}^{{date_short_pretty}} at {{time}}|{mrkdwn_escape(fallback)}>"


def format_phone(value: object, default_country_code: str = "91") -> str:
    """``919876543210`` → ``+91 98765 43210``: a phone number as people write it (libphonenumber's
    international format); anything it cannot read is shown as it came."""
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return text
    cc = re.sub(r"\D", "", default_country_code or "") or "91"
    region = phonenumbers.region_code_for_country_code(int(cc[:3]))
    candidates = ["+" + digits] if text.startswith("+") or len(digits) > 10 else [text, "+" + digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return text


def truncate(text: str, n: int) -> str:
    """At most ``n`` characters, the last one an ellipsis when something was cut."""
    if n <= 0:
        return ""
    if len(text) <= n:
        return text
    return text[: n - 1] + "…"


def mrkdwn_escape(text: object) -> str:
    """Escape the three characters Slack gives meaning to in message text (``&``, ``<``, ``>``).

    THE escape of the bot: every value a person typed or TeleCRM returned goes through it before it
    enters a message's ``text``, a mrkdwn block, a context element or a modal's mrkdwn. Otherwise a
    lead named ``<!channel>`` would ping the channel and ``<https://evil|Verify>`` would show a
    spoofed link. ``plain_text`` objects are not parsed by Slack and are left alone.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """``<@U…>`` of a Slack user the bot means to name; the id is escaped so it cannot close the tag."""
    return f"<@{mrkdwn_escape(user_id)}>"


def channel_mention(channel_id: str) -> str:
    """``<#C…>`` of a channel the bot means to name."""
    return f"<#{mrkdwn_escape(channel_id)}>"


def mrkdwn_link(url: str, label: str) -> str:
    """``<url|label>``: a link the bot means to show, built so neither part can break out of it.

    ``|`` in the URL would end it early (the rest becoming the label), so it is percent-encoded.
    """
    return f"<{mrkdwn_escape(url).replace('|', '%7C')}|{mrkdwn_escape(label)}>"
