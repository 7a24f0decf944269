"""``kill -9`` of the real ``telecrm-bot serve`` process: nothing accepted is lost, nothing is doubled.

The bot runs as a separate process (as in production); the Slack emulator and the TeleCRM sandbox
run in the test process, so the test sees both sides.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from slack_emulator import SlackEmulator
from slack_emulator import serve_in_thread as serve_emulator
from telecrm.sandbox import Sandbox
from telecrm.sandbox import serve_in_thread as serve_sandbox
from tests.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET, USER

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ArrivalWatch:
    """WSGI wrapper that signals when a lead create reaches TeleCRM (before TeleCRM answers)."""

    def __init__(self, app) -> None:
        self.app = app
        self.arrived = threading.Event()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/lead"):
            self.arrived.set()
        return self.app(environ, start_response)


class BotProcess:
    def __init__(self, env: dict[str, str], port: int, cwd: Path) -> None:
        self.env, self.port, self.cwd = env, port, cwd
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_line: str = "Workspace schema refreshed") -> None:
        """Start and wait for ``ready_line`` in the log (by default: serving, with the schema cache warm)."""
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "--env-file",
                "/nonexistent",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        self.output: list[str] = []

        def drain(stream) -> None:
            for line in stream:
                self.output.append(line)
                if ready_line in line:
                    ready.set()
            ready.set()  # the process ended

        threading.Thread(target=drain, args=(self.proc.stdout,), daemon=True).start()
        assert ready.wait(30), "the bot process did not start"
        assert self.proc.poll() is None, "".join(self.output)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> str:
        """SIGTERM: the bot finishes in-flight work and exits; queued writes stay in SQLite."""
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return "".join(self.output)


@pytest.fixture
def world(tmp_path):
    sandbox = Sandbox()
    watch = ArrivalWatch(sandbox.wsgi_app)
    sandbox_server = serve_sandbox(watch)
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    emulator_server = serve_emulator(emulator)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELECRM_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": emulator.api_url,
        "TELECRM_API_URL": sandbox_server.url + "/autoupdate/v2",
        "TELECRM_ASYNC_API_URL": sandbox_server.url,
        "TELECRM_ENTERPRISE_ID": sandbox.enterprise_id,
        "TELECRM_SYNC_TOKEN": sandbox.sync_token,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "TELECRM_TIMEOUT_SECONDS": "10",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    bot = BotProcess(env, port, tmp_path)
    emulator.app_url = bot.url + "/slack/events"
    yield sandbox, watch, emulator, bot, env
    bot.terminate()
    emulator_server.stop()
    sandbox_server.stop()


QUEUED_WORDS = ("queued", "will be sent", "retried automatically")


def cards(emulator, name: str) -> list[dict]:
    return [
        m
        for m in emulator.messages(CHANNEL)
        if name in json.dumps(m.get("blocks") or []) and "lead_card_edit" in json.dumps(m.get("blocks") or [])
    ]


def outbox(env) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", "/nonexistent", "outbox", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_kill_9_between_accept_and_telecrm_answer(world):
    sandbox, watch, emulator, bot, env = world
    bot.start()
    sandbox.faults.latency = 2.0  # TeleCRM is slow: the write is in flight when the bot dies
    delivery = emulator.slash_command(
        "/lead", 'name="Killed Kiran" phone=919800000666', user=USER, channel=CHANNEL
    )
    assert delivery.status == 200 and not delivery.timed_out
    assert watch.arrived.wait(15), "the write never reached TeleCRM"
    bot.kill9()

    pending = outbox(env)
    assert [p["kind"] for p in pending] and all(p["state"] in {"pending", "running"} for p in pending)

    sandbox.faults.latency = 0
    bot.start(ready_line="Slack Request URL")  # the schema is cached in SQLite already
    emulator.wait_for(lambda emu: cards(emu, "Killed Kiran"), timeout=30)
    assert len([lead for lead in sandbox.leads() if lead["fields"].get("name") == "Killed Kiran"]) == 1
    assert len(cards(emulator, "Killed Kiran")) == 1
    bot.terminate()  # finishes the in-flight write before exiting
    assert outbox(env) == []


def test_write_queued_while_telecrm_is_down_lands_after_restart(world):
    sandbox, watch, emulator, bot, env = world
    bot.start()
    sandbox.faults.fail_next(1000, status=503, path_contains="/lead")
    emulator.slash_command("/lead", 'name="Patient Pooja" phone=919800000777', user=USER, channel=CHANNEL)
    emulator.wait_for(
        lambda emu: any(w in json.dumps(e).lower() for e in emu.ephemerals(USER) for w in QUEUED_WORDS),
        timeout=20,
    )
    bot.terminate()  # a graceful stop: the queued write stays in SQLite

    assert [p["kind"] for p in outbox(env)], "the queued write was not kept"
    sandbox.faults.clear()
    bot.start(ready_line="Slack Request URL")
    emulator.wait_for(lambda emu: cards(emu, "Patient Pooja"), timeout=30)
    assert len([lead for lead in sandbox.leads() if lead["fields"].get("name") == "Patient Pooja"]) == 1
