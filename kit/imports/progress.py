"""What an import's thread shows while it is sent and verified: the progress message (a text bar,
rows sent of total, rate, ETA, and *Pause* / *Resume* / *Cancel*) and the summary at the end.

Pure renderers (unit tested without I/O) plus :class:`ProgressThrottle`, which decides when the
message is worth a ``chat.update``: Slack allows ``chat.update`` about 50 a minute (Tier 3), and an
import may take hours, so the message changes at most every :data:`UPDATE_EVERY_SECONDS` and only
when something a person would notice changed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kit.blocks import button
from kit.format import mrkdwn_escape
from kit.imports.report import rows_word
from storage.imports import CANCELLED, DONE, PAUSED, SENDING, VERIFYING

ACT_PAUSE = "import_pause"
ACT_RESUME = "import_resume"
ACT_CANCEL_SENDING = "import_cancel_sending"
BLOCK_PROGRESS = "import_progress"
BLOCK_CONTROLS = "import_controls"

UPDATE_EVERY_SECONDS = 3.0  # one chat.update per 3 s per import: 20 a minute, well inside Tier 3
BAR_WIDTH = 20


@dataclass(frozen=True)
class Progress:
    """Where an import stands, as the thread and the CLI show it."""

    import_id: str
    file_name: str
    state: str
    sent: int
    total: int
    rate_per_minute: float | None  # requests a minute since sending began; None before any
    eta_seconds: float | None
    held_off_until: float | None = None  # a 429 asked to wait until then
    note: str | None = None  # something the person should know, e.g. why it paused

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.sent / self.total)


def text_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """``▓▓▓▓░░░░`` with ``width`` cells."""
    filled = max(0, min(width, math.floor(fraction * width)))
    return "▓" * filled + "░" * (width - filled)


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 20 min``: an ETA as people read it."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{math.ceil(seconds)} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


_STATE_WORDS = {
    SENDING: "Sending",
    PAUSED: "Paused",
    VERIFYING: "Sent — checking the leads landed in TeleCRM",
    DONE: "Done",
    CANCELLED: "Cancelled",
}


def progress_text(progress: Progress) -> str:
    """One line for notifications and the CLI: state, rows, rate, ETA."""
    head = f"{_STATE_WORDS.get(progress.state, progress.state)}: {progress.sent:,} of {progress.total:,} rows sent"
    parts = [head]
    if progress.rate_per_minute is not None and progress.state == SENDING:
        parts.append(f"{progress.rate_per_minute:,.0f}/min")
    if progress.eta_seconds is not None and progress.state == SENDING:
        parts.append(f"about {duration(progress.eta_seconds)} left")
    return " · ".join(parts)


def progress_blocks(progress: Progress) -> list[dict[str, Any]]:
    """The progress message: file, bar, numbers, and the buttons the state allows."""
    lines = [
        f"*Importing {mrkdwn_escape(progress.file_name)}*",
        f"`{text_bar(progress.fraction)}` {progress.fraction:.0%}",
        mrkdwn_escape(progress_text(progress)),
    ]
    if progress.held_off_until is not None and progress.state == SENDING:
        lines.append("TeleCRM asked the bot to slow down; no row is lost, sending resumes after the wait.")
    if progress.note:
        lines.append(mrkdwn_escape(progress.note))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": BLOCK_PROGRESS, "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
    ]
    buttons = []
    if progress.state == SENDING:
        buttons.append(button("Pause", ACT_PAUSE, progress.import_id))
    if progress.state == PAUSED:
        buttons.append(button("Resume", ACT_RESUME, progress.import_id, style="primary"))
    if progress.state in (SENDING, PAUSED):
        buttons.append(button("Cancel", ACT_CANCEL_SENDING, progress.import_id, style="danger"))
    if buttons:
        blocks.append({"type": "actions", "block_id": BLOCK_CONTROLS, "elements": buttons})
    return blocks


class ProgressThrottle:
    """Says when a new :class:`Progress` is worth showing: it differs from the last one shown, and
    :data:`UPDATE_EVERY_SECONDS` have passed (a change of state is shown at once)."""

    def __init__(
        self, *, every: float = UPDATE_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every = every
        self._clock = clock
        self._shown: tuple[str, int] | None = None
        self._at = -math.inf

    def may_be_due(self) -> bool:
        """False while the interval since the last update runs (cheap: no progress is built)."""
        return self._clock() - self._at >= self._every

    def due(self, progress: Progress) -> bool:
        key = (progress.state, progress.sent)
        if key == self._shown:
            return False
        changed_state = self._shown is None or self._shown[0] != progress.state
        return changed_state or self._clock() - self._at >= self._every

    def shown(self, progress: Progress) -> None:
        self._shown = (progress.state, progress.sent)
        self._at = self._clock()


@dataclass(frozen=True)
class Summary:
    """How an import ended, as the thread's last message says it."""

    file_name: str
    sent: int
    created: int
    updated: int
    verified: int
    missing: int
    checked: int  # rows read back: all sent rows, or the sample
    sampled: bool
    problems_skipped: int
    refused: int
    unsent: int  # cancelled before these were sent
    cancelled: bool = False


def _were(n: int) -> str:
    return f"{rows_word(n)} {'was' if n == 1 else 'were'}"


def summary_text(summary: Summary) -> str:
    """The summary message (mrkdwn; the file name escaped)."""
    name = mrkdwn_escape(summary.file_name)
    if summary.cancelled:
        lines = [
            f"*Import of {name} cancelled.* {_were(summary.sent)} sent before it stopped;"
            f" {summary.unsent:,} {'was' if summary.unsent == 1 else 'were'} not sent."
        ]
    else:
        lines = [f"*Import of {name} finished.* {rows_word(summary.sent)} sent to TeleCRM."]
    if summary.checked:
        how = (
            f"A random sample of {summary.checked:,} of the {rows_word(summary.sent)} sent was read back"
            if summary.sampled
            else f"All {rows_word(summary.checked)} sent {'was' if summary.checked == 1 else 'were'} read back"
        )
        lines.append(
            f"{how}: {summary.verified:,} found ({summary.created:,} created, {summary.updated:,} updated),"
            f" {summary.missing:,} not found after the waiting time."
        )
    if summary.refused:
        lines.append(f"{_were(summary.refused)} refused by TeleCRM and not imported.")
    if summary.problems_skipped:
        lines.append(f"{_were(summary.problems_skipped)} skipped for the problems the preview lists.")
    return "\n".join(lines)
