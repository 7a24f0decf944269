"""The PAYMENT action as TeleCRM stores it, and finding the one an earlier, unanswered attempt
created, so a retried recording job (``commands/payment/jobs.py``) never records a payment twice.

Pure: unit tested with plain action-search rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


def payment_action(amount: str, currency: str, status: str) -> dict[str, str]:
    """The PAYMENT action TeleCRM stores: all four keys required, amount a numeric string."""
    return {"type": "PAYMENT", "status": status, "currency": currency, "amount": str(amount)}


def same_amount(a: object, b: object) -> bool:
    """Equal as numbers: TeleCRM may echo ``5000`` back as ``5000.00`` or ``5,000``."""
    try:
        return Decimal(str(a).replace(",", "").strip()) == Decimal(str(b).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return False


def find_matching_payment(
    rows: Iterable[Mapping[str, Any]],
    *,
    amount: str,
    currency: str,
    since_ms: float,
    skip_ids: Iterable[str] = (),
) -> str | None:
    """The id of a PAYMENT on the lead's timeline that an earlier, unanswered attempt created.

    Rows are action-search rows (newest first); a row without ``created_on`` cannot be dated and is
    only taken when nothing dated matches. ``skip_ids`` are payments known to be someone else's.
    """
    skip = set(skip_ids)
    undated: str | None = None
    best: tuple[float, str] | None = None
    for row in rows:
        action_id = str(row.get("action_id") or row.get("actionId") or row.get("id") or "")
        if not action_id or action_id in skip:
            continue
        if str(row.get("type") or "").upper() != "PAYMENT":
            continue
        if str(row.get("currency") or "").upper() != currency.upper():
            continue
        if not same_amount(row.get("amount"), amount):
            continue
        created = row.get("created_on")
        if isinstance(created, int | float) and not isinstance(created, bool):
            if created >= since_ms and (best is None or created < best[0]):
                best = (float(created), action_id)
        elif undated is None:
            undated = action_id
    return best[1] if best else undated
