"""5. Memory: resident set size of the bot process, idle and while it handles 1,000 (2,000) commands,
or, as a soak (``python -m bench --only memory --commands 100000``, ``python -m soak.memory``), as
many as asked.

The bot runs as its own process (``python -m bot.cli serve``); its ``VmRSS`` is read from
``/proc/<pid>/status`` after start-up, after every step of commands (each step fully written to
TeleCRM and posted to Slack), and again after a few idle seconds at the end. A step is 100 commands,
or a hundredth of a longer run, so every run has at most about a hundred samples.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.report import Row, mib, verdict
from bench.stats import trend_per_1000
from bench.workspaces import inline_create_text, next_phone

log = logging.getLogger(__name__)

TARGET_KIB = 90 * 1024
STEP = 100
# A run this long or longer is a soak, judged by the bound on growth in its second half;
# shorter runs are still mostly start-up (thread pools, connections, caches filling), so they are
# held to a looser bound that only a leak of about 2 KB a command would break.
SOAK_FROM = 20_000
SOAK_TREND_LIMIT_MIB_PER_1000 = 0.05
TREND_LIMIT_MIB_PER_1000 = 2.0
# a soak reports acknowledgements slower than Slack's 3 s (a busy shared machine has pauses) and
# stops only when more than this share of commands went unanswered or were answered late
SOAK_FAILURES_ALLOWED = 0.01


def second_half_trend(samples: list[tuple[int, int]]) -> float:
    """MiB per 1,000 commands over the second half of (commands, RSS KiB) samples."""
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) < 2:
        return 0.0
    return trend_per_1000([c for c, _ in half], [kib / 1024 for _, kib in half])


def step_for(total: int) -> int:
    """Commands between two samples: 100, or a hundredth of a long run (in whole hundreds)."""
    return max(STEP, (total // 100) // STEP * STEP)


def trend_limit(total: int) -> float:
    return SOAK_TREND_LIMIT_MIB_PER_1000 if total >= SOAK_FROM else TREND_LIMIT_MIB_PER_1000


def _drive(
    bot: harness.AppProcess, stand_ins: harness.StandIns, total: int
) -> tuple[list[tuple[int, int]], list[str]]:
    """Send ``total`` commands step by step; RSS after each step, once every write has landed."""
    step = step_for(total)
    samples: list[tuple[int, int]] = [(0, bot.rss_kib())]
    failures: list[str] = []
    sandbox = stand_ins.sandbox
    started = time.monotonic()
    for done in range(step, total + 1, step):
        base = sandbox.write_count()
        texts = [inline_create_text(next_phone()) for _ in range(step)]
        burst = harness.fire(stand_ins.emulator, bot.events_url, texts, 10)
        failures += burst.failures
        if len(failures) > max(3, SOAK_FAILURES_ALLOWED * done):
            raise RuntimeError(f"{len(failures)} of {done} commands failed, e.g. {failures[:3]}")
        landed = step - sum(1 for f in burst.failures if not f.startswith("acknowledged after"))
        harness.wait_until(lambda base=base, n=landed: sandbox.write_count() >= base + n, timeout=600)
        harness.wait_until(lambda: harness.outbox_idle(bot), timeout=300)
        samples.append((done, bot.rss_kib()))
        log.info(
            "memory after %d commands: %s (%.0f commands/s)",
            done,
            mib(samples[-1][1]),
            done / (time.monotonic() - started),
        )
    return samples, failures


def run(workdir: Path, *, quick: bool, total: int | None = None) -> tuple[list[Row], dict[str, Any]]:
    total = total or (1000 if quick else 2000)
    started = time.monotonic()
    with harness.StandIns() as stand_ins:
        bot = harness.start_bot(stand_ins, workdir, name="bot-memory")
        with bot:
            time.sleep(1.0)  # let start-up threads (cache warm-up, scheduler) settle before the idle sample
            samples, failures = _drive(bot, stand_ins, total)
            time.sleep(3.0 if quick else 10.0)
            after_idle = bot.rss_kib()
            db_bytes = sum(p.stat().st_size for p in workdir.glob("bot-memory.sqlite3*"))
    idle = samples[0][1]
    peak = max(kib for _, kib in samples + [(total, after_idle)])
    trend = second_half_trend(samples)
    limit = trend_limit(total)
    every = max(500, total // 10)
    trail = ", ".join(f"{c}: {kib / 1024:.1f}" for c, kib in samples if c % every == 0 or c == samples[1][0])
    at_1000 = dict(samples).get(1000, samples[-1][1])
    slow = f"; {len(failures)} acknowledged late or not at all" if failures else ""
    rows = [
        Row(
            "Memory (RSS of the bot process)",
            f"idle, then {total:,} inline /lead creates in steps of {step_for(total):,}",
            f"idle {mib(idle)}; "
            + (f"after 1000 {mib(at_1000)}; " if total > 1000 else "")
            + f"after {total:,} {mib(samples[-1][1])}; "
            f"after idling {mib(after_idle)}; "
            f"peak {mib(peak)}; trend over the last {total // 2:,}: {trend:+.2f} MB/1000 commands "
            f"(MB after N commands: {trail}); database {db_bytes / 2**20:.0f} MB"
            f"{slow}; {(time.monotonic() - started) / 60:.0f} min",
            f"≤ {TARGET_KIB // 1024} MB, growth ≤ {limit:g} MB/1000 over the second half",
            verdict(peak <= TARGET_KIB and trend <= limit),
        )
    ]
    raw = {
        "idle_kib": idle,
        "after_idle_kib": after_idle,
        "peak_kib": peak,
        "samples_commands_kib": samples,
        "second_half_trend_mib_per_1000": trend,
        "trend_limit_mib_per_1000": limit,
        "database_bytes": db_bytes,
        "failures": failures[:20],
        "failure_count": len(failures),
    }
    return rows, raw
