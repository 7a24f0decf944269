"""Configuration from the environment, optionally from ``.env`` (the real environment wins).

Every name here is listed in README.md (*Configuration*) and in ``.env.example``. :func:`load_settings`
is the one place that checks them: every value against what it must be and, for what a command uses
(:class:`Needs`), that credentials come in complete groups, that the database file can be used and
that the port is free. All problems are found at once and reported one line each (:class:`ConfigError`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from kit import config_values as values
from storage.database_url import parse_database_url, shown_url, sqlite_url
from storage.db import database_path_problem

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SLACK_HOOKS_URL = "https://hooks.slack.com/"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_TELECRM_API_URL = "https://next.telecrm.in/autoupdate/v2"
DEFAULT_TELECRM_ASYNC_API_URL = "https://next-api.telecrm.in"
DEFAULT_TELECRM_LEAD_URL = "https://next.telecrm.in/{enterprise_id}/views/all-leads-v2/overlay/l/{lead_id}"


class ConfigError(ValueError):
    """Variables the bot cannot use: one problem per line, each naming its variable and what is expected."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# A side's credentials: none set starts its stand-in (TeleCRM sandbox, Slack emulator); some set must be
# a complete set (see Needs), never a quiet fallback to the stand-in.
TELECRM_CREDENTIALS = ("TELECRM_ENTERPRISE_ID", "TELECRM_SYNC_TOKEN", "TELECRM_ASYNC_TOKEN")
SLACK_CREDENTIALS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
# Installing into many workspaces (OAuth, bot/oauth.py): all three, or none for one workspace's tokens
SLACK_OAUTH = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET")


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_app_id: str = ""  # when set, requests for another app are ignored
    slack_hooks_url: str = ""  # where response_urls may point; see hooks_url
    slack_client_id: str = ""  # with the secret and the state secret: OAuth mode, many workspaces
    slack_client_secret: str = ""
    slack_state_secret: str = ""
    token_encryption_key: str = ""  # Fernet keys, comma-separated: the first encrypts, all decrypt
    telecrm_enterprise_id: str = ""
    telecrm_sync_token: str = ""
    telecrm_async_token: str = ""
    telecrm_api_url: str = DEFAULT_TELECRM_API_URL
    telecrm_async_api_url: str = DEFAULT_TELECRM_ASYNC_API_URL
    telecrm_lead_url: str = DEFAULT_TELECRM_LEAD_URL
    database_path: str = "telecrm-bot.sqlite3"
    database_url: str = ""  # sqlite:///PATH or postgresql://…; empty: the SQLite file at database_path
    cache_ttl_seconds: float = 900.0
    default_country_code: str = "91"
    default_currency: str = "INR"
    payment_allowed_users: tuple[str, ...] = ()
    payment_watch_seconds: float = 300.0
    telecrm_timeout_seconds: float = 10.0
    worker_threads: int = 8
    admin_users: tuple[str, ...] = ()
    port: int = 3000
    log_level: str = "INFO"
    lead_index_days: int = 90  # mirror the leads created in the last N days into the find index; 0 = off
    telecrm_watch_budget_per_minute: int = 60  # background TeleCRM requests a minute, shared
    # the DATE lead field whose value is a follow-up (API name or label); empty: one named like "follow"
    follow_up_field: str = ""
    lead_watch_seconds: float = 120.0  # how often a recently active lead is re-read; 0 = never
    lead_watch_calls: bool = False  # the watcher also tells threads of calls and messages
    # /pipeline and the morning digest (commands/pipeline): the team's days are counted in digest_tz
    digest_channel: str = ""  # empty: no morning digest
    digest_time: str = "09:30"
    digest_tz: str = "Asia/Kolkata"
    manager_users: tuple[str, ...] = ()  # see the whole team's week on App Home, like admins
    import_max_rows: int = 200_000  # rows one bulk import takes (/lead import, telecrm-bot import)
    # bulk imports (kit/imports/sending.py): the Async pace, and how many rows are all read back
    telecrm_async_rate_per_hour: int = 18_000  # TeleCRM's documented Async limit per token
    import_verify_all_max: int = 1_000  # more valid rows than this: a random sample of 400 is read back
    import_verify_wait_seconds: float = 120.0  # how long Async gets to apply rows before one is missing
    retention_days: int = 30  # finished work older than this is deleted (storage/retention.py); 0 = kept
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def given(self, variables: Sequence[str]) -> list[str]:
        """The ones of ``variables`` that are set (each field is its variable's name in lower case)."""
        return [name for name in variables if getattr(self, name.lower())]

    @property
    def uses_telecrm_sandbox(self) -> bool:
        """No TeleCRM credential is set: the embedded sandbox stands in for TeleCRM."""
        return not self.given(TELECRM_CREDENTIALS)

    @property
    def uses_slack_emulator(self) -> bool:
        """No Slack credential is set: the local emulator stands in for Slack."""
        return not self.given(SLACK_CREDENTIALS)

    @property
    def oauth_mode(self) -> bool:
        """Installed into workspaces through Slack's OAuth flow, each with its own stored token."""
        return bool(self.given(SLACK_OAUTH))

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
        if api.hostname in LOOPBACK_HOSTS:
            return f"{api.scheme}://{api.netloc}/"
        return DEFAULT_SLACK_HOOKS_URL

    @property
    def database(self) -> str:
        """The database the bot uses: ``DATABASE_URL``, else the SQLite file at ``DATABASE_PATH``."""
        return self.database_url or sqlite_url(self.database_path)

    @property
    def database_shown(self) -> str:
        """The database as messages name it: the SQLite file's path, or the URL without its password."""
        target = parse_database_url(self.database)
        return target.where if target.kind == "sqlite" else shown_url(target.where)

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
        "database_url",  # it may hold the database's password
        "slack_client_secret",
        "slack_state_secret",
        "token_encryption_key",
    }
)


