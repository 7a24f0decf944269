"""6. ``/pipeline week`` on a big workspace: 50,000 leads over the last year, 20 reps, a sandbox that
takes 50 ms to answer each request.

The bot runs in its own process (``python -m bot.cli serve``) against the stand-ins, as in the other
sections. Measured per run, each on a freshly started bot (so no count is cached):

* TeleCRM requests the report used (the sandbox's lead searches inside the run's window);
* time to the posted chart: from the emulator sending the command to Slack receiving the report
  with its image block (the response_url call), the upload included;
* the chart's render time (the bot logs it) and its PNG size (read from the emulator).

Then the same command a second time on the last bot: its counts come from the two-minute cache.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import harness
from bench.report import Row, ms, verdict
from bench.stats import median, union_length
from telecrm.sandbox import demo_workspace

log = logging.getLogger(__name__)

LEADS = 50_000
REPS = 20
LATENCY = 0.05
TIME_TARGET = 3.0
RENDER_TARGET = 0.300
SIZE_TARGET = 200 * 1024
IST = ZoneInfo("Asia/Kolkata")
_LOGGED = re.compile(
    r"/pipeline week: (\d+) TeleCRM searches \((\d+) from cache\), chart (\d+) bytes drawn in (\d+) ms"
)


def big_workspace(leads: int = LEADS, reps: int = REPS, seed: int = 18) -> dict[str, Any]:
    """The demo workspace's fields and pipeline, ``reps`` reps, and ``leads`` leads created over the
    last year (a few with a follow-up today)."""
    rnd = random.Random(seed)
    ws = demo_workspace()
    template = ws["team_members"][3]
    ws["team_members"] = [
        {
            **template,
            "name": f"Rep {i:02d}",
            "email": f"rep{i:02d}@bench.example",
            "phone_number": f"9198200{i:05d}",
            "manager_email": None,
        }
        for i in range(1, reps + 1)
    ]
    ws["seats"] = max(int(ws.get("seats") or 0), reps + 5)
    stages = ws["pipeline"]["leadStages"]
    active = [s["label"] for stage in stages for s in stage["activeStatuses"]]
    weights = [40, 20, 12, 6, 5, 4, 5, 2, 4, 2][: len(active)] + [1] * max(0, len(active) - 10)
    sources = next(f["options"] for f in ws["fields"] if f["apiName"] == "contact_source")
    today = datetime.now(IST).strftime("%d/%m/%Y")
    now_ms = int(time.time() * 1000)
    rows = []
    for i in range(leads):
        fields: dict[str, Any] = {
            "name": f"Bench Lead {i}",
            "phone": f"9197{i:08d}",
            "status": rnd.choices(active, weights)[0],
            "assignee": f"rep{rnd.randint(1, reps):02d}@bench.example",
            "contact_source": rnd.choice(sources),
        }
        if rnd.random() < 0.02:
            fields["follow_up_date"] = today
        rows.append({"created_on": now_ms - rnd.randint(0, 365 * 24 * 3600 * 1000), "fields": fields})
    ws["leads"] = rows
    return ws


def one_report(
    stand_ins: harness.StandIns, bot: harness.AppProcess, user: str
) -> tuple[float, int, bytes, float]:
    """(seconds to the posted chart, lead searches, the PNG, seconds the sandbox was busy) of one
    ``/pipeline week``."""
    emulator = stand_ins.emulator
    before = len(emulator.calls_to("response_url"))
    sent = time.monotonic()
    delivery = emulator.slash_command("/pipeline", "week", user=user, channel=harness.CHANNEL)
    if delivery.status != 200:
        raise RuntimeError(f"/pipeline was not acknowledged: HTTP {delivery.status}")
    emulator.wait_for(lambda emu: len(emu.calls_to("response_url")) > before, timeout=60)
    posted = next(
        s for s in stand_ins.slack_time.spans() if s.start >= sent and s.path.startswith("/response/")
    )
    calls = emulator.calls_to("response_url")[before:]
    blocks = (calls[-1]["args"].get("blocks") if calls else None) or []
    image = next((b for b in blocks if isinstance(b, dict) and b.get("type") == "image"), None)
    if image is None:
        raise RuntimeError(f"the report came without its chart: {calls[-1] if calls else 'nothing'}")
    if "Missing from this report" in json.dumps(blocks):  # a fast report that left numbers out is no result
        raise RuntimeError(f"the report left numbers out: {blocks}")
    stored = emulator.ws.files.by_id[image["slack_file"]["id"]]
    searches = [
        s for s in stand_ins.telecrm_time.spans() if s.start >= sent and s.path.endswith("/lead/search")
    ]
    busy = union_length(stand_ins.telecrm_time.intervals(), sent, posted.end)
    return posted.end - sent, len(searches), stored.data or b"", busy


def logged_render(bot: harness.AppProcess) -> list[tuple[int, int, int, int]]:
    return [tuple(int(g) for g in m.groups()) for m in _LOGGED.finditer(bot.log_path.read_text())]  # type: ignore[misc]


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    runs = 2 if quick else 3
    started = time.monotonic()
    workspace = big_workspace()
    cold: list[tuple[float, int, int, int, float]] = []  # seconds, searches, png bytes, render ms, sandbox s
    warm: tuple[float, int] | None = None
    with harness.StandIns(workspace) as stand_ins:
        log.info("pipeline: sandbox with %d leads ready in %.0f s", LEADS, time.monotonic() - started)
        stand_ins.sandbox.faults.latency = LATENCY
        for r in range(runs):
            bot = harness.start_bot(stand_ins, workdir, name=f"bot-pipeline-{r}")
            with bot:
                stand_ins.emulator.app_url = bot.events_url
                seconds, searches, png, busy = one_report(stand_ins, bot, harness.USER)
                harness.wait_until(lambda: logged_render(bot), timeout=10, what="the report's log line")  # noqa: B023
                render_ms = logged_render(bot)[-1][3]
                cold.append((seconds, searches, len(png), render_ms, busy))
                log.info(
                    "pipeline run %d: %s, %d searches, %d bytes, drawn in %d ms",
                    r + 1,
                    ms(seconds),
                    searches,
                    len(png),
                    render_ms,
                )
                if r == runs - 1:
                    seconds, searches, _png, _busy = one_report(stand_ins, bot, "U0ANITA")
                    warm = (seconds, searches)
    time_med = median(c[0] for c in cold)
    searches = max(c[1] for c in cold)
    size = max(c[2] for c in cold)
    render = median(c[3] for c in cold) / 1000
    setting = f"{LEADS:,} leads, {REPS} reps, sandbox {LATENCY * 1000:.0f} ms per request, {runs} cold runs"
    rows = [
        Row("/pipeline week: TeleCRM requests", setting, f"{searches} lead searches", "", "—"),
        Row(
            "/pipeline week: time to the posted chart",
            setting,
            f"{ms(time_med)} median (runs: {', '.join(ms(c[0]) for c in cold)}), of which the sandbox was "
            f"answering {ms(median(c[4] for c in cold))}; again within 2 min: "
            f"{ms(warm[0]) if warm else '—'} with {warm[1] if warm else '—'} requests",
            "≤ 3 s",
            verdict(time_med <= TIME_TARGET),
        ),
        Row(
            "/pipeline chart: render time and size",
            "week: 7 days stacked by the 3 biggest of 20 reps, 10 active statuses",
            f"{ms(render)} median render; {size / 1024:.0f} KB PNG",
            "≤ 300 ms, ≤ 200 KB",
            verdict(render <= RENDER_TARGET and size <= SIZE_TARGET),
        ),
    ]
    raw = {"cold_runs": cold, "warm_run": warm, "workspace_seconds": round(time.monotonic() - started, 1)}
    return rows, raw
