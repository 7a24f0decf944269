"""1. Acknowledgement latency of inline ``/lead`` creates, against a bare Bolt app that only acks.

Both apps run side by side as separate processes on the same waitress server (``bot/server.py``),
driven by the same emulator; runs alternate between them so background noise hits both alike.
TeleCRM (the sandbox) answers after 2 s, so the bot's worker is busy and its outbox keeps growing
while the acknowledgements are measured — the acknowledgement must not care.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bench import harness
from bench.report import Row, ms, verdict
from bench.stats import Latency, median_latency
from bench.workspaces import inline_create_text, next_phone

log = logging.getLogger(__name__)

LEVELS = (1, 10, 50)
SANDBOX_LATENCY = 2.0
TARGET_RATIO = 1.25


def _batch(n: int) -> list[str]:
    return [inline_create_text(next_phone()) for _ in range(n)]


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    runs = 3 if quick else 5
    per_run = {1: 60, 10: 200, 50: 400} if quick else {1: 150, 10: 400, 50: 800}
    measured: dict[str, dict[int, list[Latency]]] = {"bot": {}, "bare": {}}
    failures: dict[int, list[str]] = {level: [] for level in LEVELS}
    with harness.StandIns() as stand_ins:
        bot = harness.start_bot(stand_ins, workdir)
        bare = harness.start_bare(stand_ins, workdir)
        with bot, bare:
            stand_ins.sandbox.faults.latency = SANDBOX_LATENCY
            apps = {"bot": bot, "bare": bare}
            for app in apps.values():  # first requests pay for imports, connections and thread start-up
                harness.fire(stand_ins.emulator, app.events_url, _batch(40), 10)
            for level in LEVELS:
                for r in range(runs):
                    order = ("bare", "bot") if r % 2 == 0 else ("bot", "bare")
                    for name in order:
                        burst = harness.fire(
                            stand_ins.emulator, apps[name].events_url, _batch(per_run[level]), level
                        )
                        failures[level] += [f"{name}: {f}" for f in burst.failures]
                        lat = Latency.of(burst.elapsed)
                        measured[name].setdefault(level, []).append(lat)
                        log.info(
                            "ack %s c=%d run %d: p50 %s p99 %s", name, level, r + 1, ms(lat.p50), ms(lat.p99)
                        )
            queued = bot.health().get("outbox", {})
    rows = []
    raw: dict[str, Any] = {"sandbox_latency_s": SANDBOX_LATENCY, "runs": runs, "requests_per_run": per_run}
    for level in LEVELS:
        ours, floor = median_latency(measured["bot"][level]), median_latency(measured["bare"][level])
        ratio = ours.p99 / floor.p99 if floor.p99 else float("inf")
        rows.append(
            Row(
                "Ack latency, inline /lead (sandbox 2 s)",
                f"{level} concurrent, {runs}×{per_run[level]} commands",
                f"bot p50 {ms(ours.p50)} / p99 {ms(ours.p99)}; bare Bolt p50 {ms(floor.p50)} / "
                f"p99 {ms(floor.p99)}; p99 ratio {ratio:.2f}×"
                + (f"; {len(failures[level])} failed, e.g. {failures[level][0]}" if failures[level] else ""),
                f"p99 ≤ {TARGET_RATIO}× bare",
                verdict(ratio <= TARGET_RATIO and not any(f.startswith("bot:") for f in failures[level])),
            )
        )
        raw[str(level)] = {
            "bot": {"p50_s": ours.p50, "p99_s": ours.p99, "runs": [vars(x) for x in measured["bot"][level]]},
            "bare": {
                "p50_s": floor.p50,
                "p99_s": floor.p99,
                "runs": [vars(x) for x in measured["bare"][level]],
            },
            "p99_ratio": ratio,
        }
    raw["failures"] = {str(level): found[:20] for level, found in failures.items()}
    raw["bot_outbox_at_end"] = queued
    return rows, raw
