"""Raw-HTTP helpers: requests written byte for byte to the real server (started through the harness
in tests/conftest.py), answers parsed by ``http.client``, and the log exactly as the production
handler would write it."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import logging
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from telecrm.redact import RedactingFilter
from tests.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET, USER, Bot, start_bot


@dataclass
class Answer:
    status: int
    body: bytes
    elapsed: float


def address(bot: Bot) -> tuple[str, int]:
    host, port = bot.runtime.http.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def http_request(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"", *, length: bool = True
) -> bytes:
    """The bytes of one HTTP/1.1 request (``length``: add a Content-Length for ``body``)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: bot.test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def send_raw(bot: Bot, data: bytes, *, timeout: float = 10.0) -> Answer:
    """Write ``data`` (one request, possibly malformed) on a new connection and read the answer."""
    start = time.monotonic()
    with socket.create_connection(address(bot), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
    return Answer(response.status, body, time.monotonic() - start)


def slack_headers(
    body: bytes, *, timestamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Slack's signature headers for ``body`` (any bytes, UTF-8 or not)."""
    ts = timestamp or str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def post_events(bot: Bot, body: bytes, headers: dict[str, str], *, timeout: float = 10.0) -> Answer:
    return send_raw(bot, http_request("POST", "/slack/events", headers, body), timeout=timeout)


def lead_command(text: str) -> bytes:
    """The body Slack sends for ``/lead text``."""
    return urllib.parse.urlencode(
        {
            "team_id": "T0EMULATOR",
            "channel_id": CHANNEL,
            "user_id": USER,
            "command": "/lead",
            "text": text,
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.security",
        }
    ).encode()


def assert_acked(bot: Bot) -> None:
    """A signed ``/lead`` from Slack (the emulator) is acknowledged within Slack's 3 s."""
    delivery = bot.emulator.slash_command("/lead", "help", user=USER, channel=CHANNEL)
    assert delivery.status == 200 and not delivery.timed_out, (delivery.status, delivery.elapsed)


@pytest.fixture(scope="module")
def module_log() -> Iterator[io.StringIO]:
    """Everything logged while a module's tests run (DEBUG and up), through the redactor, as the
    production handler (bot/logs.py) writes it. Set up before the module's bot is built, as in
    production: Bolt copies the root logger's level into its own loggers when the app is created."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter([SIGNING_SECRET, BOT_TOKEN]))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory: pytest.TempPathFactory, module_log: io.StringIO) -> Iterator[Bot]:
    """One bot for a module's tests that do not need limits of their own."""
    bot = start_bot(Path(tmp_path_factory.mktemp("security")))
    yield bot
    bot.runtime.stop()


@pytest.fixture
def log_text(module_log: io.StringIO) -> Callable[[], str]:
    """What has been logged since the test began."""
    start = len(module_log.getvalue())
    return lambda: module_log.getvalue()[start:]
