"""The outbox job that logs one activity in TeleCRM and tells the lead's thread, exactly once.

A submitted form is stored in the outbox (keyed ``view:{view_id}``) before Slack hears "done", so a
re-submitted or retried form creates one action (kit/worker.py). Each step that talks to TeleCRM or
posts to Slack goes through ``job.once`` (the thread reply through
:func:`kit.lead_thread.say_in_thread`), so a crash or a Slack failure after a step never repeats it. A retry first looks for
the action an unanswered earlier attempt may have created (:func:`find_created`) before sending
it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from commands.activity.payloads import LogActivity
from commands.activity.result import form_was_stale, render_result
from kit.cards import thread_for
from kit.explain import explain_error, wait_note
from kit.lead_changes import lead_written, writing
from kit.lead_thread import lead_thread, say_in_thread
from kit.reconcile import EarlierAttempt, find_earlier_attempt, search_window
from kit.services import Services
from kit.worker import Job, JobKind
from storage.repositories import LeadThread
from telecrm.action_types import sync_action_type
from telecrm.errors import TeleCRMError
from telecrm.models import WriteResult
from telecrm.schema import CustomActionDef, FieldType

log = logging.getLogger(__name__)

#: how far back a retried write looks for the action an earlier, unanswered attempt may have created
RECONCILE_WINDOW_SECONDS = 600


# --- reconciliation: did an earlier attempt already create it? ---------------------------------------------


def _row_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``fields`` of an action-search row (empty when TeleCRM sent none)."""
    fields = row.get("fields")
    return dict(fields) if isinstance(fields, Mapping) else {}


def _same_fields(
    definition: CustomActionDef | None, stored: Mapping[str, Any], sent: Mapping[str, Any]
) -> bool:
    """Whether a stored action carries what was sent (TeleCRM normalises dates, so those only need to exist)."""
    if set(stored) != set(sent):
        return False
    types = {f.api_name: f.type for f in definition.fields} if definition is not None else {}
    for key, value in sent.items():
        if types.get(key) is FieldType.DATE:
            continue
        a, b = stored[key], value
        if isinstance(a, list) or isinstance(b, list):
            if [str(x).casefold() for x in (a or [])] != [str(x).casefold() for x in (b or [])]:
                return False
        elif str(a).strip().casefold() != str(b).strip().casefold():
            return False
    return True


def find_created(services: Services, payload: LogActivity, since: float) -> EarlierAttempt | None:
    """The action an earlier attempt of this write created, if TeleCRM has it (checked before retrying).

    Matched by type and field values on the lead's timeline since the job began (the documented
    ``created_on`` filter; a row's own time and performer when TeleCRM gives them), so it is found
    whether or not TeleCRM's rows carry an ``action_id`` (:mod:`kit.reconcile`); without one, the
    action is found but not its id.
    """
    action = payload.action
    definition = services.schema().custom_action(str(action["type"]))
    start = (since - RECONCILE_WINDOW_SECONDS) * 1000
    page = services.telecrm.search_actions(
        payload.lead_id,
        type=str(action["type"]),
        created_on=search_window(start, services.clock()),
        limit=100,
    )
    wanted_type = sync_action_type(action["type"]).casefold()
    sent = action.get("fields") or {}

    def same(row: Mapping[str, Any]) -> bool:
        return sync_action_type(row.get("type") or "").casefold() == wanted_type and _same_fields(
            definition, _row_fields(row), sent
        )

    return find_earlier_attempt(page.items, same=same, since_ms=start)


# --- the job's steps ------------------------------------------------------------------------------------------


def _reply(
    services: Services, job: Job[LogActivity], step: str, text: str, blocks: list[dict[str, Any]] | None
) -> None:
    """Into the lead's thread (a card is posted first if the bot has none); the user hears it either way.

    One mechanism with the lead and payment jobs (:mod:`kit.lead_thread`). A passing Slack failure
    is raised, so the job that owes this answer is retried.
    """
    payload = job.payload
    thread: LeadThread | None
    try:
        if payload.channel:
            thread = lead_thread(services, job, payload.lead_id)
        else:
            thread = thread_for(services, payload.lead_id)
    except TeleCRMError as exc:
        log.warning("could not read the lead for its card: %s", exc)
        thread = None
    say_in_thread(services, job, step, thread, text, blocks)


def _log_in_telecrm(services: Services, job: Job[LogActivity]) -> dict[str, Any]:
    """The activity, once: the one an unanswered earlier attempt created, or a new one.

    Returns (as JSON) the action id and the message for the lead's thread.
    """
    payload = job.payload
    schema = services.cache.cached()
    if job.is_retry:
        earlier = find_created(services, payload, job.created_at)
        if earlier is not None:
            existing = earlier.action_id
            log.info("activity write %s had already reached TeleCRM (action %s)", job.key, existing)
            lead_written(services, payload.lead_id, action_ids=[existing])
            text, blocks = render_result(
                schema, action=payload.action, user=payload.user, action_id=existing, saved=True
            )
            return {"action_id": existing, "reconciled": True, "text": text, "blocks": blocks}
    with writing(services, payload.lead_id):
        result: WriteResult = services.telecrm.create_actions(payload.lead_id, [payload.action])
        outcome = result.actions[0] if result.actions else None
        action_id = outcome.action_id if outcome is not None and outcome.created else None
        if action_id:  # the card shows it as the last activity; the watcher knows it is the bot's
            lead_written(services, payload.lead_id, action_ids=[action_id])
    text, blocks = render_result(
        schema,
        action=payload.action,
        user=payload.user,
        action_id=action_id,
        remarks=result.remarks,
    )
    return {
        "action_id": action_id,
        "status": outcome.status if outcome else "IGNORED",
        "stale_form": bool(result.remarks and form_was_stale(result.remarks)),
        "text": text,
        "blocks": blocks,
    }


# --- the job kind -----------------------------------------------------------------------------------------------


def log_activity(services: Services, job: Job[LogActivity]) -> dict[str, Any]:
    """Runs the job: TeleCRM once, then the thread once; a stale form refreshes the schema cache."""
    done: dict[str, Any] = job.once("telecrm", lambda: _log_in_telecrm(services, job))
    _reply(services, job, "result", done["text"], done["blocks"])
    if done.get("stale_form"):
        services.worker.background(services.cache.refresh)
    if done.get("reconciled"):
        return {"action_id": done["action_id"], "reconciled": True}
    return {"action_id": done["action_id"], "status": done["status"]}


def tell_queued(services: Services, job: Job[LogActivity], error: BaseException, when: float) -> None:
    """TeleCRM did not take the first attempt: the user hears why, and that the activity is kept and
    will be sent."""
    user = job.payload.user
    if user:
        thread = thread_for(services, job.payload.lead_id)
        services.ephemeral(
            job.payload.channel,
            str(user),
            explain_error(error, what="your activity", doing="queued")
            + " The result will appear in the lead's thread."
            + wait_note(when, services.clock()),
            thread_ts=thread.ts if thread is not None else None,
        )


def tell_failed(services: Services, job: Job[LogActivity], error: BaseException) -> None:
    """The write was given up: the lead's thread says why, in words."""
    _reply(services, job, "failure", explain_error(error, what="the activity"), None)


def activity_job_kind(services: Services) -> JobKind[LogActivity]:
    """The :class:`LogActivity` job kind, its handlers bound to ``services`` (the worker calls them
    with the job only)."""
    return JobKind(
        LogActivity,
        lambda job: log_activity(services, job),
        lambda job, error, when: tell_queued(services, job, error, when),
        lambda job, error: tell_failed(services, job, error),
    )
