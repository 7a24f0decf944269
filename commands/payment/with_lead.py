"""A payment TeleCRM stored together with a new lead (the New lead form's advance payment): kept in
the bot's payments table and shown in the lead's thread with its status buttons, like any payment
recorded with ``/payment``. The lead feature queues it as a :class:`kit.events.PaymentMadeWithLead`.
"""

from __future__ import annotations

import logging
from typing import Any

from commands.payment.jobs import find_earlier_payment
from commands.payment.render import render_payment_message
from kit.cards import post_in_thread
from kit.events import PaymentMadeWithLead
from kit.lead_thread import lead_thread
from kit.services import Services
from kit.worker import Job

log = logging.getLogger(__name__)


def show_payment_made_with_lead(services: Services, job: Job[PaymentMadeWithLead]) -> dict[str, Any]:
    """Worker job: keep the payment, then post its message (once) in the lead's thread."""
    p = job.payload
    action_id = p.action_id or job.once("found", lambda: _found_on_lead(services, job))
    if not action_id:
        log.warning("the payment created with lead %s is not on the lead in TeleCRM", p.lead_id)
        return {"action_id": None}
    thread = lead_thread(services, job, p.lead_id)
    if thread is None:
        return {"action_id": action_id}
    payment = services.payments.get(action_id) or services.payments.save(
        action_id,
        p.lead_id,
        p.amount,
        p.currency,
        p.status,
        recorded_by=p.user,
        channel=thread.channel,
        thread_ts=thread.ts,
    )
    if not payment.message_ts:
        text, blocks = render_payment_message(payment, lead_name=thread.name)
        answer = post_in_thread(services, thread, text, blocks, job=job, step="payment_message")
        services.payments.set_message(
            action_id, channel=thread.channel, message_ts=answer["ts"], thread_ts=thread.ts
        )
    return {"action_id": action_id}


def _found_on_lead(services: Services, job: Job[PaymentMadeWithLead]) -> str | None:
    """The payment's id when the create's answer was lost: the matching payment on the lead that
    no other record of the bot's claims (``None`` when TeleCRM's rows do not say its id)."""
    p = job.payload
    earlier = find_earlier_payment(services, p.lead_id, p.amount, p.currency, since=job.created_at)
    return earlier.action_id if earlier is not None else None
