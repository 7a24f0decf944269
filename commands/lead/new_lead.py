"""The New lead modal's listeners: opening it (from ``/lead`` or a message), its *More fields* page,
its activity and typed-ahead selects, and its submission.

The form itself is built by :mod:`commands.lead.forms` and checked by :mod:`commands.lead.submissions`;
a valid submission is queued as one ``lead.create`` keyed by the view id, so a re-submission after
validation errors, or a retry, writes once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.lead import forms
from commands.lead.forms import card_to_dm
from commands.lead.listener_kit import channel_of, member_email, open_sealed, seal, user_of
from commands.lead.messages import NOT_LOADED
from commands.lead.payloads import CreateLead
from commands.lead.prefill import prefill_from_text
from commands.lead.store import MORE_FIELDS, drafts_of, usage_of
from commands.lead.submissions import check_more_fields, check_new_lead
from kit.activity_section import action_options_for_query
from kit.channels import bot_is_member
from kit.context import services_of
from kit.fields import options_for_query, view_spec
from kit.loading import open_form
from kit.services import Services
from kit.view_context import ViewContext
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)


def open_new_lead(
    services: Services, client: WebClient, trigger_id: str, user: str, channel: str | None, respond: Respond
) -> None:
    """``/lead`` alone: the New lead modal (a loading modal first when the schema is not cached yet,
    :mod:`kit.loading`), or a reply saying why it cannot open."""

    def build(schema: WorkspaceSchema) -> dict[str, Any]:
        return forms.new_lead_view(
            schema,
            channel=channel,
            usage=usage_of(services).counts(),
            member_email=member_email(services, user),
            bot_in_channel=bot_is_member(client, channel),
            currency=services.settings.default_currency,
        )

    try:
        open_form(services, client, trigger_id=trigger_id, user=user, title=forms.NEW_LEAD_TITLE, build=build)
    except SlackApiError as exc:
        log.warning("views.open failed for the New lead modal: %s", exc.response.get("error"))
        respond(
            text=":warning: Slack did not open the form in time. Please type `/lead` again "
            '(or create directly: `/lead name="Jane Doe" phone=…`).',
            response_type="ephemeral",
        )


def on_lead_from_message(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The New lead form, pre-filled with the phone, email and name found in the message."""
    ack()
    services = services_of(context)
    user, channel = user_of(context), channel_of(context, body)
    text = (body.get("message") or {}).get("text") or ""

    def build(schema: WorkspaceSchema) -> dict[str, Any]:
        return forms.new_lead_view(
            schema,
            channel=channel,
            usage=usage_of(services).counts(),
            member_email=member_email(services, user),
            initial=prefill_from_text(
                schema, text, default_country_code=services.settings.default_country_code
            ),
            bot_in_channel=bot_is_member(client, channel),
            currency=services.settings.default_currency,
        )

    try:
        open_form(
            services,
            client,
            trigger_id=body["trigger_id"],
            user=user,
            title=forms.NEW_LEAD_TITLE,
            build=build,
        )
    except SlackApiError as exc:
        log.warning("views.open failed for Create lead from message: %s", exc.response.get("error"))
        services.ephemeral(
            channel, user, ":warning: Slack did not open the form in time; try the shortcut again."
        )


