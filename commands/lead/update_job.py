"""``lead.update``: read the lead, send only what differs, then say what changed in its thread.

Sending only the difference means a retry never writes twice; the lead as it was before the first
attempt is kept in a draft (:data:`UPDATE_BEFORE`), so a retry after an applied-but-unanswered update
still reports "old → new". Each step goes through ``job.once`` (:class:`kit.worker.Job`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commands.lead.find import resolve_lead
from commands.lead.jobs import follow_up_after, tell
from commands.lead.lead_thread import lead_thread, say_in_thread
from commands.lead.messages import (
    Change,
    identifier_refusal,
    not_found_message,
    nothing_changed_message,
    refused_message,
    update_summary,
    updated_there_message,
)
from commands.lead.payloads import UpdateLead
from commands.lead.store import drafts_of
from commands.lead.values import canonical, comparable, has_value
from kit.cards import lead_name, thread_permalink
from kit.display import field_text
from kit.lead_changes import lead_written, writing
from kit.services import Services
from kit.worker import GiveUp, Job
from telecrm.errors import TeleCRMNotFound
from telecrm.models import Lead
from telecrm.schema import WorkspaceSchema

UPDATE_BEFORE = "update_before"


def update_lead(services: Services, job: Job[UpdateLead]) -> dict[str, Any]:
    """Send only what differs (once; the outcome is recorded), then tell the thread what changed."""
    payload = job.payload
    schema = services.schema()
    outcome: dict[str, Any] = job.once("telecrm", lambda: _update_in_telecrm(services, job, schema))
    if outcome.get("not_found") is not None:
        tell(services, payload, not_found_message(outcome["not_found"], schema.identifier.label))
        raise GiveUp("lead not found")
    if outcome["refused"]:
        job.once("told_refused", lambda: tell(services, payload, refused_message(outcome["refused"])))
    if not outcome["sent"]:
        if not outcome["refused"]:
            job.once("told", lambda: tell(services, payload, nothing_changed_message(outcome["name"])))
        return {"lead_id": outcome["lead_id"], "changed": []}
    thread = lead_thread(services, job, outcome["lead_id"], outcome["after"])
    lines = [Change(*line) for line in outcome["lines"]]
    if lines or outcome["dropped"]:
        text, blocks = update_summary(str(payload.user or "someone"), lines, outcome["dropped"])
        say_in_thread(services, job, "changes", thread, text, blocks)
    if thread is not None and lines and thread.channel != payload.channel:
        link = thread_permalink(services, thread)
        message = updated_there_message(outcome["name"], len(lines), link)
        job.once("told_where", lambda: tell(services, payload, message))
    follow_up_after(services, outcome["lead_id"], outcome["after"], payload.user)
    return {"lead_id": outcome["lead_id"], "changed": outcome["sent"]}


def _update_in_telecrm(services: Services, job: Job[UpdateLead], schema: WorkspaceSchema) -> dict[str, Any]:
    """Read the lead, send what differs, and say (as JSON) what changed, what was refused or dropped."""
    payload = job.payload
    cc = services.settings.default_country_code
    drafts = drafts_of(services)
    lead = _lead_to_update(services, schema, payload)
    if lead is None or not lead.id:
        return {"not_found": str(payload.lead_id or payload.target or "?")}
    before = _before(services, job, lead.fields)
    wanted = dict(payload.fields)
    changes, refused = _changes(schema, lead, wanted, cc)
    applied = _applied_earlier(schema, wanted, changes, before, cc) if job.is_retry else []
    summary: dict[str, Any] = {
        "lead_id": lead.id,
        "name": lead_name(schema, lead.fields),
        "refused": list(dict.fromkeys(refused)),
        "sent": [],
    }
    if not changes and not applied:
        drafts.delete(f"{UPDATE_BEFORE}:{job.key}")
        return summary
    after_fields: Mapping[str, object] = lead.fields
    sent = {**{a: wanted[a] for a in applied}, **changes}
    # noted while the lead is still held: the card is redrawn, and the watcher never reports this
    # change as one made in TeleCRM
    with writing(services, lead.id):
        if changes:
            after_fields = services.telecrm.update_lead(lead.id, changes).fields or {**lead.fields, **changes}
        lead_written(services, lead.id, sent={a: after_fields.get(a) for a in sent})
    drafts.delete(f"{UPDATE_BEFORE}:{job.key}")
    currency = services.settings.default_currency
    lines, dropped = _change_lines(schema, sent, before, after_fields, cc, currency)
    return {**summary, "sent": sorted(sent), "after": dict(after_fields), "lines": lines, "dropped": dropped}


def _applied_earlier(
    schema: WorkspaceSchema,
    wanted: Mapping[str, Any],
    changes: Mapping[str, Any],
    before: Mapping[str, Any],
    cc: str,
) -> list[str]:
    """Fields an earlier attempt sent whose answer was lost: the lead already holds the new value
    (so it is no change now) although it held another before the first attempt."""
    applied = []
    for api, new in wanted.items():
        field = schema.field(api)
        if field is None or api in changes:
            continue
        if comparable(schema, field, before.get(api), default_country_code=cc) != canonical(new):
            applied.append(api)
    return applied


def _lead_to_update(services: Services, schema: WorkspaceSchema, payload: UpdateLead) -> Lead | None:
    """The lead named by the job: by id (Edit, duplicate offer) or by what was typed (``/lead update``)."""
    if payload.lead_id:
        try:
            return services.telecrm.get_lead(payload.lead_id)
        except TeleCRMNotFound:
            return None
    return resolve_lead(services, schema, str(payload.target or ""))


def _changes(
    schema: WorkspaceSchema, lead: Lead, wanted: Mapping[str, Any], cc: str
) -> tuple[dict[str, Any], list[str]]:
    """The fields whose new value differs from the lead's, and the refusals (identifier, locked)."""
    refused: list[str] = []
    changes: dict[str, Any] = {}
    for api, new in wanted.items():
        f = schema.field(api)
        if f is None:
            continue
        current = comparable(schema, f, lead.fields.get(f.api_name), default_country_code=cc)
        if f.api_name == schema.identifier.api_name:
            refused.append(identifier_refusal(schema))
        elif f.lock_after_create and has_value(lead.fields.get(f.api_name)):
            if current != canonical(new):
                refused.append(f"{f.label} is locked after creation in TeleCRM and cannot be changed.")
        elif current != canonical(new):
            changes[f.api_name] = new
    return changes, refused


