"""``telecrm-bot doctor``: whether this installation can run, one line per check (README.md, *Checking an
installation*).

Four checks, each ``<name>: ok (…)`` or ``<name>: FAILED: <what is wrong and what to do>``:
configuration (every problem :func:`kit.config.read_settings` and :class:`kit.config.Needs` find, one
line each), database (storage/inspection.py: reachable, writable, schema version against this
release), Slack auth (``auth.test`` with the bot token) and TeleCRM auth (the enterprise metadata, the
cheapest authenticated read). A side with no credentials is checked against the stand-in the bot would
start, as ``telecrm-bot run`` would use it. Unlike the other commands, a configuration problem is one of
the lines (exit status 1), not a refusal (2): the doctor's job is to list everything at once.

In OAuth mode the Slack and TeleCRM lines are per workspace: ``auth.test`` with each installed
workspace's stored bot token, the metadata read with each connected workspace's TeleCRM tokens, and one
line naming the workspaces installed but not connected to TeleCRM yet.
"""

from __future__ import annotations

import secrets
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store.models.bot import Bot

from bot.sandbox_mode import serving_sandbox
from kit.config import SLACK_CREDENTIALS, TELECRM_CREDENTIALS, Needs, Settings
from storage.database_url import parse_database_url
from storage.inspection import (
    CURRENT,
    NEEDS_MIGRATING,
    NOT_A_FILE,
    NOT_CREATED,
    TOO_NEW,
    DatabaseState,
    inspect_database,
    inspect_postgres,
)
from storage.installations import InstallationStore
from storage.secrets import TokenCipher
from storage.stores import open_store
from storage.telecrm_connections import Connection, TelecrmConnections
from telecrm.client import TeleCRMClient
from telecrm.errors import (
    TeleCRMAuthError,
    TeleCRMError,
    TeleCRMNotFound,
    TeleCRMNotReached,
    TeleCRMTimedOut,
    TeleCRMUnavailable,
)
from telecrm.redact import mask

SLACK_TIMEOUT_SECONDS = 10
# Slack's answers that mean the token itself is wrong (https://api.slack.com/methods/auth.test)
_REFUSED_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
_FIX_FIRST = "not checked: fix the configuration lines above first"


@dataclass(frozen=True)
class Check:
    name: str
    problem: str | None = None  # None: passed
    detail: str = ""

    @property
    def line(self) -> str:
        if self.problem is not None:
            return f"{self.name}: FAILED: {self.problem}"
        return f"{self.name}: ok" + (f" ({self.detail})" if self.detail else "")


def run_doctor(settings: Settings, bad: dict[str, str]) -> int:
    """Print every check's line for ``settings`` and the ``bad`` variables (kit/config.py
    :func:`~kit.config.read_settings`); 0 when all passed, 1 otherwise."""
    checks = [*configuration(settings, bad), database(settings, bad)]
    if settings.oauth_mode and not _slack_problems(settings, bad) and not settings.uses_slack_emulator:
        checks += workspaces(settings, bad)
    else:
        checks += [slack_auth(settings, bad), telecrm_auth(settings, bad)]
    for check in checks:
        print(check.line, flush=True)
    return 0 if all(check.problem is None for check in checks) else 1


# --- configuration -------------------------------------------------------------------------------


def _slack_problems(settings: Settings, bad: dict[str, str]) -> list[str]:
    unreadable = [name for name in (*SLACK_CREDENTIALS, "SLACK_API_URL") if name in bad]
    return unreadable + Needs(slack="run").problems(settings, list(bad))


def _telecrm_problems(settings: Settings, bad: dict[str, str]) -> list[str]:
    unreadable = [name for name in (*TELECRM_CREDENTIALS, "TELECRM_API_URL") if name in bad]
    return unreadable + Needs(telecrm=True).problems(settings, list(bad))


