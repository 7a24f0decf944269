"""7. The lead watcher: how long until a change made in TeleCRM is told in its thread, and how many
requests a minute it sends (never more than ``TELECRM_WATCH_BUDGET_PER_MINUTE``).

Simulated time, real code: the real watcher (``commands/lead/watch.py``) on a real SQLite store, the
real TeleCRM client and the sandbox (in-process through ``httpx.WSGITransport``), all reading one
clock that the benchmark moves in the watcher's ticks. Hours of watching take a minute or two, and
the figures do not depend on the machine. 1,000 leads have a thread, 100 of them recently active;
every 30 seconds on average (at random moments) someone changes a lead in TeleCRM (``Sandbox.change_lead``), alternately a recently
active one and a quiet one not changed before. A change counts as told when the watcher has queued
its ``lead.changed_in_telecrm`` message (recorded in the same transaction; the message is posted by
the outbox worker milliseconds later, row 9's path).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from slack_sdk import WebClient

from bench.report import Row, verdict
from bench.stats import percentile
from commands.lead.watch import WATCH_NAME, tick_seconds, watch_leads
from commands.lead.watch_job import change_job_kind
from kit.config import Settings
from kit.services import Services
from kit.worker import Worker
from storage.cache import SchemaCache
from storage.db import Store
from storage.deliveries import Deliveries
from storage.outbox import Outbox
from telecrm.client import TeleCRMClient
from telecrm.sandbox import Sandbox
from telecrm.sandbox import leads as sandbox_leads

LEADS = 1000
ACTIVE = 100
BUDGET = 60
INTERVAL = 120.0
DAY = 86400.0
CHANGE_EVERY = 30.0  # mean seconds between two changes made in TeleCRM
START = 1_800_000_000.0  # the simulated "now" the watch begins at (2027)


class SimClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingTransport(httpx.BaseTransport):
    """The sandbox in-process; each request is noted at its simulated time."""

    def __init__(self, app: Any, clock: SimClock) -> None:
        self._inner = httpx.WSGITransport(app=app)
        self._clock = clock
        self.sent: list[tuple[float, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((self._clock(), request.url.path))
        return self._inner.handle_request(request)


def max_in_window(times: list[float], window: float = 60.0) -> int:
    """The most requests sent within any ``window`` seconds (each request starting a window)."""
    ordered = sorted(times)
    best = 0
    j = 0
    for i, start in enumerate(ordered):
        while j < len(ordered) and ordered[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best


@dataclass
class Outcome:
    mode: str
    active: list[float] = field(default_factory=list)
    idle: list[float] = field(default_factory=list)
    missed: int = 0
    max_per_minute: int = 0
    mean_per_minute: float = 0.0
    wall: float = 0.0


@contextmanager
def quick_sandbox_search() -> Iterator[None]:
    """The sandbox compares every lead with every value of a search and normalises each phone again
    each time (fine for tests, slow for a thousand leads an hour): remember the normalisations. The
    answers, and so every simulated figure, are the same; only the benchmark's wall time shrinks."""
    original = sandbox_leads.phone_match_key
    sandbox_leads.phone_match_key = functools.lru_cache(maxsize=None)(original)  # type: ignore[assignment]  # the same function, cached
    try:
        yield
    finally:
        sandbox_leads.phone_match_key = original  # type: ignore[assignment]  # put back as it was


def simulate(
    workdir: Path, *, batched: bool, hours: float, warmup: float, leads: int = LEADS, seed: int = 7
) -> Outcome:
    with quick_sandbox_search():
        return _simulate(workdir, batched=batched, hours=hours, warmup=warmup, leads=leads, seed=seed)


