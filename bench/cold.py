"""The cold path: from starting the bot process to the first New lead form a person sees.

Each run starts ``python -m bot.cli serve`` (the operator's command) and, as soon as its HTTP server
answers, sends ``/lead`` from the emulator; the run ends when the form is on Slack's side. With an
empty database (no schema cached: a first start) the bot opens a "Loading your workspace's fields…"
modal at once and turns it into the form with ``views.update`` once TeleCRM has answered; with the
schema already in SQLite (a restart) ``views.open`` carries the form itself. TeleCRM (the sandbox)
answers every request after 0.5 s or 2.5 s. Times are wall-clock from ``Popen``, so they include
Python's start-up and imports.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import harness
from bench.report import Row
from bench.stats import median

log = logging.getLogger(__name__)

LATENCIES = (0.5, 2.5)


def _serving(url: str) -> bool:
    try:
        httpx.get(url + "/healthz", timeout=1.0)
    except httpx.HTTPError:
        return False
    return True


def _one_start(stand_ins: harness.StandIns, workdir: Path, db: str, *, cold: bool) -> dict[str, float]:
    """Seconds from process start to: HTTP answering, the first modal opened, the form shown."""
    port = harness.free_port()
    argv = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "--log-level", "WARNING"]
    argv += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    bot = harness.AppProcess("cold-start", argv, stand_ins.bot_env(db), workdir, port)
    with bot:
        harness.wait_until(lambda: _serving(bot.url), timeout=60, interval=0.01, what="HTTP answering")
        serving = time.monotonic()
        stand_ins.emulator.app_url = bot.events_url
        delivery = stand_ins.emulator.slash_command("/lead", "", user=harness.USER, channel=harness.CHANNEL)
        if delivery.status != 200:
            raise RuntimeError(f"/lead was answered {delivery.status}")
        opened = stand_ins.slack_time.wait_for("/views.open", after=serving, timeout=30)
        form = opened
        if cold:  # the loading modal first; the form replaces it
            form = stand_ins.slack_time.wait_for("/views.update", after=opened.start, timeout=60)
    return {
        "http": serving - started,
        "modal": opened.end - started,
        "form": form.end - started,
    }


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    repeats = 2 if quick else 4
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    for latency in LATENCIES:
        runs: dict[str, list[dict[str, float]]] = {"empty": [], "warm": []}
        with harness.StandIns() as stand_ins:
            stand_ins.sandbox.faults.latency = latency
            for r in range(repeats):
                db = str(workdir / f"cold-{latency}-{r}.sqlite3")
                runs["empty"].append(_one_start(stand_ins, workdir, db, cold=True))
                runs["warm"].append(_one_start(stand_ins, workdir, db, cold=False))
                log.info("cold start, TeleCRM %.1f s, run %d: %s", latency, r + 1, runs)
        for cache, found in runs.items():
            med = {k: median(x[k] for x in found) for k in ("http", "modal", "form")}
            what = (
                f"HTTP answering {med['http']:.2f} s; loading modal {med['modal']:.2f} s; form {med['form']:.2f} s"
                if cache == "empty"
                else f"HTTP answering {med['http']:.2f} s; form {med['form']:.2f} s"
            )
            rows.append(
                Row(
                    "Cold path: process start → first New lead form",
                    f"{'empty database (first start)' if cache == 'empty' else 'schema cached in SQLite (restart)'}, "
                    f"TeleCRM answering in {latency:g} s, median of {repeats}",
                    what + f" (slowest form {max(x['form'] for x in found):.2f} s)",
                    "",
                    "—",
                )
            )
            raw[f"{latency}/{cache}"] = found
    return rows, raw