def on_create_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """*Create lead*: errors go back onto their fields; a valid form is queued before the ack."""
    services = services_of(context)
    user = user_of(context)
    sealed = open_sealed(services, ack, view, user)
    if sealed is None:
        return
    schema = services.cache.cached()
    first_input = next(iter(forms.input_block_ids(view.get("blocks") or [])), None)
    if schema is None:
        ack(response_action="errors", errors={first_input: NOT_LOADED[:150]} if first_input else None)
        return
    drafts = drafts_of(services)
    draft = drafts.get(view["id"], MORE_FIELDS) or {}
    errors, fields, actions = check_new_lead(
        schema,
        view,
        draft,
        default_country_code=services.settings.default_country_code,
        default_currency=services.settings.default_currency,
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    services.worker.submit(
        f"view:{view['id']}",
        CreateLead(
            fields=fields,
            actions=tuple(actions),
            user=user,
            # sealed for this user when the form opened: a channel they were in (or their DMs,
            # when the bot is not in it and they kept that choice)
            channel=user if card_to_dm(view.get("state", {}).get("values", {})) else sealed.channel or user,
            source="modal",
        ),
    )
    ack()
    if draft:
        drafts.delete(view["id"])


def on_activity_pick(
    ack: Ack, body: dict[str, Any], action: Mapping[str, Any], client: WebClient, context: BoltContext
) -> None:
    """*Log an activity*: show the chosen custom action's fields right after the select."""
    ack()
    services = services_of(context)
    schema = services.cache.cached()
    view = body.get("view") or {}
    if schema is None or not view:
        return
    chosen = (action.get("selected_option") or {}).get("value") or None
    try:
        client.views_update(
            view_id=view["id"], hash=view.get("hash"), view=forms.with_activity(view, schema, chosen)
        )
    except SlackApiError as exc:
        log.info("could not show the activity's fields: %s", exc.response.get("error"))


def on_more_fields(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """*More fields…*: push the second page, pre-filled with what was saved from it before."""
    ack()
    services = services_of(context)
    schema = services.cache.cached()
    view = body.get("view") or {}
    if schema is None or not view:
        return
    drafts = drafts_of(services)
    draft = drafts.get(view["id"], MORE_FIELDS) or {}
    initial = {**(draft.get("values") or {}), forms.OTHER_BLOCK: draft.get("other")}
    spec = forms.more_fields_view(schema, forms.input_block_ids(view.get("blocks") or []), initial=initial)
    # saved before the push: the second page can be submitted the moment it appears
    draft["first_view"] = view_spec(view, view.get("blocks") or [])
    drafts.put(view["id"], MORE_FIELDS, draft, user=user_of(context))
    try:
        client.views_push(trigger_id=body["trigger_id"], view=seal(services, spec, user_of(context)))
    except SlackApiError as exc:
        log.warning("views.push failed for More fields: %s", exc.response.get("error"))


def on_more_fields_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """*Save* on the second page: keep its values for the first page's *Create lead*."""
    services = services_of(context)
    user = user_of(context)
    if open_sealed(services, ack, view, user) is None:
        return
    schema = services.cache.cached()
    if schema is None:
        ack()
        return
    errors, values, other = check_more_fields(
        schema, view, default_country_code=services.settings.default_country_code
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    root = view.get("root_view_id") or view.get("previous_view_id")
    if not root:
        return
    drafts = drafts_of(services)
    draft = drafts.get(root, MORE_FIELDS) or {}
    draft["values"] = values
    draft["other"] = other
    drafts.put(root, MORE_FIELDS, draft, user=user)
    _note_saved_fields(client, schema, root, draft)


def _note_saved_fields(
    client: WebClient, schema: WorkspaceSchema, root: str, draft: Mapping[str, Any]
) -> None:
    """The first page's intro line says which fields of the second page are filled in."""
    first = draft.get("first_view")
    if not first:
        return
    labels = [f.label for k in draft["values"] if (f := schema.field(k))]
    if draft["other"]:
        labels.append("other fields")
    channel = ViewContext.from_metadata(first.get("private_metadata")).channel  # stored by the bot
    spec = {**first, "blocks": forms.with_more_saved(first["blocks"], channel, labels)}
    try:
        client.views_update(view_id=root, view=spec)
    except SlackApiError as exc:
        log.info("could not note the saved fields on the first page: %s", exc.response.get("error"))


def on_activity_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Type-ahead of the *Log an activity* select (a workspace with more than 100 activities)."""
    schema = services_of(context).cache.cached()
    ack(options=action_options_for_query(schema, str(body.get("value") or "")))


def on_field_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Typed-ahead options of a lead field's long select (an activity's fields have their own,
    in :mod:`commands.activity.listeners`)."""
    schema = services_of(context).cache.cached()
    found = schema.field(str(body.get("block_id") or "")) if schema else None
    if schema is None or found is None:
        ack(options=[])
        return
    ack(options=options_for_query(found, schema, str(body.get("value") or "")))
