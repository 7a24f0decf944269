"""A TeleCRM client that tells an observer about every lead it reads or writes.

The bot's lead index (storage/lead_index.py, fed by kit/lead_index.py) holds every lead the bot has
seen. Leads are read in many places — a found lead, a card, a payment, a timeline, an update — so the
index is fed here, where they all pass, instead of at each of those places.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from telecrm.client import Lead, Page, TeleCRMClient, WriteResult
from telecrm.errors import TeleCRMNotFound

log = logging.getLogger(__name__)


class LeadObserver(Protocol):
    def seen(self, leads: Sequence[Lead]) -> None:
        """Leads TeleCRM answered with (their fields as TeleCRM gave them), or that it just stored."""

    def gone(self, lead_id: str) -> None:
        """A lead TeleCRM says does not exist."""


class ObservedTeleCRMClient(TeleCRMClient):
    """:class:`TeleCRMClient` whose lead reads and writes are reported to :attr:`observer`.

    An observer that fails is logged and never fails the call. Inside :meth:`unobserved` (per thread)
    nothing is reported: for a reader that records what it reads itself, differently.
    """

    def __init__(self, *args: Any, observer: LeadObserver | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.observer = observer
        self._quiet = threading.local()

    @contextlib.contextmanager
    def unobserved(self) -> Iterator[None]:
        before = getattr(self._quiet, "on", False)
        self._quiet.on = True
        try:
            yield
        finally:
            self._quiet.on = before

    def _tell(self, method: str, *args: Any) -> None:
        observer = self.observer
        if observer is None or getattr(self._quiet, "on", False):
            return
        try:
            getattr(observer, method)(*args)
        except Exception:
            log.exception("the lead observer failed (the TeleCRM call itself succeeded)")

    def create_lead(
        self, fields: Mapping[str, Any], actions: list[Mapping[str, Any]] | None = None
    ) -> WriteResult:
        result = super().create_lead(fields, actions)
        if result.lead_id:
            ignored = {r.field.removeprefix("fields.") for r in result.remarks}
            stored = {k: v for k, v in fields.items() if k not in ignored}
            self._tell("seen", [Lead(result.lead_id, stored)])
        return result

    def get_lead(
        self, lead_id: str, *, include_actions: bool = False, skip: int = 0, limit: int = 10
    ) -> Lead:
        try:
            lead = super().get_lead(lead_id, include_actions=include_actions, skip=skip, limit=limit)
        except TeleCRMNotFound:
            self._tell("gone", lead_id)
            raise
        self._tell("seen", [lead])
        return lead

    def update_lead(self, lead_id: str, fields: Mapping[str, Any]) -> Lead:
        lead = super().update_lead(lead_id, fields)
        self._tell("seen", [Lead(lead.id, {**fields, **lead.fields})])
        return lead

    def search_leads(
        self,
        fields: Mapping[str, Any] | None = None,
        actions: Mapping[str, Any] | None = None,
        *,
        skip: int = 0,
        limit: int = 10,
    ) -> Page[Lead]:
        page = super().search_leads(fields, actions, skip=skip, limit=limit)
        if page.items:
            self._tell("seen", page.items)
        return page
