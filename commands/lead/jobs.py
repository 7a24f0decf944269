"""The /lead outbox job kinds, and how a job tells the person who asked.

Writes to TeleCRM run in the worker (never in a Bolt listener), keyed by the Slack gesture so a
retry, a double click or a re-submission writes once (:mod:`kit.worker`):

* ``lead.create`` — :func:`commands.lead.create_job.create_lead`;
* ``lead.update`` — :func:`commands.lead.update_job.update_lead`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from commands.lead.messages import queued_message
from kit.explain import explain_error, wait_note
from kit.services import Services
from kit.worker import Job, JobKind

CREATE = "lead.create"
UPDATE = "lead.update"

Handler = Callable[[Services, Job], dict[str, Any]]


def job_kind(services: Services, handle: Handler) -> JobKind:
    """A lead job kind: ``handle`` runs each attempt; the user hears when it is queued or abandoned."""
    return JobKind(
        partial(handle, services),
        on_queued=partial(tell_queued, services),
        on_failed=partial(tell_failed, services),
    )


def tell(services: Services, payload: Mapping[str, Any], text: str, blocks: list | None = None) -> None:
    """Answer the person who asked; a passing Slack failure is raised so the job is retried."""
    user = payload.get("user")
    if user:
        services.tell(payload.get("channel") or None, user, text, blocks)


def tell_queued(services: Services, job: Job, reason: str, when: float) -> None:
    """TeleCRM is not answering: say the write is kept and when it is tried again."""
    what = "Your new lead" if job.kind == CREATE else "Your change"
    tell(services, job.payload, queued_message(what) + wait_note(when, services.clock()))


def tell_failed(services: Services, job: Job, error: BaseException) -> None:
    """The write is abandoned: say why, in words."""
    what = "the lead" if job.kind == CREATE else "the change"
    tell(services, job.payload, explain_error(error, what=what))
