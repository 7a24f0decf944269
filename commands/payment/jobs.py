"""The ``payment.*`` outbox jobs: recording a payment, changing its status, and showing a change the
watcher (``commands/payment/watcher.py``) found in TeleCRM.

A payment lives in three places kept in step: TeleCRM (the truth), the ``payments`` table (what the
bot last saw, changed only by compare-and-set) and the payment message in the lead's thread. Each
job may run more than once (``kit/worker.py``), so every TeleCRM write and every Slack post is a
``job.once`` step or a ``post_once`` (``kit/job_posts.py``), a retry after a lost answer first looks
for what the earlier attempt did, and a passing Slack failure is raised so only the Slack step is
retried. Each job kind's payload is a class of ``commands/payment/payloads.py``; listeners queue
:class:`~commands.payment.payloads.RecordPayment` and, through :func:`queue_status_change`,
:class:`~commands.payment.payloads.ChangePaymentStatus`.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.payment.actions import find_matching_payment, payment_action, same_amount
from commands.payment.leads import identifier_label_of, identifier_query, looks_like_lead_id
from commands.payment.lock import payment_lock
from commands.payment.payloads import ChangePaymentStatus, PaymentChangedInTeleCRM, RecordPayment
from commands.payment.posts import notify_thread, refresh_payment_message, tell
from commands.payment.render import last_change_note, render_payment_message, status_change_text
from commands.payment.texts import (
    lead_not_found_text,
    recorded_not_shown_text,
    recorded_text,
    recorded_without_id_text,
    recorded_without_id_thread_text,
    remarks_text,
)
from kit.cards import lead_name, post_in_thread
from kit.explain import explain_error, wait_note
from kit.format import format_money
from kit.lead_changes import lead_written, request_card_refresh, writing
from kit.lead_thread import lead_thread
from kit.reconcile import EarlierAttempt, search_window
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import GiveUp, Job
from storage.outbox import FAILED
from storage.repositories import LeadThread, Payment
from telecrm.errors import TeleCRMBadRequest, TeleCRMNotFound
from telecrm.models import Lead
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)

# an earlier attempt's payment is looked for from a little before the job began (clocks differ)
RECONCILE_SLACK_SECONDS = 120


# --- recording ------------------------------------------------------------------------------------


def resolve_lead(services: Services, schema: WorkspaceSchema, ref: str, lead_id: str | None) -> Lead | None:
    """The lead by id (GET) or by identifier value (search, normalised like the identifier type)."""
    for candidate in (lead_id, ref.strip() if looks_like_lead_id(ref) else None):
        if not candidate:
            continue
        try:
            lead = services.telecrm.get_lead(candidate)
        except (TeleCRMNotFound, TeleCRMBadRequest):
            if candidate == lead_id:
                return None
            continue
        return Lead(lead.id or candidate, lead.fields)
    value = identifier_query(ref, schema, services.settings.default_country_code)
    if value is None:
        return None
    found = services.telecrm.find_lead_by_identifier(schema.identifier.api_name, value)
    return found if found is not None and found.id else None


def _reconcile(
    services: Services, lead_id: str, payload: RecordPayment, job: Job[object]
) -> EarlierAttempt | None:
    """After an attempt whose answer was lost: the payment it may have created, if TeleCRM has it."""
    return find_earlier_payment(services, lead_id, payload.amount, payload.currency, since=job.created_at)


def find_earlier_payment(
    services: Services, lead_id: str, amount: str, currency: str, *, since: float
) -> EarlierAttempt | None:
    """The payment an unanswered attempt begun at ``since`` created on the lead, if TeleCRM has it.

    The timeline is searched for PAYMENTs since then (the documented ``created_on`` filter), and
    matched by amount and currency (:func:`find_matching_payment`), so it works whether or not
    TeleCRM's rows carry an ``action_id``. Every payment the bot has on record belongs to another
    job: a job records its payment only after its own TeleCRM step is stored, and this job's step is
    not (that is why it reconciles).
    """
    since_ms = (since - RECONCILE_SLACK_SECONDS) * 1000
    page = services.telecrm.search_actions(
        lead_id, type="PAYMENT", created_on=search_window(since_ms, services.clock()), limit=100
    )
    known = services.payments.for_lead(lead_id)
    alike = [k for k in known if k.currency.upper() == currency.upper() and same_amount(k.amount, amount)]
    return find_matching_payment(
        page.items,
        amount=amount,
        currency=currency,
        since_ms=since_ms,
        skip_ids=[k.action_id for k in known],
        others_count=sum(1 for k in alike if k.created_at * 1000 >= since_ms),
    )


class NoLeadThread(Exception):
    """Slack took the lead's card nowhere, so the payment has no thread to be shown in."""


