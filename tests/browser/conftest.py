"""A real Chromium (Debian's, headless) driving the emulator's web page.

Chromium comes from `scripts/install-browser.sh` (run by `make test`); without it the browser tests are
skipped with that reason. `ui_emulator` is the emulator alone with a small Bolt app behind it; the
full-flow test uses the real bot from tests/conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from slack_emulator import SlackEmulator, serve_in_thread, serve_wsgi
from tests.emulator.bolt_fixture_app import build_app

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIGNING_SECRET = "browser-test-signing-secret"
BOT_TOKEN = "xoxb-browser-test"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots with UPDATE_SCREENSHOTS=1, else a temporary folder
    (so an ordinary test run leaves the work tree clean)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}: scripts/install-browser.sh (run by `make test`) "
            "could not install it; it needs Debian's apt-get and root or password-less sudo"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
            locale="en-GB",
            timezone_id="Asia/Kolkata",
        )
        context.set_default_timeout(10_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A fresh tab; a JavaScript error on the page fails the test."""
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture
def ui_emulator() -> Iterator[SlackEmulator]:
    """The emulator on loopback with the small Bolt test app as its bot."""
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    server = serve_in_thread(emulator, threads=8)
    app = build_app(signing_secret=SIGNING_SECRET, token=BOT_TOKEN, api_url=emulator.api_url)
    app.view("every_element")(lambda ack: ack())
    bolt = serve_wsgi(SlackRequestHandler(app), threads=8)
    emulator.app_url = bolt.url + "/slack/events"
    yield emulator
    emulator.ui.close()
    bolt.stop()
    server.stop()
    emulator.close()


@pytest.fixture
def web(ui_emulator: SlackEmulator) -> WebClient:
    """The bot's side: a WebClient on the emulator, to post what the page must show."""
    return WebClient(token=BOT_TOKEN, base_url=ui_emulator.api_url)
