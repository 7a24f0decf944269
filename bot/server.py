"""HTTP mode: the Bolt app behind waitress, a production WSGI server.

``POST /slack/events`` takes slash commands, interactivity, options and events (one Request URL for
all of them). ``GET /healthz`` answers a JSON status for load balancers and operators: 200 while
the bot can serve and store what Slack sends, 503 when it cannot (e.g. ``"store": "full"``).
``GET /readyz`` answers 503 until the bot is ready for its first request, 200 after. In OAuth mode
(bot/oauth.py) ``GET /slack/install`` and ``GET /slack/oauth_redirect`` go to Bolt's OAuth flow.

Anyone who can reach the server can post to ``/slack/events``, so every request is checked here
before Bolt sees it: its size (413), Slack's signature (401), then that the body is UTF-8 (400).
Bolt checks the signature again, but it logs the whole body of a request that fails its check, and a
stranger's body must never reach the log (nor cost more than reading :data:`MAX_BODY_BYTES`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import Clock, SignatureVerifier
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.task import ThreadedTaskDispatcher

from bot.connections import GuardedServer, connection_budget
from kit.config import ConfigError
from telecrm.redact import excerpt

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"

# The largest request body accepted: 1 MiB. Slack publishes no maximum for what it sends, but bounds
# its parts: a view (modal) is at most 250 KB of JSON (views.open refuses bigger ones), a text input
# at most 3,000 characters, a message 40,000. The biggest requests this app gets, view_submissions
# of the New lead modal (its view, 18 KB for the demo workspace, echoed back with the values typed),
# are tens of KB; 1 MiB leaves room for a 250 KB view URL-encoded with its inputs filled, and is all
# a stranger can make us read.
MAX_BODY_BYTES = 1024 * 1024
# Slack's headers are under 2 KB; a load balancer adds a few hundred bytes (waitress allows 256 KB).
MAX_HEADER_BYTES = 32 * 1024
# Request bodies beyond this wait for their request in a temporary file instead of memory, so open
# connections cost little memory each (waitress's default is 512 KB).
BODY_MEMORY_BYTES = 64 * 1024
# A request must arrive whole within this many seconds of its first byte. Slack sends a request at
# once and gives up after 3 s; a client that takes longer is broken or is holding a connection.
REQUEST_DEADLINE_SECONDS = 10.0
# A keep-alive connection with no request in progress is closed after this long without activity.
IDLE_TIMEOUT_SECONDS = 30
# Connections held at once; at the limit the longest-waiting idle or incomplete ones make room (see
# bot/connections.py). poll() instead of select() lets waitress go past 1,024 descriptors.
CONNECTION_LIMIT = 1000
# An install link's redirect carries a code and a state (well under 200 characters each); a longer
# query string is not Slack's.
MAX_QUERY_CHARS = 2048
# Slack's replay window: a signed request older (or newer) than this is refused.
SIGNATURE_MAX_AGE_SECONDS = 5 * 60


@dataclass(frozen=True)
class HTTPLimits:
    """What one client may cost the HTTP server (the constants above say why each default)."""

    max_body_bytes: int = MAX_BODY_BYTES
    request_deadline: float = REQUEST_DEADLINE_SECONDS
    idle_timeout: int = IDLE_TIMEOUT_SECONDS
    connection_limit: int = CONNECTION_LIMIT

    def waitress_options(self) -> dict[str, Any]:
        return {
            "max_request_body_size": self.max_body_bytes + 1,  # waitress refuses a body of this size
            "max_request_header_size": MAX_HEADER_BYTES,
            "inbuf_overflow": BODY_MEMORY_BYTES,
            "channel_timeout": self.idle_timeout,
            "cleanup_interval": 1,  # how often idle connections and request deadlines are checked
            "connection_limit": connection_budget(self.connection_limit),
            "asyncore_use_poll": True,
        }


class Refused(Exception):
    """A request answered with an error before Bolt sees it."""

    def __init__(self, status: str, reason: str, body: bytes = b"") -> None:
        super().__init__(reason)
        self.status, self.reason, self.body = status, reason, body


class RawBodyVerifier(SignatureVerifier):
    """slack_sdk's signature check, over the exact bytes Slack signed, and safe on any headers.

    slack_sdk's own decodes the body as UTF-8 and parses the timestamp with ``int()``, so a body in
    another encoding or a timestamp such as ``abc`` raises an exception instead of failing the check.
    """

    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        if not timestamp or not signature or not _is_unix_time(timestamp):
            return False
        if abs(self.clock.now() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
            return False
        expected = self.generate_signature(timestamp=timestamp, body=body)
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str:
        raw = body.encode() if isinstance(body, str) else body
        base = b"v0:" + timestamp.encode() + b":" + raw
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()


def _is_unix_time(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 12


class RefusalLog:
    """One log line per refused request, with no more of what it sent than a short escaped excerpt,
    and at most ``burst`` lines per ``interval`` seconds (the others are counted in the next line),
    so that a flood of junk cannot flood the log."""

    def __init__(self, burst: int = 20, interval: float = 60.0) -> None:
        self._burst, self._interval = burst, interval
        self._lock = threading.Lock()
        self._window_ends = 0.0
        self._left = 0
        self._unlogged = 0

    def note(self, environ: dict[str, Any], refused: Refused) -> None:
        with self._lock:
            now = time.monotonic()
            if now >= self._window_ends:
                self._window_ends, self._left = now + self._interval, self._burst
            if self._left == 0:
                self._unlogged += 1
                return
            self._left -= 1
            unlogged, self._unlogged = self._unlogged, 0
        body = f"; {len(refused.body)} body bytes, starting {excerpt(refused.body)}" if refused.body else ""
        more = f"; {unlogged} more refused requests not logged" if unlogged else ""
        log.warning(
            "refused a request from %s: %s (%s)%s%s",
            environ.get("REMOTE_ADDR", "?"),
            refused.status,
            refused.reason,
            body,
            more,
        )


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, reading at most ``limit`` + 1 bytes; :class:`Refused` if it is too big."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused("400 Bad Request", "bad Content-Length")
        if len(declared) > 15 or int(declared) > limit:
            raise Refused("413 Request Entity Too Large", f"body over {limit} bytes")
        length = int(declared)
    else:  # unknown length (chunked, or a server that does not say): one byte past the limit is enough
        length = limit + 1
    raw = environ["wsgi.input"].read(length) if length else b""
    if len(raw) > limit:
        raise Refused("413 Request Entity Too Large", f"body over {limit} bytes")
    return raw


def bolt_can_read(body: str, content_type: str | None) -> bool:
    """Whether Bolt can dispatch ``body`` without failing on its shape. Bolt's own middleware reads
    ``event`` and ``view`` as objects without checking, and answers 500 when one is, say, ``null``;
    parsing errors (bad JSON) raise here as they would in Bolt."""
    parsed = parse_body(body, content_type.split(";")[0] if content_type else None)
    return isinstance(parsed, dict) and all(
        isinstance(parsed[key], dict) for key in ("event", "view") if key in parsed
    )


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
    signing_secret: str,
    max_body_bytes: int = MAX_BODY_BYTES,
    clock: Clock | None = None,
    ready: Callable[[], dict[str, Any]] | None = None,
) -> Callable[..., Iterable[bytes]]:
    if not signing_secret:
        raise ConfigError(
            "HTTP mode needs SLACK_SIGNING_SECRET (the app's Signing Secret) to check that requests come from Slack"
        )
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)
    verifier = RawBodyVerifier(signing_secret, clock or Clock())
    refusals = RefusalLog()

    def checked_body(environ: dict[str, Any]) -> bytes:
        """The body of a request Slack signed; :class:`Refused` otherwise."""
        raw = read_body(environ, max_body_bytes)
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if not verifier.is_valid(raw, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE")):
            raise Refused("401 Unauthorized", "invalid request signature", raw)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("400 Bad Request", "body is not UTF-8", raw) from None
        return raw

    def events(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            raw = checked_body(environ)
        except Refused as refused:
            refusals.note(environ, refused)
            return _plain(start_response, refused.status, refused.reason + "\n")
        return call_bolt(environ, raw, start_response)

    def call_bolt(environ: dict[str, Any], raw: bytes, start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Bolt, guarded: a signed body Bolt cannot parse gets a 400, never a 500."""
        guarded = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))}
        started: list[str] = []

        def tracking_start(status: str, headers: list, exc_info: Any = None) -> Any:
            started.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            if not bolt_can_read(raw.decode("utf-8"), environ.get("CONTENT_TYPE")):
                raise ValueError("a Slack object that is not an object")
            return bolt(guarded, tracking_start)
        except Exception as exc:
            if started:
                raise
            log.warning("refused a signed but malformed Slack request: %s", exc.__class__.__name__)
            return _plain(start_response, "400 Bad Request", "malformed Slack request\n")

    oauth_paths = _oauth_paths(app)

    def oauth(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The install page and Slack's redirect (OAuth mode): GET only, no body, a short query."""
        if environ.get("REQUEST_METHOD") != "GET":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "GET")])
            return [b"Browsers open this page with GET.\n"]
        try:
            read_body(environ, 0)
            if len(environ.get("QUERY_STRING", "")) > MAX_QUERY_CHARS:
                raise Refused("414 URI Too Long", f"query string over {MAX_QUERY_CHARS} characters")
        except Refused as refused:
            refusals.note(environ, refused)
            return _plain(start_response, refused.status, refused.reason + "\n")
        return bolt({**environ, "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0"}, start_response)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path in oauth_paths:
            return oauth(environ, start_response)
        if path == "/healthz" and method in {"GET", "HEAD"}:
            return _json(start_response, *_check(health, "ok"))
        if path == "/readyz" and method in {"GET", "HEAD"} and ready is not None:
            return _json(start_response, *_check(ready, "ready"))
        if path != EVENTS_PATH:
            return _plain(start_response, "404 Not Found", "Not Found\n")
        if method != "POST":
            body = b"Slack sends POST requests here.\n"
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "POST")])
            return [body]
        return events(environ, start_response)

    return wsgi


