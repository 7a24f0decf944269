"""``/payment``'s Slack listeners: the command, the card button and shortcut that open the modal, its
submission, and the buttons on a payment message.

Listeners only acknowledge, check (against the cached schema, never TeleCRM) and queue; the lead
lookup, the write and everything posted afterwards run on the worker (``commands/payment/jobs.py``).
``register`` binds them, the jobs and the watcher (``commands/payment/watcher.py``).
"""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk.errors import SlackApiError

from commands.payment.access import AccessMiddleware, PaymentAccess, access_of
from commands.payment.jobs import (
    change_status,
    queue_status_change,
    record_failed,
    record_payment,
    record_queued,
    show_change_from_telecrm,
    status_failed,
    status_queued,
)
from commands.payment.leads import (
    check_lead_reference,
    identifier_label_of,
    lead_choice_label,
    lead_in_message,
    looks_like_lead_id,
)
from commands.payment.modal import (
    PAYMENT_TITLE,
    Origin,
    PaymentRequest,
    read_payment_form,
    render_payment_modal,
)
from commands.payment.payloads import ChangePaymentStatus, PaymentChangedInTeleCRM, RecordPayment
from commands.payment.posts import refresh_payment_message
from commands.payment.render import STATUS_ACTION_PREFIX, payment_in_value, read_status_click
from commands.payment.statuses import can_transition
from commands.payment.texts import amount_change_text, problems_text, refusal_text, usage_text
from commands.payment.watcher import check_open_payments
from commands.payment.with_lead import show_payment_found_in_telecrm, show_payment_made_with_lead
from kit import ids
from kit.context import claim_delivery, services_of
from kit.events import PaymentFoundInTeleCRM, PaymentMadeWithLead
from kit.explain import explain_error, telecrm_error_in
from kit.format import format_money
from kit.grammar import PAYMENT_USAGE, parse_payment
from kit.loading import open_form
from kit.services import Services
from kit.view_context import refused_view
from kit.worker import JobKind
from telecrm.redact import mask
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)

RECENT_LEADS = 25
_STATUS_ACTION = re.compile(rf"^{re.escape(ids.ACT_PAYMENT_STATUS)}(?::[A-Z_]+)?$")


# --- small helpers --------------------------------------------------------------------------------


def _acting_user(context: BoltContext) -> str:
    """Who acted; Bolt reads it from every command, action, shortcut and view (``kit/context.py``)."""
    if not context.user_id:
        raise RuntimeError("no user in this Slack request")
    return context.user_id


def _message_channel(body: dict[str, Any], context: BoltContext) -> str | None:
    """The channel of the clicked message: its container's, else the one Bolt read from the body."""
    return (body.get("container") or {}).get("channel_id") or context.channel_id


def _refuse(
    services: Services, access: PaymentAccess, channel: str | None, user: str, thread_ts: str | None
) -> None:
    """Tell someone not in ``PAYMENT_ALLOWED_USERS`` who may; nothing is sent to TeleCRM."""
    services.ephemeral(channel, user, refusal_text(access.entries), thread_ts=thread_ts)


def _lead_label(services: Services, lead_id: str) -> str:
    """A lead as the modal names it: from its thread when the bot knows it, else its id."""
    thread = services.threads.get(lead_id)
    return lead_choice_label(thread) if thread else lead_id


def _thread_of_message(services: Services, channel: str, ts: str | None) -> str | None:
    """The lead whose thread this message starts (or sits in), among the leads the bot knows."""
    if not ts:
        return None
    thread = services.threads.by_message(channel, ts)
    return thread.lead_id if thread is not None else None