def _thread_for_payment(services: Services, lead: Lead, job: Job[RecordPayment]) -> LeadThread:
    """The lead's thread; the card the form was opened on becomes it when the bot had none yet.

    Otherwise :func:`kit.lead_thread.lead_thread` (a card first, in a DM when the bot is not in the
    channel), the one way every job gets back to a lead's thread.
    """
    assert lead.id is not None
    payload = job.payload
    known = services.threads.get(lead.id)
    if known is not None:
        return known
    if payload.origin_lead_id == lead.id and payload.thread_channel and payload.thread_ts:
        schema = services.schema()
        return services.threads.remember(
            lead.id,
            payload.thread_channel,
            payload.thread_ts,
            identifier=str(lead.fields.get(schema.identifier_api_name) or "") or None,
            name=lead_name(schema, lead.fields),
            created_by=payload.user,
        )
    channel = payload.channel or payload.thread_channel or payload.user
    thread = lead_thread(services, job, lead.id, lead.fields, channel=channel)
    if thread is None:  # neither the channel nor the user's DM took a card (logged)
        raise NoLeadThread(lead.id)
    return thread


def record_payment(services: Services, job: Job[RecordPayment]) -> dict[str, Any]:
    """Worker job: find the lead, create the PAYMENT (once), show it in the lead's thread."""
    p = job.payload
    money = format_money(p.amount, p.currency)
    outcome: dict[str, Any] = job.once("telecrm", lambda: _record_in_telecrm(services, job, money))
    if "lead_missing" in outcome:
        tell(
            services, p, lead_not_found_text(outcome["lead_missing"], identifier_label_of(services.schema()))
        )
        raise GiveUp("lead not found")
    lead = Lead(outcome["lead_id"], outcome["lead_fields"])
    if outcome.get("ignored"):
        thread = _thread_for_payment(services, lead, job)
        post_in_thread(services, thread, outcome["remarks"], job=job, step="remarks")
        tell(
            services,
            p,
            f":warning: TeleCRM did not store the payment of {money}; the reason is in the lead's thread.",
        )
        raise GiveUp("payment ignored by TeleCRM")
    if outcome.get("id_unknown"):
        return _show_payment_without_id(services, job, lead, money)
    action_id = outcome["action_id"]
    # on record before anything is posted: its buttons work and the watcher follows it even if
    # Slack is down for a while
    services.payments.save(action_id, lead.id or "", p.amount, p.currency, p.status, recorded_by=p.user)
    try:
        _show_new_payment(services, job, lead, action_id, outcome.get("remarks"), money)
    except Exception as exc:  # stored in TeleCRM already: say so rather than retrying the write
        if is_transient_slack_failure(exc):
            raise  # the write is not redone: the retry starts at the Slack step
        log.exception("payment %s recorded but not shown in Slack", action_id)
        failure = exc
        job.once(
            "told",
            lambda: tell(
                services,
                p,
                recorded_not_shown_text(money, action_id, failure),
            ),
        )
    return {"action_id": action_id, "lead_id": lead.id}


