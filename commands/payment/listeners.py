"""``/payment``: record PAYMENT actions on TeleCRM leads, follow and change their status from Slack.

Listeners only acknowledge, check (against the cached schema, never TeleCRM) and queue; the lead
lookup, the write and everything posted afterwards run on the worker. A payment lives in three
places that are kept in step: TeleCRM (the truth), the ``payments`` table (what the bot last saw,
changed only by compare-and-set) and the payment message in the lead's thread.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from commands.payment.access import PaymentAccess
from commands.payment.actions import find_matching_payment, payment_action
from commands.payment.leads import (
    check_lead_reference,
    identifier_query,
    lead_choice_label,
    lead_in_message,
    looks_like_lead_id,
)
from commands.payment.modal import Origin, PaymentRequest, read_payment_form, render_payment_modal
from commands.payment.render import (
    STATUS_ACTION_PREFIX,
    last_change_note,
    payment_in_value,
    read_status_click,
    render_payment_message,
    status_change_text,
)
from commands.payment.statuses import can_transition
from commands.payment.texts import (
    amount_change_text,
    lead_not_found_text,
    problems_text,
    recorded_not_shown_text,
    recorded_text,
    refusal_text,
    remarks_text,
    usage_text,
)
from kit import ids
from kit.cards import ensure_thread, lead_name, post_in_thread
from kit.explain import explain_error, wait_note
from kit.format import format_money
from kit.grammar import parse_payment
from kit.job_posts import post_once
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.view_context import refused_view
from kit.worker import GiveUp, Job, JobKind
from storage.outbox import FAILED
from storage.repositories import LeadThread, Payment
from telecrm.client import Lead
from telecrm.errors import TeleCRMBadRequest, TeleCRMError, TeleCRMNotFound
from telecrm.redact import mask
from telecrm.schema import PAYMENT_STATUSES, WorkspaceSchema

log = logging.getLogger(__name__)

KIND_RECORD = "payment.record"
KIND_STATUS = "payment.status"
KIND_CHANGED = "payment.changed_in_telecrm"

RECENT_LEADS = 25
WATCH_BATCH = 200
# an earlier attempt's payment is looked for from a little before the job began (clocks differ)
RECONCILE_SLACK_SECONDS = 120
_STATUS_ACTION = re.compile(rf"^{re.escape(ids.ACT_PAYMENT_STATUS)}(?::[A-Z_]+)?$")

_locks_guard = threading.Lock()
_locks: dict[tuple[int, str], threading.Lock] = {}


@contextmanager
def _payment_lock(services: Services, action_id: str, *, wait: bool = True) -> Iterator[bool]:
    """One status change or status check per payment at a time, so the watcher never mistakes the
    bot's own change for one made in TeleCRM. Yields False when ``wait`` is off and it is busy."""
    with _locks_guard:
        lock = _locks.setdefault((id(services), action_id), threading.Lock())
    got = lock.acquire(blocking=wait)
    try:
        yield got
    finally:
        if got:
            lock.release()


# --- small helpers --------------------------------------------------------------------------------


def _identifier_label(schema: WorkspaceSchema | None) -> str:
    return schema.identifier.label if schema is not None else "identifier"


def _tell(services: Services, payload: dict[str, Any], text: str) -> None:
    """An answer only the person who asked sees, where they asked (a passing Slack failure is raised,
    so the job that owes the answer is retried)."""
    user = payload.get("user")
    if user:
        services.tell(payload.get("channel"), user, text, thread_ts=payload.get("reply_ts"))


def _lead_label(services: Services, lead_id: str) -> str:
    thread = services.threads.get(lead_id)
    return lead_choice_label(thread) if thread else lead_id


def _lead_name_for(services: Services, lead_id: str) -> str | None:
    thread = services.threads.get(lead_id)
    return thread.name if thread and thread.name else None