# Every variable and how its value is read; each Settings field is its variable's name in lower case.
_PARSERS: dict[str, Callable[[str], object]] = {
    "SLACK_BOT_TOKEN": values.token("xoxb-", "a bot token"),
    "SLACK_SIGNING_SECRET": values.text,
    "SLACK_APP_TOKEN": values.token("xapp-", "an app-level token"),
    "SLACK_API_URL": values.slack_url(DEFAULT_SLACK_API_URL),
    "SLACK_APP_ID": values.text,
    "SLACK_HOOKS_URL": values.slack_url(DEFAULT_SLACK_HOOKS_URL),
    "SLACK_CLIENT_ID": values.text,
    "SLACK_CLIENT_SECRET": values.text,
    "SLACK_STATE_SECRET": values.text,
    "TOKEN_ENCRYPTION_KEY": values.fernet_keys,
    "TELECRM_ENTERPRISE_ID": values.text,
    "TELECRM_SYNC_TOKEN": values.text,
    "TELECRM_ASYNC_TOKEN": values.text,
    "TELECRM_API_URL": values.telecrm_url(DEFAULT_TELECRM_API_URL),
    "TELECRM_ASYNC_API_URL": values.telecrm_url(DEFAULT_TELECRM_ASYNC_API_URL),
    "TELECRM_LEAD_URL": values.lead_url(DEFAULT_TELECRM_LEAD_URL),
    "DATABASE_PATH": values.text,
    "DATABASE_URL": values.database_url,
    "CACHE_TTL_SECONDS": values.seconds,
    "DEFAULT_COUNTRY_CODE": values.country_code,
    "DEFAULT_CURRENCY": values.currency,
    "PAYMENT_ALLOWED_USERS": values.names,
    "PAYMENT_WATCH_SECONDS": values.seconds,
    "TELECRM_TIMEOUT_SECONDS": values.timeout,
    "WORKER_THREADS": values.threads,
    "LEAD_INDEX_DAYS": values.days,
    "TELECRM_WATCH_BUDGET_PER_MINUTE": values.threads,
    "FOLLOW_UP_FIELD": values.text,
    "LEAD_WATCH_SECONDS": values.seconds,
    "LEAD_WATCH_CALLS": values.switch,
    "ADMIN_USERS": values.names,
    "PORT": values.port,
    "LOG_LEVEL": values.log_level,
    "DIGEST_CHANNEL": values.channel,
    "DIGEST_TIME": values.time_of_day,
    "DIGEST_TZ": values.time_zone,
    "MANAGER_USERS": values.names,
    "IMPORT_MAX_ROWS": values.row_limit,
    "TELECRM_ASYNC_RATE_PER_HOUR": values.async_rate,
    "IMPORT_VERIFY_ALL_MAX": values.threads,
    "IMPORT_VERIFY_WAIT_SECONDS": values.seconds,
    "RETENTION_DAYS": values.days,
}


