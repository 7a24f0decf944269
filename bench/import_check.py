"""7. Bulk import preview: parse and check 100,000 rows (kit/imports), time and memory.

A synthetic CSV of 100,000 leads (name, phone, email, status, city, rating, follow-up date, budget,
a payment; about 5 % of rows carry a mistake and 1 % repeat a phone) is checked by ``check_file``
(one checking process per core, as the bot does for a file over 1 MB)
exactly as the Slack preview and ``telecrm-bot import --dry-run`` check a file, in a fresh process
(``python -m bench.import_check FILE``) whose resident set size is read before and at its peak
(``VmHWM``), so the growth is the checking's own and not the benchmark's.
"""

from __future__ import annotations

import copy
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Row, mib, verdict

ROWS = 100_000
TARGET_SECONDS = 10.0
TARGET_GROWTH_KIB = 50 * 1024
HEADER = [
    "Name",
    "Phone",
    "Email",
    "Status",
    "City",
    "Rating",
    "Follow-up Date",
    "Budget (INR)",
    "Payment amount",
    "Payment status",
]


def write_file(path: Path, rows: int, *, seed: int = 7) -> None:
    rng = random.Random(seed)
    statuses = ["Fresh", "Contacted", "Qualified", "Won"]
    cities = ["Mumbai", "Delhi", "Bengaluru", "Pune", "Chennai"]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for n in range(rows):
            phone = f"98{n:08d}" if rng.random() > 0.01 or n == 0 else f"98{n - 1:08d}"
            row = [
                f"Lead {n}",
                phone,
                f"lead{n}@example.com",
                rng.choice(statuses),
                rng.choice(cities),
                str(rng.randint(1, 5)),
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2026",
                str(rng.randint(1000, 900000)),
                str(rng.randint(100, 9000)) if rng.random() < 0.3 else "",
                "COMPLETED" if rng.random() < 0.1 else "",
            ]
            if rng.random() < 0.05:  # a mistake in one of the checked columns
                column = rng.choice([1, 2, 3, 5, 6])
                row[column] = {1: "12345", 2: "lead@", 3: "Maybe", 5: "9", 6: "31/02/2026"}[column]
            writer.writerow(row)


def _rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(path: Path) -> dict[str, Any]:
    """Runs in the measured process: load what the bot loads, then check the file."""
    from kit.imports.checks import RowRules
    from kit.imports.preview import check_file
    from telecrm.sandbox.state import State
    from telecrm.sandbox.workspace import compile_workspace, demo_workspace
    from telecrm.schema import (
        WorkspaceSchema,
        identifier_from,
        parse_custom_actions,
        parse_custom_fields,
        parse_pipeline,
    )

    state = State(compile_workspace(copy.deepcopy(demo_workspace())), default_country_code="91")
    raw_fields = state.custom_fields(detail=True)["customFields"]
    fields = parse_custom_fields({"customFields": raw_fields})
    statuses, reasons = parse_pipeline(state.lead_stage_pipeline())
    schema = WorkspaceSchema(
        fields=fields,
        identifier_api_name=identifier_from(state.metadata("e"), fields, raw_fields),
        statuses=statuses,
        lost_reasons=reasons,
        custom_actions=parse_custom_actions(state.custom_actions(detail=True)),
    )
    import openpyxl  # noqa: F401  # loaded as the bot would have it, so it is not counted as growth

    before = _rss_kib()
    started = time.perf_counter()
    cpu = time.process_time()
    with tempfile.TemporaryDirectory() as work:
        checked = check_file(path, path.name, schema, RowRules(), max_rows=200_000, workdir=Path(work))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "workers_cpu_seconds": children.ru_utime + children.ru_stime,
        "worker_peak_rss_kib": children.ru_maxrss,  # the largest checking process (0: none was started)
        "rss_before_kib": before,
        "rss_peak_kib": _rss_kib("VmHWM"),
        "rows": checked.tally.total_rows,
        "valid": checked.tally.valid_rows,
        "problems": checked.tally.problem_rows,
        "kinds": len(checked.tally.groups),
    }


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    rows = ROWS
    path = workdir / "leads-100k.csv"
    write_file(path, rows)
    runs = []
    for _ in range(1 if quick else 3):
        done = subprocess.run(
            [sys.executable, "-m", "bench.import_check", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    growth = max(r["rss_peak_kib"] - r["rss_before_kib"] for r in runs)
    size_mb = path.stat().st_size / 1024 / 1024
    setting = (
        f"{rows:,} rows, {size_mb:.1f} MB CSV, 10 columns, ~5 % bad rows; {len(runs)} runs in a fresh process"
    )
    times = ", ".join(f"{r['seconds']:.2f} s" for r in runs)
    return [
        Row(
            "Import preview: parse + check",
            setting,
            f"{best['seconds']:.2f} s median ({times}; CPU {best['cpu_seconds']:.2f} s in the bot's process, "
            f"{best['workers_cpu_seconds']:.2f} s in its checking processes); "
            f"{best['valid']:,} valid, {best['problems']:,} problem rows in {best['kinds']} kinds; "
            f"{rows / best['seconds']:,.0f} rows/s",
            f"≤ {TARGET_SECONDS:.0f} s",
            verdict(best["seconds"] <= TARGET_SECONDS),
        ),
        Row(
            "Import preview: memory",
            setting,
            f"RSS growth at peak {mib(growth)} (before {mib(best['rss_before_kib'])}, peak "
            f"{mib(best['rss_peak_kib'])}); each checking process peaks at {mib(best['worker_peak_rss_kib'])} "
            "and ends with the check",
            f"≤ {TARGET_GROWTH_KIB // 1024} MB",
            verdict(growth <= TARGET_GROWTH_KIB),
        ),
    ], {"runs": runs}


if __name__ == "__main__":
    print(json.dumps(child(Path(sys.argv[1]))))
