"""``kill -9`` of the real bot process in the middle of an import: the restarted process resumes
after the last row sent, reconciles the row whose request was in flight, and no lead or payment is
lost or doubled."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from slack_sdk import WebClient

from soak.processes import BOT_TOKEN, BotProcess
from soak.processes import world as stand_ins
from storage.db import Store
from storage.import_sending import ImportSending
from storage.imports import CheckedRow, Imports
from tests.conftest import CHANNEL, USER
from tests.import_sending.conftest import lead_body, phone

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

ROWS = 24
KILL_AT = 8  # the Async request during which the bot is killed


class HoldAsyncRequest:
    """WSGI wrapper: the ``KILL_AT``-th Async request is held (in flight) for a while, then applied."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0
        self.arrived = threading.Event()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/autoupdatelead"):
            self.count += 1
            if self.count == KILL_AT:
                self.arrived.set()
                time.sleep(1.5)  # the bot is killed while it waits for this answer
        return self.app(environ, start_response)


def start_import(w, rows: int) -> tuple[str, str, Imports, Store]:
    """An import of ``rows`` rows (each with a payment) in the world's database, its preview posted
    and *Import N valid rows* pressed. Returns (import id, thread ts, imports, store)."""
    store = Store(w.env["DATABASE_PATH"])
    imports = Imports(store)
    record = imports.create(
        file_sha256="f" * 64, file_name="leads.csv", source="slack", on_existing="update", user_id=USER
    )
    bodies = [lead_body(n, payment=str(1000 + n)) for n in range(rows)]
    imports.replace_rows(
        record.id,
        mapping={"Phone": "phone"},
        total_rows=rows,
        problems={},
        problem_rows=0,
        rows=[CheckedRow(n + 2, b["fields"]["phone"], b) for n, b in enumerate(bodies)],
    )
    slack = WebClient(token=BOT_TOKEN, base_url=w.emulator.api_url)
    parent = slack.chat_postMessage(channel=CHANNEL, text="Import of leads.csv")
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": f"Import {rows} valid rows"},
        "action_id": "import_confirm",
        "value": record.id,
    }
    preview = slack.chat_postMessage(
        channel=CHANNEL,
        thread_ts=parent["ts"],
        text="Preview",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    imports.set_thread(record.id, channel=CHANNEL, thread_ts=parent["ts"])
    w.emulator.click_button(user=USER, action_id="import_confirm", channel=CHANNEL, message_ts=preview["ts"])
    return record.id, parent["ts"], imports, store


def wait_for_summary(w, thread_ts: str) -> str:
    def summary() -> str | None:
        texts = [m.get("text", "") for m in w.emulator.replies(CHANNEL, thread_ts)]
        return next((t for t in texts if t.startswith("*Import of")), None)

    return w.wait(summary, timeout=90, what="the import's summary")


def assert_each_row_once(w, rows: int) -> None:
    for n in range(rows):
        lead = w.sandbox.find_lead(phone(n))
        assert lead is not None, f"row {n} was lost"
        amounts = [a["amount"] for a in w.sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"]
        assert amounts == [str(1000 + n)], f"row {n}: payments {amounts}"
    assert len([lead for lead in w.sandbox.leads() if lead["fields"]["name"].startswith("Imported")]) == rows


def started(w, **kw) -> BotProcess:
    bot = BotProcess(w.env, w.bot().port, w.workdir)
    w.emulator.app_url = bot.url + "/slack/events"
    bot.start(**kw)
    return bot


ENV = {
    # above the 1.5 s the held request takes; a killed process's lease (kit/worker.py lease_for:
    # 2 × (timeout + 2 s)) runs out 9 s after it died
    "TELECRM_TIMEOUT_SECONDS": "2.5",
    "TELECRM_ASYNC_RATE_PER_HOUR": "18000",
    "IMPORT_VERIFY_WAIT_SECONDS": "3",
    "LEAD_INDEX_DAYS": "0",
}


def test_kill_9_mid_import_resumes_with_nothing_lost_or_doubled(tmp_path):
    holds: list[HoldAsyncRequest] = []

    def wrap(app):
        holds.append(HoldAsyncRequest(app))
        return holds[0]

    with stand_ins(tmp_path, wrap=wrap, **ENV) as w:
        w.env["TELECRM_ASYNC_TOKEN"] = w.sandbox.async_token
        first = started(w, ready_line="Workspace schema refreshed")
        import_id, thread_ts, imports, store = start_import(w, ROWS)
        assert holds[0].arrived.wait(30), "the import never got to the request it is killed in"
        first.kill9()
        assert imports.row_counts(import_id)["sent"] == KILL_AT - 1
        # the row in flight: recorded as attempted, never marked sent, and TeleCRM applies it anyway
        assert [a.row_no for a in ImportSending(store).unknown_attempts(import_id)] == [KILL_AT + 1]
        second = started(w)
        text = wait_for_summary(w, thread_ts)
        second.terminate()
        assert f"{ROWS} rows sent" in text and f"{ROWS} found" in text
        assert_each_row_once(w, ROWS)
        store.close()


def test_a_stopped_bot_ends_its_import_run_and_the_next_start_resumes_it(tmp_path):
    with stand_ins(tmp_path, **{**ENV, "TELECRM_ASYNC_RATE_PER_HOUR": "7200"}) as w:  # 2 rows a second
        w.env["TELECRM_ASYNC_TOKEN"] = w.sandbox.async_token
        first = started(w, ready_line="Workspace schema refreshed")
        import_id, thread_ts, imports, store = start_import(w, 12)
        w.wait(lambda: imports.row_counts(import_id)["sent"] >= 3, timeout=30, what="a few rows sent")
        first.terminate()  # SIGTERM: the run ends at once instead of holding the shutdown for the import
        assert first.proc.returncode == 0
        assert 3 <= imports.row_counts(import_id)["sent"] < 12
        second = started(w)
        text = wait_for_summary(w, thread_ts)
        second.terminate()
        assert "12 rows sent" in text and "12 found" in text
        assert_each_row_once(w, 12)
        store.close()
