"""3. End-to-end overhead: from Slack sending ``/lead …`` to the lead card reaching Slack, minus the
time the stand-ins themselves spent serving the bot.

Commands are sent one at a time (each after the previous one has fully finished), so every request
the sandbox and the emulator serve inside a command's window belongs to that command. Their busy
time is measured inside their WSGI apps; what remains is the bot: Bolt, the acknowledgement, the
outbox, the worker, rendering, its HTTP clients — and, conservatively, the stand-ins' own HTTP
parsing, which happens outside their WSGI apps.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness
from bench.report import Row, ms, verdict
from bench.stats import median, percentile, union_length
from bench.workspaces import inline_create_text, next_phone

log = logging.getLogger(__name__)

TARGET = 0.030


@dataclass(frozen=True)
class Sample:
    total: float
    stand_ins: float

    @property
    def overhead(self) -> float:
        return self.total - self.stand_ins


def one_command(stand_ins: harness.StandIns, bot: harness.AppProcess) -> Sample:
    harness.wait_until(lambda: harness.outbox_idle(bot), timeout=30, what="the bot's outbox to drain")
    text = inline_create_text(next_phone())
    sent = time.monotonic()
    delivery = stand_ins.emulator.slash_command("/lead", text, user=harness.USER, channel=harness.CHANNEL)
    if delivery.status != 200 or delivery.body.strip():
        raise RuntimeError(f"/lead was not queued: HTTP {delivery.status} {delivery.body[:200]}")
    card = stand_ins.slack_time.wait_for("/chat.postMessage", after=sent, timeout=15)
    busy = stand_ins.telecrm_time.intervals() + stand_ins.slack_time.intervals()
    return Sample(total=card.end - sent, stand_ins=union_length(busy, sent, card.end))


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    runs, per_run = (3, 15) if quick else (5, 40)
    run_medians: list[tuple[float, float, float]] = []
    samples: list[Sample] = []
    with harness.StandIns() as stand_ins:
        bot = harness.start_bot(stand_ins, workdir, name="bot-e2e")
        with bot:
            stand_ins.emulator.app_url = bot.events_url
            for _ in range(5):  # first commands fetch the user's profile and open connections
                one_command(stand_ins, bot)
            cards_before = len(stand_ins.emulator.messages(harness.CHANNEL))
            for r in range(runs):
                batch = [one_command(stand_ins, bot) for _ in range(per_run)]
                samples += batch
                run_medians.append(
                    (
                        median(s.overhead for s in batch),
                        median(s.total for s in batch),
                        median(s.stand_ins for s in batch),
                    )
                )
                log.info("e2e run %d: overhead %s median", r + 1, ms(run_medians[-1][0]))
            cards = len(stand_ins.emulator.messages(harness.CHANNEL)) - cards_before
    if cards != runs * per_run:
        raise RuntimeError(f"expected {runs * per_run} lead cards, Slack got {cards}")
    overhead = median(m[0] for m in run_medians)
    total = median(m[1] for m in run_medians)
    busy = median(m[2] for m in run_medians)
    p90 = percentile([s.overhead for s in samples], 90)
    rows = [
        Row(
            "End-to-end overhead, inline /lead → lead card",
            f"sandbox 0 s, {runs}×{per_run} commands one at a time",
            f"{ms(overhead)} median (p90 {ms(p90)}); whole path {ms(total)} of which stand-ins {ms(busy)}",
            "≤ 30 ms median",
            verdict(overhead <= TARGET),
        )
    ]
    raw = {
        "overhead_median_s": overhead,
        "overhead_p90_s": p90,
        "total_median_s": total,
        "stand_ins_median_s": busy,
        "run_medians": run_medians,
    }
    return rows, raw