def _oauth_paths(app: App) -> frozenset[str]:
    """The install and redirect paths Bolt serves in OAuth mode (bot/oauth.py); none otherwise."""
    flow = app.oauth_flow
    return frozenset() if flow is None else frozenset({flow.install_path, flow.redirect_uri_path})


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
        _close(server)


def _close(server: Any) -> None:
    server.task_dispatcher.shutdown()
    wasyncore.close_all(server._map)


def create_server(
    wsgi: Callable[..., Any], host: str, port: int, *, threads: int, limits: HTTPLimits
) -> GuardedServer:
    """waitress's ``create_server`` with :class:`GuardedServer`; all listeners share one event loop."""
    adj = Adjustments(host=host, port=port, threads=threads, ident="telecrm-bot", **limits.waitress_options())
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    socket_map: dict[int, Any] = {}
    servers = [
        GuardedServer(
            wsgi,
            socket_map,
            dispatcher=dispatcher,
            adj=adj,
            sockinfo=sockinfo,
            request_deadline=limits.request_deadline,
        )
        for sockinfo in adj.listen
    ]
    return servers[0]


def serve(
    wsgi: Callable[..., Any],
    host: str = "127.0.0.1",
    port: int = 3000,
    *,
    threads: int = 32,
    background: bool = False,
    limits: HTTPLimits | None = None,
) -> RunningHTTP:
    """Start waitress; in the background (tests, embedded emulator) or blocking (the CLI)."""
    server = create_server(wsgi, host, port, threads=threads, limits=limits or HTTPLimits())
    bound_host, bound_port = server.effective_host, server.effective_port
    url = f"http://{bound_host}:{bound_port}"
    if not background:
        log.info("listening on %s%s", url, EVENTS_PATH)
        running = RunningHTTP(url, server, None)
        try:
            server.run()
        finally:
            _close(server)
        return running
    stopping = threading.Event()
    thread = threading.Thread(target=_loop, args=(server, stopping), name="http", daemon=True)
    thread.start()
    return RunningHTTP(url, server, thread, stopping)
