"""``python -m soak``: every slow reliability run, one after another, as one JSON report.

The runs are the modules of this package that have a ``run() -> dict``; each is also runnable on
its own (``python -m soak.crashes --rounds 5``).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import time
from typing import Any

import soak

# judged by these counts: any of them above zero fails the run
MUST_BE_ZERO = ("leads_lost", "leads_duplicated", "payments_lost", "payments_duplicated", "failures")


def main() -> int:
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    failed = False
    for module in sorted(m.name for m in pkgutil.iter_modules(soak.__path__)):
        runner = importlib.import_module(f"soak.{module}")
        if not callable(getattr(runner, "run", None)):
            continue
        print(f"soak: {module} …", file=sys.stderr, flush=True)
        result = runner.run()
        report[module] = result
        failed |= any(result.get(key) for key in MUST_BE_ZERO)
    print(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
