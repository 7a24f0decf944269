"""The results table: one row per published figure, its target and whether it was met."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

MET, MISSED, INFO = "met", "MISSED", "—"


@dataclass(frozen=True)
class Row:
    measure: str
    setting: str
    result: str
    target: str = ""
    verdict: str = INFO

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def verdict(ok: bool) -> str:
    return MET if ok else MISSED


def ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision (0.042 → "42.0 ms", 0.00081 → "0.81 ms")."""
    value = seconds * 1000
    if value < 10:
        return f"{value:.2f} ms"
    if value < 1000:
        return f"{value:.1f} ms"
    return f"{value:,.0f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MB"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Row]) -> str:
    """A GitHub-flavoured Markdown table of the rows, in order."""
    header = ["#", "measure", "setting", "result", "target", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for i, row in enumerate(rows, 1):
        cells = [str(i), row.measure, row.setting, row.result, row.target, row.verdict]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def missed(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r.verdict == MISSED]