def _thread_of_message(services: Services, channel: str, ts: str | None) -> str | None:
    """The lead whose thread this message starts (or sits in), among the leads the bot knows."""
    if not ts:
        return None
    thread = services.threads.by_message(channel, ts)
    return thread.lead_id if thread is not None else None


def refresh_payment_message(services: Services, payment: Payment, *, last_change: str | None = None) -> None:
    """Edit the payment message in place so it shows the current status and next-status buttons."""
    if not payment.channel or not payment.message_ts:
        return
    text, blocks = render_payment_message(
        payment, lead_name=_lead_name_for(services, payment.lead_id), last_change=last_change
    )
    try:
        services.slack.chat_update(channel=payment.channel, ts=payment.message_ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not update payment message %s: %s", payment.action_id, exc.response.get("error"))


def _notify_thread(services: Services, payment: Payment, text: str, job: Job) -> None:
    """A note in the payment's thread, posted once by ``job``."""
    if not payment.channel:
        return
    try:
        post_once(
            services,
            job,
            "notification",
            channel=payment.channel,
            thread_ts=payment.thread_ts or payment.message_ts,
            text=text,
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not notify payment %s: %s", payment.action_id, exc.response.get("error"))


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


def _reconcile(services: Services, lead_id: str, payload: dict[str, Any], job: Job) -> str | None:
    """After an attempt whose answer was lost: the payment it may have created, if TeleCRM has it.

    Every payment the bot has on record belongs to another job: a job records its payment only after
    its own TeleCRM step is stored, and this job's step is not (that is why it reconciles).
    """
    page = services.telecrm.search_actions(lead_id, type="PAYMENT", limit=25)
    since_ms = (job.created_at - RECONCILE_SLACK_SECONDS) * 1000
    known = [p.action_id for p in services.payments.for_lead(lead_id)]
    return find_matching_payment(
        page.items, amount=payload["amount"], currency=payload["currency"], since_ms=since_ms, skip_ids=known
    )


def _thread_for_payment(services: Services, lead: Lead, job: Job) -> LeadThread:
    """The lead's thread; the card the form was opened on becomes it when the bot had none yet."""
    assert lead.id is not None
    payload = job.payload
    known = services.threads.get(lead.id)
    if known is not None:
        return known
    if (
        payload.get("origin_lead_id") == lead.id
        and payload.get("thread_channel")
        and payload.get("thread_ts")
    ):
        schema = services.schema()
        return services.threads.remember(
            lead.id,
            payload["thread_channel"],
            payload["thread_ts"],
            identifier=str(lead.fields.get(schema.identifier_api_name) or "") or None,
            name=lead_name(schema, lead.fields),
            created_by=payload.get("user"),
        )
    channel = payload.get("channel") or payload.get("thread_channel") or payload.get("user")
    return ensure_thread(
        services, lead.id, channel=channel, user=payload.get("user"), fields=lead.fields, job=job
    )


def record_payment(services: Services, job: Job) -> dict[str, Any]:
    """Worker job: find the lead, create the PAYMENT (once), show it in the lead's thread."""
    p = job.payload
    money = format_money(p["amount"], p["currency"])
    outcome: dict[str, Any] = job.once("telecrm", lambda: _record_in_telecrm(services, job, money))
    if "lead_missing" in outcome:
        _tell(services, p, lead_not_found_text(outcome["lead_missing"], _identifier_label(services.schema())))
        raise GiveUp("lead not found")
    lead = Lead(outcome["lead_id"], outcome["lead_fields"])
    if outcome.get("ignored"):
        thread = _thread_for_payment(services, lead, job)
        post_in_thread(services, thread, outcome["remarks"], job=job, step="remarks")
        _tell(
            services,
            p,
            f":warning: TeleCRM did not store the payment of {money}; the reason is in the lead's thread.",
        )
        raise GiveUp("payment ignored by TeleCRM")
    action_id = outcome["action_id"]
    # on record before anything is posted: its buttons work and the watcher follows it even if
    # Slack is down for a while
    services.payments.save(
        action_id, lead.id or "", p["amount"], p["currency"], p["status"], recorded_by=p.get("user")
    )
    try:
        _show_new_payment(services, job, lead, action_id, outcome.get("remarks"), money)
    except Exception as exc:  # stored in TeleCRM already: say so rather than retrying the write
        if is_transient_slack_failure(exc):
            raise  # the write is not redone: the retry starts at the Slack step
        log.exception("payment %s recorded but not shown in Slack", action_id)
        failure = exc
        job.once(
            "told",
            lambda: _tell(
                services,
                p,
                recorded_not_shown_text(money, action_id, failure),
            ),
        )
    return {"action_id": action_id, "lead_id": lead.id}


def _record_in_telecrm(services: Services, job: Job, money: str) -> dict[str, Any]:
    """The lead, then the payment: the one an unanswered earlier attempt created, or a new one.

    Returns (as JSON) what the Slack side needs: the lead, the payment's action id, TeleCRM's
    remarks in words, or that the lead is missing or the payment was ignored.
    """
    p = job.payload
    lead = resolve_lead(services, services.schema(), p.get("lead_ref") or "", p.get("lead_id"))
    if lead is None or lead.id is None:
        return {"lead_missing": p.get("lead_ref") or p.get("lead_id") or ""}
    found = {"lead_id": lead.id, "lead_fields": dict(lead.fields)}
    action_id = _reconcile(services, lead.id, p, job) if job.is_retry else None
    if action_id is not None:
        log.info("payment for lead %s was created by an earlier attempt: %s", lead.id, action_id)
        return {**found, "action_id": action_id, "remarks": None}
    result = services.telecrm.create_actions(
        lead.id, [payment_action(p["amount"], p["currency"], p["status"])]
    )
    outcome = result.actions[0] if result.actions else None
    if outcome is None or not outcome.created:
        return {**found, "ignored": True, "remarks": remarks_text(result.remarks, money=money, stored=False)}
    remarks = remarks_text(result.remarks, money=money, stored=True) if result.remarks else None
    return {**found, "action_id": outcome.action_id, "remarks": remarks}


def _show_new_payment(
    services: Services, job: Job, lead: Lead, action_id: str, remarks: str | None, money: str
) -> None:
    """The payment message (with its status buttons) in the lead's thread, the remarks, and the user told."""
    assert lead.id is not None
    p = job.payload
    thread = _thread_for_payment(services, lead, job)
    payment = services.payments.save(
        action_id,
        lead.id,
        p["amount"],
        p["currency"],
        p["status"],
        recorded_by=p.get("user"),
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
    with suppress(SlackApiError):
        permalink = services.slack.chat_getPermalink(
            channel=thread.channel, message_ts=payment.message_ts
        ).get("permalink")
    job.once("told", lambda: _tell(services, p, recorded_text(payment, name, permalink)))


def _record_queued(services: Services, job: Job, reason: str, when: float) -> None:
    money = format_money(job.payload["amount"], job.payload["currency"])
    _tell(
        services,
        job.payload,
        f":hourglass: TeleCRM is not answering right now, so the payment of {money} is queued. "
        "It will be retried automatically and posted in the lead's thread when it lands."
        + wait_note(when, services.clock()),
    )


def _record_failed(services: Services, job: Job, error: BaseException) -> None:
    _tell(services, job.payload, explain_error(error, what="the payment"))


# --- status changes -------------------------------------------------------------------------------


def change_status(services: Services, job: Job) -> dict[str, Any]:
    """Worker job: send only the new status to TeleCRM (once), then update the message and tell the thread."""
    p = job.payload
    action_id, new = p["action_id"], p["to"]
    changed = job.once("telecrm", lambda: _change_status_in_telecrm(services, job))
    payment = services.payments.get(action_id)
    if payment is None:
        return {"status": new}
    if changed:
        job.once(
            "message",
            lambda: refresh_payment_message(
                services, payment, last_change=last_change_note(new, user=p.get("user"))
            ),
        )
        _notify_thread(services, payment, status_change_text(payment, new, user=p.get("user")), job)
    else:
        log.info("payment %s was no longer %s when the change to %s landed", action_id, p["from"], new)
        refresh_payment_message(services, payment)
    return {"status": new}


def _change_status_in_telecrm(services: Services, job: Job) -> bool:
    """The status change, unless an unanswered earlier attempt made it; True if the bot's record moved."""
    p = job.payload
    action_id, lead_id, old, new = p["action_id"], p["lead_id"], p["from"], p["to"]
    with _payment_lock(services, action_id):
        already = False
        if job.is_retry:
            current = services.telecrm.get_action(lead_id, action_id)
            already = str(current.get("status") or "").upper() == new
        if not already:
            services.telecrm.update_action(lead_id, action_id, {"type": "PAYMENT", "status": new})
        return services.payments.set_status(action_id, new, expected_old=old)


def _submit_status_change(services: Services, key: str, payload: dict[str, Any]) -> bool:
    """Queue a status change once per gesture; True when this call queued it.

    Clicks on the same message showing the same status share a key, so a double click sends one
    change. Only after that change failed for good does the same click queue a fresh attempt.
    """
    attempt_key = key
    for n in range(2, 100):
        item, created = services.worker.submit(attempt_key, KIND_STATUS, payload)
        if created or item.state != FAILED:
            return created
        attempt_key = f"{key}#{n}"
    return False


def _status_queued(services: Services, job: Job, reason: str, when: float) -> None:
    _tell(
        services,
        job.payload,
        f":hourglass: TeleCRM is not answering right now; marking the payment {job.payload['to']} is "
        "queued and will be retried automatically." + wait_note(when, services.clock()),
    )


def _status_failed(services: Services, job: Job, error: BaseException) -> None:
    _tell(services, job.payload, explain_error(error, what=f"the change to {job.payload['to']}"))
    payment = services.payments.get(job.payload["action_id"])
    if payment is not None:
        refresh_payment_message(services, payment)


# --- watching TeleCRM -----------------------------------------------------------------------------


def check_open_payments(services: Services, *, limit: int = WATCH_BATCH) -> int:
    """Re-read open payments from TeleCRM; a status changed there is shown and notified once.

    Returns how many changes were found. Stops early when TeleCRM is unreachable (the next run
    continues with the payments checked least recently).
    """
    found = 0
    for payment in services.payments.open_payments(limit=limit):
        with _payment_lock(services, payment.action_id, wait=False) as free:
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
            KIND_CHANGED,
            {"action_id": payment.action_id, "from": payment.status, "to": status},
        )
    return True


def show_change_from_telecrm(services: Services, job: Job) -> dict[str, Any]:
    """Worker job: a status changed in TeleCRM, shown on the payment message and told in the thread."""
    p = job.payload
    payment = services.payments.get(p["action_id"])
    if payment is None:
        return {}
    job.once(
        "message", lambda: refresh_payment_message(services, payment, last_change=last_change_note(p["to"]))
    )
    _notify_thread(services, payment, status_change_text(payment, p["to"], old_status=p["from"]), job)
    return {"status": p["to"]}


# --- Slack listeners ------------------------------------------------------------------------------


def register(app: App, services: Services) -> None:
    settings = services.settings
    access = PaymentAccess(settings.payment_allowed_users, services.slack)

    services.worker.register(
        KIND_RECORD,
        JobKind(
            lambda job: record_payment(services, job),
            on_queued=lambda job, reason, when: _record_queued(services, job, reason, when),
            on_failed=lambda job, error: _record_failed(services, job, error),
        ),
    )
    services.worker.register(
        KIND_STATUS,
        JobKind(
            lambda job: change_status(services, job),
            on_queued=lambda job, reason, when: _status_queued(services, job, reason, when),
            on_failed=lambda job, error: _status_failed(services, job, error),
        ),
    )
    services.worker.register(KIND_CHANGED, JobKind(lambda job: show_change_from_telecrm(services, job)))
    if settings.payment_watch_seconds > 0:
        services.schedule(
            "payment-watch", settings.payment_watch_seconds, lambda: check_open_payments(services)
        )

    def refuse(channel: str | None, user: str, thread_ts: str | None = None) -> None:
        services.ephemeral(channel, user, refusal_text(access.entries), thread_ts=thread_ts)

    def open_modal(trigger_id: str, origin: Origin, user: str, *, initial_lead: str | None = None) -> None:
        schema = services.cache.cached()
        view = render_payment_modal(
            origin,
            default_currency=settings.default_currency,
            recent=() if origin.lead_id else services.threads.recent(limit=RECENT_LEADS),
            identifier_label=_identifier_label(schema),
            lead_label=_lead_label(services, origin.lead_id) if origin.lead_id else None,
            initial_lead=initial_lead,
        )
        try:
            services.slack.views_open(trigger_id=trigger_id, view=services.view_seal.seal(view, user=user))
        except SlackApiError as exc:
            log.warning("views.open failed for the payment form: %s", exc.response.get("error"))
            services.ephemeral(
                origin.channel,
                user,
                ":warning: The payment form could not open in time — please try again, or type "
                "`/payment <lead> <amount> [currency] [status]`.",
                thread_ts=origin.thread_ts,
            )

    @app.command(ids.CMD_PAYMENT)
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        user, channel = command["user_id"], command.get("channel_id")
        schema = services.cache.cached()
        label = _identifier_label(schema)
        parsed = parse_payment(command.get("text") or "", default_currency=settings.default_currency)
        if parsed.action == "help" and not parsed.errors:
            respond(response_type="ephemeral", text=usage_text(settings.default_currency, label))
            return
        if not access.allows(user):
            respond(response_type="ephemeral", text=refusal_text(access.entries))
            return
        known = (
            services.payments.get(parsed.lead) if parsed.lead and looks_like_lead_id(parsed.lead) else None
        )
        if known is not None:
            respond(response_type="ephemeral", text=amount_change_text(known))
            return
        if parsed.action == "help":
            respond(
                response_type="ephemeral", text=problems_text(parsed.errors, settings.default_currency, label)
            )
            return
        if parsed.action == "modal":
            open_modal(command["trigger_id"], Origin(channel=channel), user, initial_lead=parsed.lead or None)
            return
        problems = list(parsed.errors)
        lead_problem = check_lead_reference(parsed.lead, schema, settings.default_country_code)
        if lead_problem:
            problems.insert(0, lead_problem)
        if problems or parsed.amount is None or parsed.currency is None or parsed.status is None:
            respond(response_type="ephemeral", text=problems_text(problems, settings.default_currency, label))
            return
        request = PaymentRequest(parsed.amount, parsed.currency, parsed.status, lead_ref=parsed.lead)
        log.info("payment of %s %s queued for lead %s", request.amount, request.currency, mask(parsed.lead))
        services.worker.submit(
            f"cmd:{command['trigger_id']}",
            KIND_RECORD,
            _record_payload(request, Origin(channel=channel), user),
        )

    @app.action(ids.ACT_CARD_PAYMENT)
    def on_card_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or container.get("message_ts")
        if not access.allows(user):
            refuse(channel, user, thread_ts)
            return
        lead_id = str(action.get("value") or "").strip()
        origin = Origin(channel=channel, lead_id=lead_id or None, thread_channel=channel, thread_ts=thread_ts)
        open_modal(body["trigger_id"], origin, user)

    @app.shortcut(ids.SHORTCUT_PAYMENT_ON_CARD)
    def on_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts") or body.get("message_ts")
        if not access.allows(user):
            refuse(channel, user, message.get("thread_ts"))
            return
        lead_id = lead_in_message(message) or (
            _thread_of_message(services, channel, thread_ts) if channel else None
        )
        if not lead_id:
            services.ephemeral(
                channel,
                user,
                ":information_source: That message is not a lead card, so I can't tell which lead the payment "
                "is for. Use the shortcut on a lead card (or in its thread), or type "
                "`/payment <lead> <amount> [currency] [status]`.",
                thread_ts=message.get("thread_ts"),
            )
            return
        origin = Origin(channel=channel, lead_id=lead_id, thread_channel=channel, thread_ts=thread_ts)
        open_modal(body["trigger_id"], origin, user)

    @app.view(ids.VIEW_PAYMENT)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        origin = services.view_seal.open(view, user=body["user"]["id"])
        if origin is None:  # not a form the bot opened for this person: its lead and thread are made up
            ack(response_action="update", view=refused_view())
            return
        request, errors = read_payment_form(
            (view.get("state") or {}).get("values") or {},
            origin,
            schema=services.cache.cached(),
            default_currency=settings.default_currency,
            default_country_code=settings.default_country_code,
        )
        if errors or request is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = body["user"]["id"]
        if not access.allows(user):
            refuse(origin.channel, user, origin.thread_ts)
            return
        services.worker.submit(f"view:{view['id']}", KIND_RECORD, _record_payload(request, origin, user))

    @app.action(_STATUS_ACTION)
    def on_status(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        reply_ts = container.get("thread_ts") or container.get("message_ts")
        if not access.allows(user):
            refuse(channel, user, reply_ts)
            return
        click = read_status_click(action)
        payment = services.payments.get(click.action_id) if click else None
        if click is None or payment is None:
            services.ephemeral(
                channel,
                user,
                ":warning: I no longer have this payment on record, so I can't change it from here. "
                "Change it in TeleCRM; record new payments with `/payment`.",
                thread_ts=reply_ts,
            )
            return
        current = payment.status.upper()
        money = format_money(payment.amount, payment.currency)
        if current == click.status:
            services.ephemeral(channel, user, f"{money} is already {current}.", thread_ts=reply_ts)
            return
        if not can_transition(current, click.status):
            services.ephemeral(
                channel,
                user,
                f":information_source: {money} is {current} now, so it can't be marked {click.status}; "
                "the message shows what it can become.",
                thread_ts=reply_ts,
            )
            refresh_payment_message(services, payment)
            return
        key = f"paystatus:{payment.action_id}:{current}->{click.status}@{payment.updated_at:.6f}"
        payload = {
            "action_id": payment.action_id,
            "lead_id": payment.lead_id,
            "from": current,
            "to": click.status,
            "user": user,
            "channel": channel,
            "reply_ts": reply_ts,
        }
        if not _submit_status_change(services, key, payload):
            log.info("ignoring a repeated click on %s", STATUS_ACTION_PREFIX + click.status)

    @app.action(ids.ACT_PAYMENT_AMOUNT_HELP)
    def on_amount_help(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        action_id = payment_in_value(action.get("value"))
        payment = services.payments.get(action_id) if action_id else None
        services.ephemeral(
            channel,
            user,
            amount_change_text(payment),
            thread_ts=container.get("thread_ts") or container.get("message_ts"),
        )


def _record_payload(request: PaymentRequest, origin: Origin, user: str) -> dict[str, Any]:
    return {
        "user": user,
        "channel": origin.channel,
        "reply_ts": origin.thread_ts,
        "lead_ref": request.lead_ref,
        "lead_id": request.lead_id,
        "amount": request.amount,
        "currency": request.currency,
        "status": request.status,
        "origin_lead_id": origin.lead_id,
        "thread_channel": origin.thread_channel,
        "thread_ts": origin.thread_ts,
    }
