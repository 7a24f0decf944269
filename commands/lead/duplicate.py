"""A new lead whose identifier already exists: say which lead it is, and offer to update it instead.

The ``lead.create`` job (:mod:`commands.lead.create_job`) makes the offer: the other values are
kept in a draft keyed by a token in the button, and *Update existing lead* queues one ``lead.update``
keyed on that token, so a double click (or two people) updates the lead once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from commands.lead.jobs import tell
from commands.lead.listener_kit import channel_of, user_of
from commands.lead.messages import duplicate_done_message, duplicate_message, quoted
from commands.lead.payloads import CreateLead, UpdateLead
from commands.lead.store import DUPLICATE, drafts_of, new_token
from commands.lead.values import has_value
from kit.cards import lead_name, thread_for, thread_permalink
from kit.context import claim_delivery, services_of
from kit.display import field_text
from kit.format import mrkdwn_escape
from kit.services import Services
from telecrm.models import Lead
from telecrm.schema import WorkspaceSchema


def _label(schema: WorkspaceSchema, api_name: str) -> str:
    """A field's label, or its API name when the schema no longer has it."""
    found = schema.field(api_name)
    return found.label if found else api_name


def offer_update(
    services: Services, payload: CreateLead, schema: WorkspaceSchema, existing: Lead | None
) -> None:
    """Tell the person the lead exists; with other values given, store them behind an *Update* button."""
    ident = schema.identifier.api_name
    fields = dict(payload.fields)
    others = {k: v for k, v in fields.items() if k != ident and has_value(v)}
    token = None
    lead_id = existing.id if existing else None
    if existing is not None and lead_id and others:
        token = new_token()
        drafts_of(services).put(
            token,
            DUPLICATE,
            {
                "lead_id": lead_id,
                "fields": others,
                "channel": payload.channel,
                "name": lead_name(schema, existing.fields),
            },
            user=payload.user,
        )
    thread = thread_for(services, lead_id) if lead_id else None
    text, blocks = duplicate_message(
        schema,
        identifier_value=fields.get(ident),
        lead_id=lead_id,
        lead_name=lead_name(schema, existing.fields) if existing else None,
        link=services.settings.lead_url(lead_id) if lead_id else None,
        permalink=thread_permalink(services, thread) if thread else None,
        token=token,
        changes=[
            f"*{mrkdwn_escape(_label(schema, k))}*: {quoted(field_text(schema.field(k), v))}"
            for k, v in others.items()
        ],
        dropped_activity=bool(payload.actions),
    )
    tell(services, payload, text, blocks)


def on_update_existing(
    ack: Ack, body: dict[str, Any], action: Mapping[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Keyed on the offer, so a double click (or two people) updates the lead once."""
    services = services_of(context)
    user = user_of(context)
    token = str(action.get("value") or "")
    draft = drafts_of(services).get(token, DUPLICATE)
    if draft is None:
        ack()
        respond(
            text=":hourglass: This offer has expired. Use `/lead update <lead id> key=value …` instead.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    _, created = services.worker.submit(
        f"dup:{token}",
        UpdateLead(
            lead_id=draft["lead_id"],
            fields=draft.get("fields") or {},
            user=user,
            channel=draft.get("channel") or channel_of(context, body),
            source="duplicate",
        ),
        delivery=claim_delivery(context),
    )
    ack()
    text, blocks = duplicate_done_message(draft.get("name"), user, again=not created)
    respond(text=text, blocks=blocks, replace_original=False, response_type="ephemeral")