def _record_in_telecrm(services: Services, job: Job[RecordPayment], money: str) -> dict[str, Any]:
    """The lead, then the payment: the one an unanswered earlier attempt created, or a new one.

    Returns (as JSON) what the Slack side needs: the lead, the payment's action id, TeleCRM's
    remarks in words, or that the lead is missing or the payment was ignored.
    """
    p = job.payload
    lead = resolve_lead(services, services.schema(), p.lead_ref or "", p.lead_id)
    if lead is None or lead.id is None:
        return {"lead_missing": p.lead_ref or p.lead_id or ""}
    found = {"lead_id": lead.id, "lead_fields": dict(lead.fields)}
    earlier = _reconcile(services, lead.id, p, job) if job.is_retry else None
    if earlier is not None:
        log.info("payment for lead %s was created by an earlier attempt: %s", lead.id, earlier.action_id)
        lead_written(services, lead.id, action_ids=[earlier.action_id])
        if earlier.action_id is None:  # TeleCRM's rows carry no ids: found, but not which one
            return {**found, "action_id": None, "id_unknown": True, "remarks": None}
        return {**found, "action_id": earlier.action_id, "remarks": None}
    with writing(services, lead.id):
        result = services.telecrm.create_actions(lead.id, [payment_action(p.amount, p.currency, p.status)])
        outcome = result.actions[0] if result.actions else None
        if outcome is not None and outcome.created:  # the card shows it as the last activity
            lead_written(services, lead.id, action_ids=[outcome.action_id])
    if outcome is None or not outcome.created:
        return {**found, "ignored": True, "remarks": remarks_text(result.remarks, money=money, stored=False)}
    remarks = remarks_text(result.remarks, money=money, stored=True) if result.remarks else None
    return {**found, "action_id": outcome.action_id, "remarks": remarks}


def _show_new_payment(
    services: Services, job: Job[RecordPayment], lead: Lead, action_id: str, remarks: str | None, money: str
) -> None:
    """The payment message (with its status buttons) in the lead's thread, the remarks, and the user told."""
    assert lead.id is not None
    p = job.payload
    thread = _thread_for_payment(services, lead, job)
    payment = services.payments.save(
        action_id,
        lead.id,
        p.amount,
        p.currency,
        p.status,
        recorded_by=p.user,
        channel=thread.channel,
        thread_ts=thread.ts,
    )
    name = thread.name or lead_name(services.schema(), lead.fields)
    if not payment.message_ts:
        text, blocks = render_payment_message(payment, lead_name=name)
        answer = post_in_thread(services, thread, text, blocks, job=job, step="payment_message")
        services.payments.set_message(
            action_id, channel=thread.channel, message_ts=answer["ts"], thread_ts=thread.ts
        )
        payment = services.payments.get(action_id) or payment
    if remarks:
        post_in_thread(services, thread, remarks, job=job, step="remarks")
    permalink = None
    if payment.message_ts:
        with suppress(SlackApiError):
            permalink = services.slack.chat_getPermalink(
                channel=thread.channel, message_ts=payment.message_ts
            ).get("permalink")
    job.once("told", lambda: tell(services, p, recorded_text(payment, name, permalink)))


def _show_payment_without_id(
    services: Services, job: Job[RecordPayment], lead: Lead, money: str
) -> dict[str, Any]:
    """An earlier attempt's payment, found in TeleCRM but without its action id (TeleCRM's search
    rows did not carry one): said in the lead's thread and to the recorder, without status buttons,
    which need the id. Not on record in the bot, so the watcher does not follow it."""
    p = job.payload
    thread = _thread_for_payment(services, lead, job)
    name = thread.name or lead_name(services.schema(), lead.fields)
    post_in_thread(
        services,
        thread,
        recorded_without_id_thread_text(money, p.status, p.user),
        job=job,
        step="payment_message",
    )
    job.once("told", lambda: tell(services, p, recorded_without_id_text(money, p.status, name)))
    return {"action_id": None, "lead_id": lead.id, "reconciled": True}


def record_queued(services: Services, job: Job[RecordPayment], error: BaseException, when: float) -> None:
    """The recorder hears once why TeleCRM did not take the payment yet, and that it waits in the outbox."""
    money = format_money(job.payload.amount, job.payload.currency)
    tell(
        services,
        job.payload,
        explain_error(error, what=f"the payment of {money}", doing="queued")
        + " It will be posted in the lead's thread when it lands."
        + wait_note(when, services.clock()),
    )


def record_failed(services: Services, job: Job[RecordPayment], error: BaseException) -> None:
    """The recorder hears why the payment was given up on."""
    tell(services, job.payload, explain_error(error, what="the payment"))