def _parse(environment: Mapping[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    """(Settings fields of the values that are fine, problem of each variable that is not)."""
    parsed: dict[str, object] = {}
    problems: dict[str, str] = {}
    for name, parse in _PARSERS.items():
        raw = (environment.get(name) or "").strip()
        if not raw:
            continue
        try:
            parsed[name.lower()] = parse(raw)
        except values.Invalid as exc:
            shown = "" if name.lower() in SECRET_FIELDS else f", got {raw!r}"
            problems[name] = f"{name} must be {exc}{shown}"
    return parsed, problems


# --- what a command uses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Listen:
    """Where a command will listen, and how an operator changes it."""

    host: str
    port: int | None  # None: PORT
    change_with: str = "PORT or --port"


@dataclass(frozen=True)
class Needs:
    """What a command uses; only that is checked beyond the values themselves.

    ``slack``: ``"http"``, ``"socket"``, or ``"run"`` (Socket Mode when SLACK_APP_TOKEN is set, else HTTP).
    """

    slack: Literal["http", "socket", "run"] | None = None
    telecrm: bool = False
    database: bool = False
    listen: Listen | None = None

    def problems(self, settings: Settings, unreadable: Sequence[str] = ()) -> list[str]:
        """Everything in the way of this command, given settings whose ``unreadable`` variables were bad."""
        given = {*settings.given(TELECRM_CREDENTIALS + SLACK_CREDENTIALS + SLACK_OAUTH), *unreadable}
        if settings.token_encryption_key or "TOKEN_ENCRYPTION_KEY" in unreadable:
            given.add("TOKEN_ENCRYPTION_KEY")
        found: list[str] = []
        if self.telecrm:
            found += _missing(_TELECRM, given)
        if self.slack and given & set(SLACK_OAUTH):
            found += _oauth_problems(self.slack, given)
        elif self.slack:
            found += _missing(_slack_use(self.slack, given), given)
        if self.database and "DATABASE_URL" not in unreadable:
            target = parse_database_url(settings.database)
            named = f"DATABASE_URL={settings.database_url}" if settings.database_url else ""
            if target.kind == "sqlite" and (problem := database_path_problem(target.where, named)):
                found.append(problem)
        listen = self.listen if "PORT" not in unreadable and not self._socket_run(given) else None
        if listen and (problem := _listen_problem(listen, settings)):
            found.append(problem)
        return found

    def _socket_run(self, given: set[str]) -> bool:
        """`run` in Socket Mode: it listens on no port."""
        return self.slack == "run" and "SLACK_APP_TOKEN" in given


@dataclass(frozen=True)
class _Use:
    """One way of using a side (TeleCRM, Slack): the variables it needs, and what stands in for the
    side when none of its variables is set."""

    purpose: str
    group: tuple[str, ...]
    required: tuple[str, ...]
    stand_in: str | None
    note: str = ""


_TELECRM = _Use(
    "your TeleCRM workspace",
    TELECRM_CREDENTIALS,
    ("TELECRM_ENTERPRISE_ID", "TELECRM_SYNC_TOKEN"),
    "embedded TeleCRM sandbox",
)
_SLACK_HTTP = _Use(
    "HTTP mode", SLACK_CREDENTIALS, ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), "local Slack emulator"
)
_SLACK_SOCKET = _Use(
    "Socket Mode", SLACK_CREDENTIALS, ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"), "local Slack emulator"
)


def _slack_use(mode: str, given: set[str]) -> _Use:
    if mode == "socket":  # `telecrm-bot socket` has no stand-in
        return replace(_SLACK_SOCKET, stand_in=None)
    if mode == "run" and "SLACK_APP_TOKEN" in given:  # `run` in Socket Mode
        return _SLACK_SOCKET
    if mode == "run":
        return replace(_SLACK_HTTP, note=" (Socket Mode: SLACK_BOT_TOKEN and SLACK_APP_TOKEN)")
    return _SLACK_HTTP


def _missing(use: _Use, given: set[str]) -> list[str]:
    """One line per variable ``use`` needs that is not set, unless none of its side's variables is
    set and a stand-in takes their place."""
    side = [name for name in use.group if name in given]
    if not side and use.stand_in:
        return []
    but = f", but {' and '.join(side)} {'is' if len(side) == 1 else 'are'}" if side else ""
    instead = f"; or set none of {', '.join(use.group)} to use the {use.stand_in}" if use.stand_in else ""
    needs = f"{use.purpose} needs {' and '.join(use.required)}{use.note}"
    return [f"{name} is not set{but}: {needs}{instead}" for name in use.required if name not in side]


def _oauth_problems(mode: str, given: set[str]) -> list[str]:
    """OAuth mode: the three OAuth variables, the encryption key and the signing secret; no bot
    token needed (each workspace's comes from its installation), and HTTP only (Slack redirects the
    installer's browser to the bot's ``/slack/oauth_redirect``). With none of the Slack credentials
    set, the local Slack emulator stands in, signing secret included, and its workspaces install
    the app through its own OAuth page (try many workspaces locally)."""
    side = [name for name in SLACK_OAUTH if name in given]
    emulated = mode != "socket" and not given & set(SLACK_CREDENTIALS)
    needs = (
        "installing into many workspaces (OAuth) needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, "
        "SLACK_STATE_SECRET, TOKEN_ENCRYPTION_KEY"
        + (" (and SLACK_SIGNING_SECRET with a real Slack)" if emulated else " and SLACK_SIGNING_SECRET")
    )
    but = f", but {' and '.join(side)} {'is' if len(side) == 1 else 'are'}"
    required = (*SLACK_OAUTH, "TOKEN_ENCRYPTION_KEY", *(() if emulated else ("SLACK_SIGNING_SECRET",)))
    found = [f"{name} is not set{but}: {needs}" for name in required if name not in given]
    if mode == "socket" or "SLACK_APP_TOKEN" in given:
        found.append(
            f"SLACK_APP_TOKEN is set{but}: OAuth mode runs over HTTP (telecrm-bot serve or run without "
            "SLACK_APP_TOKEN), where Slack sends installers back to /slack/oauth_redirect"
        )
    return found


def listen_problem(host: str, port: int, error: OSError, change_with: str = "PORT or --port") -> str:
    reason = error.strerror or str(error)
    return f"port {port} on {host} cannot be used ({reason}): set {change_with} to a free port"


def _listen_problem(listen: Listen, settings: Settings) -> str | None:
    """Whether the port can be listened on now (it may still be taken before the bot binds it)."""
    port = settings.port if listen.port is None else listen.port
    if port == 0:
        return None
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(
            listen.host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
                probe.bind(address)
    except OSError as exc:
        return listen_problem(listen.host, port, exc, listen.change_with)
    return None


# --- loading ---------------------------------------------------------------------------------------


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    dotenv_path: str | os.PathLike | None = ".env",
    needs: Needs | None = None,
) -> Settings:
    """Settings from ``.env`` overlaid by the real environment (the real environment wins).

    :class:`ConfigError` lists every bad value and, given ``needs``, everything else in the way.
    """
    settings, bad = read_settings(env, dotenv_path=dotenv_path)
    problems = list(bad.values()) + (needs.problems(settings, list(bad)) if needs else [])
    if problems:
        raise ConfigError(problems)
    return settings


def read_settings(
    env: Mapping[str, str] | None = None, *, dotenv_path: str | os.PathLike | None = ".env"
) -> tuple[Settings, dict[str, str]]:
    """Settings of the values that are fine (defaults for the others), and the problem of each
    variable that is not, by name: for ``telecrm-bot doctor``, which reports them and checks on."""
    environment: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        environment.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    environment.update(os.environ if env is None else env)
    parsed, bad = _parse(environment)
    settings = Settings(**parsed, extra=dict(environment))  # type: ignore[arg-type]  # each value was parsed to its field's type
    return settings, bad
