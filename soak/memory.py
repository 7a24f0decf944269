"""Memory that stays flat: the bot's resident memory over 100,000 commands (``bench/memory.py`` as
a soak). Each step of commands is fully written to TeleCRM and posted before RSS is read; the
growth over the second half of the run must stay within 0.05 MB per 1,000 commands.

``python -m soak.memory [--commands 100000]`` prints the result as JSON (about 30 minutes on 2
cores); ``python -m bench --only memory --commands N`` gives the same figure as a table row.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import memory

COMMANDS = 100_000


def run(commands: int = COMMANDS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="soak-memory-") as d:
        rows, raw = memory.run(Path(d), quick=False, total=commands)
    over = raw["second_half_trend_mib_per_1000"] > raw["trend_limit_mib_per_1000"]
    return {
        "commands": commands,
        "result": rows[0].result,
        "second_half_trend_mib_per_1000": round(raw["second_half_trend_mib_per_1000"], 3),
        "trend_limit_mib_per_1000": raw["trend_limit_mib_per_1000"],
        "samples_commands_kib": raw["samples_commands_kib"],
        # judged by soak/__main__.py: a growing trend fails the run like a lost write does
        "failures": raw["failure_count"] + (1 if over else 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=COMMANDS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("bench").setLevel(logging.INFO)  # a line per step; not one per HTTP request
    result = run(args.commands)
    print(json.dumps(result, indent=2))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
