"""``/timeline`` and the lead card's *Timeline* button: a lead's history, newest first (README.md, *Using it*).

The listeners only acknowledge, check and hand over: `/timeline <lead> [type] [days]` and the form are
read in :mod:`commands.timeline.query` / :mod:`commands.timeline.form` against the cached schema
first, so a typo never costs a TeleCRM call; the search itself runs on the worker's read pool
(:mod:`commands.timeline.show`) and a page is drawn by :mod:`commands.timeline.render`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk.errors import SlackApiError

from commands.timeline.form import BLOCK_LEAD, read_timeline_form, timeline_modal, type_options_for_query
from commands.timeline.query import TimelineQuery, is_lead_id
from commands.timeline.seen_types import seen_types_of
from commands.timeline.show import Tell, run_form, run_query_text, show_timeline, turn_page
from kit import ids
from kit.context import services_of
from kit.fields import form_values
from kit.format import truncate
from kit.loading import open_form
from kit.services import Services
from kit.view_context import refused_view
from telecrm.redact import mask

log = logging.getLogger(__name__)


def _responder(respond: Respond) -> Tell:
    """Caller-only answers of a slash command go through its response_url: they work in any channel."""

    def tell(text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    return tell


def _ephemeral(services: Services, channel: str | None, user: str) -> Tell:
    """Caller-only answers of a button or a form, which have no response_url to the channel."""

    def tell(text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        services.ephemeral(channel, user, text, blocks)

    return tell


def on_timeline_command(ack: Ack, respond: Respond, command: dict[str, Any], context: BoltContext) -> None:
    """`/timeline` alone opens the form; `/timeline <text>` is looked up on the worker after the ack."""
    ack()
    services = services_of(context)
    text = command.get("text") or ""
    user, channel = context.user_id or "", context.channel_id
    if not text.strip():
        try:
            open_form(
                services,
                services.slack,
                trigger_id=command["trigger_id"],
                user=user,
                title="Lead timeline",
                build=lambda schema: timeline_modal(
                    schema, channel=channel, seen=seen_types_of(services).counts()
                ),
            )
        except SlackApiError as exc:
            log.warning("views.open failed for the timeline form: %s", exc.response.get("error"))
            respond(
                response_type="ephemeral",
                text=":warning: Slack did not open the form in time; type `/timeline` again, "
                "or `/timeline <lead id or phone>`.",
            )
        return
    log.info("/timeline by %s: %s", user, mask(truncate(text, 120)))
    services.worker.background(run_query_text, services, text=text, user=user, tell=_responder(respond))


def on_timeline_submit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """The form: checked before the ack (errors show on the form), looked up once per view afterwards."""
    services = services_of(context)
    user = context.user_id or ""
    sealed = services.view_seal.open(view, user=user)
    if sealed is None:  # not a form the bot opened for this person: its channel is made up
        ack(response_action="update", view=refused_view())
        return
    schema = services.cache.cached()
    if schema is None:
        ack(
            response_action="errors",
            errors={BLOCK_LEAD: "The TeleCRM workspace is still being read; try again."},
        )
        return
    values = form_values((view.get("state") or {}).get("values") or {})
    form, errors = read_timeline_form(
        schema, values, default_country_code=services.settings.default_country_code
    )
    if form is None:
        ack(response_action="errors", errors=errors)
        return
    ack()
    if not services.deliveries.first_time(f"view:{view.get('id')}"):
        return
    tell = _ephemeral(services, sealed.channel, user)
    services.worker.background(run_form, services, schema, form, user=user, tell=tell)


def on_type_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Type-ahead of the form's type select (only used past 100 types)."""
    services = services_of(context)
    seen = seen_types_of(services).counts()
    ack(options=type_options_for_query(services.cache.cached(), str(body.get("value") or ""), seen))


def on_card_timeline(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    """The lead card's *Timeline* button: the first page, in the card's thread, without a pointer."""
    ack()
    services = services_of(context)
    lead_id = str(action.get("value") or "").strip()
    tell = _ephemeral(services, context.channel_id, context.user_id or "")
    if not is_lead_id(lead_id):
        tell(":warning: This card does not carry a TeleCRM lead id; use `/timeline <lead id or phone>`.")
        return
    services.worker.background(
        show_timeline,
        services,
        query=TimelineQuery(lead_id.lower()),
        user=context.user_id or "",
        tell=tell,
        announce=False,
    )


def on_page(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*Older* / *Newer*: the button carries its query; an unreadable one is an out-of-date button."""
    ack()
    services = services_of(context)
    query = TimelineQuery.from_value(str(action.get("value") or ""))
    if query is None:
        services.ephemeral(
            context.channel_id,
            context.user_id or "",
            ":warning: That button is out of date; run `/timeline` again.",
        )
        return
    services.worker.background(
        turn_page,
        services,
        query=query,
        user=context.user_id or "",
        channel=context.channel_id,
        container=body.get("container") or {},
        respond=respond,
    )


def register(app: App, services: Services) -> None:
    """Binds the listeners; they find ``services`` in Bolt's context (kit/context.py)."""
    app.command(ids.CMD_TIMELINE)(on_timeline_command)
    app.view(ids.VIEW_TIMELINE)(on_timeline_submit)
    app.options(ids.ACT_TIMELINE_TYPE)(on_type_options)
    app.action(ids.ACT_CARD_TIMELINE)(on_card_timeline)
    app.action(ids.ACT_TIMELINE_OLDER)(on_page)
    app.action(ids.ACT_TIMELINE_NEWER)(on_page)
