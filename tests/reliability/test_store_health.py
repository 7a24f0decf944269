"""The bot's SQLite file cannot be written (disk full, read-only) or cannot be used at all.

While it cannot be written, Slack still gets its 200 (never a 500 that Slack shows as an app
failure), the user reads "Not saved … try again", nothing reaches TeleCRM, and ``/healthz`` says
which state the store is in. Once the file is fixed, everything works again.

How the outages are produced, for real:

* **full**: ``PRAGMA max_page_count`` capped at the file's current size on every connection, then
  the tables a Slack gesture writes to are filled to the brim: SQLite itself answers
  SQLITE_FULL ("database or disk is full"), exactly as on a full disk.
* **read-only**: SQLite opens a file read-only when it may not write to it (a chmod'd file, a
  read-only mount). Tests run as root, and root may write to any file, so the test opens the file
  with ``mode=ro`` instead: the same read-only connection, the same SQLITE_READONLY on every write.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.runtime import Runtime
from kit import ids
from kit.config import Settings
from slack_emulator import SlackEmulator
from storage.db import Store, open_connection
from storage.health import StoreHealth, outage_state
from telecrm.sandbox import Sandbox
from tests.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET, USER, Bot

ROOT = Path(__file__).resolve().parents[2]
NOT_SAVED = "Not saved"


# --- producing the outages --------------------------------------------------------------------------


def read_only(path: str) -> sqlite3.Connection:
    uri = f"file:{urllib.parse.quote(path)}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=5, isolation_level=None, check_same_thread=False)


def _fill(conn: sqlite3.Connection, sql: str, make_row: Any) -> None:
    """Insert the smallest rows until SQLite refuses: any real row, larger, no longer fits."""
    for n in range(100_000):
        try:
            conn.execute(sql, make_row(n))
        except sqlite3.OperationalError as exc:
            assert "full" in str(exc)
            return
    raise AssertionError("the capped database never filled up")


def fill_the_disk(bot: Bot) -> None:
    store = bot.services.store
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]

    def capped(path: str) -> sqlite3.Connection:
        conn = open_connection(path)
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    filler = capped(store.path)
    filler.execute("PRAGMA busy_timeout = 5000")
    _fill(filler, "INSERT INTO deliveries (key, seen_at) VALUES (?, 0)", lambda n: [f"~{n}"])
    _fill(
        filler,
        "INSERT INTO outbox (key, kind, payload, state, next_attempt_at, created_at, updated_at) "
        "VALUES (?, 'x', '{}', 'done', 0, 0, 0)",
        lambda n: [f"~{n}"],
    )
    filler.close()
    store.opener = capped
    store.reset_connections()


def make_read_only(bot: Bot) -> None:
    bot.services.store.opener = read_only
    bot.services.store.reset_connections()


BREAK = {"full": fill_the_disk, "read-only": make_read_only}


def fix(bot: Bot, how: str) -> None:
    """The operator frees space / makes the file writable again."""
    store = bot.services.store
    store.opener = open_connection
    if how == "full":
        conn = open_connection(store.path)
        conn.execute("DELETE FROM deliveries WHERE key LIKE '~%'")
        conn.execute("DELETE FROM outbox WHERE key LIKE '~%'")
        conn.close()
        # the test's "disk size" is a limit on each connection: a bigger disk means reopening them
        # (the bot itself does not reopen for a full disk: that would not free any space)
        store.reset_connections()


# --- looking at the bot -----------------------------------------------------------------------------


@pytest.fixture
def bot(make_bot: Any) -> Bot:
    started = make_bot()
    started.services.store.health.interval = 0  # every health check probes: no waiting in tests
    return started


def healthz(bot: Bot) -> httpx.Response:
    return httpx.get(bot.runtime.http.url + "/healthz")


def readyz(bot: Bot) -> httpx.Response:
    return httpx.get(bot.runtime.http.url + "/readyz")


def told_not_saved(bot: Bot) -> list[dict[str, Any]]:
    return [e for e in bot.ephemerals(USER) if NOT_SAVED in e["text"]]


def cards(bot: Bot, name: str) -> list[dict[str, Any]]:
    return [
        m
        for m in bot.messages(CHANNEL)
        if name in json.dumps(m.get("blocks")) and ids.ACT_CARD_EDIT in json.dumps(m.get("blocks"))
    ]


def open_new_lead_form(bot: Bot) -> dict[str, Any]:
    bot.command("/lead")
    return bot.wait(lambda e: e.open_views(USER))[-1]


# --- the tests --------------------------------------------------------------------------------------


def test_health_and_readiness_of_a_writable_store(bot: Bot) -> None:
    answer = healthz(bot)
    assert answer.status_code == 200
    assert answer.json()["ok"] is True and answer.json()["store"] == "ok"
    assert answer.json()["schema"] == "loaded"
    ready = readyz(bot)
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "schema": "loaded", "store": "ok"}


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_a_command_is_answered_not_saved_and_health_says_why(bot: Bot, how: str, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    writes = bot.telecrm_writes()
    BREAK[how](bot)

    delivery = bot.emulator.slash_command(
        "/lead", 'name="Stuck Sam" phone=919800000901', user=USER, channel=CHANNEL
    )
    assert delivery.status == 200 and not delivery.timed_out
    assert NOT_SAVED in delivery.json["text"] and delivery.json["response_type"] == "ephemeral"
    assert not delivery.problems, delivery.problems
    assert len(told_not_saved(bot)) == 1
    bot.settle()
    assert bot.telecrm_writes() == writes

    health = healthz(bot)
    assert health.status_code == 503
    assert health.json()["ok"] is False and health.json()["store"] == how
    not_ready = readyz(bot)
    assert not_ready.status_code == 503
    assert not_ready.json()["missing"] == ["store"] and not_ready.json()["store"] == how
    # one line per request, no traceback
    assert not [r for r in caplog.records if r.exc_info]
    assert len([r for r in caplog.records if "not saved" in r.getMessage()]) == 1

    fix(bot, how)
    health = healthz(bot)
    assert health.status_code == 200 and health.json()["store"] == "ok"
    assert readyz(bot).status_code == 200
    bot.command("/lead", 'name="Stuck Sam" phone=919800000901')
    bot.wait(lambda e: cards(bot, "Stuck Sam"))
    bot.settle()
    assert len(told_not_saved(bot)) == 1


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_a_submitted_form_stays_open_with_not_saved_on_it(bot: Bot, how: str) -> None:
    view = open_new_lead_form(bot)
    BREAK[how](bot)
    values = {"phone": "9198000009 02", "name": "Form Fay"}
    answer = bot.emulator.submit_view(user=USER, values=values)
    assert answer.status == 200
    assert answer.json["response_action"] == "errors"
    (shown,) = answer.json["errors"].values()
    assert NOT_SAVED in shown
    (still_open,) = bot.emulator.open_views(USER)
    assert still_open["id"] == view["id"]
    bot.settle()
    assert bot.sandbox.find_lead("919800000902") is None

    fix(bot, how)
    assert healthz(bot).status_code == 200
    bot.emulator.submit_view(user=USER, values=values)
    bot.wait(lambda e: cards(bot, "Form Fay"))
    assert not bot.emulator.open_views(USER)


def test_a_button_click_is_acknowledged_and_the_user_told(bot: Bot) -> None:
    bot.command("/lead", 'name="Button Bea" phone=919800000903')
    (card,) = bot.wait(lambda e: cards(bot, "Button Bea"))
    bot.settle()
    make_read_only(bot)
    click = bot.emulator.click_button(
        user=USER, action_id=ids.ACT_CARD_TIMELINE, channel=CHANNEL, message_ts=card["ts"]
    )
    assert click.status == 200 and not click.timed_out
    bot.wait(lambda e: told_not_saved(bot))
    bot.settle()


def until(fetch: Any, predicate: Any, timeout: float = 10.0) -> Any:
    """``fetch()`` again, as a load balancer probes, until ``predicate`` holds for what it returns."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate(answer := fetch()):
        assert time.monotonic() < deadline, f"never happened; last answer: {answer}"
        pause.wait(0.02)
    return answer


