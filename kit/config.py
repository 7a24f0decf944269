"""Configuration from the environment, optionally from ``.env`` (the real environment wins).

Every name here is listed in README.md (*Configuration*) and in ``.env.example``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SLACK_HOOKS_URL = "https://hooks.slack.com/"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_TELECRM_API_URL = "https://next.telecrm.in/autoupdate/v2"
DEFAULT_TELECRM_ASYNC_API_URL = "https://next-api.telecrm.in"
DEFAULT_TELECRM_LEAD_URL = "https://next.telecrm.in/{enterprise_id}/views/all-leads-v2/overlay/l/{lead_id}"


class ConfigError(ValueError):
    """A variable has a value the bot cannot use; the message names the variable and what is expected."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_app_id: str = ""  # when set, requests for another app are ignored
    slack_hooks_url: str = ""  # where response_urls may point; see hooks_url
    telecrm_enterprise_id: str = ""
    telecrm_sync_token: str = ""
    telecrm_async_token: str = ""
    telecrm_api_url: str = DEFAULT_TELECRM_API_URL
    telecrm_async_api_url: str = DEFAULT_TELECRM_ASYNC_API_URL
    telecrm_lead_url: str = DEFAULT_TELECRM_LEAD_URL
    database_path: str = "telecrm-bot.sqlite3"
    cache_ttl_seconds: float = 900.0
    default_country_code: str = "91"
    default_currency: str = "INR"
    payment_allowed_users: tuple[str, ...] = ()
    payment_watch_seconds: float = 300.0
    telecrm_timeout_seconds: float = 10.0
    worker_threads: int = 8
    admin_users: tuple[str, ...] = ()
    lead_watch_seconds: float = 120.0  # how often a recently active lead is re-read; 0 = never
    telecrm_watch_budget_per_minute: int = 60  # TeleCRM requests the lead watcher may send a minute
    lead_watch_calls: bool = False  # the watcher also tells threads of calls and messages
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_telecrm_credentials(self) -> bool:
        return bool(self.telecrm_enterprise_id and self.telecrm_sync_token)

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def hooks_url(self) -> str:
        """The only place a ``response_url`` may point to (anything else in a request is forged).

        ``SLACK_HOOKS_URL`` when set; else Slack's hooks host, or — when the Web API itself is on
        this machine, as with the local Slack emulator — that same host and port.
        """
        if self.slack_hooks_url:
            return self.slack_hooks_url
        api = urlsplit(self.slack_api_url)
        if api.hostname in _LOOPBACK_HOSTS:
            return f"{api.scheme}://{api.netloc}/"
        return DEFAULT_SLACK_HOOKS_URL

    def lead_url(self, lead_id: str) -> str:
        return self.telecrm_lead_url.format(enterprise_id=self.telecrm_enterprise_id, lead_id=lead_id)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]  # names are checked by replace() at run time

    def __repr__(self) -> str:  # never print secrets, even by accident
        shown = []
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"


SECRET_FIELDS = frozenset(
    {
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "telecrm_sync_token",
        "telecrm_async_token",
    }
)

# variable name -> (Settings attribute, parser)
_VARIABLES: dict[str, str] = {
    "SLACK_BOT_TOKEN": "slack_bot_token",
    "SLACK_SIGNING_SECRET": "slack_signing_secret",
    "SLACK_APP_TOKEN": "slack_app_token",
    "SLACK_API_URL": "slack_api_url",
    "SLACK_APP_ID": "slack_app_id",
    "SLACK_HOOKS_URL": "slack_hooks_url",
    "TELECRM_ENTERPRISE_ID": "telecrm_enterprise_id",
    "TELECRM_SYNC_TOKEN": "telecrm_sync_token",
    "TELECRM_ASYNC_TOKEN": "telecrm_async_token",
    "TELECRM_API_URL": "telecrm_api_url",
    "TELECRM_ASYNC_API_URL": "telecrm_async_api_url",
    "TELECRM_LEAD_URL": "telecrm_lead_url",
    "DATABASE_PATH": "database_path",
    "CACHE_TTL_SECONDS": "cache_ttl_seconds",
    "DEFAULT_COUNTRY_CODE": "default_country_code",
    "DEFAULT_CURRENCY": "default_currency",
    "PAYMENT_ALLOWED_USERS": "payment_allowed_users",
    "PAYMENT_WATCH_SECONDS": "payment_watch_seconds",
    "TELECRM_TIMEOUT_SECONDS": "telecrm_timeout_seconds",
    "WORKER_THREADS": "worker_threads",
    "ADMIN_USERS": "admin_users",
    "LEAD_WATCH_SECONDS": "lead_watch_seconds",
    "TELECRM_WATCH_BUDGET_PER_MINUTE": "telecrm_watch_budget_per_minute",
    "LEAD_WATCH_CALLS": "lead_watch_calls",
}


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _parse(name: str, attr: str, raw: str) -> object:
    raw = raw.strip()
    if attr in {
        "cache_ttl_seconds",
        "payment_watch_seconds",
        "telecrm_timeout_seconds",
        "lead_watch_seconds",
    }:
        return _positive_float(name, raw)
    if attr == "telecrm_watch_budget_per_minute":
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"{name} must be a whole number of requests of at least 1, got {raw!r}")
        return int(raw)
    if attr == "lead_watch_calls":
        if raw.lower() not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
            raise ConfigError(f"{name} must be 1 (on) or 0 (off), got {raw!r}")
        return raw.lower() in {"1", "true", "yes", "on"}
    if attr == "worker_threads":
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1, got {raw!r}")
        return int(raw)
    if attr in {"payment_allowed_users", "admin_users"}:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if attr == "default_country_code":
        digits = raw.lstrip("+")
        if not digits.isdigit() or not 1 <= len(digits) <= 3:
            raise ConfigError(f"{name} must be a country calling code such as 91 or 1, got {raw!r}")
        return digits
    if attr == "default_currency":
        from telecrm.schema import PAYMENT_CURRENCIES

        if raw.upper() not in PAYMENT_CURRENCIES:
            raise ConfigError(f"{name} must be one of {', '.join(PAYMENT_CURRENCIES)}, got {raw!r}")
        return raw.upper()
    if attr == "slack_hooks_url" and not urlsplit(raw).hostname:
        raise ConfigError(f"{name} must be a URL such as https://hooks.slack.com/, got {raw!r}")
    if attr in {"slack_api_url", "slack_hooks_url"} and raw and not raw.endswith("/"):
        return raw + "/"
    if attr in {"telecrm_api_url", "telecrm_async_api_url"}:
        return raw.rstrip("/")
    return raw


def load_settings(
    env: Mapping[str, str] | None = None, *, dotenv_path: str | os.PathLike | None = ".env"
) -> Settings:
    """Build settings from ``.env`` overlaid by the real environment (real environment wins)."""
    values: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if env is None else env)
    kwargs: dict[str, object] = {}
    for name, attr in _VARIABLES.items():
        raw = values.get(name)
        if raw is None or raw.strip() == "":
            continue
        kwargs[attr] = _parse(name, attr, raw)
    return Settings(**kwargs, extra=dict(values))  # type: ignore[arg-type]  # each value was parsed to its field's type
