"""2. Modal build: from ``/lead`` to the New lead ``views.open`` payload, for workspaces of 10–300 fields.

Two views of the same path:

* **in process** — what the /lead listener does between the acknowledgement and ``views.open``:
  plan the empty command, read the field-usage counts from SQLite, build the view with
  ``commands.lead.forms.new_lead_view`` and serialise it, on a schema loaded from the SQLite cache;
* **over HTTP** — from the moment Slack sends the slash command to the moment the bot's
  ``views.open`` request reaches Slack (the real bot process; includes Bolt, the acknowledgement,
  and the bot's HTTP client).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness
from bench.report import INFO, Row, ms, verdict
from bench.stats import growth_exponent, median
from bench.workspaces import workspace_with_fields

log = logging.getLogger(__name__)

SIZES = (10, 50, 100, 300)
TARGET_MEDIAN_AT_100 = 0.005


@dataclass
class ModalResult:
    fields: int
    blocks: int = 0
    payload_bytes: int = 0
    sqlite_load: float = 0.0
    build: float = 0.0  # median over runs of the per-run median, whole listener path (wall)
    build_cpu: float = 0.0
    view_only: float = 0.0  # new_lead_view alone (wall)
    view_only_cpu: float = 0.0
    http: float | None = None  # slash command sent → views.open received
    http_runs: list[float] = field(default_factory=list)


def _cache_schema(n: int, workdir: Path) -> tuple[Any, Any]:
    """Fetch an n-field workspace from a sandbox over HTTP and store it in SQLite, as the bot does."""
    from storage.cache import SchemaCache
    from storage.db import Store
    from telecrm.client import TeleCRMClient
    from telecrm.sandbox import Sandbox
    from telecrm.sandbox import serve_in_thread as serve_sandbox

    sandbox = Sandbox(workspace_with_fields(n))
    running = serve_sandbox(sandbox)
    client = TeleCRMClient(
        base_url=running.url + "/autoupdate/v2",
        enterprise_id=sandbox.enterprise_id,
        sync_token=sandbox.sync_token,
        timeout=10,
    )
    path = str(workdir / f"schema-{n}.sqlite3")
    store = Store(path)
    try:
        SchemaCache(store, client.fetch_schema, enterprise_id=sandbox.enterprise_id).refresh()
    finally:
        client.close()
        running.stop()
        sandbox.close()
        store.close()
    return path, sandbox.enterprise_id


def _no_fetch() -> Any:
    raise AssertionError("the benchmark reads the schema from SQLite only")


def _load_from_sqlite(path: str, enterprise_id: str) -> tuple[Any, float]:
    from storage.cache import SchemaCache
    from storage.db import Store

    store = Store(path)
    try:
        cache = SchemaCache(store, _no_fetch, enterprise_id=enterprise_id)
        start = time.perf_counter()
        schema = cache.cached()
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    if schema is None:
        raise RuntimeError("the schema was not found in SQLite")
    return schema, elapsed


def _timed(fn: Callable[[], Any], iterations: int) -> tuple[float, float]:
    """(median wall time, median CPU time of this thread) of one call.

    CPU time is what the code costs whatever else the machine is doing; wall time is what a user waits.
    """
    wall, cpu = [], []
    for _ in range(iterations):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return median(wall), median(cpu)


def _over_runs(fn: Callable[[], Any], iterations: int, runs: int) -> tuple[float, float]:
    """Medians over ``runs`` of the per-run medians."""
    measured = [_timed(fn, iterations) for _ in range(runs)]
    return median(m[0] for m in measured), median(m[1] for m in measured)


def measure_in_process(n: int, workdir: Path, *, runs: int, iterations: int) -> ModalResult:
    from commands.lead.command import plan_command
    from commands.lead.forms import new_lead_view
    from commands.lead.store import FieldUsage
    from slack_emulator import validate_view
    from storage.db import Store

    path, enterprise_id = _cache_schema(n, workdir)
    loads = []
    for _ in range(runs):
        schema, seconds = _load_from_sqlite(path, enterprise_id)
        loads.append(seconds)
    store = Store(path)
    try:
        usage = FieldUsage(store)
        rng = random.Random(n)
        names = [f.api_name for f in schema.fields]
        for _ in range(40):  # a few weeks of leads: some fields much more used than others
            usage.record(rng.sample(names, k=min(6, len(names))))
        member = schema.active_members[0].email if schema.active_members else None

        def listener_path() -> str:
            plan = plan_command(schema, "", default_country_code="91")
            assert plan.kind == "modal", plan
            view = new_lead_view(schema, channel=harness.CHANNEL, usage=usage.counts(), member_email=member)
            return json.dumps(view)

        counts = usage.counts()

        def view_only() -> Any:
            return new_lead_view(schema, channel=harness.CHANNEL, usage=counts, member_email=member)

        payload = listener_path()
        view = json.loads(payload)
        problems, _warnings = validate_view(view)
        if problems:
            raise RuntimeError(f"the {n}-field New lead view is not valid Block Kit: {problems}")
        for _ in range(max(10, iterations // 10)):  # warm caches and the allocator
            listener_path()
        build, build_cpu = _over_runs(listener_path, iterations, runs)
        alone, alone_cpu = _over_runs(view_only, iterations, runs)
        result = ModalResult(
            fields=n,
            blocks=len(view["blocks"]),
            payload_bytes=len(payload.encode()),
            sqlite_load=median(loads),
            build=build,
            build_cpu=build_cpu,
            view_only=alone,
            view_only_cpu=alone_cpu,
        )
    finally:
        store.close()
    return result


def measure_over_http(result: ModalResult, workdir: Path, *, commands: int) -> None:
    """Slash command sent → the bot's views.open reaches Slack, against a real bot process."""
    with harness.StandIns(workspace_with_fields(result.fields)) as stand_ins:
        bot = harness.start_bot(stand_ins, workdir, name=f"bot-modal-{result.fields}")
        with bot:
            emulator = stand_ins.emulator
            emulator.app_url = bot.events_url
            samples = []
            for i in range(commands + 3):
                sent = time.monotonic()
                delivery = emulator.slash_command("/lead", "", user=harness.USER, channel=harness.CHANNEL)
                if delivery.status != 200:
                    raise RuntimeError(f"/lead answered HTTP {delivery.status}")
                span = stand_ins.slack_time.wait_for("/views.open", after=sent, timeout=10)
                if i >= 3:  # the first commands fetch the user's profile (cached for ten minutes)
                    samples.append(span.start - sent)
            opened = [c for c in emulator.calls_to("views.open") if not c["ok"]]
            if opened:
                raise RuntimeError(f"views.open was refused: {opened[0]['error']} {opened[0]['messages']}")
    result.http_runs = samples
    result.http = median(samples)


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    runs, iterations, commands = (3, 60, 15) if quick else (5, 200, 40)
    results = []
    for n in SIZES:
        log.info("modal build: %d fields", n)
        r = measure_in_process(n, workdir, runs=runs, iterations=iterations)
        measure_over_http(r, workdir, commands=commands)
        results.append(r)
    rows = []
    by_size = {r.fields: r for r in results}
    exponent = growth_exponent([r.fields for r in results], [r.build for r in results])
    for r in results:
        target = "≤ 5 ms median" if r.fields == 100 else ""
        ok = verdict(r.build <= TARGET_MEDIAN_AT_100) if r.fields == 100 else INFO
        rows.append(
            Row(
                "Modal build (listener path, schema from SQLite)",
                f"{r.fields} fields → {r.blocks} blocks, {r.payload_bytes / 1024:.1f} KB",
                f"{ms(r.build)} median, CPU {ms(r.build_cpu)} (view alone {ms(r.view_only)}); "
                f"slash → views.open over HTTP {ms(r.http or 0)}; schema load from SQLite {ms(r.sqlite_load)}",
                target,
                ok,
            )
        )
    ratio = by_size[300].build / by_size[100].build
    rows.append(
        Row(
            "Modal build growth",
            "10 → 300 fields",
            f"time ∝ fields^{exponent:.2f}; 300 vs 100 fields: {ratio:.2f}× (linear would be 3×)",
            "at most linear",
            verdict(exponent <= 1.1 and ratio <= 3.3),
        )
    )
    raw = {
        str(r.fields): {
            "blocks": r.blocks,
            "payload_bytes": r.payload_bytes,
            "sqlite_load_s": r.sqlite_load,
            "listener_path_median_s": r.build,
            "listener_path_cpu_median_s": r.build_cpu,
            "view_only_median_s": r.view_only,
            "view_only_cpu_median_s": r.view_only_cpu,
            "http_median_s": r.http,
        }
        for r in results
    }
    raw["growth_exponent"] = exponent  # type: ignore[assignment]
    return rows, raw
