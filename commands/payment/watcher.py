"""The payment watcher: re-reads open payments from TeleCRM so a status changed there (not through
the bot's buttons) shows up on the payment message and in its thread, once.

``register`` in ``commands/payment/listeners.py`` schedules :func:`check_open_payments` every
``PAYMENT_WATCH_SECONDS``; what a change looks like in Slack is the ``payment.changed_in_telecrm``
job in ``commands/payment/jobs.py``.
"""

from __future__ import annotations

import logging

from commands.payment.lock import payment_lock
from commands.payment.payloads import PaymentChangedInTeleCRM
from kit.services import Services
from storage.repositories import Payment
from telecrm.errors import TeleCRMError
from telecrm.schema import PAYMENT_STATUSES

log = logging.getLogger(__name__)

WATCH_BATCH = 200


def check_open_payments(services: Services, *, limit: int = WATCH_BATCH) -> int:
    """Re-read open payments from TeleCRM; a status changed there is shown and notified once.

    Returns how many changes were found. Stops early when TeleCRM is unreachable (the next run
    continues with the payments checked least recently).
    """
    found = 0
    for payment in services.payments.open_payments(limit=limit):
        with payment_lock(services, payment.action_id, wait=False) as free:
            if not free:
                continue
            try:
                current = services.telecrm.get_action(payment.lead_id, payment.action_id)
            except TeleCRMError as exc:
                if exc.transient:
                    log.warning("payment watch paused, TeleCRM unreachable: %s", exc)
                    break
                log.warning("payment %s cannot be read from TeleCRM: %s", payment.action_id, exc)
                services.payments.mark_checked(payment.action_id)
                continue
            services.payments.mark_checked(payment.action_id)
            status = str(current.get("status") or "").upper()
            if status not in PAYMENT_STATUSES or status == payment.status.upper():
                continue
            if not _note_change_from_telecrm(services, payment, status):
                continue
        found += 1
        log.info("payment %s changed in TeleCRM: %s -> %s", payment.action_id, payment.status, status)
    return found


def _note_change_from_telecrm(services: Services, payment: Payment, status: str) -> bool:
    """Record the new status and queue showing it, in one transaction: neither happens without the other,
    so a crash or a Slack outage never loses the notification and a later check never repeats it."""
    with services.store.transaction():
        if not services.payments.set_status(payment.action_id, status, expected_old=payment.status):
            return False
        services.worker.submit(
            f"paychanged:{payment.action_id}:{payment.status}->{status}",
            PaymentChangedInTeleCRM(
                action_id=payment.action_id, from_status=payment.status, to_status=status
            ),
        )
    return True
