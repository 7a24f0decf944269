"""*Edit* on a lead card: open the Edit modal at once, fill it when TeleCRM answers, send what changed.

The modal is opened before TeleCRM is read (Slack's trigger id expires in 3 s); the untouched form's
values are kept as a baseline draft keyed by the view id, so a submission sends only the fields a
person changed, as one ``lead.update`` keyed by the view id. The form is :mod:`commands.lead.edit_form`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.lead import edit_form
from commands.lead.listener_kit import channel_of, open_sealed, user_of
from commands.lead.messages import NOT_LOADED
from commands.lead.payloads import UpdateLead
from commands.lead.store import EDIT, drafts_of, usage_of
from commands.lead.submissions import check_edit
from kit.cards import thread_for
from kit.context import services_of
from kit.loading import open_then_fill
from kit.services import Services

log = logging.getLogger(__name__)


def on_edit(
    ack: Ack, body: dict[str, Any], action: Mapping[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Open a "reading…" Edit modal now; :func:`edit_view_of` fills it from the worker (kit/loading.py)."""
    ack()
    services = services_of(context)
    lead_id = str(action.get("value") or "")
    user, channel = user_of(context), channel_of(context, body)
    thread = thread_for(services, lead_id) if lead_id else None
    loading = edit_form.edit_loading_view(lead_id, name=thread.name if thread else None, channel=channel)
    try:
        open_then_fill(
            services,
            client,
            trigger_id=body["trigger_id"],
            user=user,
            loading=loading,
            fill=lambda view_id: edit_view_of(services, view_id, lead_id, channel),
            failed=lambda error, text: edit_form.edit_message_view(lead_id, text, channel=channel),
            what="reading the lead",
            doing="read",
        )
    except SlackApiError as exc:
        log.warning("views.open failed for Edit lead: %s", exc.response.get("error"))
        services.ephemeral(
            channel, user, ":warning: Slack did not open the form in time; click *Edit* again."
        )


def edit_view_of(services: Services, view_id: str, lead_id: str, channel: str | None) -> dict[str, Any]:
    """The Edit form with the lead's current values (the schema, then the lead, read from TeleCRM on
    the worker); the untouched form's values are kept, keyed by the view id, as the baseline of what
    a submission changed."""
    schema = services.schema()
    lead = services.telecrm.get_lead(lead_id)
    spec = edit_form.edit_view(
        schema,
        lead_id,
        lead.fields,
        channel=channel,
        usage=usage_of(services).counts(),
        lead_link=services.settings.lead_url(lead_id),
    )
    baseline = edit_form.edit_baseline(
        schema, spec, default_country_code=services.settings.default_country_code
    )
    drafts_of(services).put(view_id, EDIT, {"lead_id": lead_id, "baseline": baseline})
    return spec


def on_edit_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """*Save changes*: queue only the changed fields, or say that nothing changed."""
    services = services_of(context)
    user = user_of(context)
    sealed = open_sealed(services, ack, view, user)
    if sealed is None:
        return
    schema = services.cache.cached()
    drafts = drafts_of(services)
    draft = drafts.get(view["id"], EDIT)
    if draft is not None and draft.get("lead_id") != sealed.lead_id:
        draft = None  # the sealed form is about another lead than the one stored for this view
    if schema is None or draft is None:
        text = NOT_LOADED if schema is None else ":hourglass: This form is out of date; click *Edit* again."
        ack(
            response_action="update",
            view=edit_form.edit_message_view(sealed.lead_id or "", text, channel=None),
        )
        return
    errors, changed = check_edit(
        schema, view, draft.get("baseline") or {}, default_country_code=services.settings.default_country_code
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if not changed:
        drafts.delete(view["id"])
        ack(
            response_action="update",
            view=edit_form.edit_message_view(
                draft["lead_id"],
                ":ok_hand: You changed nothing, so nothing was sent to TeleCRM.",
                channel=sealed.channel,
            ),
        )
        return
    services.worker.submit(
        f"view:{view['id']}",
        UpdateLead(
            lead_id=draft["lead_id"], fields=changed, user=user, channel=sealed.channel, source="edit"
        ),
    )
    ack()
    drafts.delete(view["id"])
