"""Showing a timeline, on the worker's read pool after Slack has been acknowledged: read the command,
find the lead, fetch one page of its actions, and post it — or replace the page a button was on.

Reads only: nothing here writes to TeleCRM, so nothing goes through the outbox. A page is posted in
the lead's thread when the bot knows it, otherwise only the caller sees it; *Older* / *Newer* replace
the page in place, which keeps a thread readable however long the history is and makes a double
click harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from slack_bolt import Respond
from slack_sdk.errors import SlackApiError

from commands.timeline.form import TimelineForm
from commands.timeline.query import PAGE_SIZE, LeadRef, TimelineQuery, day_bounds_ms, lead_reference
from commands.timeline.render import render_timeline, usage_text
from commands.timeline.seen_types import seen_types_of
from kit.cards import lead_name, thread_for, thread_permalink
from kit.explain import explain_error
from kit.format import mrkdwn_escape, mrkdwn_link
from kit.services import Services
from kit.timeline_grammar import parse_timeline
from telecrm.errors import TeleCRMError, TeleCRMNotFound
from telecrm.models import Page
from telecrm.schema import FieldType, WorkspaceSchema

log = logging.getLogger(__name__)


class Tell(Protocol):
    """Shows a message to the caller only: ``tell(text)`` or ``tell(text, blocks)``."""

    def __call__(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None: ...


class LeadNotFound(Exception):
    """The lead the user named does not exist in TeleCRM; the message says so in words."""


def find_lead(services: Services, schema: WorkspaceSchema, ref: LeadRef) -> tuple[str, dict[str, Any]]:
    """(lead id, fields) of the lead the user named; :class:`LeadNotFound` when TeleCRM has no such lead."""
    ident = schema.identifier
    if ref.kind == "id":
        try:
            lead = services.telecrm.get_lead(ref.value)
            return lead.id or ref.value, dict(lead.fields)
        except TeleCRMNotFound:
            if ident.type is not FieldType.TEXT:
                raise LeadNotFound(
                    f"TeleCRM has no lead with id `{mrkdwn_escape(ref.typed)}`. Check the id, or use the lead's "
                    f"{mrkdwn_escape(ident.label.lower())}."
                ) from None
    found = services.telecrm.find_lead_by_identifier(ident.api_name, ref.value)
    if found is None or not found.id:
        raise LeadNotFound(
            f"TeleCRM has no lead with {mrkdwn_escape(ident.label.lower())} {mrkdwn_escape(ref.value)}. "
            "Check it, or look the lead up with `/lead find`."
        )
    return found.id, dict(found.fields)


def _lead_display(
    services: Services, schema: WorkspaceSchema, lead_id: str, fields: Mapping[str, Any] | None
) -> str:
    """The lead's name for the header: from its fields, else from its thread, else its id."""
    if fields:
        return lead_name(schema, fields)
    thread = thread_for(services, lead_id)
    if thread is not None and (thread.name or thread.identifier):
        return thread.name or thread.identifier or lead_id
    return lead_id


def _schema(services: Services) -> WorkspaceSchema:
    """The cached schema when there is one: labels and filters need no TeleCRM call then."""
    return services.cache.cached() or services.schema()


def fetch_page(services: Services, query: TimelineQuery) -> Page[dict[str, Any]]:
    """One page of the lead's actions, filtered by type and days as the query says."""
    created_on = (
        (query.start_ms, query.end_ms) if query.start_ms is not None or query.end_ms is not None else None
    )
    page = services.telecrm.search_actions(
        query.lead_id, type=query.type, created_on=created_on, skip=query.skip, limit=PAGE_SIZE
    )
    seen_types_of(services).record(str(row.get("type") or "") for row in page.items)
    return page


def show_timeline(
    services: Services,
    *,
    query: TimelineQuery,
    user: str,
    tell: Tell,
    lead_fields: Mapping[str, Any] | None = None,
    announce: bool = True,
) -> None:
    """First page of a timeline: into the lead's thread when the bot knows it, else to the caller only."""
    try:
        schema = _schema(services)
        page = fetch_page(services, query)
    except TeleCRMNotFound:
        tell(f":mag: TeleCRM has no lead with id `{mrkdwn_escape(query.lead_id)}`.")
        return
    except TeleCRMError as exc:
        tell(explain_error(exc, what="the timeline request", doing="read"))
        return
    tz = services.user_tz(user)
    name = _lead_display(services, schema, query.lead_id, lead_fields)
    text, blocks = render_timeline(
        schema, query=query, page=page, name=name, tz=tz, link=services.settings.lead_url(query.lead_id)
    )
    thread = thread_for(services, query.lead_id)
    if thread is not None:
        try:
            services.slack.chat_postMessage(
                channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks, unfurl_links=False
            )
            if announce:
                link = thread_permalink(services, thread)
                where = mrkdwn_link(link, "its thread") if link else "its thread"
                tell(f":white_check_mark: Posted the timeline of {mrkdwn_escape(name)} in {where}.")
            return
        except SlackApiError as exc:
            log.warning(
                "could not post a timeline in the lead's thread (%s); showing it to the caller",
                exc.response.get("error"),
            )
    tell(text, blocks)


