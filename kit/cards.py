"""The lead card and the lead's thread.

The message carrying a lead card is "the lead's thread": everything later about that lead
(payments, activities, timelines, updates, remarks) is posted as a reply to it. ``lead_id →
(channel, ts)`` lives in SQLite, so the thread is found again after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from kit import ids
from kit.blocks import button
from kit.display import display_value, has_value
from kit.display import field_text as shown_value
from kit.format import (
    epoch_seconds,
    format_date,
    format_phone,
    mention,
    mrkdwn_escape,
    mrkdwn_link,
    slack_date,
    truncate,
)
from kit.job_posts import post_once
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.timeline_grammar import BUILTIN_ACTION_TYPES
from kit.worker import Job
from storage.repositories import LeadThread
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema, humanize

log = logging.getLogger(__name__)

# fields shown on a card after name/identifier/status, in this order when present
_KEY_TYPES = (
    FieldType.ACTIVE_USERS,
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.MONEY,
    FieldType.NUMBER,
    FieldType.DROPDOWN,
    FieldType.DATE,
    FieldType.TAGS,
    FieldType.RATING,
    FieldType.LOST_REASON,
)
_MAX_CARD_FIELDS = 10


def field_text(services: Services, f: FieldDef, value: object) -> str:
    """A value on a card, money in the workspace's currency (:func:`kit.display.field_text`)."""
    return shown_value(f, value, currency=services.settings.default_currency)


def member_name(schema: WorkspaceSchema, email: object) -> str:
    """A team member as people know them: their name in TeleCRM, never a raw email (an address
    TeleCRM's team list does not know is shown as the name its first part spells)."""
    text = display_value(email).strip()
    if "@" not in text:
        return text
    member = schema.member_by_email(text)
    if member is not None and member.name and "@" not in member.name:
        return member.name
    local = text.split("@", 1)[0].replace(".", " ").replace("_", " ").replace("-", " ")
    return " ".join(part.capitalize() for part in local.split()) or "a team member"


def plain_value(services: Services, schema: WorkspaceSchema, f: FieldDef | None, value: object) -> str:
    """A field's value as people read it (not escaped): phones as ``+91 98765 43210``, team members
    by name, days without a time, money with its currency; "—" when empty."""
    if f is None or not has_value(value) or isinstance(value, list | tuple):
        return shown_value(f, value, currency=services.settings.default_currency)
    if f.type is FieldType.PHONE:
        return format_phone(value, services.settings.default_country_code)
    if f.type is FieldType.ACTIVE_USERS:
        return member_name(schema, value)
    if f.type is FieldType.DATE and isinstance(value, int | float | str) and not isinstance(value, bool):
        return format_date(value)
    return shown_value(f, value, currency=services.settings.default_currency)


def card_value(services: Services, schema: WorkspaceSchema, f: FieldDef, value: object) -> str:
    """A field's value on a card (mrkdwn, escaped): a team member linked to a Slack user as a mention."""
    if f.type is FieldType.ACTIVE_USERS and isinstance(value, str) and "@" in value:
        try:
            user = services.slack_user_for_member(value, ask_slack=True)  # cards are drawn by jobs
        except Exception:
            log.exception("could not find the Slack user of a team member")
            user = None
        if user:
            return mention(user)
    return mrkdwn_escape(plain_value(services, schema, f, value))


def activity_label(schema: WorkspaceSchema, action_type: object) -> tuple[str, str]:
    """(icon, name) of a timeline action type; custom actions by their display name."""
    text = display_value(action_type).strip()
    builtin = BUILTIN_ACTION_TYPES.get(text.upper())
    if builtin:
        return builtin
    custom = schema.custom_action(text) if text else None
    if custom is not None:
        return "📌", custom.display_name
    return "🔹", humanize(text.lower()) if text else "Activity"


def lead_name(schema: WorkspaceSchema, fields: Mapping[str, object]) -> str:
    name = display_value(fields.get("name")).strip()
    if name:
        return name
    ident = display_value(fields.get(schema.identifier_api_name)).strip()
    return ident or "Unnamed lead"


def lead_link(services: Services, lead_id: str) -> str:
    return services.settings.lead_url(lead_id)


