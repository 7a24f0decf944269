"""The lead's thread as the lead jobs use it: :mod:`kit.lead_thread` with the lead's fields as
TeleCRM holds them (the card shows each as people read it, :func:`kit.cards.render_lead_card`).
"""

from __future__ import annotations

from collections.abc import Mapping

from kit import lead_thread as thread_kit
from kit.lead_thread import Asked, say_in_thread
from kit.services import Services
from kit.worker import Job
from storage.repositories import LeadThread

__all__ = ["lead_thread", "post_card", "say_in_thread"]


def post_card(
    services: Services,
    job: Job[Asked],
    lead_id: str,
    fields: Mapping[str, object],
    *,
    title: str = "New lead",
) -> LeadThread | None:
    """Post the lead card where the user asked (or, if the bot is not in that channel, in a DM)."""
    existing = services.threads.get(lead_id)
    if existing is not None:
        return existing
    return thread_kit.post_card(services, job, lead_id, fields, title=title)


def lead_thread(
    services: Services, job: Job[Asked], lead_id: str, fields: Mapping[str, object]
) -> LeadThread | None:
    """The lead's thread, started with a card when the bot has none for this lead yet."""
    return thread_kit.lead_thread(services, job, lead_id, fields)