def configuration(settings: Settings, bad: dict[str, str]) -> list[Check]:
    """Every variable that cannot be used, and every credential missing from a half-set side (the
    database and the port have lines of their own, or are the running bot's)."""
    problems = [*bad.values(), *Needs(slack="run", telecrm=True).problems(settings, list(bad))]
    if problems:
        return [Check("configuration", problem) for problem in problems]
    slack = "Socket Mode" if settings.socket_mode else "HTTP mode"
    if settings.oauth_mode:
        slack = "HTTP mode, installed into workspaces through OAuth"
    if settings.uses_slack_emulator:
        slack = "local Slack emulator"
    telecrm = "embedded TeleCRM sandbox" if settings.uses_telecrm_sandbox else "your TeleCRM workspace"
    return [Check("configuration", detail=f"Slack: {slack}; TeleCRM: {telecrm}")]


# --- database ------------------------------------------------------------------------------------


def database(settings: Settings, bad: dict[str, str] | None = None) -> Check:
    if bad and "DATABASE_URL" in bad:  # the file at DATABASE_PATH is not what the bot would use
        return Check("database", _FIX_FIRST)
    found, variable, other = _inspected(settings)
    path = f"{variable}={found.path}"
    if found.problem is not None:
        return Check("database", found.problem)
    if found.state == TOO_NEW:
        return Check(
            "database",
            f"{path} has schema version {found.version}, but this release knows versions up to "
            f"{found.latest}: it was written by a newer release; upgrade telecrm-slack, or point "
            f"{variable} at {other}",
        )
    details = {
        CURRENT: f"{path}, schema version {found.version}: current",
        NEEDS_MIGRATING: f"{path}, schema version {found.version}: needs migrating to {found.latest}, "
        "which the bot does as it starts",
        NOT_CREATED: f"{path} does not exist yet: the bot creates it as it starts",
        NOT_A_FILE: f"{path} is not a file: nothing to check",
    }
    return Check("database", detail=details[found.state])


def _inspected(settings: Settings) -> tuple[DatabaseState, str, str]:
    """The database's state, the variable that names it, and what else it could name."""
    target = parse_database_url(settings.database)
    if target.kind == "postgresql":
        return inspect_postgres(target.where), "DATABASE_URL", "another database"
    return inspect_database(target.where), "DATABASE_PATH", "another file"


# --- Slack ---------------------------------------------------------------------------------------


def slack_auth(settings: Settings, bad: dict[str, str]) -> Check:
    if _slack_problems(settings, bad):
        return Check("slack auth", _FIX_FIRST)
    if settings.uses_slack_emulator:
        return _against_emulator(lambda token, url: _auth_test(token, url, app_token=""))
    if settings.oauth_mode and not settings.slack_bot_token:  # no token of its own to test
        return Check("slack auth", detail="OAuth mode: each installed workspace's stored token is used")
    return _auth_test(settings.slack_bot_token, settings.slack_api_url, app_token=settings.slack_app_token)


def _against_emulator(check: Callable[[str, str], Check]) -> Check:
    """``check`` against a local Slack emulator, as ``telecrm-bot run`` starts one."""
    from slack_emulator import SlackEmulator, serve_in_thread

    token = "xoxb-emulator-" + secrets.token_hex(8)
    emulator = SlackEmulator(signing_secret=secrets.token_hex(16), bot_token=token)
    running = serve_in_thread(emulator)
    try:
        result = check(token, emulator.api_url)
    finally:
        emulator.close()
        running.stop()
    if result.problem is not None:
        return result
    return Check(result.name, detail=f"{result.detail}; local Slack emulator: no Slack credentials are set")


