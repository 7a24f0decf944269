"""``telecrm-bot``: run the bot, the TeleCRM sandbox, and admin commands (README.md, *Command line*)."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import psycopg

from bot.logs import setup_logging
from bot.oauth import INSTALL_PATH
from bot.sandbox_mode import new_sandbox, sandbox_identity, sandbox_values, serving_sandbox
from bot.schema_access import open_schema_cache
from kit.config import (
    SECRET_FIELDS,
    ConfigError,
    Listen,
    Needs,
    Settings,
    listen_problem,
    load_settings,
    read_settings,
)
from kit.config_values import LOG_LEVELS
from storage.cache import SchemaCache
from storage.db import StoreError
from storage.postgres import first_line
from telecrm.errors import TeleCRMError

log = logging.getLogger("telecrm-bot")


def _secrets(settings: Settings) -> list[str]:
    return [getattr(settings, name) for name in SECRET_FIELDS]


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _freeze_start_up_objects() -> None:
    """Leave everything built at start-up (modules, the app and its listeners, caches, the stand-ins)
    out of Python's garbage collection from now on: it lives as long as the process, and every full
    collection would otherwise walk all of it again — CPU that falls on whichever request happens to
    allocate at that moment (the acknowledgement's CPU, docs/PERFORMANCE.md). Only the running
    process does this, never a library user or a test run, which starts many bots in one process."""
    gc.collect()
    gc.freeze()


def cmd_serve(settings: Settings, host: str, port: int, *, force_http: bool = True) -> int:
    from bot.runtime import Runtime

    runtime = Runtime(settings, emulator_port=port + 1 if 0 < port < 65535 else 0)
    try:
        runtime.build()
        http = runtime.start_http(host, port)
    except BaseException:  # e.g. a database that cannot be written: stop what did start
        runtime.stop()
        raise
    log.info("Slack Request URL: %s (commands, interactivity, options and events)", http.events_url)
    log.info("health check: %s/healthz", http.url)
    if runtime.emulator is not None:
        log.info("try the bot in a browser: %s", runtime.emulator.url)
    if runtime.settings.oauth_mode:
        log.info("install the app into a Slack workspace: %s%s", http.url, INSTALL_PATH)
        if runtime.sandbox is not None:  # what an admin types in App Home → Connect TeleCRM
            print("Connect TeleCRM (App Home) to the embedded TeleCRM sandbox with:")
            _print_sandbox_values(settings)
    _freeze_start_up_objects()
    try:
        _wait_for_signal()
    finally:
        log.info(
            "shutting down: finishing in-flight work; queued writes stay in %s",
            runtime.settings.database_shown,
        )
        runtime.stop()
    return 0


def cmd_socket(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.runtime import Runtime

    runtime = Runtime(settings, use_emulator=False)
    try:
        runtime.build()
        runtime.start_background()
    except BaseException:
        runtime.stop()
        raise
    handler = SocketModeHandler(runtime.app, settings.slack_app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        log.error("Slack refused to open a Socket Mode connection: %s", exc.response.get("error"))
        handler.close()
        runtime.stop()
        return 1
    if handler.client.is_connected():
        log.info("connected to Slack in Socket Mode")
    else:  # the client retries in the background; say so rather than claim a connection
        log.warning("could not connect to Slack in Socket Mode yet; retrying")
    _freeze_start_up_objects()
    try:
        _wait_for_signal()
    finally:
        handler.close()
        runtime.stop()
    return 0


def mode_for(settings: Settings) -> str:
    """Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP (README.md, *Socket Mode or HTTP?*)."""
    return "socket" if settings.socket_mode else "http"


def cmd_run(settings: Settings, host: str, port: int) -> int:
    if mode_for(settings) == "socket":
        return cmd_socket(settings)
    return cmd_serve(settings, host, port)


def _print_sandbox_values(settings: Settings) -> None:
    """The sandbox's workspace id and tokens: its demo values, never a token the operator set."""
    for value in sandbox_values(settings):
        if value.demo:
            print(f"  {value.label}: {value.value}   (demo value: {value.variable} is not set)")
        else:
            shown = value.value if value.variable == "TELECRM_ENTERPRISE_ID" else "as set"
            print(f"  {value.label}: {shown}   (from {value.variable})")
    sys.stdout.flush()


def cmd_sandbox(settings: Settings, host: str, port: int, workspace: str | None) -> int:
    from telecrm.sandbox import load_workspace, serve_forever

    try:
        data = load_workspace(workspace) if workspace else None
    except (OSError, ValueError) as exc:
        print(f"cannot load workspace {workspace}: {exc}", file=sys.stderr)
        return 2
    print(f"TeleCRM sandbox on http://{host}:{port}")
    print(f"  Sync API : http://{host}:{port}/autoupdate/v2   Async API: http://{host}:{port}")
    _print_sandbox_values(settings)
    try:
        serve_forever(new_sandbox(settings, data), host, port)
    except OSError as exc:  # taken since the configuration was checked
        raise ConfigError(listen_problem(host, port, exc, "--port")) from None
    return 0


def cmd_cache(settings: Settings, action: str) -> int:
    """Against the database and workspace the bot uses: in sandbox mode, the embedded sandbox's."""
    if not settings.uses_telecrm_sandbox:
        return _cache_command(settings, action)
    print("sandbox mode (no TeleCRM credentials are set): the embedded TeleCRM sandbox's demo workspace")
    if action == "show":
        return _cache_command(sandbox_identity(settings), action)
    with serving_sandbox(settings) as sandboxed:
        return _cache_command(sandboxed, action)


def _cache_command(settings: Settings, action: str) -> int:
    store, client, cache = open_schema_cache(settings)
    try:
        return _cache_refresh(cache) if action == "refresh" else _cache_show(settings, cache)
    finally:
        client.close()
        store.close()


def _cache_refresh(cache: SchemaCache) -> int:
    try:
        schema = cache.refresh()
    except TeleCRMError as exc:
        print(f"could not refresh the schema: {exc}", file=sys.stderr)
        return 1
    print(
        f"refreshed: {len(schema.fields)} fields, {len(schema.custom_actions)} custom actions, "
        f"{len(schema.statuses)} statuses, {len(schema.team_members)} team members"
    )
    return 0


def _cache_show(settings: Settings, cache: SchemaCache) -> int:
    schema = cache.cached()
    if schema is None:
        print(f"the cache in {settings.database_shown} is empty: run `telecrm-bot cache refresh`.")
        return 1
    status = cache.status()
    print(f"workspace: {schema.enterprise_name or settings.telecrm_enterprise_id}")
    print(
        f"fetched {status.age_seconds:.0f}s ago ({'fresh' if status.fresh else 'stale'}); "
        f"identifier field: {schema.identifier_api_name}"
    )
    print(f"fields ({len(schema.fields)}):")
    for f in schema.fields:
        extra = f" — {len(f.options)} options" if f.options else ""
        mark = " [identifier]" if f.api_name == schema.identifier_api_name else ""
        print(f"  {f.api_name:<28} {f.type.value:<13} {f.label}{mark}{extra}")
    print(f"statuses: {', '.join(s.label + ('' if s.active else ' (archived)') for s in schema.statuses)}")
    print(f"lost reasons: {', '.join(r.label for r in schema.lost_reasons)}")
    print(f"custom actions ({len(schema.custom_actions)}):")
    for a in schema.custom_actions:
        print(
            f"  {a.code:<14} {a.display_name} — fields: {', '.join(f.api_name for f in a.fields) or 'none'}"
        )
    print(f"team members: {len(schema.team_members)} ({len(schema.active_members)} active)")
    return 0


def cmd_outbox(settings: Settings, as_json: bool) -> int:
    from storage.outbox import Outbox
    from storage.stores import open_store

    store = open_store(settings.database)
    try:
        items = Outbox(store).pending()
        if as_json:
            print(
                json.dumps(
                    [
                        {
                            "key": i.key,
                            "kind": i.kind,
                            "state": i.state,
                            "attempts": i.attempts,
                            "next_attempt_at": i.next_attempt_at,
                            "last_error": i.last_error,
                        }
                        for i in items
                    ]
                )
            )
            return 0
        if not items:
            print("no pending writes")
            return 0
        print(f"{len(items)} pending write(s):")
        for i in items:
            print(
                f"  {i.kind:<18} {i.state:<8} attempts={i.attempts:<3} key={i.key}  last error: {i.last_error or '—'}"
            )
        return 0
    finally:
        store.close()


def cmd_purge(settings: Settings, team_id: str) -> int:
    """Delete everything the bot keeps of one Slack workspace (storage/purge.py), one line per table."""
    from storage.purge import purge_team
    from storage.stores import open_store

    team_id = team_id.strip()
    if not team_id:
        return refuse(["--team needs the Slack team id (T…) of the workspace whose data is to be deleted"])
    store = open_store(settings.database)
    try:
        removed = purge_team(store, team_id)
    finally:
        store.close()
    for table, count in removed:
        print(f"{table}: {count} row(s) deleted")
    print(f"purged team {team_id}: {sum(count for _, count in removed)} row(s) in {len(removed)} tables")
    return 0


def cmd_rotate_key(settings: Settings) -> int:
    """Encrypt every stored workspace token again with the first key of TOKEN_ENCRYPTION_KEY."""
    from storage.db import Store
    from storage.installations import InstallationStore
    from storage.secrets import InvalidToken, TokenCipher
    from storage.telecrm_connections import TelecrmConnections

    if not settings.token_encryption_key:
        return refuse(
            ["TOKEN_ENCRYPTION_KEY is not set: rotate-key encrypts the stored tokens with its first key"]
        )
    store = Store(settings.database_path)
    try:
        cipher = TokenCipher(settings.token_encryption_key)
        rewritten = InstallationStore(store, cipher).rotate_keys()
        connections = TelecrmConnections(store, cipher).rotate_keys()
    except InvalidToken:
        print(
            "telecrm-bot: a stored token was encrypted with a key that is not in TOKEN_ENCRYPTION_KEY; "
            "its table was not changed: put the new key first and keep the old ones after it until this has run",
            file=sys.stderr,
        )
        return 1
    finally:
        store.close()
    print(
        f"re-encrypted the tokens of {rewritten} installation row(s) and "
        f"{connections} TeleCRM connection(s) with the first key"
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run_doctor

    settings, bad = read_settings(dotenv_path=args.env_file or ".env")
    # the stand-ins' start-up notes are not the doctor's answer: warnings and worse only, on stderr
    setup_logging(args.log_level or "WARNING", _secrets(settings))
    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)  # a failed call is the Slack line itself
    return run_doctor(settings, bad)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="telecrm-bot", description="Work your TeleCRM workspace from Slack."
    )
    parser.add_argument(
        "--env-file",
        default=None,
        help="dotenv file to read (default .env when there is one; the real environment wins)",
    )
    parser.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, help="default: LOG_LEVEL, else INFO"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "run", help="run the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP; stand-ins when no credentials)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default: PORT, else 3000")
    p = sub.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz, GET /readyz")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, help="default: PORT, else 3000")
    sub.add_parser("socket", help="Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)")
    p = sub.add_parser("sandbox", help="the TeleCRM sandbox server alone")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--workspace", help="JSON file describing the workspace (default: the demo workspace)")
    p = sub.add_parser("cache", help="the cached workspace schema")
    p.add_argument("action", choices=["refresh", "show"])
    p = sub.add_parser("outbox", help="list TeleCRM writes waiting to be retried")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("import", help="import leads from a CSV or XLSX file (--dry-run: only the preview)")
    p.add_argument("file", help="the CSV or XLSX file")
    p.add_argument(
        "--dry-run", action="store_true", help="check the file and print the preview; send nothing"
    )
    p.add_argument("--team", help="OAuth mode: the Slack team id (T…) whose TeleCRM the file goes to")
    p = sub.add_parser(
        "purge", help="delete every row of one Slack workspace: its data, installation and TeleCRM connection"
    )
    p.add_argument("--team", required=True, help="the Slack team id (T…) whose data is deleted")
    sub.add_parser(
        "rotate-key", help="encrypt every stored workspace token again with the first TOKEN_ENCRYPTION_KEY"
    )
    sub.add_parser(
        "doctor", help="check configuration, the database, Slack auth and TeleCRM auth, one line each"
    )
    return parser


