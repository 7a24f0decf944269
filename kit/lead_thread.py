"""The one way a job gets back to Slack about a lead: a reply in the lead's thread.

The thread is the lead's card (:mod:`kit.cards`); when the bot has none yet, a card is posted first,
where the person asked or, when the bot is not a member of that channel, to them in a DM with a note
saying why. When no thread can be had, the person who asked is told instead.

Exactly once across retries: every post goes through :func:`kit.job_posts.post_once` (via
``job=`` / ``step=``), every answer to the person through ``job.once``. A passing Slack failure
(:func:`kit.slack_errors.is_transient_slack_failure`) is re-raised so the job is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from kit.cards import ensure_thread, post_in_thread, post_lead_card, thread_for
from kit.format import channel_mention
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import Job
from storage.repositories import LeadThread

log = logging.getLogger(__name__)

# Slack errors that mean "not in that channel": the card goes to the person in a DM instead
_NO_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


class Asked(Protocol):
    """A job payload that names who asked (a Slack user id) and where (a channel id, if any)."""

    @property
    def user(self) -> str | None: ...

    @property
    def channel(self) -> str | None: ...


def card_in_dm_message(channel: str | None) -> str:
    """Posted under a card that went to a DM: why, and how to keep leads in the channel."""
    where = channel_mention(channel) if channel else "that channel"
    return (
        f"I'm not a member of {where}, so the card is here. "
        "Invite me there (`/invite @TeleCRM`) to keep leads in the channel."
    )


def _where(job: Job[Asked], channel: str | None) -> str | None:
    """Where a new card goes: ``channel``, else where the job's user asked, else their DM."""
    place = channel or job.payload.channel or job.payload.user
    if not place:
        log.warning("a %s job names no channel and no user: no card can be posted", job.kind)
        return None
    return str(place)


def post_card(
    services: Services,
    job: Job[Asked],
    lead_id: str,
    fields: Mapping[str, object],
    *,
    title: str = "New lead",
    channel: str | None = None,
) -> LeadThread | None:
    """The lead's thread, posting its card where the user asked (or, if the bot is not in that
    channel, in a DM with a note saying why); ``None`` when Slack took no card at all.

    ``fields`` are shown as given (callers turn TeleCRM values into display values first);
    ``channel`` is where the card goes (default: where the job's user asked, else their DM).
    """
    existing = thread_for(services, lead_id)
    if existing is not None:
        return existing
    payload = job.payload
    user = payload.user
    channel = _where(job, channel)
    if channel is None:
        return None
    try:
        return post_lead_card(
            services, channel=channel, lead_id=lead_id, fields=fields, created_by=user, title=title, job=job
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        if exc.response.get("error") not in _NO_CHANNEL or not user or channel == user:
            log.warning("could not post a lead card: %s", exc.response.get("error"))
            return None
    try:
        thread = post_lead_card(
            services, channel=user, lead_id=lead_id, fields=fields, created_by=user, title=title, job=job
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not post a lead card in a DM either: %s", exc.response.get("error"))
        return None
    post_in_thread(services, thread, card_in_dm_message(payload.channel), job=job, step="card_in_dm_note")
    return thread


def lead_thread(
    services: Services,
    job: Job[Asked],
    lead_id: str,
    fields: Mapping[str, object] | None = None,
    *,
    channel: str | None = None,
) -> LeadThread | None:
    """The lead's thread, started with a card when the bot has none for this lead yet.

    Without ``fields`` the lead is read from TeleCRM for the card (a TeleCRM error is raised).
    ``channel`` is where a new card goes (default: where the job's user asked, else their DM).
    """
    payload = job.payload
    channel = _where(job, channel)
    if channel is None:
        return None
    try:
        return ensure_thread(
            services,
            lead_id,
            channel=channel,
            user=payload.user,
            fields=fields,
            job=job,
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        if fields is None:
            fields = services.telecrm.get_lead(lead_id).fields
        return post_card(services, job, lead_id, fields, title="Lead", channel=channel)


def say_in_thread(
    services: Services,
    job: Job[Asked],
    step: str,
    thread: LeadThread | None,
    text: str,
    blocks: list[dict[str, Any]] | None,
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
    job.once(f"{step}:told", lambda: _tell(services, job.payload, text, blocks))


def _tell(services: Services, payload: Asked, text: str, blocks: list[dict[str, Any]] | None) -> None:
    """An answer only the person who asked sees (a passing Slack failure is raised)."""
    user = payload.user
    if user:
        services.tell(payload.channel or None, str(user), text, blocks)