def _auth_test(token: str, api_url: str, *, app_token: str) -> Check:
    # no retries: one unanswered call is the answer, and slack_sdk's own retry would only log it twice
    client = WebClient(token=token, base_url=api_url, timeout=SLACK_TIMEOUT_SECONDS, retry_handlers=[])
    try:
        answer = client.auth_test()
        if app_token:  # Socket Mode: the app-level token must open connections too
            apps = WebClient(base_url=api_url, timeout=SLACK_TIMEOUT_SECONDS, retry_handlers=[])
            apps.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        return Check("slack auth", _slack_refusal(exc, api_url))
    except (urllib.error.URLError, OSError) as exc:  # no answer at all
        reason = getattr(exc, "reason", None) or exc
        return Check(
            "slack auth",
            f"could not reach Slack at SLACK_API_URL={api_url} ({mask(reason, limit=200)}): "
            "check this machine's network and SLACK_API_URL",
        )
    except SlackClientError as exc:  # an answer that is not Slack's
        return Check(
            "slack auth",
            f"SLACK_API_URL={api_url} did not answer like Slack ({mask(exc, limit=200)}): check SLACK_API_URL",
        )
    socket = "; Socket Mode app token accepted" if app_token else ""
    return Check(
        "slack auth",
        detail=f"workspace {answer.get('team')!r} ({answer.get('team_id')}), "
        f"bot user {answer.get('user')!r} ({answer.get('user_id')}){socket}",
    )


def _slack_refusal(exc: SlackApiError, api_url: str) -> str:
    error = str(exc.response.get("error") or "unknown error")
    method = "apps.connections.open" if "apps.connections" in str(exc.response.api_url) else "auth.test"
    variable = "SLACK_APP_TOKEN" if method == "apps.connections.open" else "SLACK_BOT_TOKEN"
    if error in _REFUSED_TOKEN or error == "not_allowed_token_type":
        where = (
            "an app-level token with connections:write (Basic Information → App-Level Tokens)"
            if variable == "SLACK_APP_TOKEN"
            else "the Bot User OAuth Token (OAuth & Permissions; reinstall the app if it was revoked)"
        )
        return f"Slack refused {variable} ({method}: {error}): set it to {where} of your app at api.slack.com/apps"
    return f"Slack answered {method} with {error!r} at SLACK_API_URL={api_url}: check the app's installation"


# --- TeleCRM -------------------------------------------------------------------------------------


def telecrm_auth(settings: Settings, bad: dict[str, str]) -> Check:
    if _telecrm_problems(settings, bad):
        return Check("telecrm auth", _FIX_FIRST)
    if not settings.uses_telecrm_sandbox:
        return _metadata(settings)
    with serving_sandbox(settings) as sandboxed:
        result = _metadata(sandboxed)
    if result.problem is not None:
        return result
    note = "embedded TeleCRM sandbox: no TeleCRM credentials are set"
    return Check(result.name, detail=f"{result.detail}; {note}")


def _metadata(settings: Settings) -> Check:
    client = TeleCRMClient(
        base_url=settings.telecrm_api_url,
        enterprise_id=settings.telecrm_enterprise_id,
        sync_token=settings.telecrm_sync_token,
        timeout=settings.telecrm_timeout_seconds,
    )
    try:
        metadata = client.get_metadata()
    except TeleCRMError as exc:
        return Check("telecrm auth", _telecrm_refusal(exc, settings))
    finally:
        client.close()
    name = str(metadata.get("name") or "(no name)")
    return Check("telecrm auth", detail=f"workspace {name!r} ({settings.telecrm_enterprise_id})")


def _telecrm_refusal(exc: TeleCRMError, settings: Settings) -> str:
    url = f"TELECRM_API_URL={settings.telecrm_api_url}"
    said = mask(exc.message, limit=200)
    if isinstance(exc, TeleCRMAuthError):
        return (
            f"TeleCRM refused TELECRM_SYNC_TOKEN for TELECRM_ENTERPRISE_ID={settings.telecrm_enterprise_id} "
            f"({exc.status} {exc.code or ''}): in TeleCRM (Settings → Website and API) create a Sync-typed "
            "token for TELECRM_SYNC_TOKEN and check the workspace id"
        )
    if isinstance(exc, TeleCRMNotFound):
        return (
            f"TeleCRM knows no workspace TELECRM_ENTERPRISE_ID={settings.telecrm_enterprise_id} "
            f"({exc.status} {exc.code or ''}): copy the workspace id from Settings → Website and API"
        )
    if isinstance(exc, TeleCRMTimedOut):
        return (
            f"TeleCRM did not answer within {settings.telecrm_timeout_seconds:g} s at {url}: "
            "check this machine's network and TELECRM_API_URL, or try again later"
        )
    if isinstance(exc, TeleCRMNotReached):
        reason = said.removeprefix("Could not reach TeleCRM: ").rstrip(".")
        return (
            f"could not reach TeleCRM at {url} ({reason}): check this machine's network and TELECRM_API_URL"
        )
    if isinstance(exc, TeleCRMUnavailable):
        return (
            f"{url} did not answer like TeleCRM ({said}): check TELECRM_API_URL (it ends in /autoupdate/v2), "
            "or try again later if TeleCRM is down"
        )
    return f"TeleCRM refused the metadata read at {url} ({said})"


