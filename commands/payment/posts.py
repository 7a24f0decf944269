"""What the payment jobs and listeners post or edit in Slack: an answer to the person who asked, the
payment message redrawn in place, a note in the payment's thread.

A passing Slack failure (``kit/slack_errors.py``) is raised, so the outbox job that owes the post is
retried from its Slack step; any other Slack refusal is logged, as the payment itself is stored.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from commands.payment.payloads import ChangePaymentStatus, RecordPayment
from commands.payment.render import render_payment_message
from kit.job_posts import post_once
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import Job
from storage.repositories import Payment

log = logging.getLogger(__name__)


def tell(services: Services, payload: RecordPayment | ChangePaymentStatus, text: str) -> None:
    """An answer only the person who asked sees, where they asked (a passing Slack failure is raised,
    so the job that owes the answer is retried)."""
    user = payload.user
    if user:
        services.tell(payload.channel, user, text, thread_ts=payload.reply_ts)


def lead_name_for(services: Services, lead_id: str) -> str | None:
    """The lead's name as the bot last saw it, shown on the payment message."""
    thread = services.threads.get(lead_id)
    return thread.name if thread and thread.name else None


def refresh_payment_message(services: Services, payment: Payment, *, last_change: str | None = None) -> None:
    """Edit the payment message in place so it shows the current status and next-status buttons."""
    if not payment.channel or not payment.message_ts:
        return
    text, blocks = render_payment_message(
        payment, lead_name=lead_name_for(services, payment.lead_id), last_change=last_change
    )
    try:
        services.slack.chat_update(channel=payment.channel, ts=payment.message_ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not update payment message %s: %s", payment.action_id, exc.response.get("error"))


def notify_thread(services: Services, payment: Payment, text: str, job: Job[object]) -> None:
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
