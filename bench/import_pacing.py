"""Bulk import pacing: how many of the Async requests TeleCRM allows does an import send, and how many
429s does it get (kit/imports/pacing.py, kit/imports/sending.py).

Real time, real code, a scaled limit: the sandbox's Async limiter (a sliding window, documented as
18,000 requests an hour) runs on a clock 60× fast, so its "hour" is one real minute, and its limit
is set to 600 requests: 600 a minute. The bot's ``TELECRM_ASYNC_RATE_PER_HOUR`` is set to the same
rate (36,000 an hour = 600 a minute). The real sender (``Sender``, the same object the outbox job
runs) sends an import of more rows than fit for ``minutes`` minutes through the real TeleCRM client
to the sandbox (in-process through ``httpx.WSGITransport``), on a real SQLite store; then it is
stopped. Allowed = the limit × the minutes (a sliding window starting empty allows exactly that).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from slack_sdk import WebClient

from bench.report import Row, verdict
from kit.config import Settings
from kit.imports.sending import Sender
from kit.services import Services
from kit.worker import Worker
from storage.cache import SchemaCache
from storage.db import Store
from storage.deliveries import Deliveries
from storage.imports import CheckedRow
from storage.outbox import Outbox
from telecrm.client import TeleCRMClient
from telecrm.sandbox import Sandbox
from telecrm.sandbox.faults import Faults

SPEED_UP = 60.0  # sandbox seconds per real second: its hour is a real minute
LIMIT = 600  # Async requests per sandbox "hour" = per real minute


def _services(sandbox: Sandbox, workdir: Path) -> Services:
    client = TeleCRMClient(
        base_url="http://sandbox/autoupdate/v2",
        async_base_url="http://sandbox",
        enterprise_id=sandbox.enterprise_id,
        sync_token=sandbox.sync_token,
        async_token=sandbox.async_token,
        transport=httpx.WSGITransport(app=sandbox),
    )
    store = Store(workdir / "pacing.sqlite3")
    settings = Settings(database_path=str(store.path), telecrm_async_rate_per_hour=int(LIMIT * 3600 / 60))
    cache = SchemaCache(store, client.fetch_schema, ttl_seconds=1e9, enterprise_id=sandbox.enterprise_id)
    return Services(
        settings=settings,
        store=store,
        cache=cache,
        telecrm=client,
        worker=Worker(Outbox(store)),  # not started: the sender runs in this thread
        slack=WebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/"),
        deliveries=Deliveries(store),
    )


def run(workdir: Path, *, quick: bool = False) -> list[Row]:
    minutes = 1.0 if quick else 3.0
    sandbox = Sandbox()
    start = time.monotonic()
    sandbox.faults = Faults(clock=lambda: start + (time.monotonic() - start) * SPEED_UP)
    sandbox.faults.async_rate_limit_per_hour = LIMIT
    services = _services(sandbox, workdir)
    rows = int(LIMIT * minutes * 1.5)  # more than fit: the import is still sending when it is stopped
    record = services.imports.create(
        file_sha256="0" * 64, file_name="bench.csv", source="cli", on_existing="update"
    )
    services.imports.replace_rows(
        record.id,
        mapping={"Phone": "phone"},
        total_rows=rows,
        problems={},
        problem_rows=0,
        rows=(
            CheckedRow(n + 2, f"9197{n:08d}", {"fields": {"phone": f"9197{n:08d}", "name": f"Bench {n}"}})
            for n in range(rows)
        ),
    )
    services.imports.move(record.id, to="sending", only_from=("preview",))
    stop = threading.Event()
    sender = Sender(services, record.id, owner="bench", on_progress=lambda p: None, stop=stop)
    timer = threading.Timer(minutes * 60, stop.set)
    began = time.monotonic()
    timer.start()
    try:
        sender.run()
    finally:
        timer.cancel()
    elapsed = time.monotonic() - began
    posts = [r for r in sandbox.request_log if r.path.endswith("/autoupdatelead")]
    accepted = sum(1 for r in posts if r.status == 200)
    refused = sum(1 for r in posts if r.status == 429)
    allowed = int(LIMIT * minutes)
    share = accepted / allowed
    sandbox.close()
    services.store.close()
    return [
        Row(
            "Import pacing (Async API, scaled limit)",
            f"sandbox limit {LIMIT} per 60 s (sliding), TELECRM_ASYNC_RATE_PER_HOUR={LIMIT * 60:,}, "
            f"{minutes:.0f} min real time",
            f"{accepted:,} requests accepted of {allowed:,} allowed ({share:.1%}) in {elapsed:.0f} s; "
            f"{refused} × 429; {accepted / elapsed * 60:.0f}/min",
            "≥ 98 % of allowed, zero 429s",
            verdict(share >= 0.98 and refused == 0),
        )
    ]


def _preview(services: Services, rows: int) -> tuple[str, str, str]:
    """An import of ``rows`` valid rows (each with a payment) and its preview in #sales with the
    *Import N valid rows* button, as the preview leaves it. Returns (import id, thread ts, preview ts)."""
    record = services.imports.create(
        file_sha256="e" * 64, file_name="e2e.csv", source="slack", on_existing="update", user_id="U0RAHUL"
    )
    bodies = [
        {
            "fields": {"phone": f"9196{n:08d}", "name": f"E2E {n}"},
            "actions": [
                {"type": "PAYMENT", "amount": str(100 + n), "currency": "INR", "status": "COMPLETED"}
            ],
        }
        for n in range(rows)
    ]
    services.imports.replace_rows(
        record.id,
        mapping={"Phone": "phone", "Name": "name"},
        total_rows=rows,
        problems={},
        problem_rows=0,
        rows=[CheckedRow(n + 2, b["fields"]["phone"], b) for n, b in enumerate(bodies)],
    )
    parent = services.slack.chat_postMessage(channel="C0SALES", text="Import of e2e.csv")
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": f"Import {rows} valid rows"},
        "action_id": "import_confirm",
        "value": record.id,
    }
    preview = services.slack.chat_postMessage(
        channel="C0SALES",
        thread_ts=parent["ts"],
        text="Preview",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    services.imports.set_thread(record.id, channel="C0SALES", thread_ts=parent["ts"])
    return record.id, str(parent["ts"]), str(preview["ts"])


def run_e2e(workdir: Path, *, quick: bool = False) -> list[Row]:
    """200 rows, each with a payment, from *Import 200 valid rows* to the summary: the real bot
    (in-process ``Runtime``: Bolt behind waitress, the worker, SQLite) with the Slack emulator and the
    TeleCRM sandbox on loopback, at the default pace (18,000 an hour: 5 rows a second)."""
    from bot.runtime import Runtime
    from commands.lead_import.sending_listeners import register_sending
    from slack_emulator import SlackEmulator

    rows = 50 if quick else 200
    emulator = SlackEmulator(signing_secret="bench-signing-secret-0123456789", bot_token="xoxb-bench")
    settings = Settings(
        database_path=str(workdir / "e2e-import.sqlite3"),
        slack_signing_secret="bench-signing-secret-0123456789",
        slack_bot_token="xoxb-bench",
        lead_index_days=0,
        lead_watch_seconds=0,
        payment_watch_seconds=3600,
        import_verify_wait_seconds=30,
    )
    sandbox = Sandbox()
    runtime = Runtime(settings, sandbox=sandbox, emulator=emulator, use_sandbox=True, use_emulator=True)
    services = runtime.build()
    services.cache.refresh()
    register_sending(runtime.app, services)
    runtime.start_http()
    try:
        import_id, thread_ts, preview_ts = _preview(services, rows)
        began = time.monotonic()
        emulator.click_button(
            user="U0RAHUL", action_id="import_confirm", channel="C0SALES", message_ts=preview_ts
        )

        def summary(em: SlackEmulator) -> str | None:
            texts = [m.get("text", "") for m in em.replies("C0SALES", thread_ts)]
            return next((t for t in texts if t.startswith("*Import of")), None)

        text = emulator.wait_for(summary, timeout=rows / 5 + 120)
        took = time.monotonic() - began
        counts = services.imports.row_counts(import_id)
        updates = sum(1 for c in emulator.ws.calls if c["method"] == "chat.update")
        once = all(
            len([a for a in sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"]) == 1
            for lead in sandbox.leads()
            if lead["fields"].get("name", "").startswith("E2E ")
        )
    finally:
        runtime.stop()
    ok = counts["verified"] == rows and once and f"{rows} found" in text
    return [
        Row(
            "Import end to end (emulator + sandbox)",
            f"{rows} rows each with a payment, TELECRM_ASYNC_RATE_PER_HOUR=18,000 (default), sandbox applies Async at once",
            f"click → summary {took:.1f} s ({rows / took:.1f} rows/s); {counts['verified']} of {rows} verified; "
            f"each payment once: {'yes' if once else 'NO'}; progress message updated {updates}× in place",
            "every row verified, each payment once",
            verdict(ok),
        )
    ]