# --- OAuth mode: each workspace ------------------------------------------------------------------


def workspaces(settings: Settings, bad: dict[str, str]) -> list[Check]:
    """OAuth mode: ``auth.test`` with each installed workspace's stored bot token, the metadata read
    with each connected workspace's TeleCRM tokens, and the workspaces installed but not connected."""
    found, _, _ = _inspected(settings)
    if bad or found.problem is not None or found.state != CURRENT:  # nothing stored to read yet
        return [
            Check("slack auth", detail="OAuth mode: no installed workspace to check yet"),
            Check("telecrm auth", detail="OAuth mode: no connected workspace to check yet"),
        ]
    store = open_store(settings.database)
    try:
        installed = InstallationStore(store, TokenCipher(settings.token_encryption_key))
        teams = installed.teams()
        slack = [
            _workspace_slack(settings, team, installed.find_bot(enterprise_id=None, team_id=team))
            for team in teams
        ]
        connections = TelecrmConnections(store, TokenCipher(settings.token_encryption_key))
        connected = {team: connections.find(team) for team in teams}
    finally:
        store.close()
    telecrm = [_workspace_telecrm(settings, c) for c in connected.values() if c is not None]
    waiting = [team for team, c in connected.items() if c is None]
    if waiting:
        telecrm.append(
            Check(
                "telecrm auth",
                detail=f"installed but not connected to TeleCRM: {', '.join(waiting)} "
                "(an admin there clicks Connect TeleCRM in the app's Home tab)",
            )
        )
    none = Check("slack auth", detail="OAuth mode: no workspace has installed the app yet")
    return (slack or [none]) + (
        telecrm or [Check("telecrm auth", detail="OAuth mode: no workspace connected")]
    )


def _workspace_slack(settings: Settings, team: str, bot: Bot | None) -> Check:
    if bot is None or not bot.bot_token:
        return Check("slack auth", f"workspace {team}: no bot token stored; install the app there again")
    check = _auth_test(bot.bot_token, settings.slack_api_url, app_token="")
    if check.problem is not None:
        said = check.problem.split(": set it to", 1)[0].replace("SLACK_BOT_TOKEN", "its stored bot token")
        return Check("slack auth", f"workspace {team}: {said}; install the app there again")
    return Check("slack auth", detail=f"workspace {team}: {check.detail}")


def _workspace_telecrm(settings: Settings, connection: Connection) -> Check:
    team = connection.team_id
    client = TeleCRMClient(
        base_url=settings.telecrm_api_url,
        enterprise_id=connection.workspace_id,
        sync_token=connection.sync_token,
        timeout=settings.telecrm_timeout_seconds,
    )
    try:
        metadata = client.get_metadata()
    except TeleCRMError as exc:
        if isinstance(exc, (TeleCRMAuthError, TeleCRMNotFound)):
            return Check(
                "telecrm auth",
                f"workspace {team}: TeleCRM refused the connected workspace id {connection.workspace_id} or "
                f"its Sync token ({exc.status} {exc.code or ''}): an admin there connects TeleCRM again in "
                "the app's Home tab",
            )
        return Check("telecrm auth", f"workspace {team}: {_telecrm_refusal(exc, settings)}")
    finally:
        client.close()
    name = str(metadata.get("name") or "(no name)")
    return Check(
        "telecrm auth", detail=f"workspace {team}: TeleCRM workspace {name!r} ({connection.workspace_id})"
    )
