"""``lead.typed``: a typed ``/lead name=… phone=…`` (or ``/lead update …``), kept as typed by the
listener (one durable write before the acknowledgement) and checked here, right after it.

Before the workspace's fields are cached (the first minute after a start, or while TeleCRM is
unreachable) the listener says it is loading, and this job waits for the schema (raising TeleCRM's
error, so the worker retries and the person hears why) rather than refusing what was typed. It plans
the text with every value checked, then answers the problems or queues the write under a key derived
from this job's, so a retried job queues it once.
"""

from __future__ import annotations

from typing import Any

from commands.lead.command import plan_command, write_payload
from commands.lead.jobs import tell
from commands.lead.messages import queued_message
from commands.lead.payloads import TypedLead
from kit.explain import explain_error, wait_note
from kit.services import Services
from kit.worker import Job, JobKind


def read_typed_lead(services: Services, job: Job[TypedLead]) -> dict[str, Any]:
    payload = job.payload
    schema = services.schema()  # TeleCRM's error is raised: retried, and the person is told why
    plan = plan_command(schema, payload.text, default_country_code=services.settings.default_country_code)
    if plan.kind in ("create", "update"):
        write = write_payload(plan, schema, payload.user or "", payload.channel)
        services.worker.submit(f"{job.key}:write", write)
        return {"queued": plan.kind}
    tell(services, payload, plan.text, plan.blocks or None)
    return {"answered": plan.kind}


def typed_job_kind(services: Services) -> JobKind[TypedLead]:
    return JobKind(
        TypedLead,
        lambda job: read_typed_lead(services, job),
        on_queued=lambda job, error, when: tell(
            services, job.payload, queued_message(error, "your /lead") + wait_note(when, services.clock())
        ),
        on_failed=lambda job, error: tell(services, job.payload, explain_error(error, what="your /lead")),
    )
