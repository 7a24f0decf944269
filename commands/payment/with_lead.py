"""Payments the bot did not record with ``/payment``, kept in the bot's payments table and shown in
the lead's thread with their status buttons, like any payment recorded with ``/payment``:

* one TeleCRM stored together with a new lead (the New lead form's advance payment), queued by the
  lead feature as a :class:`kit.events.PaymentMadeWithLead`;
* one someone recorded in TeleCRM itself, found by the lead watcher
  (:class:`kit.events.PaymentFoundInTeleCRM`); the payment watcher then follows its status too.
"""

from __future__ import annotations

import logging
from typing import Any

from commands.payment.jobs import find_earlier_payment
from commands.payment.render import render_payment_message
from kit.cards import post_in_thread
from kit.events import PaymentFoundInTeleCRM, PaymentMadeWithLead
from kit.lead_thread import lead_thread
from kit.services import Services
from kit.worker import Job
from storage.repositories import LeadThread

log = logging.getLogger(__name__)


def show_payment_made_with_lead(services: Services, job: Job[PaymentMadeWithLead]) -> dict[str, Any]:
    """Worker job: keep the payment, then post its message (once) in the lead's thread."""
    p = job.payload
    action_id = p.action_id or job.once("found", lambda: _found_on_lead(services, job))
    if not action_id:
        log.warning("the payment created with lead %s is not on the lead in TeleCRM", p.lead_id)
        return {"action_id": None}
    thread = lead_thread(services, job, p.lead_id)
    if thread is not None:
        _keep_and_show(services, job, thread, action_id, p.amount, p.currency, p.status, recorded_by=p.user)
    return {"action_id": action_id}


def show_payment_found_in_telecrm(services: Services, job: Job[PaymentFoundInTeleCRM]) -> dict[str, Any]:
    """Worker job: keep a payment recorded in TeleCRM, then post its message (once) in the thread."""
    p = job.payload
    by = f"Recorded in TeleCRM by {p.by}" if p.by else "Recorded in TeleCRM"
    thread = services.threads.get(p.lead_id)  # the watcher follows only leads that have one
    if thread is not None:
        _keep_and_show(services, job, thread, p.action_id, p.amount, p.currency, p.status, note=by)
    return {"action_id": p.action_id}


def _keep_and_show(
    services: Services,
    job: Job[Any],
    thread: LeadThread,
    action_id: str,
    amount: str,
    currency: str,
    status: str,
    *,
    recorded_by: str | None = None,
    note: str | None = None,
) -> None:
    payment = services.payments.get(action_id) or services.payments.save(
        action_id,
        thread.lead_id,
        amount,
        currency,
        status,
        recorded_by=recorded_by,
        channel=thread.channel,
        thread_ts=thread.ts,
    )
    if not payment.message_ts:
        text, blocks = render_payment_message(payment, lead_name=thread.name, last_change=note)
        answer = post_in_thread(services, thread, text, blocks, job=job, step="payment_message")
        services.payments.set_message(
            action_id, channel=thread.channel, message_ts=answer["ts"], thread_ts=thread.ts
        )


def _found_on_lead(services: Services, job: Job[PaymentMadeWithLead]) -> str | None:
    """The payment's id when the create's answer was lost: the matching payment on the lead that
    no other record of the bot's claims (``None`` when TeleCRM's rows do not say its id)."""
    p = job.payload
    earlier = find_earlier_payment(services, p.lead_id, p.amount, p.currency, since=job.created_at)
    return earlier.action_id if earlier is not None else None
