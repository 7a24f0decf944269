"""When the bot learns a lead changed: its card is redrawn in place, and the lead watcher is told
what the bot itself did, so only changes made in TeleCRM are reported as such.

Every feature that writes a lead goes through here:

* :func:`writing` around the TeleCRM write: the watcher (``commands/lead/watch.py``) leaves the lead
  alone while the write is in flight, so it never mistakes the bot's own change for one made in
  TeleCRM;
* :func:`lead_written` right after it: the fields the bot sent (as TeleCRM now holds them) and the
  actions it created are noted in the watcher's snapshot (``storage/lead_watch.py``), the thread
  takes the lead's new name, and a card refresh is asked for;
* :func:`request_card_refresh` when something else about the lead changed (a payment's status).

A card refresh is the ``lead.card_refresh`` outbox job (:class:`RefreshCard`): it reads the lead
and edits the card with ``chat.update`` (:func:`kit.cards.refresh_card`); Slack's 429/5xx and
TeleCRM's outages retry it like any job. Refreshes coalesce: while one is queued and has not begun,
asking again queues nothing — the queued one reads the lead later and shows every change since.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from kit.cards import refresh_card
from kit.services import Services
from kit.worker import Job, JobKind, lease_for
from storage.outbox import PENDING, RUNNING
from telecrm.errors import TeleCRMNotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshCard:
    """Redraw lead ``lead_id``'s card from TeleCRM; ``number`` is the refresh's turn (coalescing)."""

    KIND: ClassVar[str] = "lead.card_refresh"

    lead_id: str
    number: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"lead_id": self.lead_id, "number": self.number}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(lead_id=str(data["lead_id"]), number=int(data.get("number") or 0))


def _refresh_key(lead_id: str, number: int) -> str:
    return f"cardrefresh:{lead_id}:{number}"


def request_card_refresh(services: Services, lead_id: str) -> bool:
    """Ask for the lead's card to be redrawn; True when a refresh was queued (False: one is already
    waiting, or the bot has no card for this lead). Never raises: a card is worth a log line, not a
    failed write."""
    try:
        if services.threads.get(lead_id) is None:
            return False

        def queued(number: int) -> bool:
            item = services.worker.outbox.get(_refresh_key(lead_id, number))
            return item is not None and item.state in (PENDING, RUNNING)

        with services.store.transaction():
            number = services.watches.ask_card(lead_id, queued=queued)
            if number is None:
                return False
            services.worker.submit(_refresh_key(lead_id, number), RefreshCard(lead_id, number))
        return True
    except Exception:
        log.exception("could not ask for lead %s's card to be refreshed", lead_id)
        return False


def run_card_refresh(services: Services, job: Job[RefreshCard]) -> dict[str, Any]:
    """The ``lead.card_refresh`` job: read the lead now and redraw its card."""
    payload = job.payload
    services.watches.begin_card(payload.lead_id, payload.number)
    try:
        edited = refresh_card(services, payload.lead_id)
    except TeleCRMNotFound:
        log.info("lead %s is not in TeleCRM any more; its card is left as it was", payload.lead_id)
        return {"edited": False}
    return {"edited": edited}


def card_refresh_kind(services: Services) -> JobKind[RefreshCard]:
    """The job kind, bound to ``services`` (registered once by ``bot/app.py``)."""
    return JobKind(RefreshCard, lambda job: run_card_refresh(services, job), max_attempts=10)


@contextmanager
def writing(services: Services, lead_id: str | None) -> Iterator[None]:
    """Around a TeleCRM write to ``lead_id``: the watcher leaves the lead alone meanwhile (until
    :func:`lead_written`, the end of the block, or — if the process dies — a lease's length)."""
    if not lead_id:
        yield
        return
    try:
        services.watches.hold(lead_id, lease_for(services.settings.telecrm_timeout_seconds))
    except Exception:
        log.exception("could not mark lead %s as being written", lead_id)
    try:
        yield
    finally:
        try:
            services.watches.release(lead_id)
        except Exception:
            log.exception("could not release lead %s after writing it", lead_id)


def lead_written(
    services: Services,
    lead_id: str,
    *,
    sent: Mapping[str, Any] | None = None,
    action_ids: Iterable[str | None] = (),
) -> None:
    """The bot changed the lead: ``sent`` fields (their values as TeleCRM now holds them) and the
    ids of actions it created. The watcher's snapshot takes them, the thread takes a new name, and
    the card is redrawn. Never raises (the write itself is done and recorded by its job)."""
    try:
        services.watches.wrote(lead_id, sent=sent, action_ids=[a for a in action_ids if a])
        name = str((sent or {}).get("name") or "").strip()
        if name:
            services.threads.rename(lead_id, name)
    except Exception:
        log.exception("could not note the bot's change of lead %s", lead_id)
    request_card_refresh(services, lead_id)
