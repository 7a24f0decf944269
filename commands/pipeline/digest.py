"""The morning digest: at ``DIGEST_TIME`` in ``DIGEST_TZ``, yesterday's report in ``DIGEST_CHANNEL``,
and in its thread each rep's follow-ups due today, mentioning them.

Once per day across restarts and processes sharing the database: :func:`digest_tick` (every minute)
claims the day in SQLite (``pipeline_digests``) and queues the ``pipeline.digest`` job in the same
transaction, so exactly one process queues it and it survives a crash; the job posts each message
with :func:`kit.job_posts.post_once`, so a retry never posts twice. A day with nothing to say (no new
lead, no payment, no follow-up due) is skipped. When TeleCRM cannot be reached the job waits and
tries again a few times (``TELECRM_ATTEMPTS``), then posts what it has and says what is missing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.pipeline.payloads import PostDigest
from kit.cards import lead_name
from kit.format import mention, mrkdwn_escape, mrkdwn_link, truncate, zone
from kit.job_posts import post_once
from kit.pipeline.numbers import FOLLOW_UPS, NEW_LEADS, PIPELINE, counter_for, gather
from kit.pipeline.period import Period
from kit.pipeline.report import Chart, api_refusal, blocks_for, make_chart, send_with_chart
from kit.services import Services
from kit.worker import Job, Retry
from storage.pipeline import DigestDays, slack_users_of
from telecrm.errors import TeleCRMError
from telecrm.schema import FieldDef

log = logging.getLogger(__name__)

DIGEST_CHECK_SECONDS = 60.0
TELECRM_ATTEMPTS = 4  # then the digest goes out with what it has
FOLLOW_UP_PAGES = 10  # at most 1,000 follow-ups listed
NAMES_PER_REP = 10


def digest_due(services: Services) -> date | None:
    """The day whose digest is due now (yesterday, once DIGEST_TIME has passed today), or None."""
    settings = services.settings
    if not settings.digest_channel:
        return None
    now = datetime.fromtimestamp(services.clock(), zone(settings.digest_tz))
    hour, minute = (int(part) for part in settings.digest_time.split(":"))
    if (now.hour, now.minute) < (hour, minute):
        return None
    return now.date() - timedelta(days=1)


def digest_tick(services: Services) -> str | None:
    """Claim the due day and queue its digest, unless this or another process did; the day claimed."""
    day = digest_due(services)
    if day is None:
        return None
    channel = services.settings.digest_channel
    with services.store.transaction():
        if not DigestDays(services.store, clock=services.clock).claim(day.isoformat(), channel):
            return None
        services.worker.submit(
            f"pipeline.digest:{day.isoformat()}", PostDigest(day=day.isoformat(), channel=channel)
        )
    log.info("morning digest of %s queued for %s", day.isoformat(), channel)
    return day.isoformat()


def post_digest(services: Services, job: Job[PostDigest]) -> dict[str, Any]:
    payload = job.payload
    day = date.fromisoformat(payload.day)
    days = DigestDays(services.store, clock=services.clock)
    numbers = gather(services, Period.day(day, services.settings.digest_tz), today=day + timedelta(days=1))
    if {NEW_LEADS, PIPELINE, FOLLOW_UPS} & set(numbers.missing) and job.attempt < TELECRM_ATTEMPTS:
        counter_for(services).forget()
        raise Retry(f"TeleCRM could not be reached for the digest of {payload.day}")
    if not numbers.something_to_say and not numbers.missing:
        days.finish(payload.day, "skipped")
        log.info("morning digest of %s skipped: nothing happened", payload.day)
        return {"skipped": True}
    chart = Chart(
        **job.once("chart", lambda: asdict(make_chart(services, numbers, filename=f"pipeline-{day}.png")))
    )
    text, blocks = blocks_for(numbers, chart)
    posted: dict[str, str] = {}

    def send(chosen: list[dict[str, Any]]) -> tuple[str, list[str]] | None:
        try:
            posted.update(
                post_once(services, job, "summary", channel=payload.channel, text=text, blocks=chosen)
            )
        except SlackApiError as exc:
            error, messages = api_refusal(exc)
            if error == "invalid_blocks":
                return error, messages
            raise
        return None

    send_with_chart(send, blocks)
    thread = _followups_text(services, numbers.followup_field, day + timedelta(days=1))
    if thread:
        post_once(services, job, "followups", channel=payload.channel, text=thread, thread_ts=posted["ts"])
    days.finish(payload.day, "posted", posted.get("ts"))
    return {"ts": posted.get("ts")}


def _followups_text(services: Services, field: FieldDef | None, today: date) -> str | None:
    """Each rep's follow-ups due today, mentioning the rep; None when there are none (or no field)."""
    if field is None:
        return None
    schema = services.cache.cached() or services.schema()
    counter = counter_for(services)
    by_rep: dict[str, list[str]] = {}
    for page_number in range(FOLLOW_UP_PAGES):
        if not counter.budget.take():
            break
        try:
            page = services.telecrm.search_leads(
                {field.api_name: today.strftime("%d/%m/%Y")}, skip=page_number * 100, limit=100
            )
        except TeleCRMError as exc:
            log.warning("the digest's follow-ups could not be read: %s", exc)
            return None
        for lead in page.items:
            email = str(lead.fields.get("assignee") or "").strip().lower()
            name = mrkdwn_escape(lead_name(schema, lead.fields))
            by_rep.setdefault(email, []).append(
                mrkdwn_link(services.settings.lead_url(lead.id), name) if lead.id else name
            )
        if not page.has_more:
            break
    if not by_rep:
        return None
    lines = [f"*Follow-ups due today* (leads whose {mrkdwn_escape(field.label)} is {today:%d/%m/%Y}):"]
    for email, names in sorted(by_rep.items(), key=lambda item: (not item[0], -len(item[1]), item[0])):
        who = _who(services, schema, email)
        shown = ", ".join(names[:NAMES_PER_REP]) + (
            f", +{len(names) - NAMES_PER_REP} more" if len(names) > NAMES_PER_REP else ""
        )
        lines.append(f"• {who} — {len(names)}: {shown}")
    return truncate("\n".join(lines), 3000)


def _who(services: Services, schema: Any, email: str) -> str:
    """A rep as a Slack mention when their Slack account is known, else their TeleCRM name."""
    if not email:
        return "Unassigned"
    linked = slack_users_of(services.store, email)
    if linked:
        return mention(linked[0])
    try:
        user = services.slack.users_lookupByEmail(email=email).get("user") or {}
        if user.get("id"):
            return mention(str(user["id"]))
    except SlackApiError as exc:
        log.info("no Slack user for a rep's email: %s", exc.response.get("error"))
    member = schema.member_by_email(email)
    return mrkdwn_escape(member.name if member is not None and member.name else email)
