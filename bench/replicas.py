"""Several replicas on PostgreSQL: throughput of one SQLite process, one PostgreSQL replica and two
PostgreSQL replicas, outbox claims under contention, and how many workspaces one replica serves.

1. Throughput. Real ``telecrm-bot serve`` processes behind a round-robin load balancer
   (bench/balancer.py, in the bench process; every setup goes through it, one backend or two, so
   each pays the same hop). A fixed number of signed inline ``/lead name=… phone=…`` commands are
   sent at a fixed concurrency; acks/s is Slack's view of the burst, leads/s runs from the first
   command sent to the last lead card posted in Slack (every lead in the sandbox, exactly once).
   Measured with the sandbox answering at once (the bot's CPU is the limit) and after 100 ms (the
   worker's threads waiting on TeleCRM are the limit, and a second replica brings its own).
2. Outbox claims: bench/outbox_claims.py.
3. The estimate: the replicas' CPU per command (whole processes: acknowledgement, worker, card) at
   the assumed peak rate of a workspace of 100 reps (:class:`Estimate`).

The PostgreSQL server is a throw-away one in a temporary directory (bench/postgres_server.py), one fresh
database per setup; its CPU per command is reported apart from the bot's.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench import harness, outbox_claims
from bench.balancer import Balancer
from bench.postgres_server import PostgresServer, start_postgres
from bench.report import Row, ms
from bench.stats import median
from bench.throughput import exactly_once
from bench.workspaces import inline_create_text, next_phone
from slack_emulator import serve_wsgi

log = logging.getLogger(__name__)

CONCURRENCY = 16
SANDBOX_LATENCIES = (0.0, 0.1)
CLAIMERS = (1, 4)
# the estimate's assumptions: a rep's busiest hour, one replica's share of its core
PEAK_COMMANDS_PER_REP_HOUR = 30
REPS_PER_WORKSPACE = 100
CPU_BUDGET = 0.5  # a replica kept at half of one core, so acknowledgements stay quick at the peak


@dataclass(frozen=True)
class Setup:
    """Where the bot's data lives and how many replicas share it."""

    database: str  # "SQLite" or "PostgreSQL"
    replicas: int

    @property
    def label(self) -> str:
        return f"{self.database} ×{self.replicas}"


SETUPS = (Setup("SQLite", 1), Setup("PostgreSQL", 1), Setup("PostgreSQL", 2))


@dataclass
class Measured:
    """One setup at one sandbox latency, over its runs."""

    acks_per_s: list[float] = field(default_factory=list)
    created_per_s: list[float] = field(default_factory=list)
    bot_cpu_per_command: list[float] = field(default_factory=list)  # all replicas together
    db_cpu_per_command: list[float] = field(default_factory=list)
    # the bench's own process: the stand-ins, the balancer and the load generator, all on one GIL
    bench_cpu_per_command: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- pure helpers ----------------------------------------------------------------------------------------


def parent_pid(stat_text: str) -> int:
    """The parent's pid from /proc/<pid>/stat text (the command name may contain spaces)."""
    return int(stat_text.rsplit(")", 1)[1].split()[1])


def latency_label(seconds: float) -> str:
    """The sandbox's latency as a setting: "0 s", "100 ms"."""
    return "0 s" if seconds == 0 else f"{seconds * 1000:.0f} ms"


def ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median of one setup's runs over the median of another's (0 when the second is empty or 0)."""
    bottom = median(denominator) if denominator else 0.0
    return median(numerator) / bottom if bottom > 0 else 0.0


@dataclass(frozen=True)
class Estimate:
    """How many workspaces one replica serves at their peak, from its CPU per command."""

    cpu_per_command: float
    commands_per_rep_hour: float = PEAK_COMMANDS_PER_REP_HOUR
    reps: int = REPS_PER_WORKSPACE
    cpu_budget: float = CPU_BUDGET

    @property
    def workspace_per_second(self) -> float:
        return self.commands_per_rep_hour * self.reps / 3600

    @property
    def replica_per_second(self) -> float:
        return self.cpu_budget / self.cpu_per_command

    @property
    def workspaces(self) -> int:
        return int(self.replica_per_second / self.workspace_per_second)

    def arithmetic(self) -> str:
        return (
            f"{self.reps} reps × {self.commands_per_rep_hour:g} commands/h = "
            f"{self.reps * self.commands_per_rep_hour:,.0f}/h = {self.workspace_per_second:.2f}/s a workspace; "
            f"a replica at {self.cpu_budget:.0%} of one core ÷ {ms(self.cpu_per_command)} CPU per command = "
            f"{self.replica_per_second:.0f} commands/s; {self.replica_per_second:.0f} ÷ "
            f"{self.workspace_per_second:.2f} = {self.workspaces} workspaces"
        )


# --- PostgreSQL and the replicas ---------------------------------------------------------------------------


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


def fresh_database(server: PostgresServer, name: str) -> str:
    """A new empty database on ``server``; its URL."""
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url(name)


def postgres_cpu_seconds(server: PostgresServer) -> float:
    """CPU time so far of the server and its processes (backends that already ended are not counted;
    the replicas' pooled connections live through a measurement)."""
    if server.process is None:
        return 0.0
    root, total, tick = server.process.pid, 0.0, os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (proc / "stat").read_text()
            if int(proc.name) == root or parent_pid(stat) == root:
                total += harness.cpu_seconds_from_stat(stat, tick)
    return total


# --- 1. throughput -------------------------------------------------------------------------------------------


def _cards(stand_ins: harness.StandIns) -> int:
    """Lead cards in the channel (a deep copy of the channel: counted once a setup is done)."""
    return len(stand_ins.emulator.messages(harness.CHANNEL))


def _posts_since(stand_ins: harness.StandIns, since: float) -> int:
    """Messages posted since ``since``, from the emulator's request log: cheap enough to poll, unlike
    reading the channel, which copies every message under the lock that posting needs."""
    return sum(
        1 for s in stand_ins.slack_time.spans() if s.start >= since and s.path.endswith("/chat.postMessage")
    )


def _one_run(
    stand_ins: harness.StandIns, front_url: str, bots: list[harness.AppProcess], per_run: int
) -> tuple[float, float, list[str], list[str]]:
    """One burst: acks/s, leads created and carded per second, the phones sent, the failures."""
    phones = [next_phone() for _ in range(per_run)]
    start = time.monotonic()
    burst = harness.fire(stand_ins.emulator, front_url, [inline_create_text(p) for p in phones], CONCURRENCY)
    harness.wait_until(
        lambda: _posts_since(stand_ins, start) >= per_run,
        timeout=600,
        interval=0.02,
        what=f"{per_run} lead cards",
    )
    done = time.monotonic() - start
    harness.wait_until(
        lambda: all(harness.outbox_idle(b) for b in bots), timeout=60, what="the outboxes to drain"
    )
    return burst.per_second, per_run / done, phones, burst.failures


@contextlib.contextmanager
def replicas_behind_balancer(
    stand_ins: harness.StandIns, workdir: Path, tag: str, count: int, database_url: str | None
) -> Iterator[tuple[list[harness.AppProcess], str]]:
    """``count`` replicas on one database behind a round-robin balancer: the replicas, the Request URL."""
    bots: list[harness.AppProcess] = []
    balancer = Balancer()
    front = None
    try:
        for i in range(count):
            bots.append(
                harness.start_bot(stand_ins, workdir, name=f"{tag}-r{i + 1}", database_url=database_url)
            )
        balancer.backends = [b.url for b in bots]
        front = serve_wsgi(balancer, threads=CONCURRENCY)
        yield bots, front.url + "/slack/events"
    finally:
        if front is not None:
            front.stop()
        balancer.close()
        for bot in bots:
            bot.stop()


def _phones_stored(stand_ins: harness.StandIns) -> collections.Counter[str]:
    return collections.Counter(str(lead["fields"].get("phone")) for lead in stand_ins.sandbox.leads())


def measure_setup(
    setup: Setup,
    workdir: Path,
    server: PostgresServer,
    *,
    latency: float,
    runs: int,
    per_run: int,
) -> Measured:
    """Start the setup's replicas, warm them up, and send ``runs`` bursts of ``per_run`` commands."""
    measured = Measured()
    tag = f"{setup.database.lower()}{setup.replicas}_{int(latency * 1000)}ms"
    url = fresh_database(server, tag) if setup.database == "PostgreSQL" else None
    with (
        harness.StandIns() as stand_ins,
        replicas_behind_balancer(stand_ins, workdir, tag, setup.replicas, url) as (bots, events_url),
    ):
        seeded = _phones_stored(stand_ins)
        # first commands open connections and fetch the user's profile: not measured
        _, _, sent, failures = _one_run(stand_ins, events_url, bots, 10 * len(bots))
        stand_ins.sandbox.faults.latency = latency
        for r in range(runs):
            cpu_before, bench_before = sum(b.cpu_seconds() for b in bots), time.process_time()
            db_before = postgres_cpu_seconds(server) if url else 0.0
            acks, created, phones, failed = _one_run(stand_ins, events_url, bots, per_run)
            cpu = sum(b.cpu_seconds() for b in bots) - cpu_before
            measured.bot_cpu_per_command.append(cpu / per_run)
            measured.bench_cpu_per_command.append((time.process_time() - bench_before) / per_run)
            if url:
                measured.db_cpu_per_command.append((postgres_cpu_seconds(server) - db_before) / per_run)
            measured.acks_per_s.append(acks)
            measured.created_per_s.append(created)
            sent += phones
            failures += failed
            log.info(
                "replicas %s, sandbox %s: run %d %.0f acks/s, %.0f leads/s",
                setup.label,
                latency_label(latency),
                r + 1,
                acks,
                created,
            )
        measured.problems = exactly_once(sent, list((_phones_stored(stand_ins) - seeded).elements()))
        measured.problems += failures[:5]
        cards = _cards(stand_ins)
        if cards != len(sent):
            measured.problems.append(f"{len(sent)} commands but {cards} lead cards in Slack")
        posts = _posts_since(stand_ins, 0.0)
        if posts != cards:  # leads/s counts posts: each must be a card
            measured.problems.append(f"{posts} messages posted for {cards} lead cards")
    return measured


def _setup_result(m: Measured) -> str:
    cpu = f"CPU per command: bot {ms(median(m.bot_cpu_per_command))}"
    if m.db_cpu_per_command:
        cpu += f", PostgreSQL {ms(median(m.db_cpu_per_command))}"
    cpu += f", stand-ins + balancer + load {ms(median(m.bench_cpu_per_command))}"
    once = "; ".join(m.problems) if m.problems else "each lead created exactly once, one card each"
    return (
        f"{median(m.acks_per_s):.0f} acks/s; {median(m.created_per_s):.0f} leads created and carded/s "
        f"(median of runs); {cpu}; {once}"
    )


def _throughput_rows(results: dict[float, dict[Setup, Measured]], runs: int, per_run: int) -> list[Row]:
    rows = []
    for latency, by_setup in results.items():
        setting = (
            f"sandbox {latency_label(latency)}, {CONCURRENCY} concurrent, {runs}×{per_run} commands "
            f"through a round-robin balancer, all on {harness.usable_cores()} cores"
        )
        for setup, m in by_setup.items():
            rows.append(Row(f"Replicas: throughput, inline /lead, {setup.label}", setting, _setup_result(m)))
        single, double = by_setup[Setup("PostgreSQL", 1)], by_setup[Setup("PostgreSQL", 2)]
        rows.append(
            Row(
                "Replicas: PostgreSQL ×2 / ×1",
                f"sandbox {latency_label(latency)}",
                f"acks/s {ratio(double.acks_per_s, single.acks_per_s):.2f}×; leads/s "
                f"{ratio(double.created_per_s, single.created_per_s):.2f}×",
            )
        )
    return rows


# --- 2. claims ----------------------------------------------------------------------------------------------


def _claim_rows(server: PostgresServer, workdir: Path, rows: int) -> tuple[list[Row], dict[str, Any]]:
    table: list[Row] = []
    raw: dict[str, Any] = {}
    for database in ("PostgreSQL", "SQLite"):
        for claimers in CLAIMERS:
            tag = f"claims_{database.lower()}_{claimers}"
            if database == "PostgreSQL":
                url = fresh_database(server, tag)
            else:
                url = f"sqlite:///{workdir / (tag + '.sqlite3')}"
            run = outbox_claims.measure(url, claimers=claimers, rows=rows)
            log.info(
                "claims %s ×%d: p50 %s p99 %s", database, claimers, ms(run.latency.p50), ms(run.latency.p99)
            )
            table.append(
                Row(
                    f"Replicas: outbox claim under contention, {database}",
                    f"{claimers} claimer process(es), {rows} ready rows, Outbox.claim",
                    f"p50 {ms(run.latency.p50)} / p99 {ms(run.latency.p99)} per claim; "
                    f"{run.rows_per_second:,.0f} rows/s; {run.claimed} of {rows} claimed, "
                    f"{run.twice} claimed twice; the busiest claimer took {run.busiest}",
                    "no row claimed twice",
                    "met" if run.twice == 0 and run.claimed == rows else "MISSED",
                )
            )
            raw[tag] = {
                "p50_s": run.latency.p50,
                "p99_s": run.latency.p99,
                "rows_per_s": run.rows_per_second,
                "claimed": run.claimed,
                "claimed_twice": run.twice,
                "busiest_claimer": run.busiest,
            }
    return table, raw


# --- the section -----------------------------------------------------------------------------------------


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    runs, per_run, claim_rows = (1, 200, 500) if quick else (3, 500, 2000)
    results: dict[float, dict[Setup, Measured]] = {}
    with postgres() as server:
        for latency in SANDBOX_LATENCIES:
            results[latency] = {
                setup: measure_setup(setup, workdir, server, latency=latency, runs=runs, per_run=per_run)
                for setup in SETUPS
            }
        claims, claims_raw = _claim_rows(server, workdir, claim_rows)
    rows = _throughput_rows(results, runs, per_run)
    single = results[0.0][Setup("PostgreSQL", 1)]
    estimate = Estimate(median(single.bot_cpu_per_command))
    rows += claims
    rows.append(
        Row(
            "Replicas: workspaces of 100 reps one replica serves at their peak (paper estimate)",
            f"CPU per command of one PostgreSQL replica, sandbox 0 s; {PEAK_COMMANDS_PER_REP_HOUR} "
            "commands per rep in the peak hour",
            estimate.arithmetic(),
        )
    )
    raw: dict[str, Any] = {
        "concurrency": CONCURRENCY,
        "runs": runs,
        "commands_per_run": per_run,
        "throughput": {
            f"{latency}s": {setup.label: vars(m) for setup, m in by_setup.items()}
            for latency, by_setup in results.items()
        },
        "claims": claims_raw,
        "estimate": {"workspaces": estimate.workspaces, "arithmetic": estimate.arithmetic()},
    }
    return rows, raw
