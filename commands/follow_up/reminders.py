"""Sending follow-up reminders, each exactly once.

:func:`remind_due` runs every :data:`CHECK_SECONDS` (and is called directly by tests, with the bot's
clock moved on). For each due row of ``follow_ups`` it claims the row (``pending`` → ``sent``, for
that version) and queues a ``follow_up.remind`` job in the same transaction, keyed by the lead and the
version: two processes checking at once queue one job, and a crash between the two changes is
impossible. The job (:func:`send_reminder`) finds the person (the assignee's Slack account, looked for by email
now if the bot has not met them yet), reads the lead from TeleCRM for a current card, opens the DM
and posts the reminder through :func:`kit.job_posts.post_once`, so a retry never posts it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.follow_up.payloads import RemindFollowUp
from commands.follow_up.render import due_text, reminder_message
from kit.cards import lead_name
from kit.follow_ups import WORKSPACE_TZ, is_date_only, slack_user_of_member
from kit.format import zone
from kit.job_posts import post_once
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import GiveUp, Job
from storage.follow_ups import SENT, FollowUp
from telecrm.errors import TeleCRMError, TeleCRMNotFound
from telecrm.redact import mask

log = logging.getLogger(__name__)

#: how often due reminders are looked for; a reminder is sent at most this late
CHECK_SECONDS = 30.0
BATCH = 100


def remind_due(services: Services, *, limit: int = BATCH) -> int:
    """Queue every reminder whose time has come, once; returns how many were queued now."""
    queued = 0
    for row in services.follow_ups.due(services.clock(), limit):
        with services.store.transaction():
            if not services.follow_ups.claim(row.lead_id, row.version):
                continue  # another process (or an earlier check) has it
            services.worker.submit(
                f"followup:{row.lead_id}:{row.version}",
                RemindFollowUp(lead_id=row.lead_id, version=row.version),
            )
        queued += 1
        log.info("follow-up of lead %s is due; reminding its person", row.lead_id)
    return queued


def send_reminder(services: Services, job: Job[RemindFollowUp]) -> dict[str, Any]:
    """DM the reminder once: the lead's current card, what is due, and the reminder's buttons."""
    payload = job.payload
    if "reminder" in job.progress:  # posted by an earlier attempt
        return {"lead_id": payload.lead_id, "ts": job.progress["reminder"]["ts"]}
    row = services.follow_ups.get(payload.lead_id)
    if row is None or row.version != payload.version or row.state != SENT:
        return {"skipped": "moved, snoozed or removed before it was sent"}
    lead: dict[str, Any] = job.once("lead", lambda: _read_lead(services, payload.lead_id))
    if lead.get("gone"):
        services.follow_ups.forget(payload.lead_id)
        return {"skipped": "the lead is gone from TeleCRM"}
    user: str = job.once("to", lambda: _recipient(services, row))
    channel = job.once("dm", lambda: _open_dm(services, user))
    tz = services.user_tz(user)
    wall_clock = datetime.fromtimestamp(row.follow_up_at, zone(WORKSPACE_TZ)).replace(tzinfo=None)
    schema = services.schema()
    fields = lead.get("fields")
    text, blocks = reminder_message(
        services,
        schema,
        payload.lead_id,
        fields,
        name=lead_name(schema, fields) if fields else row.name or payload.lead_id,
        version=payload.version,
        due=due_text(row.follow_up_at, tz, date_only=is_date_only(wall_clock)),
    )
    posted = post_once(services, job, "reminder", channel=channel, text=text, blocks=blocks)
    return {"lead_id": payload.lead_id, "user": user, "ts": posted["ts"]}


def _recipient(services: Services, row: FollowUp) -> str:
    """The assignee's Slack account when it can be found now (by email), else the person the row names."""
    if row.assignee:
        found = slack_user_of_member(services, row.assignee)
        if found and found != row.user_id:
            services.follow_ups.reassign(row.lead_id, found, row.assignee)
            return found
    return row.user_id


def _read_lead(services: Services, lead_id: str) -> dict[str, Any]:
    """The lead's current fields; when TeleCRM cannot answer, the reminder still goes, on time."""
    try:
        return {"fields": dict(services.telecrm.get_lead(lead_id).fields)}
    except TeleCRMNotFound:
        log.info("lead %s is gone from TeleCRM; its follow-up reminder is dropped", lead_id)
        return {"gone": True}
    except TeleCRMError as exc:
        log.warning("follow-up reminder of lead %s sent without reading it: %s", lead_id, mask(exc))
        return {"fields": None}


def _open_dm(services: Services, user: str) -> str:
    """The DM channel with ``user`` (a ``D…`` id, so a retry can look for the reminder in it)."""
    try:
        return str(services.slack.conversations_open(users=user)["channel"]["id"])
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("no DM with the person to remind: %s", exc.response.get("error"))
        raise GiveUp("no DM with the person to remind") from exc