# --- status changes -------------------------------------------------------------------------------


def queue_status_change(
    services: Services,
    payment: Payment,
    new: str,
    *,
    user: str,
    channel: str | None,
    reply_ts: str | None,
    delivery: str | None = None,
) -> bool:
    """Queue marking ``payment`` ``new`` once per gesture; True when this call queued it.

    Clicks on the same message showing the same status share a key, so a double click sends one
    change. Only after that change failed for good does the same click queue a fresh attempt.
    """
    current = payment.status.upper()
    key = f"paystatus:{payment.action_id}:{current}->{new}@{payment.updated_at:.6f}"
    payload = ChangePaymentStatus(
        action_id=payment.action_id,
        lead_id=payment.lead_id,
        from_status=current,
        to_status=new,
        user=user,
        channel=channel,
        reply_ts=reply_ts,
    )
    attempt_key = key
    for n in range(2, 100):
        item, created = services.worker.submit(attempt_key, payload, delivery=delivery)
        if created or item.state != FAILED:
            return created
        attempt_key = f"{key}#{n}"
    return False


def change_status(services: Services, job: Job[ChangePaymentStatus]) -> dict[str, Any]:
    """Worker job: send only the new status to TeleCRM (once), then update the message and tell the thread."""
    p = job.payload
    action_id, new = p.action_id, p.to_status
    changed = job.once("telecrm", lambda: _change_status_in_telecrm(services, job))
    payment = services.payments.get(action_id)
    if payment is None:
        return {"status": new}
    if changed:
        job.once(
            "message",
            lambda: refresh_payment_message(
                services, payment, last_change=last_change_note(new, user=p.user)
            ),
        )
        notify_thread(services, payment, status_change_text(payment, new, user=p.user), job)
    else:
        log.info("payment %s was no longer %s when the change to %s landed", action_id, p.from_status, new)
        refresh_payment_message(services, payment)
    return {"status": new}


def _change_status_in_telecrm(services: Services, job: Job[ChangePaymentStatus]) -> bool:
    """The status change, unless an unanswered earlier attempt made it; True if the bot's record moved."""
    p = job.payload
    action_id, lead_id, old, new = p.action_id, p.lead_id, p.from_status, p.to_status
    with payment_lock(services, action_id):
        already = False
        if job.is_retry:
            current = services.telecrm.get_action(lead_id, action_id)
            already = str(current.get("status") or "").upper() == new
        if not already:
            services.telecrm.update_action(lead_id, action_id, {"type": "PAYMENT", "status": new})
        request_card_refresh(services, lead_id)
        return services.payments.set_status(action_id, new, expected_old=old)


def status_queued(
    services: Services, job: Job[ChangePaymentStatus], error: BaseException, when: float
) -> None:
    """The clicker hears once why TeleCRM did not take the change yet, and that it waits in the outbox."""
    tell(
        services,
        job.payload,
        explain_error(error, what=f"marking the payment {job.payload.to_status}", doing="queued")
        + wait_note(when, services.clock()),
    )


def status_failed(services: Services, job: Job[ChangePaymentStatus], error: BaseException) -> None:
    """The clicker hears why; the message is redrawn so its buttons match the status the bot has."""
    tell(services, job.payload, explain_error(error, what=f"the change to {job.payload.to_status}"))
    payment = services.payments.get(job.payload.action_id)
    if payment is not None:
        refresh_payment_message(services, payment)


# --- a change made in TeleCRM ---------------------------------------------------------------------


def show_change_from_telecrm(services: Services, job: Job[PaymentChangedInTeleCRM]) -> dict[str, Any]:
    """Worker job: a status changed in TeleCRM, shown on the payment message and told in the thread."""
    p = job.payload
    payment = services.payments.get(p.action_id)
    if payment is None:
        return {}
    job.once(
        "message",
        lambda: refresh_payment_message(services, payment, last_change=last_change_note(p.to_status)),
    )
    notify_thread(services, payment, status_change_text(payment, p.to_status, old_status=p.from_status), job)
    request_card_refresh(services, payment.lead_id)
    return {"status": p.to_status}
