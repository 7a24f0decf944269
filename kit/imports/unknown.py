"""A row whose Async request may have reached TeleCRM, but was never marked sent (the process died,
or the answer was lost): reconciled before it is sent again (see kit/imports/sending.py).

Its fields are create-or-update, so sending them again is harmless; its actions (a payment, a custom
action) are not. So, once the Async delay has passed since the attempt, the lead is read back by its
identifier (Sync) and each action of the body is looked for on the lead's timeline since the attempt
(:func:`kit.reconcile.find_earlier_attempt`, matched by what was sent). The row is then sent again
with only the actions that did not land — or, when all did, marked ``sent`` without a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from kit.reconcile import find_earlier_attempt, search_window
from kit.services import Services
from storage.import_sending import ImportSending, UnknownAttempt
from storage.imports import SENT, ImportRow
from telecrm.action_types import sync_action_type

log = logging.getLogger(__name__)

ACTIONS_LOOKED_AT = 100  # a lead's actions since the attempt; an import row carries a handful


def _number(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def same_action(sent: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """Whether an action-search row is the action ``sent`` (a PAYMENT by amount and currency; a
    custom action by type and the values it was sent with)."""
    kind = sync_action_type(sent.get("type", ""))

    def same(row: Mapping[str, Any]) -> bool:
        if sync_action_type(row.get("type", "")) != kind:
            return False
        if kind == "PAYMENT":
            return str(row.get("currency") or "").upper() == str(sent.get("currency") or "").upper() and (
                _number(row.get("amount")) == _number(sent.get("amount"))
            )
        values = row.get("fields") or {}
        return all(str(values.get(k)) == str(v) for k, v in (sent.get("fields") or {}).items())

    return same


class RowSender(Protocol):
    """What reconciling a row needs of the run that sends it (``kit/imports/sending.py`` ``Sender``)."""

    services: Services
    import_id: str
    sending: ImportSending

    def send_row(self, row: ImportRow, body: dict[str, Any]) -> bool: ...

    def should_stop(self, seconds: float) -> bool: ...

    def counted_sent(self) -> None: ...


def reconcile_row(sender: RowSender, attempt: UnknownAttempt) -> bool:
    """Settle one unknown row (sent again, or marked ``sent``); False when the run must stop and the
    row is left for the next run."""
    services = sender.services
    import_id = sender.import_id
    [row] = services.imports.rows(import_id, after=attempt.row_no - 1, limit=1)
    actions = list(row.body.get("actions") or [])
    if not actions:  # create-or-update only: sending it again is harmless
        return sender.send_row(row, row.body)
    settle = attempt.sent_at + services.settings.import_verify_wait_seconds
    while services.clock() < settle:  # Async may still be applying the first request
        if sender.should_stop(min(1.0, settle - services.clock())):
            return False
    api = services.schema().identifier_api_name
    lead = services.telecrm.find_lead_by_identifier(api, row.identifier)
    missing = actions
    if lead is not None and lead.id:
        window = search_window(attempt.sent_at * 1000, services.clock())
        found = services.telecrm.search_actions(lead.id, created_on=window, limit=ACTIONS_LOOKED_AT).items
        missing = [
            a for a in actions if find_earlier_attempt(found, same=same_action(a), since_ms=window[0]) is None
        ]
    log.info(
        "import %s row %d: an earlier request's outcome was unknown; %d of %d actions had landed",
        import_id,
        row.row_no,
        len(actions) - len(missing),
        len(actions),
    )
    if not missing and lead is not None:
        sender.sending.finish_row(import_id, row.row_no, to=SENT)
        sender.counted_sent()
        return True
    body = {"fields": row.body.get("fields") or {}, "actions": missing}
    return sender.send_row(row, body)
