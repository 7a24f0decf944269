"""4. Throughput: inline ``/lead`` creates acknowledged per second, each lead created exactly once.

The sandbox answers at once, so the bot's own work (Bolt, SQLite, the worker) is the limit. The bot,
the stand-ins and the load generator share the machine's cores.
"""

from __future__ import annotations

import collections
import logging
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.report import Row, verdict
from bench.stats import median
from bench.workspaces import inline_create_text, next_phone

log = logging.getLogger(__name__)

TARGET_PER_SECOND = 100.0
CONCURRENCY = 20


def exactly_once(sent_phones: list[str], stored_phones: list[str]) -> list[str]:
    """Problems with the leads TeleCRM holds: every phone sent stored once, nothing else created."""
    counts = collections.Counter(stored_phones)
    problems = []
    missing = [p for p in sent_phones if counts[p] == 0]
    twice = [p for p in sent_phones if counts[p] > 1]
    extra = sorted(set(counts) - set(sent_phones))
    if missing:
        problems.append(f"{len(missing)} lead(s) never created, e.g. {missing[0]}")
    if twice:
        problems.append(f"{len(twice)} lead(s) created more than once, e.g. {twice[0]}")
    if extra:
        problems.append(f"{len(extra)} unexpected lead(s), e.g. {extra[0]}")
    return problems


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    runs, per_run = (2, 300) if quick else (3, 1000)
    acked: list[float] = []
    created: list[float] = []
    sent: list[str] = []
    failures: list[str] = []
    with harness.StandIns() as stand_ins:
        bot = harness.start_bot(stand_ins, workdir, name="bot-throughput")
        with bot:
            emulator, sandbox = stand_ins.emulator, stand_ins.sandbox
            seeded = collections.Counter(str(lead["fields"].get("phone")) for lead in sandbox.leads())
            warm = [next_phone() for _ in range(20)]
            harness.fire(emulator, bot.events_url, [inline_create_text(p) for p in warm], 5)
            harness.wait_until(lambda: harness.outbox_idle(bot), timeout=60, what="warm-up writes")
            sent += warm
            cards_before = len(emulator.messages(harness.CHANNEL))
            for r in range(runs):
                phones = [next_phone() for _ in range(per_run)]
                base = sandbox.write_count()
                start = time.monotonic()
                burst = harness.fire(
                    emulator, bot.events_url, [inline_create_text(p) for p in phones], CONCURRENCY
                )
                harness.wait_until(
                    lambda base=base: sandbox.write_count() >= base + per_run,
                    timeout=600,
                    interval=0.01,
                    what=f"{per_run} leads in TeleCRM",
                )
                done = time.monotonic() - start
                harness.wait_until(lambda: harness.outbox_idle(bot), timeout=60, what="the outbox to drain")
                sent += phones
                failures += burst.failures
                acked.append(burst.per_second)
                created.append(per_run / done)
                log.info(
                    "throughput run %d: %.0f acks/s, all %d leads created in %.1fs (%.0f/s)",
                    r + 1,
                    burst.per_second,
                    per_run,
                    done,
                    per_run / done,
                )
            cards = len(emulator.messages(harness.CHANNEL)) - cards_before
            health = bot.health()
            stored = collections.Counter(str(lead["fields"].get("phone")) for lead in sandbox.leads())
    problems = exactly_once(sent, list((stored - seeded).elements()))
    if cards != runs * per_run:
        problems.append(f"{runs * per_run} commands but {cards} lead cards in Slack")
    failed = (health.get("outbox") or {}).get("failed", 0)
    if failed:
        problems.append(f"{failed} write(s) failed in the outbox")
    problems += failures[:5]
    best = median(acked)
    rows = [
        Row(
            "Throughput, inline /lead (sandbox 0 s)",
            f"{CONCURRENCY} concurrent, {runs}×{per_run} commands, bot + stand-ins + load on "
            f"{harness.usable_cores()} cores",
            f"{best:.0f} acks/s median; all leads created in TeleCRM at {median(created):.0f}/s; "
            + ("each lead created exactly once, one card each" if not problems else "; ".join(problems)),
            f"≥ {TARGET_PER_SECOND:.0f}/s, exactly once",
            verdict(best >= TARGET_PER_SECOND and not problems),
        )
    ]
    raw = {
        "acks_per_s_runs": acked,
        "created_per_s_runs": created,
        "concurrency": CONCURRENCY,
        "commands": runs * per_run,
        "problems": problems,
    }
    return rows, raw
