"""5. Memory: resident set size of the bot process, idle and while it handles 1,000 (2,000) commands.

The bot runs as its own process (``python -m bot.cli serve``); its ``VmRSS`` is read from
``/proc/<pid>/status`` after start-up, after every 100 commands (each batch fully written to TeleCRM
and posted to Slack), and again after a few idle seconds at the end.
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
# allocations that grow and then plateau (thread stacks, SQLite page caches, connection pools) are
# not a leak; a leak keeps growing through the second half of the run
TREND_LIMIT_MIB_PER_1000 = 2.0


def second_half_trend(samples: list[tuple[int, int]]) -> float:
    """MiB per 1,000 commands over the second half of (commands, RSS KiB) samples."""
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) < 2:
        return 0.0
    return trend_per_1000([c for c, _ in half], [kib / 1024 for _, kib in half])


def run(workdir: Path, *, quick: bool, total: int | None = None) -> tuple[list[Row], dict[str, Any]]:
    total = total or (1000 if quick else 2000)
    samples: list[tuple[int, int]] = []
    with harness.StandIns() as stand_ins:
        bot = harness.start_bot(stand_ins, workdir, name="bot-memory")
        with bot:
            time.sleep(1.0)  # let start-up threads (cache warm-up, scheduler) settle before the idle sample
            idle = bot.rss_kib()
            samples.append((0, idle))
            sandbox = stand_ins.sandbox
            for done in range(STEP, total + 1, STEP):
                base = sandbox.write_count()
                texts = [inline_create_text(next_phone()) for _ in range(STEP)]
                burst = harness.fire(stand_ins.emulator, bot.events_url, texts, 10)
                if burst.failures:
                    raise RuntimeError(f"commands failed: {burst.failures[:3]}")
                harness.wait_until(lambda base=base: sandbox.write_count() >= base + STEP, timeout=120)
                harness.wait_until(lambda: harness.outbox_idle(bot), timeout=60)
                samples.append((done, bot.rss_kib()))
                log.info("memory after %d commands: %s", done, mib(samples[-1][1]))
            time.sleep(3.0 if quick else 10.0)
            after_idle = bot.rss_kib()
    peak = max(kib for _, kib in samples + [(total, after_idle)])
    trend = second_half_trend(samples)
    trail = ", ".join(f"{c}: {kib / 1024:.1f}" for c, kib in samples if c % 500 == 0 or c == STEP)
    at_1000 = dict(samples).get(1000, samples[-1][1])
    rows = [
        Row(
            "Memory (RSS of the bot process)",
            f"idle, then {total} inline /lead creates in batches of {STEP}",
            f"idle {mib(idle)}; "
            + (f"after 1000 {mib(at_1000)}; " if total > 1000 else "")
            + f"after {total} {mib(samples[-1][1])}; "
            f"after idling {mib(after_idle)}; "
            f"peak {mib(peak)}; trend over the last {total // 2}: {trend:+.1f} MB/1000 commands "
            f"(MB after N commands: {trail})",
            f"≤ 90 MB, no growth trend (≤ {TREND_LIMIT_MIB_PER_1000:g} MB/1000)",
            verdict(peak <= TARGET_KIB and trend <= TREND_LIMIT_MIB_PER_1000),
        )
    ]
    raw = {
        "idle_kib": idle,
        "after_idle_kib": after_idle,
        "peak_kib": peak,
        "samples_commands_kib": samples,
        "second_half_trend_mib_per_1000": trend,
    }
    return rows, raw
