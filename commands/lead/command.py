"""``/lead …``: the typed command planned (pure), then answered, opened or queued.

The listener reads only what the line asks for (help, find, import, the form) and answers it; a line
that names fields is stored as typed in the durable outbox with its Slack delivery — the one write
before the acknowledgement, keyed by the Slack gesture so a retry or a double click writes once — and
checked right after it by the ``lead.typed`` job (:mod:`commands.lead.typed_job`), which answers the
mistakes or queues the TeleCRM write. Validation (phone numbers, emails, dates) is the costliest part of
a line, so keeping it off the acknowledgement keeps that at the framework's floor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from commands.lead.find import find_and_answer
from commands.lead.listener_kit import schema_or_refresh, user_of
from commands.lead.messages import (
    LOADING_FIRST,
    SHORT_QUERY,
    help_message,
    identifier_refusal,
    problems_message,
)
from commands.lead.new_lead import open_new_lead
from commands.lead.payloads import CreateLead, TypedLead, UpdateLead
from commands.lead.values import WORKSPACE_TZ
from kit.context import claim_delivery, services_of
from kit.fields import Problem, resolve_keys, validate_fields
from kit.grammar import LeadCommand, lead_action, parse_lead
from kit.imports.forms import open_import_form
from kit.lead_fields import assignee_field
from kit.request_thread import acks_on_request_thread, after_ack
from storage.lead_index import Query
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """What to do with ``/lead …`` text: reply, open the modal, or queue a write / a search."""

    kind: str  # "reply" | "modal" | "import" | "create" | "update" | "find" | "later" (no schema yet)
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    query: str = ""
    explicit: set[str] = field(default_factory=set)


def plan_command(
    schema: WorkspaceSchema | None, text: str, *, default_country_code: str = "91", check_values: bool = True
) -> Plan:
    """``/lead`` text → a :class:`Plan`. Pure; never raises; invalid input always yields a reply.

    With ``check_values`` off (the listener), a line that names fields is planned ``later``: its values
    are checked by the ``lead.typed`` job right after the acknowledgement, not in it.
    """
    try:
        if not check_values and lead_action(text) in ("create", "update"):
            return Plan("later")  # the line's pairs are read, and answered, after the acknowledgement
        return _plan(schema, parse_lead(text or ""), default_country_code)
    except Exception:  # a bug here must still leave the user with an answer
        log.exception("could not plan a /lead command")
        message, blocks = help_message(schema, ["I could not read that command"])
        return Plan("reply", message, blocks)


def _plan(schema: WorkspaceSchema | None, cmd: LeadCommand, cc: str) -> Plan:
    """The plan of a parsed command; writes only when every value is valid for this workspace."""
    if cmd.action == "modal":
        return Plan("modal")
    if cmd.action == "import":
        return Plan("import")
    if cmd.action == "help":
        message, blocks = help_message(schema, cmd.errors)
        return Plan("reply", message, blocks)
    if cmd.action == "find":
        if Query.parse(cmd.query) is None:
            return Plan("reply", SHORT_QUERY, [])
        return Plan("find", query=cmd.query)
    if schema is None:
        return Plan("later")
    if cmd.action == "update":
        return _plan_update(schema, cmd, cc)
    resolved, key_problems = resolve_keys(schema, cmd.pairs)
    values, value_problems = validate_fields(
        schema, resolved, require_identifier=True, default_country_code=cc, tz=WORKSPACE_TZ
    )
    problems = list(cmd.errors) + list(key_problems) + list(value_problems)
    if problems:
        message, blocks = problems_message(problems)
        return Plan("reply", message, blocks)
    return Plan("create", fields=values, explicit=set(resolved))


def _plan_update(schema: WorkspaceSchema, cmd: LeadCommand, cc: str) -> Plan:
    """``/lead update <lead> key=value …``: the identifier is refused, nothing-to-change is a reply."""
    resolved, key_problems = resolve_keys(schema, cmd.pairs)
    problems: list[Problem | str] = list(cmd.errors) + list(key_problems)
    if schema.identifier.api_name in resolved:
        problems.append(identifier_refusal(schema))
        resolved.pop(schema.identifier.api_name)
    values, value_problems = validate_fields(
        schema, resolved, require_identifier=False, default_country_code=cc, tz=WORKSPACE_TZ
    )
    problems.extend(value_problems)
    if not problems and not values:
        problems.append("say what to change: /lead update <lead id or identifier> key=value …")
    if problems:
        message, blocks = problems_message(problems, action="update the lead")
        return Plan("reply", message, blocks)
    return Plan("update", fields=values, target=cmd.target)


def _assignee_names(schema: WorkspaceSchema | None) -> set[str]:
    """The assignee field's API name, if the workspace has one (typing it turns the default off)."""
    found = assignee_field(schema) if schema is not None else None
    return {found.api_name} if found is not None else set()


def write_payload(
    plan: Plan, schema: WorkspaceSchema | None, user: str, channel: str | None
) -> CreateLead | UpdateLead:
    """The outbox payload of a typed create or update."""
    if plan.kind == "create":
        return CreateLead(
            fields=plan.fields,
            user=user,
            channel=channel,
            source="command",
            default_assignee=not (plan.explicit & _assignee_names(schema)),
        )
    return UpdateLead(fields=plan.fields, user=user, channel=channel, source="command", target=plan.target)


@acks_on_request_thread
def on_lead_command(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Replies and queued writes are settled before the acknowledgement, so Slack's "ok" means
    the write is stored; the modal and searches follow it, on threads of their own (this runs on the
    request's thread: kit/request_thread.py)."""
    services = services_of(context)
    user, channel = user_of(context), context.channel_id
    schema = services.cache.cached()
    plan = plan_command(
        schema,
        body.get("text") or "",
        default_country_code=services.settings.default_country_code,
        check_values=False,  # phone, email and the rest are checked right after the ack (typed_job.py)
    )
    if schema is None and plan.kind == "reply":  # e.g. help: ask TeleCRM for the schema meanwhile
        schema_or_refresh(services)
    trigger = body.get("trigger_id", "")
    if plan.kind == "modal":
        ack()
        form = partial(open_new_lead, services, client, trigger, user, channel, respond)
        after_ack(services, form, user=user, channel=channel)
    elif plan.kind == "import":  # the form of the import feature, opened through the kit
        ack()
        form = partial(open_import_form, services, client, trigger_id=trigger, user=user, channel=channel)
        after_ack(services, form, user=user, channel=channel)
    elif plan.kind == "find":
        services.worker.background(find_and_answer, services, user=user, channel=channel, query=plan.query)
        ack()
    elif plan.kind == "later":  # kept as typed: checked, then written, by the lead.typed job (typed_job.py)
        _, created = services.worker.submit(
            f"cmd:{body.get('trigger_id')}",
            TypedLead(text=body.get("text") or "", user=user, channel=channel),
            delivery=claim_delivery(context),
            wake=False,
        )
        if schema is None:
            ack(text=LOADING_FIRST)
        else:
            ack()
        if created:  # stored before the acknowledgement; started after it
            services.worker.wake()
    else:
        ack(text=plan.text, blocks=plan.blocks or None)
