"""The payment statuses: where a payment may go next, and how each status is named and shown.

The one transition table the buttons (``commands/payment/render.py``), the click checks
(``commands/payment/listeners.py``) and the correction advice (``commands/payment/texts.py``) all read.
"""

from __future__ import annotations

# Where a payment may go next. Refunds only follow a completed payment; failed, cancelled and
# refunded payments are final (a correction is a new payment).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "PENDING": ("PROCESSING", "COMPLETED", "FAILED", "CANCELLED"),
    "PROCESSING": ("COMPLETED", "FAILED", "CANCELLED"),
    "COMPLETED": ("REFUNDED",),
    "FAILED": (),
    "CANCELLED": (),
    "REFUNDED": (),
}

STATUS_LABELS = {
    "PENDING": "Pending",
    "PROCESSING": "Processing",
    "COMPLETED": "Completed",
    "FAILED": "Failed",
    "CANCELLED": "Cancelled",
    "REFUNDED": "Refunded",
}

STATUS_EMOJI = {
    "PENDING": ":hourglass_flowing_sand:",
    "PROCESSING": ":arrows_counterclockwise:",
    "COMPLETED": ":white_check_mark:",
    "FAILED": ":x:",
    "CANCELLED": ":no_entry_sign:",
    "REFUNDED": ":leftwards_arrow_with_hook:",
}


def next_statuses(status: str) -> tuple[str, ...]:
    """The statuses a payment in ``status`` may move to (none for a final or unknown status)."""
    return TRANSITIONS.get((status or "").upper(), ())


def can_transition(old: str, new: str) -> bool:
    """Whether a payment in ``old`` may be marked ``new`` (case does not matter)."""
    return (new or "").upper() in next_statuses(old)


def is_final(status: str) -> bool:
    """A final payment cannot change any more: a correction is a new payment."""
    return not next_statuses(status)


def status_label(status: str) -> str:
    """The status as people read it on buttons and in the modal ("Completed")."""
    return STATUS_LABELS.get((status or "").upper(), status or "Unknown")
