"""Slack's side of Socket Mode: one-time WebSocket URLs, the app's connections, envelopes and acks.

An app calls `apps.connections.open` with its app-level token and gets a `ws://…/link/?ticket=…` URL;
on connecting it receives `hello`, then envelopes (`slash_commands`, `interactive`, `events_api`) that
it must acknowledge within 3 seconds with `{"envelope_id", "payload"?}`. Slack asks a connection to go
away with a `disconnect` message (the app opens a new one first) and closes connections at will; both
are reproduced here so reconnection is tested.

waitress cannot upgrade connections, so the WebSocket side is a small `websockets` server of its own,
started on the first `apps.connections.open`; `websockets` is imported only then, so the emulator
works over HTTP without it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .webapi import ApiError

logger = logging.getLogger(__name__)

ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
DISCONNECT_REASONS = ("warning", "refresh_requested", "link_disabled")
DEBUG_HOST = "applink-emulator"
BUILD_NUMBER = 1
APPROXIMATE_CONNECTION_TIME = 18060  # seconds Slack expects to keep a connection before refreshing it


@dataclass
class Ack:
    """What came back for one envelope: the app's ack (and its payload), or why nothing did."""

    envelope: dict[str, Any]
    acked: bool
    payload: dict[str, Any] | None
    elapsed: float
    timed_out: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    connection_id: str
    accepts_response_payload: bool
    done: threading.Event = field(default_factory=threading.Event)
    payload: dict[str, Any] | None = None
    acked: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class _Connection:
    id: str
    ws: Any
    opened_at: float
    disconnecting: bool = False
    close_timer: threading.Timer | None = None


def hello_message(num_connections: int, app_id: str) -> dict[str, Any]:
    """The first message on every new connection, as Slack sends it."""
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": DEBUG_HOST,
            "build_number": BUILD_NUMBER,
            "approximate_connection_time": APPROXIMATE_CONNECTION_TIME,
        },
        "connection_info": {"app_id": app_id},
    }


def disconnect_message(reason: str) -> dict[str, Any]:
    if reason not in DISCONNECT_REASONS:
        raise ValueError(f"Slack's disconnect reasons are {DISCONNECT_REASONS}, not {reason!r}")
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": DEBUG_HOST}}


def envelope_for(
    envelope_type: str,
    payload: dict[str, Any],
    *,
    accepts_response_payload: bool,
    retry_attempt: int | None = None,
    retry_reason: str | None = None,
    envelope_id: str | None = None,
) -> dict[str, Any]:
    """An envelope as Slack sends it; Events API envelopes always carry the retry fields."""
    if envelope_type not in ENVELOPE_TYPES:
        raise ValueError(f"envelope types are {ENVELOPE_TYPES}, not {envelope_type!r}")
    envelope: dict[str, Any] = {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "payload": payload,
        "type": envelope_type,
        "accepts_response_payload": accepts_response_payload,
    }
    if envelope_type == "events_api" or retry_attempt is not None:
        envelope["retry_attempt"] = retry_attempt or 0
        envelope["retry_reason"] = retry_reason or ""
    return envelope


