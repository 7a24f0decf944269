"""``telecrm-bot``: run the bot, the TeleCRM sandbox, and admin commands (README.md, *Command line*)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence

from bot.logs import setup_logging
from kit.config import SECRET_FIELDS, ConfigError, Settings, load_settings
from storage.db import StoreError
from telecrm.errors import TeleCRMError

log = logging.getLogger("telecrm-bot")


def _secrets(settings: Settings) -> list[str]:
    return [getattr(settings, name) for name in SECRET_FIELDS]


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_serve(settings: Settings, host: str, port: int, *, force_http: bool = True) -> int:
    from bot.runtime import Runtime

    runtime = Runtime(settings, emulator_port=port + 1 if port else 0)
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
    try:
        _wait_for_signal()
    finally:
        log.info(
            "shutting down: finishing in-flight work; queued writes stay in %s",
            runtime.settings.database_path,
        )
        runtime.stop()
    return 0


def cmd_socket(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.runtime import Runtime

    if not settings.slack_app_token:
        print(
            "telecrm-bot socket needs SLACK_APP_TOKEN (an xapp-… app-level token with connections:write).",
            file=sys.stderr,
        )
        return 2
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
    try:
        _wait_for_signal()
    finally:
        handler.close()
        runtime.stop()
    return 0


def mode_for(settings: Settings) -> str:
    """Socket Mode when ``SLACK_APP_TOKEN`` is set (with a bot token), else HTTP (README.md, *Socket Mode or HTTP?*)."""
    return "socket" if settings.socket_mode and settings.slack_bot_token else "http"


def cmd_run(settings: Settings, host: str, port: int) -> int:
    if mode_for(settings) == "socket":
        return cmd_socket(settings)
    return cmd_serve(settings, host, port)


def cmd_sandbox(settings: Settings, host: str, port: int, workspace: str | None) -> int:
    from telecrm.sandbox import (
        DEMO_ASYNC_TOKEN,
        DEMO_ENTERPRISE_ID,
        DEMO_SYNC_TOKEN,
        Sandbox,
        load_workspace,
        serve_forever,
        strict_docs_from_env,
    )

    try:
        data = load_workspace(workspace) if workspace else None
    except (OSError, ValueError) as exc:
        print(f"cannot load workspace {workspace}: {exc}", file=sys.stderr)
        return 2
    sandbox = Sandbox(
        data,
        enterprise_id=settings.telecrm_enterprise_id or DEMO_ENTERPRISE_ID,
        sync_token=settings.telecrm_sync_token or DEMO_SYNC_TOKEN,
        async_token=settings.telecrm_async_token or DEMO_ASYNC_TOKEN,
        default_country_code=settings.default_country_code,
        # SANDBOX_STRICT_DOCS, also from .env (None: the sandbox reads the environment)
        strict_docs=strict_docs_from_env(settings.extra) or None,
    )
    demo = not settings.telecrm_sync_token
    print(f"TeleCRM sandbox on http://{host}:{port}")
    print(f"  Sync API : http://{host}:{port}/autoupdate/v2   Async API: http://{host}:{port}")
    print(f"  enterprise id: {sandbox.enterprise_id}")
    if demo:
        print(f"  demo Sync token: {sandbox.sync_token}   demo Async token: {sandbox.async_token}")
    sys.stdout.flush()
    serve_forever(sandbox, host, port)
    return 0


def _cache(settings: Settings):
    from storage.cache import SchemaCache
    from storage.db import Store
    from telecrm.client import TeleCRMClient

    store = Store(settings.database_path)
    client = TeleCRMClient(
        base_url=settings.telecrm_api_url,
        enterprise_id=settings.telecrm_enterprise_id,
        sync_token=settings.telecrm_sync_token,
        timeout=settings.telecrm_timeout_seconds,
    )
    return (
        store,
        client,
        SchemaCache(
            store,
            client.fetch_schema,
            ttl_seconds=settings.cache_ttl_seconds,
            enterprise_id=settings.telecrm_enterprise_id,
        ),
    )


def cmd_cache(settings: Settings, action: str) -> int:
    if action == "refresh" and not settings.has_telecrm_credentials:
        print(
            "cache refresh needs TELECRM_ENTERPRISE_ID and TELECRM_SYNC_TOKEN (or run the bot, which uses "
            "the sandbox when they are missing).",
            file=sys.stderr,
        )
        return 2
    store, client, cache = _cache(settings)
    try:
        if action == "refresh":
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
        schema = cache.cached()
        if schema is None:
            print(f"the cache in {settings.database_path} is empty: run `telecrm-bot cache refresh`.")
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
        print(
            f"statuses: {', '.join(s.label + ('' if s.active else ' (archived)') for s in schema.statuses)}"
        )
        print(f"lost reasons: {', '.join(r.label for r in schema.lost_reasons)}")
        print(f"custom actions ({len(schema.custom_actions)}):")
        for a in schema.custom_actions:
            print(
                f"  {a.code:<14} {a.display_name} — fields: {', '.join(f.api_name for f in a.fields) or 'none'}"
            )
        print(f"team members: {len(schema.team_members)} ({len(schema.active_members)} active)")
        return 0
    finally:
        client.close()
        store.close()


def cmd_outbox(settings: Settings, as_json: bool) -> int:
    from storage.db import Store
    from storage.outbox import Outbox

    store = Store(settings.database_path)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="telecrm-bot", description="Work your TeleCRM workspace from Slack."
    )
    parser.add_argument(
        "--env-file", default=".env", help="dotenv file to read (default .env; the real environment wins)"
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", required=True)
    default_port = int(os.environ.get("PORT", "3000"))
    p = sub.add_parser(
        "run", help="run the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP; stand-ins when no credentials)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=default_port)
    p = sub.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=default_port)
    sub.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN)")
    p = sub.add_parser("sandbox", help="the TeleCRM sandbox server alone")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--workspace", help="JSON file describing the workspace (default: the demo workspace)")
    p = sub.add_parser("cache", help="the cached workspace schema")
    p.add_argument("action", choices=["refresh", "show"])
    p = sub.add_parser("outbox", help="list TeleCRM writes waiting to be retried")
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(dotenv_path=args.env_file)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(args.log_level.upper(), _secrets(settings))
    try:
        return _dispatch(args, settings)
    except ConfigError as exc:  # found once the command knows what it needs (e.g. HTTP mode's secret)
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:  # one line an operator can act on, not a traceback
        print(f"telecrm-bot: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # damage the open-time check could not see
        print(
            f"telecrm-bot: DATABASE_PATH={settings.database_path} cannot be used as the bot's database: {exc}.",
            file=sys.stderr,
        )
        return 2


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return cmd_run(settings, args.host, args.port)
    if args.command == "serve":
        return cmd_serve(settings, args.host, args.port)
    if args.command == "socket":
        return cmd_socket(settings)
    if args.command == "sandbox":
        return cmd_sandbox(settings, args.host, args.port, args.workspace)
    if args.command == "cache":
        return cmd_cache(settings, args.action)
    if args.command == "outbox":
        return cmd_outbox(settings, args.json)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
