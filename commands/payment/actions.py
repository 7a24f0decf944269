"""The PAYMENT action as TeleCRM stores it, and finding the one an earlier, unanswered attempt
created, so a retried recording job (``commands/payment/jobs.py``) never records a payment twice —
also when TeleCRM's search rows carry no ``action_id`` (:mod:`kit.reconcile`).

Pure: unit tested with plain action-search rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from kit.reconcile import EarlierAttempt, find_earlier_attempt


def payment_action(amount: str, currency: str, status: str) -> dict[str, str]:
    """The PAYMENT action TeleCRM stores: all four keys required, amount a numeric string."""
    return {"type": "PAYMENT", "status": status, "currency": currency, "amount": str(amount)}


def same_amount(a: object, b: object) -> bool:
    """Equal as numbers: TeleCRM may echo ``5000`` back as ``5000.00`` or ``5,000``."""
    try:
        return Decimal(str(a).replace(",", "").strip()) == Decimal(str(b).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return False


def same_payment(amount: str, currency: str) -> Callable[[Mapping[str, Any]], bool]:
    """Whether an action-search row is a PAYMENT of ``amount`` in ``currency`` (any status: it may
    have moved on since)."""

    def same(row: Mapping[str, Any]) -> bool:
        return (
            str(row.get("type") or "").upper() == "PAYMENT"
            and str(row.get("currency") or "").upper() == currency.upper()
            and same_amount(row.get("amount"), amount)
        )

    return same


def find_matching_payment(
    rows: Iterable[Mapping[str, Any]],
    *,
    amount: str,
    currency: str,
    since_ms: float,
    skip_ids: Iterable[str] = (),
    others_count: int = 0,
) -> EarlierAttempt | None:
    """The PAYMENT on the lead's timeline that an earlier, unanswered attempt created, if any.

    Rows are action-search rows (newest first), searched since ``since_ms``; matched by type, amount,
    currency, and time and performer when rows say them (:func:`kit.reconcile.find_earlier_attempt`).
    ``skip_ids`` are the bot's other payments of this amount and currency (someone else's);
    ``others_count`` how many of them fall in the window, for rows that carry no ``action_id``:
    then the payment is found, but not its id.
    """
    return find_earlier_attempt(
        rows,
        same=same_payment(amount, currency),
        since_ms=since_ms,
        others_ids=skip_ids,
        others_count=others_count,
    )
