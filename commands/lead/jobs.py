"""The /lead outbox job kinds, and how a job tells the person who asked.

Writes to TeleCRM run in the worker (never in a Bolt listener), keyed by the Slack gesture so a
retry, a double click or a re-submission writes once (:mod:`kit.worker`):

* ``lead.create`` (:class:`~commands.lead.payloads.CreateLead`) —
  :func:`commands.lead.create_job.create_lead`;
* ``lead.update`` (:class:`~commands.lead.payloads.UpdateLead`) —
  :func:`commands.lead.update_job.update_lead`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from commands.lead.messages import queued_message
from commands.lead.payloads import CreateLead, UpdateLead
from kit.explain import explain_error, wait_note
from kit.lead_thread import Asked
from kit.services import Services
from kit.worker import Job, JobKind

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