class SocketModeServer:
    """The WebSocket endpoint of one Slack app. Thread-safe; `notify` is called (without this object's
    lock held) after every change so the emulator's waiters wake up."""

    def __init__(
        self,
        *,
        app_id: str,
        host: str = "127.0.0.1",
        notify: Callable[[], None] = lambda: None,
        ping_interval: float | None = 20.0,
    ) -> None:
        self.app_id = app_id
        self.host = host
        self.ping_interval = ping_interval
        self._notify = notify
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._closed = False
        self._tickets: set[str] = set()
        self._connections: dict[str, _Connection] = {}
        self._pending: dict[str, _Pending] = {}
        self.opened = 0
        self.hellos: list[dict[str, Any]] = []
        self.envelopes: list[dict[str, Any]] = []
        self.problems: list[str] = []

    # --- state ------------------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        """Connections that are open and not asked to go away."""
        with self._lock:
            return sum(1 for c in self._connections.values() if not c.disconnecting)

    @property
    def open_connections(self) -> int:
        """Every open connection, including those asked to go away that the app has not closed yet."""
        with self._lock:
            return len(self._connections)

    @property
    def running(self) -> bool:
        return self._server is not None

    # --- apps.connections.open --------------------------------------------------------------------

    def open_url(self) -> str:
        """A fresh single-use URL for one connection; starts the server on first use."""
        with self._lock:
            if self._closed:
                raise ApiError("internal_error")
            if self._server is None:
                self._start()
            ticket = secrets.token_hex(16)
            self._tickets.add(ticket)
            query = urllib.parse.urlencode({"ticket": ticket, "app_id": self.app_id})
            return f"ws://{self.host}:{self._port}/link/?{query}"

    def _start(self) -> None:
        from websockets.sync.server import serve

        self._server = serve(
            self._handle,
            self.host,
            0,
            process_request=self._check_ticket,
            compression=None,
            ping_interval=self.ping_interval,
            close_timeout=2,
            logger=logging.getLogger(__name__ + ".ws"),
        )
        self._port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"socket-mode-{self._port}", daemon=True
        )
        self._thread.start()
        logger.info("Socket Mode endpoint on ws://%s:%s/link/", self.host, self._port)

    def _check_ticket(self, connection: Any, request: Any) -> Any:
        """Refuse the upgrade unless the URL is one `apps.connections.open` handed out and not yet used."""
        parts = urllib.parse.urlsplit(request.path)
        ticket = urllib.parse.parse_qs(parts.query).get("ticket", [""])[0]
        if parts.path.rstrip("/") != "/link":
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        with self._lock:
            if ticket not in self._tickets:
                self.problems.append("a connection used an unknown or already used ticket")
                return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or already used ticket\n")
            self._tickets.discard(ticket)
        return None

    # --- connections ------------------------------------------------------------------------------

    def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        conn = _Connection(id=uuid.uuid4().hex, ws=ws, opened_at=time.monotonic())
        with self._lock:
            self._connections[conn.id] = conn
            self.opened += 1
            hello = hello_message(len(self._connections), self.app_id)
            self.hellos.append(hello)
        try:
            ws.send(json.dumps(hello))
            self._notify()
            for message in ws:
                self._on_message(conn, message)
        except ConnectionClosed:
            pass
        finally:
            self._forget(conn)

    def _forget(self, conn: _Connection) -> None:
        with self._lock:
            self._connections.pop(conn.id, None)
            if conn.close_timer is not None:
                conn.close_timer.cancel()
            orphans = [
                p for p in self._pending.values() if p.connection_id == conn.id and not p.done.is_set()
            ]
            for pending in orphans:
                pending.problems.append("the connection closed before the app acknowledged the envelope")
                pending.done.set()
        self._notify()

    def _on_message(self, conn: _Connection, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            self._problem(f"the app sent something that is not JSON: {str(message)[:80]!r}")
            return
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        if not envelope_id:
            self._problem(f"the app sent a message without envelope_id: {str(message)[:80]!r}")
            return
        with self._lock:
            pending = self._pending.get(envelope_id)
            if pending is None or pending.done.is_set():
                late = pending is not None
                self.problems.append(
                    f"ack for {'an envelope Slack already gave up on' if late else 'an unknown envelope'} "
                    f"{envelope_id}"
                )
            else:
                payload = data.get("payload")
                if payload is not None and not pending.accepts_response_payload:
                    pending.problems.append(
                        "the ack carried a payload but this envelope does not accept one; Slack ignores it"
                    )
                    payload = None
                if payload is not None and not isinstance(payload, dict):
                    pending.problems.append("the ack payload must be a JSON object")
                    payload = None
                pending.payload = payload
                pending.acked = True
                pending.done.set()
        self._notify()

    def _problem(self, text: str) -> None:
        logger.warning("Socket Mode: %s", text)
        with self._lock:
            self.problems.append(text)
        self._notify()

    def _pick(self) -> _Connection | None:
        """Slack sends each envelope on one open connection; the newest one here, for repeatable tests."""
        live = [c for c in self._connections.values() if not c.disconnecting]
        return max(live, key=lambda c: c.opened_at) if live else None

    # --- sending ----------------------------------------------------------------------------------

    def deliver(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        timeout: float,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> Ack:
        """Send one envelope and wait up to `timeout` seconds for its ack, as Slack does."""
        envelope = envelope_for(
            envelope_type,
            payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        envelope_id = envelope["envelope_id"]
        with self._lock:
            conn = self._pick()
            if conn is None:
                return Ack(
                    envelope,
                    acked=False,
                    payload=None,
                    elapsed=0.0,
                    problems=["no app is connected in Socket Mode; Slack tells the user dispatch_failed"],
                )
            pending = _Pending(conn.id, accepts_response_payload)
            self._pending[envelope_id] = pending
            self.envelopes.append(envelope)
        from websockets.exceptions import ConnectionClosed

        start = time.monotonic()
        try:
            conn.ws.send(json.dumps(envelope))
        except ConnectionClosed:
            pending.problems.append("the connection closed while the envelope was being sent")
            pending.done.set()
        answered = pending.done.wait(timeout)
        elapsed = time.monotonic() - start
        with self._lock:
            if not answered:
                pending.done.set()  # a late ack is recorded as a problem, not applied
                pending.problems.append(
                    f"the app did not acknowledge within {timeout:g}s; Slack gives up and shows an error"
                )
            result = Ack(
                envelope,
                acked=pending.acked,
                payload=pending.payload,
                elapsed=elapsed,
                timed_out=not answered,
                problems=list(pending.problems),
            )
        return result

    # --- Slack closing connections ----------------------------------------------------------------

    def refresh(self, reason: str = "refresh_requested", grace: float = 10.0) -> int:
        """Send `disconnect` on every open connection and stop using them; close any the app has not
        closed itself after `grace` seconds. Returns how many were asked."""
        message = json.dumps(disconnect_message(reason))
        with self._lock:
            targets = [c for c in self._connections.values() if not c.disconnecting]
            for conn in targets:
                conn.disconnecting = True
        for conn in targets:
            try:
                conn.ws.send(message)
            except Exception:  # already closing: nothing to warn
                continue
            timer = threading.Timer(grace, self._close_one, args=(conn, 1001, "refreshed"))
            timer.daemon = True
            conn.close_timer = timer
            timer.start()
        self._notify()
        return len(targets)

    def drop(self, code: int = 1001, reason: str = "going away") -> int:
        """Close every connection now, without a `disconnect` warning (a Slack server going away)."""
        with self._lock:
            targets = list(self._connections.values())
            for conn in targets:
                conn.disconnecting = True
        for conn in targets:
            self._close_one(conn, code, reason)
        self._notify()
        return len(targets)

    @staticmethod
    def _close_one(conn: _Connection, code: int, reason: str) -> None:
        try:
            conn.ws.close(code, reason)
        except Exception:
            logger.debug("closing a Socket Mode connection failed", exc_info=True)

    def close(self) -> None:
        """Stop the endpoint: open connections are closed (1001) and no new URL is handed out."""
        with self._lock:
            self._closed = True
            server, self._server = self._server, None
            timers = [c.close_timer for c in self._connections.values() if c.close_timer]
        for timer in timers:
            timer.cancel()
        if server is not None:
            server.shutdown()
        if self._thread is not None:
            self._thread.join(5)