def _change_lines(
    schema: WorkspaceSchema,
    sent: Mapping[str, Any],
    before: Mapping[str, object],
    after: Mapping[str, object],
    cc: str,
    currency: str,
) -> tuple[list[list[str]], list[str]]:
    """``[label, old, new]`` for each field TeleCRM kept, and the labels of those it dropped."""
    lines: list[list[str]] = []
    dropped: list[str] = []
    for api, new in sent.items():
        f = schema.field(api)
        label = f.label if f else api
        if f is not None and comparable(schema, f, after.get(api), default_country_code=cc) != canonical(new):
            dropped.append(label)
            continue
        lines.append(
            [label, field_text(f, before.get(api), currency=currency), field_text(f, new, currency=currency)]
        )
    return lines, dropped


def _before(services: Services, job: Job[UpdateLead], current: Mapping[str, object]) -> dict[str, object]:
    """The lead as it was before this job's first attempt (a retry may follow an applied update)."""
    drafts = drafts_of(services)
    key = f"{UPDATE_BEFORE}:{job.key}"
    if job.is_retry:
        stored = drafts.get(key, UPDATE_BEFORE)
        if stored is not None:
            return dict(stored)
    values = {k: v for k, v in current.items() if k in job.payload.fields}
    drafts.put(key, UPDATE_BEFORE, values)
    return dict(values)
