"""How each configuration value is read: one parser per kind of value (a port, a URL, seconds, a
time zone…), each returning the value or raising :class:`Invalid` with what it must be.

kit/config.py says which variable is which kind; this module knows nothing of variable names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from urllib.parse import urlsplit

from storage.database_url import parse_database_url
from storage.secrets import key_problem


class Invalid(ValueError):
    """A parser's verdict: what the variable must be (completes "NAME must be …")."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def text(raw: str) -> str:
    return raw


def token(prefix: str, kind: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not raw.startswith(prefix):
            raise Invalid(f"{kind} starting with {prefix}")
        return raw

    return parse


def fernet_keys(raw: str) -> str:
    problem = key_problem(raw)
    if problem:
        raise Invalid(
            "a comma-separated list of Fernet keys (make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`): "
            + problem
        )
    return raw


def seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Invalid("a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise Invalid("a number of seconds, 0 or more")
    return value


def timeout(raw: str) -> float:
    value = seconds(raw)
    if value == 0:
        raise Invalid("a number of seconds greater than 0")
    return value


def threads(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid("a whole number of at least 1")
    return int(raw)


def switch(raw: str) -> bool:
    if raw.lower() not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
        raise Invalid("1 (on) or 0 (off)")
    return raw.lower() in {"1", "true", "yes", "on"}


def async_rate(raw: str) -> int:
    # above TeleCRM's documented 18,000 an hour every request past it is a 429: a typo, not a choice
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 18_000:
        raise Invalid("a whole number of Async requests an hour from 1 to 18000 (TeleCRM's limit)")
    return int(raw)


def days(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()):
        raise Invalid("a whole number of days (0 = off)")
    return int(raw)


def port(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 65535:
        raise Invalid("a port number from 1 to 65535 (0: any free port)")
    return int(raw)


def log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise Invalid(f"one of {', '.join(LOG_LEVELS)}")
    return raw.upper()


def names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def country_code(raw: str) -> str:
    digits = raw.lstrip("+")
    if not digits.isdigit() or not 1 <= len(digits) <= 3:
        raise Invalid("a country calling code such as 91 or 1")
    return digits


def currency(raw: str) -> str:
    from telecrm.schema import PAYMENT_CURRENCIES

    if raw.upper() not in PAYMENT_CURRENCIES:
        raise Invalid(f"one of {', '.join(PAYMENT_CURRENCIES)}")
    return raw.upper()


def time_of_day(raw: str) -> str:
    hours, sep, minutes = raw.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise Invalid("a time of day as HH:MM, such as 09:30")
    if int(hours) > 23 or int(minutes) > 59:
        raise Invalid("a time of day as HH:MM, such as 09:30")
    return f"{int(hours):02d}:{minutes}"


def time_zone(raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("a time zone name such as Asia/Kolkata or Europe/London") from None
    return raw


def channel(raw: str) -> str:
    name = raw.lstrip("#")
    if not name or any(c.isspace() for c in name):
        raise Invalid("a Slack channel id such as C0123456789 (or a channel name)")
    return raw


def is_web_url(raw: str) -> bool:
    try:
        parts = urlsplit(raw)
        _ = parts.port  # a port that is not a number raises ValueError
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and not any(c.isspace() for c in raw)


def url(example: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not is_web_url(raw):
            raise Invalid(f"an http:// or https:// URL such as {example}")
        return raw

    return parse


def slack_url(example: str) -> Callable[[str], str]:
    return lambda raw: url(example)(raw).rstrip("/") + "/"


def telecrm_url(example: str) -> Callable[[str], str]:
    return lambda raw: url(example)(raw).rstrip("/")


def lead_url(example: str) -> Callable[[str], str]:
    """A web address with ``{lead_id}`` (and optionally ``{enterprise_id}``) to fill in."""
    expected = f"a URL with {{lead_id}} (and optionally {{enterprise_id}}) in it, such as {example}"

    def parse(raw: str) -> str:
        url(example)(raw)
        try:
            raw.format(enterprise_id="e", lead_id="l")
        except (KeyError, IndexError, ValueError):
            raise Invalid(expected) from None
        if "{lead_id}" not in raw:
            raise Invalid(expected)
        return raw

    return parse


def database_url(raw: str) -> str:
    try:
        parse_database_url(raw)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return raw


def row_limit(raw: str) -> int:
    try:
        value = int(raw.replace(",", "").replace("_", ""))
    except ValueError:
        raise Invalid("a whole number of rows, e.g. 200000") from None
    if value < 1:
        raise Invalid("a whole number of rows, 1 or more")
    return value
