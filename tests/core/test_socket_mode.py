"""The real bot in Socket Mode: no Request URL, every Slack request over the emulator's WebSocket."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.cli import cmd_cache, cmd_socket
from bot.runtime import Runtime
from kit.config import Settings, load_settings
from slack_emulator import SlackEmulator
from slack_emulator import serve_in_thread as serve_emulator
from telecrm.sandbox import Sandbox
from telecrm.sandbox import serve_in_thread as serve_sandbox
from tests.conftest import BOT_TOKEN, CHANNEL, USER, Bot
from tests.emulator.test_socket_mode import close_from_slacks_side

APP_TOKEN = "xapp-1-A0TELECRMAPP-socket-test"
ROOT = Path(__file__).resolve().parents[2]


def lead_cards(bot: Bot) -> list[dict]:
    return [m for m in bot.messages() if "Socket Sam" in str(m.get("blocks"))]


@pytest.fixture
def socket_bot(tmp_path: Path) -> Iterator[Bot]:
    """Wired as `telecrm-bot socket` wires it: Runtime without an HTTP server, SocketModeHandler on top."""
    emulator = SlackEmulator(signing_secret="unused-in-socket-mode", bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    emulator_server = serve_emulator(emulator)
    settings = Settings(
        database_path=str(tmp_path / "bot.sqlite3"),
        slack_bot_token=BOT_TOKEN,
        slack_app_token=APP_TOKEN,
        slack_api_url=emulator.api_url,
        payment_watch_seconds=3600,
        telecrm_timeout_seconds=5,
    )
    runtime = Runtime(settings, sandbox=Sandbox(), emulator=emulator, use_sandbox=True, use_emulator=False)
    runtime.build()
    runtime.services.cache.refresh()
    runtime.start_background()
    handler = SocketModeHandler(runtime.app, APP_TOKEN)
    handler.connect()
    emulator.wait_for(lambda e: e.socket.connection_count == 1)
    yield Bot(runtime)
    close_from_slacks_side(emulator, handler)
    runtime.stop()
    emulator_server.stop()
    emulator.close()


def test_a_slash_command_over_the_socket_creates_the_lead_once(socket_bot: Bot) -> None:
    bot = socket_bot
    assert bot.runtime.http is None and bot.emulator.app_url is None

    delivery = bot.command("/lead", 'name="Socket Sam" phone=919811122233')
    bot.settle()

    assert delivery.envelope_id and delivery.elapsed < 3 and not delivery.problems
    (card,) = bot.wait(lambda e: lead_cards(bot))
    assert card["bot_id"]
    sams = [lead for lead in bot.sandbox.leads() if lead["fields"].get("name") == "Socket Sam"]
    assert len(sams) == 1 and sams[0]["fields"]["phone"] == "919811122233"


def test_a_modal_with_a_bad_value_comes_back_with_errors_over_the_socket(socket_bot: Bot) -> None:
    bot = socket_bot
    writes = bot.telecrm_writes()
    bot.command("/lead", "")
    bot.wait(lambda e: e.open_views(USER))

    answer = bot.emulator.submit_view(user=USER, values={"phone": "12ab", "name": "Jane"})

    assert answer.status == 200 and answer.envelope_id
    assert answer.json["response_action"] == "errors"
    assert "not a phone number" in answer.json["errors"]["phone"]
    (view,) = bot.emulator.open_views(USER)
    assert view["errors"] == answer.json["errors"]
    bot.settle()
    assert bot.telecrm_writes() == writes


# --- the `telecrm-bot socket` process ------------------------------------------------------------


class LogLines:
    """The process's stderr, line by line, so a test waits for what the bot says rather than sleeps."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"the bot never said {text!r}; it said:\n{''.join(self.lines)}")

    def rest(self, timeout: float = 10.0) -> str:
        """Everything until the stream closes."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            line = self._queue.get(timeout=remaining)
            if line is None:
                break
            self.lines.append(line)
        return "".join(self.lines)


def test_telecrm_bot_socket_serves_a_command_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox_server = serve_sandbox(sandbox)
    emulator = SlackEmulator(signing_secret="unused", bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    emulator_server = serve_emulator(emulator)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELECRM_", "DATABASE_"))}
    env = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": emulator.api_url,
        "TELECRM_API_URL": sandbox_server.url + "/autoupdate/v2",
        "TELECRM_ASYNC_API_URL": sandbox_server.url,
        "TELECRM_ENTERPRISE_ID": sandbox.enterprise_id,
        "TELECRM_SYNC_TOKEN": sandbox.sync_token,
        "TELECRM_ASYNC_TOKEN": sandbox.async_token,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    # as an operator would before the first start, so the command does not race the schema warm-up
    assert cmd_cache(load_settings(env, dotenv_path=None), "refresh") == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", "/dev/null", "socket"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = LogLines(process.stderr)
    try:
        log.wait_for("connected to Slack in Socket Mode")
        emulator.wait_for(lambda e: e.socket.connection_count == 1)
        delivery = emulator.slash_command(
            "/lead", 'name="Socket Sam" phone=919811122233', user=USER, channel=CHANNEL
        )
        assert delivery.status == 200 and delivery.envelope_id
        emulator.wait_for(lambda e: [m for m in e.messages(CHANNEL) if "Socket Sam" in str(m.get("blocks"))])
        sams = [lead for lead in sandbox.leads() if lead["fields"].get("name") == "Socket Sam"]
        assert [lead["fields"]["phone"] for lead in sams] == ["919811122233"]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        said = log.rest()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        emulator_server.stop()
        emulator.close()
        sandbox_server.stop()
    assert APP_TOKEN not in said and BOT_TOKEN not in said and sandbox.sync_token not in said
    assert "Traceback" not in said


def test_telecrm_bot_socket_says_why_slack_refused_the_app_token(tmp_path: Path, caplog) -> None:
    emulator = SlackEmulator(signing_secret="unused", bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    emulator_server = serve_emulator(emulator)
    settings = Settings(
        database_path=str(tmp_path / "bot.sqlite3"),
        slack_bot_token=BOT_TOKEN,
        slack_app_token="xapp-1-A0TELECRMAPP-revoked",
        slack_api_url=emulator.api_url,
    )
    try:
        assert cmd_socket(settings) == 1
    finally:
        emulator_server.stop()
        emulator.close()
    assert "Slack refused to open a Socket Mode connection: invalid_auth" in caplog.text
    assert "revoked" not in caplog.text
