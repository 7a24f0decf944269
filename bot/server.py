"""HTTP mode: the Bolt app behind waitress, a production WSGI server.

``POST /slack/events`` takes slash commands, interactivity, options and events (one Request URL for
all of them). ``GET /healthz`` answers a JSON status for load balancers and operators: 200 while
the bot can serve and store what Slack sends, 503 when it cannot (e.g. ``"store": "full"``).
``GET /readyz`` answers 503 until the bot is ready for its first request, 200 after.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from waitress import wasyncore
from waitress.server import create_server

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _json(start_response: Callable[..., Any], ok: bool, status: dict[str, Any]) -> list[bytes]:
    body = json.dumps(status, default=str).encode()
    code = "200 OK" if ok else "503 Service Unavailable"
    start_response(code, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _check(check: Callable[[], dict[str, Any]], key: str) -> tuple[bool, dict[str, Any]]:
    """(ok, body) of a health/readiness callable; it must answer even when something is broken."""
    try:
        status = {key: True, **check()}
    except Exception as exc:
        return False, {key: False, "error": exc.__class__.__name__}
    return bool(status[key]), status


def make_wsgi_app(
    app: App,
    health: Callable[[], dict[str, Any]],
    *,
    signing_secret: str | None = None,
    ready: Callable[[], dict[str, Any]] | None = None,
) -> Callable[..., Iterable[bytes]]:
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def events(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Bolt, guarded: a body Bolt cannot parse gets 401 when unsigned and 400 when signed, never a 500."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, "400 Bad Request", "bad Content-Length\n")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        guarded = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
        started: list[str] = []

        def tracking_start(status: str, headers: list, exc_info: Any = None) -> Any:
            started.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return bolt(guarded, tracking_start)
        except Exception as exc:
            if started:
                raise
            headers = {
                k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
            }
            if verifier is not None and not verifier.is_valid_request(raw, headers):
                return _plain(start_response, "401 Unauthorized", "invalid request signature\n")
            log.warning("refused a signed but malformed Slack request: %s", exc.__class__.__name__)
            return _plain(start_response, "400 Bad Request", "malformed Slack request\n")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in {"GET", "HEAD"}:
            return _json(start_response, *_check(health, "ok"))
        if path == "/readyz" and method in {"GET", "HEAD"} and ready is not None:
            return _json(start_response, *_check(ready, "ready"))
        if path == EVENTS_PATH and method != "POST":
            body = b"Slack sends POST requests here.\n"
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "POST")])
            return [body]
        return events(environ, start_response)

    return wsgi


@dataclass
class RunningHTTP:
    url: str
    server: Any
    thread: threading.Thread | None
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    def stop(self) -> None:
        if self.thread is None:
            self.server.close()
            return
        self.stopping.set()
        self.thread.join(5)


def _loop(server: Any, stopping: threading.Event) -> None:
    """waitress's loop in short polls, so the polling thread itself closes every socket on stop
    (open keep-alive connections would otherwise keep the loop alive until they time out)."""
    try:
        while not stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)


def serve(
    wsgi: Callable[..., Any],
    host: str = "127.0.0.1",
    port: int = 3000,
    *,
    threads: int = 32,
    background: bool = False,
) -> RunningHTTP:
    """Start waitress; in the background (tests, embedded emulator) or blocking (the CLI)."""
    server = create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        ident="telecrm-bot",
        channel_timeout=30,
        connection_limit=500,
    )
    bound_host, bound_port = server.effective_host, server.effective_port
    url = f"http://{bound_host}:{bound_port}"
    if not background:
        log.info("listening on %s%s", url, EVENTS_PATH)
        running = RunningHTTP(url, server, None)
        try:
            server.run()
        finally:
            server.close()
        return running
    stopping = threading.Event()
    thread = threading.Thread(target=_loop, args=(server, stopping), name="http", daemon=True)
    thread.start()
    return RunningHTTP(url, server, thread, stopping)
