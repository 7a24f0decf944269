"""End-to-end harness: the real bot (Bolt app behind waitress, SQLite, worker) wired to the Slack
emulator and the TeleCRM sandbox, all on loopback, exactly as ``telecrm-bot run`` wires them."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.postgres import pg_url, postgres_server, postgres_url  # noqa: F401  # fixtures for every test folder

SIGNING_SECRET = "e2e-signing-secret-0123456789"
BOT_TOKEN = "xoxb-e2e-bot-token"
CHANNEL = "C0SALES"
USER = "U0RAHUL"  # a sales rep who is also a TeleCRM team member
ADMIN = "U0PRIYA"


@dataclass
class Bot:
    runtime: Any

    @property
    def sandbox(self) -> Any:
        return self.runtime.sandbox

    @property
    def emulator(self) -> Any:
        return self.runtime.emulator

    @property
    def services(self) -> Any:
        return self.runtime.services

    @property
    def settings(self) -> Any:
        return self.runtime.services.settings

    def command(
        self, command: str, text: str = "", *, user: str = USER, channel: str = CHANNEL, **kw: Any
    ) -> Any:
        """Send a signed slash command; asserts Slack got its acknowledgement in time."""
        delivery = self.emulator.slash_command(command, text, user=user, channel=channel, **kw)
        assert delivery.status == 200, (delivery.status, delivery.body)
        return delivery

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until the bot has finished everything it started: listeners still running after their
        ack, and the worker's writes and reads (a listener may queue work, work may post messages)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.1, deadline - time.monotonic())
            assert self.services.listeners.wait_idle(remaining), "Slack listeners did not finish in time"
            assert self.services.worker.wait_idle(remaining), "the bot's worker did not finish in time"
            if self.services.listeners.wait_idle(0) and self.services.worker.wait_idle(0):
                return
            assert time.monotonic() < deadline, "the bot did not settle in time"

    def wait(self, predicate: Callable[[Any], Any], timeout: float = 10.0) -> Any:
        return self.emulator.wait_for(predicate, timeout=timeout)

    def messages(self, channel: str = CHANNEL) -> list[dict[str, Any]]:
        return self.emulator.messages(channel)

    def ephemerals(self, user: str = USER) -> list[dict[str, Any]]:
        return self.emulator.ephemerals(user)

    def replies(self, thread_ts: str, channel: str = CHANNEL) -> list[dict[str, Any]]:
        return self.emulator.replies(channel, thread_ts)

    def telecrm_writes(self) -> int:
        return self.sandbox.write_count()


@functools.cache
def _migrated_database() -> Path:
    """A new database migrated to the current schema, once per test process: a test's bot starts from
    a copy (migrating a new file costs some 65 ms of CPU, and some 900 tests start a bot)."""
    from storage.db import Store

    folder = tempfile.mkdtemp(prefix="telecrm-bot-schema-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = Path(folder) / "bot.sqlite3"
    Store(str(path)).close()
    return path


def start_bot(
    tmp_path: Path,
    *,
    workspace: dict | None = None,
    emulator_kwargs: dict | None = None,
    http_limits: Any = None,
    cold: bool = False,
    prepare: Callable[[Any], None] | None = None,
    clock: Callable[[], float] | None = None,
    sandbox: Any = None,
    **settings_overrides: Any,
) -> Bot:
    """The bot, started with the workspace schema cached — or, ``cold``, with nothing cached, as on a
    first start (the bot's own warm-up fetch begins when it starts). ``prepare(runtime)`` runs before
    the bot takes requests: e.g. to make leads, then arm the sandbox's faults."""
    from bot.runtime import Runtime
    from kit.config import Settings
    from slack_emulator import SlackEmulator
    from telecrm.sandbox import Sandbox

    if sandbox is None:  # else the sandbox of a bot stopped before: a restart on the same TeleCRM
        sandbox = Sandbox(workspace)
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, **(emulator_kwargs or {}))
    database = tmp_path / "bot.sqlite3"
    if not database.exists():
        shutil.copy(_migrated_database(), database)  # the file and its owner-only mode
    settings = Settings(
        database_path=str(database),
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        payment_watch_seconds=3600,
        lead_index_days=0,  # no background reads of recent leads unless a test asks for them
        lead_watch_seconds=0,  # tests run the lead watcher themselves (commands/lead/watch.py)
        telecrm_timeout_seconds=5,
    ).with_overrides(**settings_overrides)
    runtime = Runtime(
        settings,
        sandbox=sandbox,
        emulator=emulator,
        use_sandbox=True,
        use_emulator=True,
        clock=clock or time.time,
    )
    runtime.build()
    if not cold:
        runtime.services.cache.refresh()  # before the server starts, so no warm-up fetch races a test's faults
    if prepare is not None:
        prepare(runtime)
    runtime.start_http(limits=http_limits)
    return Bot(runtime)


@pytest.fixture
def make_bot(tmp_path: Path) -> Iterator[Callable[..., Bot]]:
    started: list[Bot] = []

    def factory(**kw: Any) -> Bot:
        sub = tmp_path / f"bot{len(started)}"
        sub.mkdir()
        bot = start_bot(sub, **kw)
        started.append(bot)
        return bot

    yield factory
    for bot in started:
        bot.runtime.stop()


@pytest.fixture
def bot(make_bot: Callable[..., Bot]) -> Bot:
    return make_bot()
