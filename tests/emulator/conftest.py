"""Fixtures: an emulator served over real HTTP, a WebClient pointed at it, and a small Bolt app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from slack_emulator import RunningServer, SlackEmulator, serve_in_thread, serve_wsgi

from .bolt_fixture_app import build_app

SIGNING_SECRET = "emulator-test-signing-secret"
BOT_TOKEN = "xoxb-emulator-token"


class FakeClock:
    """Emulated time that only moves when a test says so (trigger expiry, response_url age)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[SlackEmulator]:
    emu = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, clock=clock)
    server = serve_in_thread(emu, threads=8)
    yield emu
    server.stop()
    emu.close()


@pytest.fixture
def files_read(emulator: SlackEmulator) -> None:
    """Grant ``files:read``, which the repository's manifest gains with the bulk import (until then
    files.info is refused with missing_scope, as Slack refuses it)."""
    assert emulator.bot_scopes is not None
    emulator.bot_scopes.add("files:read")


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=emulator.api_url)


@pytest.fixture
def bolt(emulator: SlackEmulator) -> Iterator[RunningServer]:
    """The Bolt test app served by waitress; the emulator's app_url points at it."""
    app = build_app(signing_secret=SIGNING_SECRET, token=BOT_TOKEN, api_url=emulator.api_url)
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    server = serve_wsgi(SlackRequestHandler(app), threads=8)
    emulator.app_url = server.url + "/slack/events"
    yield server
    server.stop()
