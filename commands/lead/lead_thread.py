"""The lead's thread as the lead jobs use it: its card, and replies in it posted once per step.

The card goes where the person asked, or to them in a DM when the bot is not in that channel. A
passing Slack failure is re-raised (:func:`kit.slack_errors.is_transient_slack_failure`) so the job
is retried; the posts themselves are exactly-once through ``job=`` / ``step=`` (:mod:`kit.cards`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

from commands.lead.jobs import tell
from commands.lead.messages import card_in_dm_message
from commands.lead.values import display_fields
from kit.cards import ensure_thread, post_in_thread, post_lead_card, thread_for
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import Job
from storage.repositories import LeadThread

log = logging.getLogger(__name__)

# Slack errors that mean "not in that channel": the card goes to the person in a DM instead
_NO_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


def post_card(
    services: Services, job: Job, lead_id: str, fields: Mapping[str, object], *, title: str = "New lead"
) -> LeadThread | None:
    """Post the lead card where the user asked (or, if the bot is not in that channel, in a DM)."""
    existing = thread_for(services, lead_id)
    if existing is not None:
        return existing
    payload = job.payload
    shown = display_fields(services.schema(), fields)
    user = payload.get("user")
    channel = payload.get("channel") or user
    try:
        return post_lead_card(
            services, channel=channel, lead_id=lead_id, fields=shown, created_by=user, title=title, job=job
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        if exc.response.get("error") not in _NO_CHANNEL or not user or channel == user:
            log.warning("could not post a lead card: %s", exc.response.get("error"))
            return None
    try:
        thread = post_lead_card(
            services, channel=user, lead_id=lead_id, fields=shown, created_by=user, title=title, job=job
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not post a lead card in a DM either: %s", exc.response.get("error"))
        return None
    post_in_thread(
        services, thread, card_in_dm_message(payload.get("channel")), job=job, step="card_in_dm_note"
    )
    return thread


def lead_thread(
    services: Services, job: Job, lead_id: str, fields: Mapping[str, object]
) -> LeadThread | None:
    """The lead's thread, started with a card when the bot has none for this lead yet."""
    payload = job.payload
    try:
        return ensure_thread(
            services,
            lead_id,
            channel=payload.get("channel") or payload.get("user"),
            user=payload.get("user"),
            fields=display_fields(services.schema(), fields),
            job=job,
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        return post_card(services, job, lead_id, fields, title="Lead")


def say_in_thread(
    services: Services, job: Job, step: str, thread: LeadThread | None, text: str, blocks: list
) -> None:
    """A reply in the lead's thread (once per ``step``), or to the user when there is no thread."""
    if thread is not None:
        try:
            post_in_thread(services, thread, text, blocks, job=job, step=step)
            return
        except SlackApiError as exc:
            if is_transient_slack_failure(exc):
                raise
            log.warning("could not reply in a lead thread: %s", exc.response.get("error"))
    job.once(f"{step}:told", lambda: tell(services, job.payload, text, blocks))