def _card_fields(
    services: Services, schema: WorkspaceSchema, fields: Mapping[str, object]
) -> list[tuple[str, str]]:
    """(label, mrkdwn value) of what a card shows: identifier, status, assignee, key fields, the rest."""
    ident = schema.identifier
    shown: list[tuple[str, str]] = []
    used = {"name"}
    first = [ident, schema.field("status")]
    for f in first:
        if f is not None and f.api_name not in used and has_value(fields.get(f.api_name)):
            used.add(f.api_name)
            label = "Status" if f.api_name == "status" else f.label
            shown.append((label, card_value(services, schema, f, fields.get(f.api_name))))
    used.add("status")
    for ftype in _KEY_TYPES:
        for f in schema.fields:
            if f.type is ftype and f.api_name not in used and has_value(fields.get(f.api_name)):
                used.add(f.api_name)
                shown.append((f.label, card_value(services, schema, f, fields.get(f.api_name))))
    for f in schema.fields:  # anything else that was filled in, in workspace order
        if f.api_name not in used and has_value(fields.get(f.api_name)):
            used.add(f.api_name)
            shown.append((f.label, card_value(services, schema, f, fields.get(f.api_name))))
    return shown


def _freshness(services: Services, schema: WorkspaceSchema, fields: Mapping[str, object]) -> str:
    """The lead's last activity (type and when) and when it was last updated, as Slack dates."""
    parts = []
    last_type = fields.get("last_activity_type")
    if has_value(last_type):
        icon, label = activity_label(schema, last_type)
        when = epoch_seconds(fields.get("last_activity_on"))
        parts.append(
            f"Last activity: {icon} {mrkdwn_escape(label)}" + (f", {slack_date(when)}" if when else "")
        )
    updated = epoch_seconds(fields.get("modified_on")) or services.clock()
    parts.append(f"Updated {slack_date(updated)}")
    return " · ".join(parts)