def test_a_cold_start_is_not_ready_while_telecrm_is_unreachable_and_becomes_ready_by_itself(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox()
    sandbox.faults.fail_next(10_000, status=503)  # TeleCRM is down: nothing to load the schema from
    settings = Settings(
        database_path=str(tmp_path / "bot.sqlite3"),
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        telecrm_timeout_seconds=1,
        payment_watch_seconds=0,
    )
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    runtime = Runtime(settings, sandbox=sandbox, emulator=emulator, use_sandbox=True, use_emulator=True)
    runtime.schema_retry_seconds = 0.05  # production waits 5 s, doubling up to a minute
    runtime.build()
    http = runtime.start_http()
    try:
        waiting = until(lambda: httpx.get(http.url + "/readyz"), lambda r: "schema_error" in r.json())
        assert waiting.status_code == 503
        body = waiting.json()
        assert {k: body[k] for k in ("ready", "schema", "store", "missing")} == {
            "ready": False,
            "schema": "not loaded",
            "store": "ok",
            "missing": ["schema"],
        }
        assert "503" in body["schema_error"]  # why: what TeleCRM answered
        health = httpx.get(http.url + "/healthz")
        assert health.status_code == 200  # serving, just not ready
        assert health.json()["schema"] == "not loaded"

        sandbox.faults.clear()  # TeleCRM is back: no Slack request comes (the instance is not ready)
        assert runtime.schema_warmup is not None
        runtime.schema_warmup.join(10)  # the bot retries by itself
        ready = httpx.get(http.url + "/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "schema": "loaded", "store": "ok"}
        assert httpx.get(http.url + "/healthz").json()["schema"] == "loaded"
    finally:
        runtime.stop()


@pytest.mark.parametrize(
    ("message", "state"),
    [
        ("database or disk is full", "full"),
        ("attempt to write a readonly database", "read-only"),
        ("disk I/O error", "error: disk I/O error"),
        ("unable to open database file", "error: unable to open database file"),
        ("database is locked", None),  # contention, not an outage: the busy timeout handles it
        ("no such table: leads", None),  # a bug, reported as one
    ],
)
def test_which_errors_mean_the_store_cannot_be_written(message: str, state: str | None) -> None:
    assert outage_state(sqlite3.OperationalError(message)) == state


def test_health_checks_probe_the_store_at_most_once_per_interval(tmp_path: Path) -> None:
    now = [1000.0]
    with Store(tmp_path / "bot.sqlite3") as store:
        health = StoreHealth(store, interval=5.0, clock=lambda: now[0])
        probes: list[int] = []
        real_probe = health._write_probe
        health._write_probe = lambda: (probes.append(1), real_probe())[1]  # type: ignore[method-assign]
        assert {health.state() for _ in range(200)} == {"ok"}
        assert len(probes) == 1
        now[0] += 5.0
        health.state()
        assert len(probes) == 2


# --- a database that cannot be used at start ---------------------------------------------------------


def run_cli(args: list[str], database_path: Path, cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELECRM_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", "/dev/null", *args],
        env={**clean, "PYTHONPATH": str(ROOT), "DATABASE_PATH": str(database_path)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _garbage(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not a database, just some words " * 200)
    return path


def _truncated(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    with Store(path) as store, store.transaction() as db:
        for n in range(3000):
            db.execute("INSERT INTO deliveries (key, seen_at) VALUES (?, ?)", [f"delivery-{n:06d}", n])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    ("command", "make_path", "expected"),
    [
        (["serve", "--port", "0"], _garbage, "not a SQLite database"),
        (["run", "--port", "0"], _truncated, "damaged"),
        (["cache", "show"], lambda tmp: tmp, "directory"),
        (["outbox"], lambda tmp: tmp / "no-such-folder" / "bot.sqlite3", "does not exist"),
    ],
    ids=["serve-garbage", "run-truncated", "cache-show-directory", "outbox-missing-folder"],
)
def test_an_unusable_database_at_start_is_one_clear_line(
    tmp_path: Path, command: list[str], make_path: Any, expected: str
) -> None:
    path = make_path(tmp_path)
    result = run_cli(command, path, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert f"DATABASE_PATH={path}" in lines[0] and expected in lines[0]