def run_query_text(services: Services, *, text: str, user: str, tell: Tell) -> None:
    """Everything `/timeline <text>` does after the ack, in order: parse, check, find the lead, show."""
    try:
        schema = _schema(services)  # a first start reads it from TeleCRM here
    except TeleCRMError as exc:
        tell(explain_error(exc, what="the timeline request", doing="read"))
        return
    command = parse_timeline(text, custom_actions=schema.custom_actions)
    if command.action == "help":
        problems = "\n".join(f"• {mrkdwn_escape(e)}" for e in command.errors)
        tell((f":warning: {problems}\n\n" if problems else "") + usage_text(schema))
        return
    ref = lead_reference(schema, command.lead, default_country_code=services.settings.default_country_code)
    problem_list = list(command.errors)
    if isinstance(ref, str):
        problem_list.insert(0, ref)
    if problem_list:
        lines = "\n".join(f"• {mrkdwn_escape(p)}" for p in problem_list)
        tell(
            f":warning: Nothing was looked up:\n{lines}\n\nUsage: `/timeline <lead id or "
            f"{mrkdwn_escape(schema.identifier.label.lower())}> [type] [DD/MM/YYYY..DD/MM/YYYY]`"
        )
        return
    assert not isinstance(ref, str)
    tz = services.user_tz(user)
    start_ms, end_ms = day_bounds_ms(command.date_from, command.date_to, tz)
    lookup(
        services,
        schema,
        ref,
        TimelineQuery("", command.type, start_ms, end_ms),
        user=user,
        tell=tell,
    )


def lookup(
    services: Services,
    schema: WorkspaceSchema,
    ref: LeadRef,
    query: TimelineQuery,
    *,
    user: str,
    tell: Tell,
) -> None:
    """Find the lead the user named, then show its first page; a lead that is not there is said so."""
    try:
        lead_id, fields = find_lead(services, schema, ref)
    except LeadNotFound as exc:
        tell(f":mag: {exc}")
        return
    except TeleCRMError as exc:
        tell(explain_error(exc, what="the lead search", doing="read"))
        return
    query = TimelineQuery(lead_id, query.type, query.start_ms, query.end_ms)
    show_timeline(services, query=query, user=user, tell=tell, lead_fields=fields)


def run_form(
    services: Services, schema: WorkspaceSchema, form: TimelineForm, *, user: str, tell: Tell
) -> None:
    """A submitted `/timeline` form: its days are read in the user's time zone, then the lead is looked up."""
    query = form.query("", services.user_tz(user))
    lookup(services, schema, form.lead, query, user=user, tell=tell)


def turn_page(
    services: Services,
    *,
    query: TimelineQuery,
    user: str,
    channel: str | None,
    container: Mapping[str, Any],
    respond: Respond,
) -> None:
    """*Older* / *Newer*: the clicked message is replaced by the requested page (in the clicker's time zone)."""
    try:
        schema = _schema(services)
        page = fetch_page(services, query)
    except TeleCRMError as exc:
        services.ephemeral(channel, user, explain_error(exc, what="the timeline request", doing="read"))
        return
    name = query.name or _lead_display(services, schema, query.lead_id, None)
    tz = services.user_tz(user)
    text, blocks = render_timeline(
        schema, query=query, page=page, name=name, tz=tz, link=services.settings.lead_url(query.lead_id)
    )
    message_ts = container.get("message_ts")
    if container.get("is_ephemeral") or not channel or not message_ts:
        respond(text=text, blocks=blocks, replace_original=True, response_type="ephemeral")
        return
    try:
        services.slack.chat_update(channel=channel, ts=message_ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("could not replace a timeline page (%s)", exc.response.get("error"))
        services.ephemeral(channel, user, text, blocks)
