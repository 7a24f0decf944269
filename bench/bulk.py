"""6. Bulk path: measured only once the app has a bulk import through the TeleCRM Async API.

The client can already send Async upserts (``TeleCRMClient.async_upsert``); until a Slack-facing
import calls it there is nothing a user can run in bulk, and so nothing to benchmark.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.harness import ROOT
from bench.report import INFO, Row

APP_PACKAGES = ("bot", "commands")
_ASYNC_CALL = re.compile(r"\.async_upsert\s*\(")


def async_import_callers(root: Path = ROOT) -> list[str]:
    """Modules of the app (not the client itself) that send leads through the Async API."""
    found = []
    for package in APP_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if _ASYNC_CALL.search(path.read_text(encoding="utf-8", errors="replace")):
                found.append(str(path.relative_to(root)))
    return found


def run() -> list[Row]:
    callers = async_import_callers()
    if not callers:
        result = (
            "not measured: the app has no bulk import yet (nothing in bot/ or commands/ calls the Async API)"
        )
    else:
        result = (
            f"an Async import exists ({', '.join(callers)}) but bench/ has no measurement for it yet: "
            "add one (rows per second within 18,000 requests/hour/token)"
        )
    return [Row("Bulk path (Async import)", "—", result, "—", INFO)]