def open_payment_modal(
    services: Services, trigger_id: str, origin: Origin, user: str, *, initial_lead: str | None = None
) -> None:
    """Open the Record payment modal, sealed for ``user`` (a loading modal first when the schema is not
    cached yet, :mod:`kit.loading`); if Slack refuses, say how to type it instead."""
    recent = () if origin.lead_id else services.threads.recent(limit=RECENT_LEADS)
    lead_label = _lead_label(services, origin.lead_id) if origin.lead_id else None

    def build(schema: WorkspaceSchema | None) -> dict[str, Any]:
        return render_payment_modal(
            origin,
            default_currency=services.settings.default_currency,
            recent=recent,
            identifier_label=identifier_label_of(schema),
            lead_label=lead_label,
            initial_lead=initial_lead,
        )

    def without_schema(error: BaseException) -> dict[str, Any] | None:
        """TeleCRM is down for now: the form anyway (a payment is queued until TeleCRM answers),
        saying so; a refused token gets the explanation instead, as nothing could be recorded."""
        found = telecrm_error_in(error)
        if found is None or not found.transient:
            return None
        view = build(None)
        note = explain_error(found, what="a payment recorded now", doing="queued")
        view["blocks"] = [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]},
            *view["blocks"],
        ]
        return view

    try:
        open_form(
            services,
            services.slack,
            trigger_id=trigger_id,
            user=user,
            title=PAYMENT_TITLE,
            build=build,
            without_schema=without_schema,
        )
    except SlackApiError as exc:
        log.warning("views.open failed for the payment form: %s", exc.response.get("error"))
        services.ephemeral(
            origin.channel,
            user,
            f":warning: The payment form could not open in time — please try again, or type `{PAYMENT_USAGE}`.",
            thread_ts=origin.thread_ts,
        )


# --- recording ------------------------------------------------------------------------------------


def on_payment_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """``/payment``: usage, the modal, or a typed payment checked against the cached schema and queued.

    A typed payment is stored (with this delivery) before Slack is acknowledged; every other answer
    follows the acknowledgement."""
    services, access = services_of(context), access_of(context)
    settings = services.settings
    user, channel = _acting_user(context), context.channel_id
    schema = services.cache.cached()
    label = identifier_label_of(schema)
    parsed = parse_payment(command.get("text") or "", default_currency=settings.default_currency)
    if parsed.action == "help" and not parsed.errors:
        ack()
        respond(response_type="ephemeral", text=usage_text(settings.default_currency, label))
        return
    if not access.allows(user):
        ack()
        respond(response_type="ephemeral", text=refusal_text(access.entries))
        return
    known = services.payments.get(parsed.lead) if parsed.lead and looks_like_lead_id(parsed.lead) else None
    if known is not None:  # a payment's action id: its amount cannot change
        ack()
        respond(response_type="ephemeral", text=amount_change_text(known))
        return
    if parsed.action == "help":
        ack()
        respond(
            response_type="ephemeral", text=problems_text(parsed.errors, settings.default_currency, label)
        )
        return
    if parsed.action == "modal":
        ack()
        open_payment_modal(
            services, command["trigger_id"], Origin(channel=channel), user, initial_lead=parsed.lead or None
        )
        return
    problems = list(parsed.errors)
    lead_problem = check_lead_reference(parsed.lead, schema, settings.default_country_code)
    if lead_problem:
        problems.insert(0, lead_problem)
    if problems or parsed.amount is None or parsed.currency is None or parsed.status is None:
        ack()
        respond(response_type="ephemeral", text=problems_text(problems, settings.default_currency, label))
        return
    request = PaymentRequest(parsed.amount, parsed.currency, parsed.status, lead_ref=parsed.lead)
    log.info("payment of %s %s queued for lead %s", request.amount, request.currency, mask(parsed.lead))
    services.worker.submit(
        f"cmd:{command['trigger_id']}",
        RecordPayment.asked(request, Origin(channel=channel), user),
        delivery=claim_delivery(context),
    )
    ack()


def on_card_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Record payment* on a lead card: the modal, with the lead filled in and the card as its thread."""
    ack()
    services, access = services_of(context), access_of(context)
    user, channel = _acting_user(context), _message_channel(body, context)
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or (body.get("container") or {}).get("message_ts")
    if not access.allows(user):
        _refuse(services, access, channel, user, thread_ts)
        return
    lead_id = str(action.get("value") or "").strip()
    origin = Origin(channel=channel, lead_id=lead_id or None, thread_channel=channel, thread_ts=thread_ts)
    open_payment_modal(services, body["trigger_id"], origin, user)


def on_payment_shortcut(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The *Record payment* message shortcut: on a lead card, a payment message, or in a lead's thread."""
    ack()
    services, access = services_of(context), access_of(context)
    user, channel = _acting_user(context), context.channel_id
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or message.get("ts") or body.get("message_ts")
    if not access.allows(user):
        _refuse(services, access, channel, user, message.get("thread_ts"))
        return
    lead_id = lead_in_message(message) or (
        _thread_of_message(services, channel, thread_ts) if channel else None
    )
    if not lead_id:
        services.ephemeral(
            channel,
            user,
            ":information_source: That message is not a lead card, so I can't tell which lead the payment "
            f"is for. Use the shortcut on a lead card (or in its thread), or type `{PAYMENT_USAGE}`.",
            thread_ts=message.get("thread_ts"),
        )
        return
    origin = Origin(channel=channel, lead_id=lead_id, thread_channel=channel, thread_ts=thread_ts)
    open_payment_modal(services, body["trigger_id"], origin, user)