def render_lead_card(
    services: Services,
    schema: WorkspaceSchema,
    lead_id: str,
    fields: Mapping[str, object],
    *,
    created_by: str | None = None,
    title: str = "New lead",
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of a lead card: who, how to reach them, status, assignee, key fields,
    the last activity and when the lead was updated, and the buttons.

    ``fields`` are the lead's fields as TeleCRM returns them (epoch-ms dates, stored phones and
    assignee emails); each is shown as people read it (:func:`plain_value`, :func:`card_value`).
    """
    name = lead_name(schema, fields)
    ident = schema.identifier
    shown = _card_fields(services, schema, fields)
    field_blocks = [
        {"type": "mrkdwn", "text": truncate(f"*{mrkdwn_escape(label)}*\n{value}", 2000)}
        for label, value in shown[:_MAX_CARD_FIELDS]
    ]
    context = [
        f"Lead id `{mrkdwn_escape(lead_id)}`",
        mrkdwn_link(lead_link(services, lead_id), "Open in TeleCRM"),
    ]
    if created_by:
        context.insert(1, f"created by {mention(created_by)}")  # Slack shows the person's name
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(f"{title}: {name}", 150), "emoji": True},
        },
    ]
    if field_blocks:
        blocks.append({"type": "section", "fields": field_blocks})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": truncate(_freshness(services, schema, fields), 2000)},
                {"type": "mrkdwn", "text": " · ".join(context)},
            ],
        }
    )
    blocks.append(
        {
            "type": "actions",
            "block_id": "lead_card_actions",
            "elements": [
                button("Record payment", ids.ACT_CARD_PAYMENT, lead_id, style="primary"),
                button("Log activity", ids.ACT_CARD_ACTIVITY, lead_id),
                button("Timeline", ids.ACT_CARD_TIMELINE, lead_id),
                button("Edit", ids.ACT_CARD_EDIT, lead_id),
            ],
        }
    )
    # the notification text: what a phone's lock screen shows, so it is escaped like the blocks
    ident_value = fields.get(ident.api_name)
    shown_ident = plain_value(services, schema, ident, ident_value) if has_value(ident_value) else ""
    text = f"{title}: {mrkdwn_escape(name)}" + (f" ({mrkdwn_escape(shown_ident)})" if shown_ident else "")
    return text, blocks


def thread_for(services: Services, lead_id: str) -> LeadThread | None:
    return services.threads.get(lead_id)


def post_lead_card(
    services: Services,
    *,
    channel: str,
    lead_id: str,
    fields: Mapping[str, object],
    created_by: str | None = None,
    title: str = "New lead",
    job: Job[object] | None = None,
) -> LeadThread:
    """Post a card and make its message the lead's thread (the first card of a lead wins).

    Posted by a ``job``, the card is posted once however often the job is retried.
    """
    schema = services.schema()
    text, blocks = render_lead_card(services, schema, lead_id, fields, created_by=created_by, title=title)
    if job is not None:
        answer: Any = post_once(services, job, f"card:{lead_id}", channel=channel, text=text, blocks=blocks)
    else:
        answer = services.slack.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False
        )
    thread = services.threads.remember(
        lead_id,
        answer["channel"],
        answer["ts"],
        identifier=display_value(fields.get(schema.identifier_api_name)) or None,
        name=lead_name(schema, fields),
        created_by=created_by,
    )
    try:  # what the lead watcher compares TeleCRM against, when these are TeleCRM's own fields
        services.watches.baseline(lead_id, fields if _from_telecrm(fields) else None, title=title)
    except Exception:
        log.exception("could not remember the lead as its card shows it")
    return thread


def _from_telecrm(fields: Mapping[str, object]) -> bool:
    """Fields read from TeleCRM carry its system fields (``created_on``, ``modified_on``)."""
    return "modified_on" in fields or "created_on" in fields


def refresh_card(services: Services, lead_id: str, fields: Mapping[str, object] | None = None) -> bool:
    """Re-render the lead's card in place (``chat.update``) from its current fields; True if edited.

    Without ``fields`` the lead is read from TeleCRM (a TeleCRM error is raised, so a job retries).
    The thread row takes the lead's current name, so later messages name it as TeleCRM does. A
    passing Slack failure is raised; a card Slack no longer has is logged.
    """
    thread = services.threads.get(lead_id)
    if thread is None:
        return False
    if fields is None:
        fields = services.telecrm.get_lead(lead_id).fields
    schema = services.schema()
    name = display_value(fields.get("name")).strip()
    if name and name != thread.name:
        services.threads.rename(lead_id, name)
    watch = services.watches.get(lead_id)
    title = watch.card_title if watch is not None and watch.card_title else "Lead"
    text, blocks = render_lead_card(
        services, schema, lead_id, fields, created_by=thread.created_by, title=title
    )
    try:
        services.slack.chat_update(channel=thread.channel, ts=thread.ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not update the card of lead %s: %s", lead_id, exc.response.get("error"))
        return False
    return True


def ensure_thread(
    services: Services,
    lead_id: str,
    *,
    channel: str,
    user: str | None = None,
    fields: Mapping[str, object] | None = None,
    job: Job[object] | None = None,
) -> LeadThread:
    """The lead's thread; when the bot has none yet, read the lead from TeleCRM and post a card first."""
    existing = thread_for(services, lead_id)
    if existing is not None:
        return existing
    if fields is None:
        fields = services.telecrm.get_lead(lead_id).fields
    return post_lead_card(
        services, channel=channel, lead_id=lead_id, fields=fields, created_by=user, title="Lead", job=job
    )


def post_in_thread(
    services: Services,
    thread: LeadThread,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    *,
    broadcast: bool = False,
    job: Job[object] | None = None,
    step: str = "reply",
) -> dict[str, Any]:
    """Reply in the lead's thread; returns Slack's answer (``ts`` of the reply).

    Posted by a ``job``, each ``step``'s reply is posted once however often the job is retried.
    """
    if job is not None:
        return post_once(
            services, job, step, channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks,
            reply_broadcast=broadcast,
        )  # fmt: skip
    answer = services.slack.chat_postMessage(
        channel=thread.channel,
        thread_ts=thread.ts,
        text=text,
        blocks=blocks,
        reply_broadcast=broadcast,
        unfurl_links=False,
    )
    data = answer.data if hasattr(answer, "data") else answer
    return dict(data) if isinstance(data, dict) else {}


def thread_permalink(services: Services, thread: LeadThread) -> str | None:
    try:
        return services.slack.chat_getPermalink(channel=thread.channel, message_ts=thread.ts).get("permalink")
    except SlackApiError as exc:
        log.info("no permalink for a lead thread: %s", exc.response.get("error"))
        return None
