"""The /lead outbox job kinds, and how a job tells the person who asked.

Writes to TeleCRM run in the worker (never in a Bolt listener), keyed by the Slack gesture so a
retry, a double click or a re-submission writes once (:mod:`kit.worker`):

* ``lead.create`` (:class:`~commands.lead.payloads.CreateLead`) —
  :func:`commands.lead.create_job.create_lead`;
* ``lead.update`` (:class:`~commands.lead.payloads.UpdateLead`) —
  :func:`commands.lead.update_job.update_lead`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from commands.lead.messages import queued_message
from commands.lead.payloads import CreateLead, UpdateLead
from kit.explain import explain_error, wait_note
from kit.follow_ups import schedule_follow_up
from kit.lead_thread import Asked
from kit.services import Services
from kit.worker import Job, JobKind

log = logging.getLogger(__name__)

W = TypeVar("W", CreateLead, UpdateLead)


def job_kind(
    services: Services, payload: type[W], handle: Callable[[Services, Job[W]], dict[str, Any]]
) -> JobKind[W]:
    """A lead job kind: ``handle`` runs each attempt; the user hears when it is queued or abandoned."""
    return JobKind(
        payload,
        lambda job: handle(services, job),
        on_queued=lambda job, error, when: tell_queued(services, job, error, when),
        on_failed=lambda job, error: tell_failed(services, job, error),
    )


def tell(services: Services, payload: Asked, text: str, blocks: list | None = None) -> None:
    """Answer the person who asked; a passing Slack failure is raised so the job is retried."""
    user = payload.user
    if user:
        services.tell(payload.channel or None, user, text, blocks)


def tell_queued(
    services: Services, job: Job[CreateLead | UpdateLead], error: BaseException, when: float
) -> None:
    """TeleCRM is not answering (or asked to slow down): say why, that the write is kept, and when it
    is tried again."""
    what = "your new lead" if isinstance(job.payload, CreateLead) else "your change"
    tell(services, job.payload, queued_message(error, what) + wait_note(when, services.clock()))


def tell_failed(services: Services, job: Job[CreateLead | UpdateLead], error: BaseException) -> None:
    """The write is abandoned: say why, in words."""
    what = "the lead" if isinstance(job.payload, CreateLead) else "the change"
    tell(services, job.payload, explain_error(error, what=what))


def follow_up_after(services: Services, lead_id: str, fields: Mapping[str, object], user: str | None) -> None:
    """Arm or move the lead's follow-up reminder from its fields as TeleCRM now holds them
    (:func:`kit.follow_ups.schedule_follow_up`); the lead's write is done whatever happens here."""
    try:
        schedule_follow_up(services, lead_id, fields, user=user)
    except Exception:
        log.exception("could not schedule the follow-up reminder of lead %s", lead_id)
