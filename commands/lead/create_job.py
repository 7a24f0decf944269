"""``lead.create``: ``POST /lead`` once, then the lead card and TeleCRM's remarks in its thread.

Each step goes through ``job.once`` (:class:`kit.worker.Job`), so the TeleCRM outcome is recorded
before Slack hears of it and a retry never creates or posts twice. A 409 becomes a duplicate reply
(:mod:`commands.lead.duplicate`) — unless this is a retry after a lost answer and the existing lead
was created by the first attempt, in which case the card is posted as if nothing had happened.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from commands.lead.duplicate import offer_update
from commands.lead.jobs import follow_up_after, tell
from commands.lead.lead_thread import post_card, say_in_thread
from commands.lead.messages import created_without_card_message, remark_lines, remarks_message
from commands.lead.payloads import CreateLead
from commands.lead.store import usage_of
from kit.events import PaymentMadeWithLead
from kit.lead_fields import assignee_field
from kit.services import Services
from kit.worker import Job
from telecrm.errors import TeleCRMConflict, TeleCRMError
from telecrm.models import Lead, WriteResult
from telecrm.redact import mask
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)

# a 409 on a retry is "our own first attempt" only if that lead is about as old as the job
OWN_LEAD_SLACK_SECONDS = 600


def create_lead(services: Services, job: Job[CreateLead]) -> dict[str, Any]:
    """Create the lead once (the outcome is recorded before Slack hears of it), then show it."""
    payload = job.payload
    schema = services.schema()
    outcome: dict[str, Any] = job.once("telecrm", lambda: _create_in_telecrm(services, job, schema))
    if "duplicate_of" in outcome:
        existing = Lead(outcome["duplicate_of"], outcome.get("fields") or {})
        job.once("told", lambda: offer_update(services, payload, schema, existing if existing.id else None))
        return {"duplicate_of": existing.id}
    lead_id = outcome.get("lead_id")
    if not lead_id:
        job.once(
            "told",
            lambda: tell(
                services,
                payload,
                ":white_check_mark: TeleCRM created the lead but did not say its id; find it with `/lead find`.",
            ),
        )
        return {"lead_id": None}
    thread = post_card(services, job, lead_id, outcome["shown"])
    if thread is None:
        job.once("told", lambda: tell(services, payload, created_without_card_message(lead_id)))
    remarks = outcome.get("remarks")
    if remarks:
        say_in_thread(services, job, "remarks", thread, remarks[0], remarks[1])
    job.once("payments", lambda: _queue_payments(services, job, lead_id, outcome.get("payments")))
    try:
        usage_of(services).record(outcome.get("kept") or {})
    except Exception:
        log.exception("could not record field usage")
    follow_up_after(services, lead_id, outcome["shown"], payload.user)
    result = {"lead_id": lead_id}
    return {**result, "reconciled": True} if outcome.get("reconciled") else result


def _create_in_telecrm(services: Services, job: Job[CreateLead], schema: WorkspaceSchema) -> dict[str, Any]:
    """``POST /lead``, or, after an attempt whose answer was lost, the lead that attempt created.

    Returns what the Slack side needs (JSON): the lead id, the fields to show, TeleCRM's remarks
    as a message, or the duplicate lead that already existed.
    """
    payload = job.payload
    fields: dict[str, Any] = dict(payload.fields)
    actions: list[Mapping[str, Any]] = list(payload.actions)
    ident = schema.identifier.api_name
    if payload.default_assignee:
        fields.update(_assignee_default(services, schema, payload.user))
    if job.is_retry:  # an earlier attempt may have created it: look before sending it again
        own = _created_earlier(job, services.telecrm.find_lead_by_identifier(ident, fields.get(ident)))
        if own is not None:
            return own
    try:
        result = services.telecrm.create_lead(fields, actions or None)
    except TeleCRMConflict:
        existing = services.telecrm.find_lead_by_identifier(ident, fields.get(ident))
        own = _created_earlier(job, existing)
        if own is not None:
            return own
        return {
            "duplicate_of": existing.id if existing else None,
            "fields": dict(existing.fields) if existing else {},
        }
    lead_id = result.lead_id
    if not lead_id:
        return {"lead_id": None}
    ignored = {r.field[len("fields.") :] for r in result.remarks if r.field.startswith("fields.")}
    kept = {k: v for k, v in fields.items() if k not in ignored}
    shown: Mapping[str, object] = kept
    try:
        shown = services.telecrm.get_lead(lead_id).fields or kept
    except TeleCRMError as exc:
        log.info("could not read lead %s back after creating it: %s", lead_id, mask(exc))
    lines = remark_lines(schema, result, fields, actions)
    return {
        "lead_id": lead_id,
        "shown": dict(shown),
        "kept": kept,
        "remarks": list(remarks_message(lines)) if lines else None,
        "payments": _payments_made(actions, result),
    }


def _payments_made(actions: list[Mapping[str, Any]], result: WriteResult) -> list[dict[str, Any]]:
    """The PAYMENT actions TeleCRM stored with the lead, with their ids (request order)."""
    made = []
    for index, action in enumerate(actions):
        outcome = result.actions[index] if index < len(result.actions) else None
        if action.get("type") == "PAYMENT" and outcome is not None and outcome.created:
            made.append({**action, "action_id": outcome.action_id})
    return made


def _queue_payments(
    services: Services, job: Job[CreateLead], lead_id: str, made: list[dict[str, Any]] | None
) -> int:
    """Hand each payment created with the lead to the payments feature (kit.events). After a lost
    answer (``made`` unknown) every payment sent is handed over without an id, to be found on the lead."""
    if made is None:
        made = [{**a, "action_id": None} for a in job.payload.actions if a.get("type") == "PAYMENT"]
    for index, payment in enumerate(made):
        services.worker.submit(
            f"{job.key}:payment:{index}",
            PaymentMadeWithLead(
                lead_id=lead_id,
                action_id=payment.get("action_id"),
                amount=str(payment["amount"]),
                currency=str(payment["currency"]),
                status=str(payment["status"]),
                user=job.payload.user,
                channel=job.payload.channel,
            ),
        )
    return len(made)


def _assignee_default(services: Services, schema: WorkspaceSchema, user: str | None) -> dict[str, str]:
    """A lead typed by a rep is theirs: the assignee is the rep's TeleCRM account, when there is one."""
    target = assignee_field(schema)
    if target is None or not user:
        return {}
    member, _ = services.member_for(user)
    if member is None or not member.is_active:
        return {}
    return {target.api_name: member.email}


def _created_earlier(job: Job[object], existing: Lead | None) -> dict[str, Any] | None:
    """The create step's outcome when ``existing`` is the lead an earlier attempt of ``job`` created."""
    if not job.is_retry or existing is None or not existing.id or not _created_by(existing, job):
        return None
    log.info("lead %s was created by an earlier attempt of %s", existing.id, job.key)
    return {"lead_id": existing.id, "shown": dict(existing.fields), "reconciled": True}


def _created_by(lead: Lead, job: Job[object]) -> bool:
    """Whether ``lead`` is young enough to be ``job``'s own (no creation time: assume it is)."""
    created = lead.fields.get("created_on")
    if isinstance(created, bool) or not isinstance(created, int | float):
        return True
    seconds = created / 1000 if created > 1e11 else created
    return seconds >= job.created_at - OWN_LEAD_SLACK_SECONDS