def _simulate(workdir: Path, *, batched: bool, hours: float, warmup: float, leads: int, seed: int) -> Outcome:
    clock = SimClock(START - 30 * DAY)
    sandbox = Sandbox()
    state = sandbox._state  # the sandbox's own clock follows the simulation (epoch ms)
    state.clock = lambda: int(clock() * 1000)
    transport = CountingTransport(sandbox, clock)
    client = TeleCRMClient(
        base_url="http://sandbox/autoupdate/v2",
        enterprise_id=sandbox.enterprise_id,
        sync_token=sandbox.sync_token,
        transport=transport,
    )
    store = Store(workdir / f"watch-{'batched' if batched else 'single'}.sqlite3")
    settings = Settings(
        database_path=str(store.path),
        lead_watch_seconds=INTERVAL,
        telecrm_watch_budget_per_minute=BUDGET,
    )
    cache = SchemaCache(
        store,
        client.fetch_schema,
        ttl_seconds=10 * DAY * 365,
        clock=clock,
        enterprise_id=sandbox.enterprise_id,
    )
    cache.refresh()
    services = Services(
        settings=settings,
        store=store,
        cache=cache,
        telecrm=client,
        worker=Worker(Outbox(store, clock=clock), clock=clock),  # not started: messages stay queued
        slack=WebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/"),
        deliveries=Deliveries(store, clock=clock),
        clock=clock,
    )
    services.worker.register(change_job_kind(services))
    rng = random.Random(seed)
    ids: list[str] = []
    with store.transaction():
        for n in range(leads):
            phone = f"91987{n:07d}"
            lead_id = state.create_lead({"fields": {"phone": phone, "name": f"Lead {n}", "status": "Fresh"}})[
                "lead_id"
            ]
            shown = sandbox.lead(lead_id) or {}
            fields = {**shown.get("fields", {}), "created_on": shown.get("created_on")}
            services.threads.remember(lead_id, "C1", f"{n}.000100", identifier=phone, name=f"Lead {n}")
            services.watches.baseline(lead_id, {**fields, "modified_on": shown.get("modified_on")})
            ids.append(lead_id)
    clock.now = START - 3600
    for lead_id in ids[:ACTIVE]:  # touched through the bot an hour ago: recently active
        services.watches.wrote(lead_id)
    if not batched:
        services.watches.note(WATCH_NAME, "no_batch", True)
    clock.now = START
    tick = tick_seconds(INTERVAL)
    quiet = list(ids[ACTIVE:])
    rng.shuffle(quiet)
    pending: dict[str, tuple[float, str]] = {}
    outcome = Outcome("batched lead search" if batched else "one lead per request")
    changes_end = START + warmup + hours * 3600
    give_up = changes_end + 3 * 3600  # after the last change, at most this long for it to be told
    next_change = START + warmup
    turn = 0
    wall = time.monotonic()
    while clock.now < changes_end or (pending and clock.now < give_up):
        if next_change <= clock.now < changes_end:
            kind = "active" if turn % 2 == 0 else "idle"
            lead_id = rng.choice(ids[:ACTIVE]) if kind == "active" else quiet.pop()
            if lead_id not in pending:
                now_status = (sandbox.lead(lead_id) or {}).get("fields", {}).get("status")
                sandbox.change_lead(
                    lead_id, {"status": "Qualified" if now_status == "Contacted" else "Contacted"}
                )
                # it happened at some moment since the watcher's last run
                pending[lead_id] = (clock.now - rng.uniform(0, tick), kind)
            turn += 1
            next_change += rng.expovariate(1 / CHANGE_EVERY)  # at random moments
        report = watch_leads(services, owner="bench")
        for lead_id in report.found:
            if lead_id in pending:
                changed_at, kind = pending.pop(lead_id)
                (outcome.active if kind == "active" else outcome.idle).append(clock.now - changed_at)
        clock.now += tick
    outcome.wall = time.monotonic() - wall
    outcome.missed = len(pending)
    measured = [t for t, _ in transport.sent if START + warmup <= t < changes_end]
    outcome.max_per_minute = max_in_window([t for t, _ in transport.sent if t >= START])
    minutes = (changes_end - START - warmup) / 60
    outcome.mean_per_minute = len(measured) / minutes if minutes else 0.0
    store.close()
    client.close()
    sandbox.close()
    return outcome


def _latency(values: list[float]) -> str:
    if not values:
        return "none measured"
    return f"p50 {percentile(values, 50):,.0f} s / p95 {percentile(values, 95):,.0f} s (n={len(values)})"


def rows_for(outcome: Outcome, hours: float) -> list[Row]:
    setting = (
        f"{LEADS:,} watched leads ({ACTIVE} recently active), budget {BUDGET}/min, "
        f"LEAD_WATCH_SECONDS {INTERVAL:.0f}, {outcome.mode}, {hours:g} h of changes simulated"
    )
    ok = outcome.max_per_minute <= BUDGET
    result = (
        f"recently active: {_latency(outcome.active)}; idle: {_latency(outcome.idle)}; "
        f"not told within 3 h: {outcome.missed}; requests in any 60 s at most {outcome.max_per_minute}, "
        f"{outcome.mean_per_minute:.1f}/min on average; {outcome.wall:.0f} s of wall time"
    )
    return [
        Row(
            "Lead watcher: TeleCRM change → thread",
            setting,
            result,
            f"≤ {BUDGET} requests in any 60 s",
            verdict(ok),
        )
    ]


def run(workdir: Path, *, quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    """Both ways of reading: 100 leads per lead search (the default), and one lead per request (a
    TeleCRM that refuses a search on a list of identifiers, or threads whose identifier is unknown)."""
    hours = 0.5 if quick else 1.0
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    for batched, warmup in ((True, 600.0), (False, 1800.0)):
        outcome = simulate(workdir, batched=batched, hours=hours, warmup=warmup)
        rows += rows_for(outcome, hours)
        raw[outcome.mode] = {
            "active_s": outcome.active,
            "idle_s": outcome.idle,
            "missed": outcome.missed,
            "max_per_minute": outcome.max_per_minute,
            "mean_per_minute": outcome.mean_per_minute,
            "wall_s": outcome.wall,
        }
    return rows, raw
