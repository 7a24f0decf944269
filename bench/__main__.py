"""``python -m bench [--quick] [--only modal,ack,e2e,throughput,memory,bulk,import,find,watch,pipeline,pacing,cold,replicas] [--commands N] [--json F] [--markdown F]``.

Prints the machine, then one results row per published figure, with its target and verdict.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import (
    ack,
    bulk,
    cold,
    e2e,
    find,
    harness,
    import_check,
    import_pacing,
    memory,
    modal,
    pipeline,
    profile,
    replicas,
    throughput,
    watch,
)
from bench.machine import this_machine
from bench.report import MISSED, Row, markdown_table, missed

log = logging.getLogger("bench")

Section = Callable[[Path, bool], tuple[list[Row], dict[str, Any]]]
# ``--commands N``: how many commands the memory section sends (a soak when large)
MEMORY_COMMANDS: int | None = None


def _bulk(workdir: Path, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    return bulk.run(), {"async_import_callers": bulk.async_import_callers()}


SECTIONS: dict[str, Section] = {
    "ack": lambda d, q: ack.run(d, quick=q),
    "modal": lambda d, q: modal.run(d, quick=q),
    "e2e": lambda d, q: e2e.run(d, quick=q),
    "throughput": lambda d, q: throughput.run(d, quick=q),
    "memory": lambda d, q: memory.run(d, quick=q, total=MEMORY_COMMANDS),
    "bulk": _bulk,
    "import": lambda d, q: import_check.run(d, quick=q),
    "find": lambda d, q: find.run(d, quick=q),
    "watch": lambda d, q: watch.run(d, quick=q),
    "pipeline": lambda d, q: pipeline.run(d, quick=q),
    "pacing": lambda d, q: (import_pacing.run(d, quick=q) + import_pacing.run_e2e(d, quick=q), {}),
    "cold": lambda d, q: cold.run(d, quick=q),
    "replicas": lambda d, q: replicas.run(d, quick=q),
}


def parse_only(text: str | None) -> list[str]:
    """The sections to run, in the published order; unknown names are an error."""
    if not text:
        return list(SECTIONS)
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [w for w in wanted if w not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return [name for name in SECTIONS if name in wanted]


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def print_profiles(directory: Path) -> None:
    """Where each profiled process spent its samples: the acknowledgement path, the listener, the worker."""
    for path in sorted(directory.glob("*.txt")):
        text = path.read_text()
        print()
        print(f"profile {path}:")
        for title, focus in (
            ("Slack request thread (until the ack is sent)", profile.ACK_PATH),
            ("listener (validate, queue, ack)", profile.LISTENER),
            ("outbox worker", "Worker._attempt"),
        ):
            shares = profile.top_functions(text, focus=focus, limit=12)
            if shares:
                print(profile.render(shares, f"  {title}, share of its samples:"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and commands (about 2 minutes)")
    parser.add_argument("--only", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="also write every raw figure to this JSON file")
    parser.add_argument("--markdown", type=Path, help="also write the machine and the table to this file")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample every app process with py-spy into DIR and print where the time went",
    )
    parser.add_argument(
        "--commands",
        type=int,
        metavar="N",
        help="commands the memory section sends (default 2,000, 1,000 with --quick); "
        f"from {memory.SOAK_FROM:,} on it is a soak, judged on growth over its second half",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.commands is not None and args.commands < 2 * memory.STEP:
        parser.error(f"--commands must be at least {2 * memory.STEP}")
    global MEMORY_COMMANDS
    MEMORY_COMMANDS = args.commands
    try:
        names = parse_only(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("bench").setLevel(logging.INFO)

    harness.PROFILE_DIR = args.profile
    machine = this_machine()
    started = time.monotonic()
    load_before = _load()
    print(f"machine: {machine.describe()}", flush=True)
    print(f"load average before: {load_before}", flush=True)
    rows: list[Row] = []
    raw: dict[str, Any] = {"machine": machine.as_dict(), "quick": args.quick, "sections": {}}
    crashed = []
    for name in names:
        log.info("running %s%s", name, " (quick)" if args.quick else "")
        section_start = time.monotonic()
        try:
            with harness.workdir(name) as workdir:
                section_rows, section_raw = SECTIONS[name](workdir, args.quick)
        except Exception as exc:
            traceback.print_exc()
            crashed.append(name)
            section_rows = [Row(name, "—", f"the measurement failed: {exc}", "—", MISSED)]
            section_raw = {"error": repr(exc)}
        section_raw["seconds"] = round(time.monotonic() - section_start, 1)
        raw["sections"][name] = section_raw
        rows += section_rows
        for row in section_rows:
            log.info("%s | %s | %s | %s", row.measure, row.setting, row.result, row.verdict)
    duration = time.monotonic() - started
    load_after = _load()
    table = markdown_table(rows)
    command = "python -m bench" + (" --quick" if args.quick else "")
    command += f" --only {args.only}" if args.only else ""
    command += f" --commands {args.commands}" if args.commands else ""
    header = (
        f"Machine: {machine.describe()}  \n"
        f"Load average before / after: {load_before} / {load_after}  \n"
        f"Command: `{command}` — {duration / 60:.1f} minutes"
    )
    print()
    print(header)
    print()
    print(table)
    misses = missed(rows)
    print()
    print(f"{len(rows) - len(misses)} of {len(rows)} rows met or informational; {len(misses)} missed.")
    if args.profile:
        print_profiles(args.profile)
    raw.update(load_before=load_before, load_after=load_after, seconds=round(duration, 1))
    raw["rows"] = [r.as_dict() for r in rows]
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2, default=str))
    if args.markdown:
        args.markdown.write_text(header + "\n\n" + table + "\n")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
