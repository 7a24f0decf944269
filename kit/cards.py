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
from kit.display import display_value
from kit.display import field_text as shown_value
from kit.format import mention, mrkdwn_escape, mrkdwn_link, truncate
from kit.job_posts import post_once
from kit.services import Services
from kit.worker import Job
from storage.repositories import LeadThread
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

log = logging.getLogger(__name__)

# fields shown on a card after name/identifier/status, in this order when present
_KEY_TYPES = (
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.ACTIVE_USERS,
    FieldType.MONEY,
    FieldType.NUMBER,
    FieldType.DROPDOWN,
    FieldType.DATE,
    FieldType.TAGS,
    FieldType.RATING,
    FieldType.LOST_REASON,
)


def field_text(services: Services, f: FieldDef, value: object) -> str:
    """A value on a card, money in the workspace's currency (:func:`kit.display.field_text`)."""
    return shown_value(f, value, currency=services.settings.default_currency)


def lead_name(schema: WorkspaceSchema, fields: Mapping[str, object]) -> str:
    name = display_value(fields.get("name")).strip()
    if name:
        return name
    ident = display_value(fields.get(schema.identifier_api_name)).strip()
    return ident or "Unnamed lead"


def lead_link(services: Services, lead_id: str) -> str:
    return services.settings.lead_url(lead_id)


def render_lead_card(
    services: Services,
    schema: WorkspaceSchema,
    lead_id: str,
    fields: Mapping[str, object],
    *,
    created_by: str | None = None,
    title: str = "New lead",
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of a lead card: who, how to reach them, status, key fields, buttons."""
    name = lead_name(schema, fields)
    ident = schema.identifier
    shown: list[tuple[str, str]] = []
    ident_value = display_value(fields.get(ident.api_name))
    if ident_value:
        shown.append((ident.label, ident_value))
    status = display_value(fields.get("status"))
    if status:
        shown.append(("Status", status))
    used = {"name", ident.api_name, "status"}
    for ftype in _KEY_TYPES:
        for f in schema.fields:
            if f.type is ftype and f.api_name not in used and display_value(fields.get(f.api_name)):
                used.add(f.api_name)
                shown.append((f.label, field_text(services, f, fields.get(f.api_name))))
    for f in schema.fields:  # anything else that was filled in, in workspace order
        if f.api_name not in used and display_value(fields.get(f.api_name)):
            used.add(f.api_name)
            shown.append((f.label, field_text(services, f, fields.get(f.api_name))))
    field_blocks = [
        {"type": "mrkdwn", "text": truncate(f"*{mrkdwn_escape(label)}*\n{mrkdwn_escape(value)}", 2000)}
        for label, value in shown[:10]
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
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    blocks.append(
        {
            "type": "actions",
            "block_id": "lead_card_actions",
            "elements": [
                _button("Record payment", ids.ACT_CARD_PAYMENT, lead_id, style="primary"),
                _button("Log activity", ids.ACT_CARD_ACTIVITY, lead_id),
                _button("Timeline", ids.ACT_CARD_TIMELINE, lead_id),
                _button("Edit", ids.ACT_CARD_EDIT, lead_id),
            ],
        }
    )
    # the notification text: what a phone's lock screen shows, so it is escaped like the blocks
    text = f"{title}: {mrkdwn_escape(name)}" + (f" ({mrkdwn_escape(ident_value)})" if ident_value else "")
    return text, blocks


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


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
    return services.threads.remember(
        lead_id,
        answer["channel"],
        answer["ts"],
        identifier=display_value(fields.get(schema.identifier_api_name)) or None,
        name=lead_name(schema, fields),
        created_by=created_by,
    )


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
