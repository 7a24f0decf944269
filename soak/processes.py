"""The bot as a separate process (as in production) beside a TeleCRM sandbox and a Slack emulator
served from this process, so a test or a soak run sees both sides and can ``kill -9`` the bot."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_emulator import SlackEmulator
from slack_emulator import serve_in_thread as serve_emulator
from telecrm.sandbox import Sandbox
from telecrm.sandbox import serve_in_thread as serve_sandbox

SIGNING_SECRET = "soak-signing-secret-0123456789"
BOT_TOKEN = "xoxb-soak-bot-token"
PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    """One ``telecrm-bot serve`` process; ``start`` waits until it logs ``ready_line``."""

    def __init__(self, env: dict[str, str], port: int, cwd: Path) -> None:
        self.env, self.port, self.cwd = env, port, cwd
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_line: str = "Slack Request URL", timeout: float = 30) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "serve"]
            + ["--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        self.output = []

        def drain(stream: Any) -> None:
            for line in stream:
                self.output.append(line)
                if ready_line in line:
                    ready.set()
            ready.set()  # the process ended

        threading.Thread(target=drain, args=(self.proc.stdout,), daemon=True).start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            raise RuntimeError("the bot process did not start:\n" + "".join(self.output[-40:]))

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> str:
        """SIGTERM: the bot finishes in-flight work and exits; queued writes stay in SQLite."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return "".join(self.output)


@dataclass
class World:
    """TeleCRM and Slack stand-ins on loopback, and the environment a bot process needs to use them."""

    sandbox: Sandbox
    emulator: SlackEmulator
    env: dict[str, str]
    workdir: Path

    def bot(self) -> BotProcess:
        """A new bot process (not started) on this world's database; Slack delivers to the latest one."""
        bot = BotProcess(self.env, free_port(), self.workdir)
        self.emulator.app_url = bot.url + "/slack/events"
        return bot

    def outbox(self) -> list[dict[str, Any]]:
        """``telecrm-bot outbox --json``: the writes not finished yet."""
        out = subprocess.run(
            [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "outbox", "--json"],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout)

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            with self.emulator.ws.cond:  # woken by any Slack call; TeleCRM changes are polled
                self.emulator.ws.cond.wait(0.2)


@contextmanager
def world(workdir: Path, wrap: Callable[[Any], Any] | None = None, **env: str) -> Iterator[World]:
    """The stand-ins, served; ``wrap`` may wrap the sandbox's WSGI app (to watch requests arrive)."""
    sandbox = Sandbox()
    sandbox_server = serve_sandbox(wrap(sandbox.wsgi_app) if wrap else sandbox)
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    emulator_server = serve_emulator(emulator)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELECRM_"))}
    full_env = {
        **base,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": emulator.api_url,
        "TELECRM_API_URL": sandbox_server.url + "/autoupdate/v2",
        "TELECRM_ASYNC_API_URL": sandbox_server.url,
        "TELECRM_ENTERPRISE_ID": sandbox.enterprise_id,
        "TELECRM_SYNC_TOKEN": sandbox.sync_token,
        "DATABASE_PATH": str(workdir / "bot.sqlite3"),
        "PAYMENT_WATCH_SECONDS": "0",
        "PYTHONPATH": str(PROJECT),
        **env,
    }
    try:
        yield World(sandbox, emulator, full_env, workdir)
    finally:
        emulator_server.stop()
        sandbox_server.stop()
