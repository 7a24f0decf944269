"""*Log activity* on a lead card: create a workspace-defined custom action on the lead (README.md, *Using it*).

The listeners open and update the form (:mod:`commands.activity.form`), answer its type-ahead, and on
submit check it and queue the write (:mod:`commands.activity.jobs`) before acknowledging. The answer —
created with its id, or TeleCRM's ``IGNORED`` remarks in words (:mod:`commands.activity.result`) —
is replied in the lead's thread.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from commands.activity.form import ACTIVITY_TITLE, activity_modal
from commands.activity.jobs import activity_job_kind
from commands.activity.payloads import LogActivity
from kit import ids
from kit.activity_section import (
    BLOCK_PICK,
    action_options_for_query,
    activity_payload,
    field_of_block,
    updated_view,
)
from kit.cards import thread_for
from kit.context import services_of
from kit.fields import form_values, options_for_query
from kit.loading import open_form
from kit.services import Services
from kit.view_context import refused_view

log = logging.getLogger(__name__)


def _lead_name(services: Services, lead_id: str) -> str:
    """The name the form shows, from the lead's thread: the modal must open without a TeleCRM call."""
    thread = thread_for(services, lead_id)
    if thread is not None:
        return thread.name or thread.identifier or lead_id
    return lead_id


def on_card_activity(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """The card's *Log activity* button opens the form within the 3-second trigger: built from the cached
    schema, or a loading modal first when there is none yet (kit/loading.py)."""
    ack()
    services = services_of(context)
    user, channel = context.user_id or "", context.channel_id
    lead_id = str(action.get("value") or "").strip()
    if not lead_id:
        services.ephemeral(
            channel,
            user,
            ":warning: This card does not carry a TeleCRM lead id, so there is nothing to log on.",
        )
        return
    lead_name = _lead_name(services, lead_id)
    try:
        open_form(
            services,
            services.slack,
            trigger_id=body["trigger_id"],
            user=user,
            title=ACTIVITY_TITLE,
            build=lambda schema: activity_modal(
                schema, lead_id=lead_id, lead_name=lead_name, channel=channel
            ),
        )
    except SlackApiError as exc:
        log.warning("views.open failed for Log activity: %s", exc.response.get("error"))
        services.ephemeral(
            channel, user, ":warning: Slack did not open the form in time; click *Log activity* again."
        )


def on_pick(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """Choosing an activity rebuilds the form's activity section with that activity's fields."""
    ack()
    services = services_of(context)
    view = body.get("view") or {}
    schema = services.cache.cached()
    if schema is None or not view.get("id"):
        return
    code = ((action.get("selected_option") or {}).get("value")) or None
    try:
        services.slack.views_update(
            view_id=view["id"], hash=view.get("hash"), view=updated_view(view, schema, code)
        )
    except SlackApiError as exc:
        # hash_conflict: the user changed the form again meanwhile; that change brings its own update
        log.info("activity form not updated: %s", exc.response.get("error"))


def on_pick_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Type-ahead of the activity select (only used past 100 activities)."""
    services = services_of(context)
    ack(options=action_options_for_query(services.cache.cached(), str(body.get("value") or "")))


def on_field_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Type-ahead of an activity field's long dropdown; the block id says which field it is."""
    services = services_of(context)
    schema = services.cache.cached()
    field = field_of_block(schema, str(body.get("block_id") or "")) if schema is not None else None
    if schema is None or field is None:
        ack(options=[])
        return
    ack(options=options_for_query(field, schema, str(body.get("value") or "")))


def on_activity_submit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """The form: checked before the ack (errors show on the form), then queued in the outbox, then acked."""
    services = services_of(context)
    user = context.user_id or ""
    sealed = services.view_seal.open(view, user=user)
    if sealed is None:  # not a form the bot opened for this person: its lead is made up
        ack(response_action="update", view=refused_view())
        return
    schema = services.cache.cached()
    lead_id = sealed.lead_id or ""
    if schema is None or not lead_id:
        ack(
            response_action="errors",
            errors={BLOCK_PICK: "This form is out of date; close it and use Log activity again."},
        )
        return
    values = form_values((view.get("state") or {}).get("values") or {})
    action, errors = activity_payload(
        schema, values, default_country_code=services.settings.default_country_code
    )
    if action is None and not errors:
        errors = {BLOCK_PICK: "Choose the activity to log."}
    if errors or action is None:  # no action means errors says why
        ack(response_action="errors", errors=errors)
        return
    # stored in SQLite before Slack hears "done": a crash right after the ack loses nothing
    services.worker.submit(
        f"view:{view.get('id')}",
        LogActivity(lead_id=lead_id, action=action, user=user, channel=sealed.channel),
    )
    ack()


def register(app: App, services: Services) -> None:
    """Binds the job kind and the listeners; the listeners find ``services`` in Bolt's context (kit/context.py)."""
    services.worker.register(activity_job_kind(services))
    app.action(ids.ACT_CARD_ACTIVITY)(on_card_activity)
    app.action(ids.ACT_ACTIVITY_PICK)(on_pick)
    app.options(ids.ACT_ACTIVITY_PICK)(on_pick_options)
    app.options(ids.ACT_ACTIVITY_FIELD)(on_field_options)
    app.view(ids.VIEW_ACTIVITY)(on_activity_submit)