def on_modal_submit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """The modal: a form the bot did not open for this person is refused; errors stay in the modal."""
    services, access = services_of(context), access_of(context)
    settings = services.settings
    user = _acting_user(context)
    origin = services.view_seal.open(view, user=user)
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
    if not access.allows(user):
        _refuse(services, access, origin.channel, user, origin.thread_ts)
        return
    services.worker.submit(f"view:{view['id']}", RecordPayment.asked(request, origin, user))


# --- the payment message's buttons ----------------------------------------------------------------


def on_status_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """A next-status button: checked against the status on record, then queued once per gesture
    (stored, with this delivery, before Slack is acknowledged)."""
    services, access = services_of(context), access_of(context)
    user, channel = _acting_user(context), _message_channel(body, context)
    container = body.get("container") or {}
    reply_ts = container.get("thread_ts") or container.get("message_ts")
    if not access.allows(user):
        ack()
        _refuse(services, access, channel, user, reply_ts)
        return
    click = read_status_click(action)
    payment = services.payments.get(click.action_id) if click else None
    if click is None or payment is None:
        ack()
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
        ack()
        services.ephemeral(channel, user, f"{money} is already {current}.", thread_ts=reply_ts)
        return
    if not can_transition(current, click.status):
        ack()
        services.ephemeral(
            channel,
            user,
            f":information_source: {money} is {current} now, so it can't be marked {click.status}; "
            "the message shows what it can become.",
            thread_ts=reply_ts,
        )
        refresh_payment_message(services, payment)
        return
    queued = queue_status_change(
        services,
        payment,
        click.status,
        user=user,
        channel=channel,
        reply_ts=reply_ts,
        delivery=claim_delivery(context),
    )
    ack()
    if not queued:
        log.info("ignoring a repeated click on %s", STATUS_ACTION_PREFIX + click.status)


def on_amount_help(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Amount wrong?*: TeleCRM cannot change an amount, so say how to correct this payment."""
    ack()
    services = services_of(context)
    container = body.get("container") or {}
    action_id = payment_in_value(action.get("value"))
    payment = services.payments.get(action_id) if action_id else None
    services.ephemeral(
        _message_channel(body, context),
        _acting_user(context),
        amount_change_text(payment),
        thread_ts=container.get("thread_ts") or container.get("message_ts"),
    )


# --- binding --------------------------------------------------------------------------------------


def register(app: App, services: Services) -> None:
    """Bind the listeners, the ``payment.*`` jobs and the watcher; one :class:`PaymentAccess` per bot."""
    worker = services.worker
    worker.register(
        JobKind(
            RecordPayment,
            lambda job: record_payment(services, job),
            on_queued=lambda job, error, when: record_queued(services, job, error, when),
            on_failed=lambda job, error: record_failed(services, job, error),
        )
    )
    worker.register(
        JobKind(
            ChangePaymentStatus,
            lambda job: change_status(services, job),
            on_queued=lambda job, error, when: status_queued(services, job, error, when),
            on_failed=lambda job, error: status_failed(services, job, error),
        )
    )
    worker.register(JobKind(PaymentChangedInTeleCRM, lambda job: show_change_from_telecrm(services, job)))
    worker.register(JobKind(PaymentMadeWithLead, lambda job: show_payment_made_with_lead(services, job)))
    worker.register(JobKind(PaymentFoundInTeleCRM, lambda job: show_payment_found_in_telecrm(services, job)))
    if services.settings.payment_watch_seconds > 0:
        services.schedule(
            "payment-watch", services.settings.payment_watch_seconds, partial(check_open_payments, services)
        )
    app.use(AccessMiddleware(PaymentAccess(services.settings.payment_allowed_users, services.slack)))
    app.command(ids.CMD_PAYMENT)(on_payment_command)
    app.action(ids.ACT_CARD_PAYMENT)(on_card_button)
    app.shortcut(ids.SHORTCUT_PAYMENT_ON_CARD)(on_payment_shortcut)
    app.view(ids.VIEW_PAYMENT)(on_modal_submit)
    app.action(_STATUS_ACTION)(on_status_button)
    app.action(ids.ACT_PAYMENT_AMOUNT_HELP)(on_amount_help)
