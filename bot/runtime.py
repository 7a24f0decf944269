"""Assembles a running bot: TeleCRM (real or the embedded sandbox), Slack (real or the emulator),
the SQLite store, the schema cache, the worker, the Bolt app and its HTTP server.

``telecrm-bot run``/``serve``/``socket`` and the end-to-end tests all start the bot through
:class:`Runtime`, so what is tested is what runs.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient

from bot.app import build_app
from bot.oauth import REDIRECT_PATH, installation_store, workspace_client
from bot.sandbox_mode import new_sandbox, pointed_at
from bot.server import HTTPLimits, RunningHTTP, make_wsgi_app, serve
from kit.config import ConfigError, Settings, listen_problem
from kit.lead_index import IndexFeed
from kit.services import Services
from kit.team_telecrm import RECONNECT_REMEDY, CurrentSchemaCache, CurrentTeleCRM, TeamTelecrm, TeamTelecrms
from kit.worker import SETTLE_MARGIN_SECONDS, Worker, lease_for
from storage.cache import SchemaCache
from storage.deliveries import Deliveries
from storage.dialect import STORE_ERRORS, BotStore
from storage.outbox import Outbox
from storage.periodic_leases import PeriodicLeases, lease_seconds
from storage.retention import PASS_SECONDS, Retention
from storage.secrets import TokenCipher
from storage.stores import open_store
from storage.telecrm_connections import Connection, TelecrmConnections
from storage.tenancy import team_scope
from telecrm.client import TeleCRMClient
from telecrm.observed import ObservedTeleCRMClient
from telecrm.redact import mask

log = logging.getLogger(__name__)

SCHEMA_RETRY_SECONDS = 5.0
SCHEMA_RETRY_MAX_SECONDS = 60.0
# the embedded sandbox serves one bot, which asks TeleCRM at most about 30 things at once (8 write
# and 16 read workers, the schema's 5 parallel reads): 32 request threads, not the 64 a sandbox
# shared by several processes starts with (telecrm/sandbox/server.py)
SANDBOX_THREADS = 32


@dataclass
class Periodic:
    """A background loop (e.g. the payment watcher) that stops with the runtime."""

    name: str
    interval: float
    fn: Callable[[], Any]
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        def loop() -> None:
            while not self.stop_event.wait(self.interval):
                try:
                    self.fn()
                except Exception:
                    log.exception("periodic task %s failed", self.name)

        self.thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(5)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        sandbox: Any | None = None,
        emulator: Any | None = None,
        use_sandbox: bool | None = None,
        use_emulator: bool | None = None,
        clock: Callable[[], float] = time.time,
        emulator_port: int = 0,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.emulator_port = emulator_port  # a fixed port gives newcomers a URL they can bookmark
        self.sandbox = sandbox
        self.emulator = emulator
        self._use_sandbox = settings.uses_telecrm_sandbox if use_sandbox is None else use_sandbox
        self._use_emulator = settings.uses_slack_emulator if use_emulator is None else use_emulator
        self._stoppers: list[Callable[[], None]] = []
        self.services: Services | None = None
        self.app: Any = None
        self.http: RunningHTTP | None = None
        self.periodics: list[Periodic] = []
        self.leases: PeriodicLeases | None = None  # periodic work runs once across the replicas
        # a cold start retries loading the workspace schema after this many seconds, doubling up to a
        # minute: /readyz answers 503 until it is loaded, so no Slack request would come to load it
        self.schema_retry_seconds = SCHEMA_RETRY_SECONDS
        self.schema_warmup: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- stand-ins -----------------------------------------------------------------------------------
    def _start_sandbox(self) -> None:
        from telecrm.sandbox import serve_in_thread

        if self.sandbox is None:
            self.sandbox = new_sandbox(self.settings)
        running = serve_in_thread(self.sandbox, threads=SANDBOX_THREADS)
        self._stoppers.append(running.stop)
        self.settings = pointed_at(self.settings, self.sandbox, running.url)
        log.warning(
            "NO TELECRM CREDENTIALS: using the embedded TeleCRM sandbox at %s (demo workspace). "
            "Set TELECRM_ENTERPRISE_ID and TELECRM_SYNC_TOKEN to use your real workspace.",
            running.url,
        )

    def _start_emulator(self) -> None:
        from slack_emulator import SlackEmulator, serve_in_thread

        secret = self.settings.slack_signing_secret or secrets.token_hex(16)
        token = self.settings.slack_bot_token or "xoxb-emulator-" + secrets.token_hex(8)
        if self.emulator is None:
            self.emulator = SlackEmulator(signing_secret=secret, bot_token=token, users=self._demo_users())
        else:
            secret, token = self.emulator.signing_secret, self.emulator.bot_token
        # lead links unfurl where the manifest says: the host of TELECRM_LEAD_URL (the sandbox's, here)
        host = urlsplit(self.settings.telecrm_lead_url).hostname
        if host:
            self.emulator.unfurl_domains = [host]
        try:
            running = serve_in_thread(self.emulator, port=self.emulator_port)
        except OSError:  # the preferred port is taken: any free one will do, the URL is logged
            running = serve_in_thread(self.emulator)
        self._stoppers.append(running.stop)
        self._stoppers.append(self.emulator.ui.close)  # release the browser page's long polls first
        self.settings = self.settings.with_overrides(
            slack_api_url=self.emulator.api_url,
            # OAuth mode: each workspace's token comes from its installation, none from here
            slack_bot_token="" if self.settings.oauth_mode else token,
            slack_signing_secret=secret,
            slack_app_token="",
        )
        log.warning(
            "NO SLACK CREDENTIALS: using the local Slack emulator. Open %s in a browser to try the bot.",
            running.url,
        )

    def _emulator_keeps_installs(self, store: BotStore) -> None:
        """OAuth mode on the local emulator: the workspaces installed before this start are still
        installed, as with Slack, rather than asking to be installed again after every restart."""
        assert self.emulator is not None
        installations = installation_store(self.settings, store)
        for team in installations.teams():
            found = installations.find_installation(enterprise_id=None, team_id=team)
            if found is not None and found.bot_token and team in self.emulator.oauth.teams:
                scope = ",".join(found.bot_scopes or [])
                self.emulator.oauth.remember(
                    found.bot_token, team_id=team, user_id=found.user_id, scope=scope
                )

    def _demo_users(self) -> list[dict[str, Any]] | None:
        """With both stand-ins, Slack users who are also sandbox team members get the member's email,
        so a newcomer sees attribution and "assign to me" work as they would in a real install."""
        if self.sandbox is None:
            return None
        import copy

        from slack_emulator.directory import DEFAULT_USERS

        members = {
            m["name"]: m
            for m in self.sandbox.team_members()
            if m.get("status") not in {"Deleted", "Inactive"}
        }
        users = copy.deepcopy(DEFAULT_USERS)
        for user in users:
            member = members.get(user.get("real_name"))
            if member:
                user["profile"]["email"] = member["email"]
        return users

    # -- lifecycle -------------------------------------------------------------------------------
    def build(self) -> Services:
        """Services and the Bolt app with every feature's listeners (the app asks Slack who it is)."""
        services = self.build_services()
        self.app = build_app(services)
        return services

    def build_services(self) -> Services:
        """Services alone, no Bolt app: for commands that work without Slack (``telecrm-bot import``)."""
        # the store first: a database that cannot be used stops the start before anything else runs
        store = open_store(self.settings.database)
        self._stoppers.append(store.close)
        self.leases = PeriodicLeases(store, clock=self.clock)
        if self._use_sandbox:
            self._start_sandbox()
        if self._use_emulator:
            self._start_emulator()
            if self.settings.oauth_mode:
                self._emulator_keeps_installs(store)
        s = self.settings
        teams = self._team_telecrms(store) if s.oauth_mode else None
        if teams is not None:
            telecrm: ObservedTeleCRMClient = CurrentTeleCRM(teams)
            cache: SchemaCache = CurrentSchemaCache(teams)
            self._stoppers.append(teams.close)
        else:
            telecrm = self._telecrm_client(
                s.telecrm_enterprise_id, s.telecrm_sync_token, s.telecrm_async_token
            )
            self._stoppers.append(telecrm.close)
            cache = self._schema_cache(store, telecrm, s.telecrm_enterprise_id)
        worker = Worker(
            Outbox(store, clock=self.clock),
            threads=s.worker_threads,
            clock=self.clock,
            lease_seconds=lease_for(s.telecrm_timeout_seconds),
            settle_seconds=s.telecrm_timeout_seconds + SETTLE_MARGIN_SECONDS,
        )
        slack = (
            workspace_client(s, store)
            if s.oauth_mode
            else WebClient(token=s.slack_bot_token, base_url=s.slack_api_url)
        )
        self.services = Services(
            settings=s,
            store=store,
            cache=cache,
            telecrm=telecrm,
            worker=worker,
            slack=slack,
            deliveries=Deliveries(store, clock=self.clock),
            clock=self.clock,
            schedule=self.every,
            team_telecrms=teams,
        )
        if teams is None:  # each workspace's client gets its feed when it is built (_team_telecrm)
            telecrm.observer = IndexFeed(self.services.lead_index, cache.cached)
        retention = Retention(store, days=s.retention_days, clock=self.clock, stopping=self._stopping.is_set)
        self.every(
            "retention", PASS_SECONDS, retention.prune, per_team=False
        )  # every workspace's rows at once
        return self.services

    def _telecrm_client(
        self,
        enterprise_id: str,
        sync_token: str,
        async_token: str | None,
        *,
        auth_remedy: str | None = None,
    ) -> ObservedTeleCRMClient:
        """A TeleCRM client with these credentials, at the URLs and timeouts the settings name."""
        s = self.settings
        return ObservedTeleCRMClient(
            base_url=s.telecrm_api_url,
            enterprise_id=enterprise_id,
            sync_token=sync_token,
            async_base_url=s.telecrm_async_api_url,
            async_token=async_token or None,
            timeout=s.telecrm_timeout_seconds,
            auth_remedy=auth_remedy,
        )

    def _schema_cache(self, store: BotStore, telecrm: TeleCRMClient, enterprise_id: str) -> SchemaCache:
        return SchemaCache(
            store,
            telecrm.fetch_schema,
            ttl_seconds=self.settings.cache_ttl_seconds,
            clock=self.clock,
            enterprise_id=enterprise_id,
        )

    def _team_telecrms(self, store: BotStore) -> TeamTelecrms:
        """OAuth mode: each workspace's TeleCRM, from the connection its admin made in App Home."""
        connections = TelecrmConnections(store, TokenCipher(self.settings.token_encryption_key))
        return TeamTelecrms(store, connections, lambda connection: self._team_telecrm(store, connection))

    def _team_telecrm(self, store: BotStore, connection: Connection) -> TeamTelecrm:
        telecrm = self._telecrm_client(
            connection.workspace_id,
            connection.sync_token,
            connection.async_token,
            auth_remedy=RECONNECT_REMEDY,
        )
        cache = self._schema_cache(store, telecrm, connection.workspace_id)
        assert self.services is not None  # built on a workspace's first call, after build_services
        telecrm.observer = IndexFeed(self.services.lead_index, cache.cached)
        return TeamTelecrm(telecrm, cache, connection.workspace_id)

    def every(self, name: str, interval: float, fn: Callable[[], Any], *, per_team: bool = True) -> None:
        """Run ``fn`` every ``interval`` seconds while the runtime is up (registered by commands), in
        one replica of those sharing the database: the one holding the task's lease
        (storage/periodic_leases.py). Every scheduled task is fleet-wide work (watchers, reminders,
        the lead index mirror, retention, the digest); per-process housekeeping such as the store's
        health probe does not go through here.

        In OAuth mode a task is work for each workspace: after taking the lease, ``fn`` runs once per
        workspace connected to TeleCRM, inside its :func:`team_scope` (``per_team=False``: once, for
        work that is not any one workspace's)."""
        leases = self.leases
        if leases is None:  # no store (yet): nothing to share
            self.periodics.append(Periodic(name, interval, fn))
            return
        seconds = lease_seconds(interval)

        def once_across_replicas() -> Any:
            if not leases.take(name, seconds):
                return None
            teams = self.services.team_telecrms if per_team and self.services is not None else None
            return fn() if teams is None else self._per_team(name, fn)

        self.periodics.append(Periodic(name, interval, once_across_replicas))

    def _per_team(self, name: str, fn: Callable[[], Any]) -> None:
        """OAuth mode: a periodic task's pass, once for each workspace connected to its TeleCRM; one
        workspace's failure is logged and the others still get theirs."""
        assert self.services is not None and self.services.team_telecrms is not None
        for team in self.services.team_telecrms.connected_teams():
            if self._stopping.is_set():
                return
            with team_scope(team):
                try:
                    fn()
                except Exception:
                    log.exception("periodic task %s failed for workspace %s", name, team)

    def health(self) -> dict[str, Any]:
        """``/healthz``: not ok (503) while the store cannot be written, so a load balancer stops
        sending Slack's requests to an instance that can only answer "not saved"."""
        assert self.services is not None
        store = self.services.store.health.state()
        answer = {
            "ok": store == "ok",
            "store": store,
            "schema": self._schema_state(),
            "mode": "socket" if self.settings.socket_mode else "http",
            "telecrm": "sandbox" if self._use_sandbox else "live",
            "slack": "emulator" if self._use_emulator else "slack",
        }
        if self.services.team_telecrms is None:
            st = self.services.cache.status()
            answer["cache"] = {"fresh": st.fresh, "fields": st.field_count, "age_seconds": st.age_seconds}
        return answer | {"outbox": self._outbox_counts()}

    def _schema_state(self) -> str:
        assert self.services is not None
        if self.services.team_telecrms is not None:
            return "per workspace"  # each connected workspace's schema is loaded on its first use
        return "loaded" if self.services.cache.cached() is not None else "not loaded"

    def _outbox_counts(self) -> dict[str, int] | None:
        assert self.services is not None
        try:
            return self.services.worker.outbox.counts()
        except STORE_ERRORS:  # an unreadable store is already reported as "store"
            return None

    def ready(self) -> dict[str, Any]:
        """``/readyz``: ready once the workspace schema is loaded (forms can be built) and the store
        can be written (gestures can be saved); until then ``missing`` names what is not. In OAuth
        mode there is no one schema to wait for: ready once the store can be written."""
        assert self.services is not None
        schema = self._schema_state()
        store = self.services.store.health.state()
        schema_ok = schema in {"loaded", "per workspace"}
        missing = [name for name, ok in (("schema", schema_ok), ("store", store == "ok")) if not ok]
        answer: dict[str, Any] = {"ready": not missing, "schema": schema, "store": store}
        if self.services.team_telecrms is not None:
            answer["note"] = (
                "OAuth mode: ready when the store is writable; each workspace's schema loads on use"
            )
        if missing:
            answer["missing"] = missing
        error = None if schema_ok else self.services.cache.status().last_error
        if error:
            answer["schema_error"] = mask(error, limit=300)  # why not yet, e.g. TeleCRM unreachable
        return answer

    def start_http(
        self, host: str = "127.0.0.1", port: int = 0, *, limits: HTTPLimits | None = None
    ) -> RunningHTTP:
        if self.services is None:
            self.build()
        limits = limits or HTTPLimits()
        wsgi = make_wsgi_app(
            self.app,
            self.health,
            signing_secret=self.settings.slack_signing_secret,
            max_body_bytes=limits.max_body_bytes,
            ready=self.ready,
        )
        try:
            self.http = serve(wsgi, host, port, background=True, limits=limits)
        except OSError as exc:  # taken since the configuration was checked, or not this machine's address
            raise ConfigError(listen_problem(host, port, exc)) from None
        if self.emulator is not None:
            self.emulator.app_url = self.http.events_url
            if self.settings.oauth_mode:  # the app's settings page, as the emulator holds it
                self.emulator.configure_oauth(
                    client_id=self.settings.slack_client_id,
                    client_secret=self.settings.slack_client_secret,
                    redirect_urls=[self.http.url + REDIRECT_PATH],
                )
        self.start_background()
        return self.http

    def start_background(self) -> None:
        assert self.services is not None
        self.services.worker.start()
        for p in self.periodics:
            p.start()
        self.schema_warmup = threading.Thread(target=self._warm_cache, name="cache-warm", daemon=True)
        self.schema_warmup.start()

    def _warm_cache(self) -> None:
        """Load the workspace schema, retrying until TeleCRM answers (or the runtime stops). In OAuth
        mode, each connected workspace's, once and best effort: a workspace whose TeleCRM does not
        answer loads it on its first use instead."""
        services = self.services
        assert services is not None
        if services.team_telecrms is not None:
            self._per_team("schema warm-up", services.cache.get)  # late-bound: each team's own
            return
        delay = self.schema_retry_seconds
        while True:
            try:
                services.cache.get()
                return
            except Exception as exc:
                log.error("the workspace schema could not be loaded yet (next try in %.0f s): %s", delay, exc)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, SCHEMA_RETRY_MAX_SECONDS)

    def stop(self) -> None:
        """Graceful: stop taking requests, let listeners and in-flight writes finish; anything not yet
        started stays queued in SQLite for the next start. Then close stores and stand-ins."""
        self._stopping.set()
        if self.http is not None:
            self._call(self.http.stop)
        for p in self.periodics:
            self._call(p.stop)
        if self.leases is not None and self.periodics:  # the other replicas need not wait for the lease
            self._call(self.leases.release)
        services = self.services
        if services is not None:
            self._call(lambda: services.listeners.shutdown(wait=True))
            self._call(services.worker.stop)
        while self._stoppers:
            self._call(self._stoppers.pop())

    @staticmethod
    def _call(stopper: Callable[[], Any]) -> None:
        try:
            stopper()
        except Exception:
            log.exception("error while stopping")