def needs_of(args: argparse.Namespace) -> Needs:
    """What each command uses, so that exactly that is checked before it starts."""
    if args.command in {"run", "serve"}:
        return Needs(slack=args.command, telecrm=True, database=True, listen=Listen(args.host, args.port))
    if args.command == "socket":
        return Needs(slack="socket", telecrm=True, database=True)
    if args.command in ("cache", "import"):
        return Needs(telecrm=True, database=True)
    if args.command in ("outbox", "rotate-key", "purge"):
        return Needs(database=True)
    return Needs(listen=Listen(args.host, args.port, change_with="--port"))  # sandbox


def refuse(problems: Sequence[str]) -> int:
    """Exit status 2 and one line per problem (never a traceback)."""
    for problem in problems:
        print(f"configuration error: {problem}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env_file = None if args.env_file is None else Path(args.env_file)
    if env_file is not None and (not env_file.exists() or env_file.is_dir()):  # a typo must not go unnoticed
        return refuse(
            [f"--env-file {args.env_file}: no such file (give a dotenv file's path, or leave it out)"]
        )
    try:
        return _main(args)
    except BrokenPipeError:  # `telecrm-bot cache show | head`: the reader left; that is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 0


def _main(args: argparse.Namespace) -> int:
    if args.command == "doctor":  # configuration problems are among its lines, not a refusal
        return cmd_doctor(args)
    try:
        settings = load_settings(dotenv_path=args.env_file or ".env", needs=needs_of(args))
    except ConfigError as exc:
        return refuse(exc.problems)
    setup_logging(args.log_level or settings.log_level, _secrets(settings))
    try:
        return _dispatch(args, settings)
    except ConfigError as exc:  # e.g. the port was taken after the configuration was checked
        return refuse(exc.problems)
    except StoreError as exc:  # one line an operator can act on, not a traceback
        print(f"telecrm-bot: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # damage the open-time check could not see
        print(
            f"telecrm-bot: DATABASE_PATH={settings.database_path} cannot be used as the bot's database: {exc}.",
            file=sys.stderr,
        )
        return 2
    except psycopg.Error as exc:  # the PostgreSQL server went away after the store opened
        print(
            f"telecrm-bot: DATABASE_URL={settings.database_shown} cannot be used as the bot's database: "
            f"{first_line(exc)}.",
            file=sys.stderr,
        )
        return 2


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command in {"run", "serve"}:
        port = settings.port if args.port is None else args.port  # --port wins over PORT
        return (cmd_run if args.command == "run" else cmd_serve)(settings, args.host, port)
    if args.command == "socket":
        return cmd_socket(settings)
    if args.command == "sandbox":
        return cmd_sandbox(settings, args.host, args.port, args.workspace)
    if args.command == "cache":
        return cmd_cache(settings, args.action)
    if args.command == "outbox":
        return cmd_outbox(settings, args.json)
    if args.command == "rotate-key":
        return cmd_rotate_key(settings)
    if args.command == "purge":
        return cmd_purge(settings, args.team)
    if args.command == "import":
        from bot.import_cli import cmd_import

        return cmd_import(settings, args.file, dry_run=args.dry_run, team=args.team)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
