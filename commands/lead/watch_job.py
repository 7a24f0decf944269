"""``lead.changed_in_telecrm``: what the lead watcher (``commands/lead/watch.py``) found, shown once.

The watcher has already recorded the change as seen when this job is queued (one transaction), so
the job only tells: a message in the lead's thread (``post_once``), a DM with the card to the person
the lead was newly assigned to when they are a Slack user the bot can find, and the card redrawn
from the lead as the watcher read it. Slack failing retries only the steps not yet done.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.lead.payloads import LeadChangedInTeleCRM
from kit.cards import lead_name, refresh_card, render_lead_card, thread_permalink
from kit.format import mrkdwn_escape, mrkdwn_link, truncate
from kit.job_posts import post_once
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import Job, JobKind

log = logging.getLogger(__name__)

GONE_TEXT = (
    ":wastebasket: This lead was deleted in TeleCRM, or TeleCRM can no longer find it, so I've stopped "
    "following it; this thread will not hear of it again."
)


def _change_text(label: str, old: str, new: str, who: str) -> str:
    return f"{label} {old} → {new}" + (f" (by {who})" if who else "")


def change_message(payload: LeadChangedInTeleCRM) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of "changed in TeleCRM", every TeleCRM-supplied part escaped."""
    if payload.gone:
        return GONE_TEXT, [{"type": "section", "text": {"type": "mrkdwn", "text": GONE_TEXT}}]
    by = f" by {payload.by}" if payload.by else ""
    summary = "; ".join(_change_text(*row) for row in payload.changes)
    activities = "; ".join(payload.activities)
    if summary:
        text = f"Changed in TeleCRM{by}: {summary}" + (f". Also recorded: {activities}" if activities else "")
    else:
        text = f"Recorded in TeleCRM: {activities}"
    blocks: list[dict[str, Any]] = []
    if payload.changes:
        lines = [
            f"• *{mrkdwn_escape(label)}*: {mrkdwn_escape(old)} → {mrkdwn_escape(new)}"
            + (f" _(by {mrkdwn_escape(who)})_" if who else "")
            for label, old, new, who in payload.changes[:40]
        ]
        head = f":pencil2: *Changed in TeleCRM{mrkdwn_escape(by)}*"
        blocks.append(_section("\n".join([head, *lines])))
    if payload.activities:
        lines = [f"• {mrkdwn_escape(line)}" for line in payload.activities[:40]]
        blocks.append(_section("\n".join([":inbox_tray: *Recorded in TeleCRM*", *lines])))
    return truncate(mrkdwn_escape(text), 3000), blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}


def show_change(services: Services, job: Job[LeadChangedInTeleCRM]) -> dict[str, Any]:
    """The job: say it in the thread, tell a newly assigned Slack user, redraw the card."""
    p = job.payload
    thread = services.threads.get(p.lead_id)
    if thread is None:
        return {}
    text, blocks = change_message(p)
    try:
        post_once(
            services, job, "changes", channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks
        )
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not tell lead %s's thread of a change: %s", p.lead_id, exc.response.get("error"))
    if p.gone or p.fields is None:
        return {"gone": p.gone}
    if p.assigned_to:
        _tell_assignee(services, job, thread.channel)
    refresh_card(services, p.lead_id, p.fields)
    return {"changes": len(p.changes), "activities": len(p.activities)}


def _tell_assignee(services: Services, job: Job[LeadChangedInTeleCRM], thread_channel: str) -> None:
    """A DM with the card to the Slack user of the new assignee (when the bot can find them)."""
    p = job.payload
    user = services.slack_user_for_member(p.assigned_to, ask_slack=True)
    if not user or user == thread_channel:
        return
    schema = services.schema()
    fields = p.fields or {}
    thread = services.threads.get(p.lead_id)
    link = thread_permalink(services, thread) if thread is not None else None
    assigner = next((w for label, _o, _n, w in p.changes if w), "")
    who = f" by {mrkdwn_escape(assigner)}" if assigner else ""
    name = mrkdwn_escape(lead_name(schema, fields))
    note = f":bust_in_silhouette: You were assigned *{name}* in TeleCRM{who}."
    if link:
        note += " " + mrkdwn_link(link, "Open the lead's thread")
    _, card = render_lead_card(services, schema, p.lead_id, fields, title="Lead")
    try:
        post_once(services, job, "assignee_dm", channel=user, text=note, blocks=[_section(note), *card])
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not tell the new assignee of lead %s: %s", p.lead_id, exc.response.get("error"))


def change_job_kind(services: Services) -> JobKind[LeadChangedInTeleCRM]:
    return JobKind(LeadChangedInTeleCRM, lambda job: show_change(services, job))
