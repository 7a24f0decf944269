"""What feeds the bot's lead index (storage/lead_index.py) and keeps it current.

* :class:`IndexFeed` — every lead TeleCRM answers with or accepts, wherever the bot reads or writes one
  (found, carded, paid, shown in a timeline, created, updated), through the observed client
  (telecrm/observed.py); a lead TeleCRM no longer has is dropped.
* :class:`LeadMirror` — the leads created in the last ``LEAD_INDEX_DAYS`` days, read newest first by
  creation date through lead search (``fields.created_on``, docs/TELECRM.md) in pages of 100, within
  the shared per-minute budget of background requests (telecrm/budget.py). Where it stands is kept in
  SQLite, so a restart carries on from the last page read; once caught up, each run reads only the
  leads created since the previous one.

Only what a search needs is kept: :func:`entry_for`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from storage.dialect import STORE_ERRORS
from storage.lead_index import IndexEntry, LeadIndex, MirrorCursor
from telecrm.budget import RequestBudget
from telecrm.client import Lead, Page, TeleCRMClient
from telecrm.errors import TeleCRMError
from telecrm.observed import ObservedTeleCRMClient
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

log = logging.getLogger(__name__)

MIRROR_SECONDS = 30.0  # how often the mirror runs (once caught up, one request a run)
MIRROR_PAGE = 100  # the documented maximum of lead search
MIRROR_SHARE = 0.5  # the share of each minute's budget the mirror may take; the rest is kept for others
OVERLAP_MS = 10 * 60 * 1000  # each sweep reads again the last 10 minutes of the one before: clocks differ
DAY_MS = 86_400_000
_COMPANY = re.compile(r"compan|organi[sz]ation", re.IGNORECASE)

SchemaSource = Callable[[], WorkspaceSchema | None]


# --- one lead → one index row (pure) ---------------------------------------------------------------


def company_fields(schema: WorkspaceSchema) -> list[FieldDef]:
    """Text fields that hold the lead's company (API name or label mentions company/organisation)."""
    return [
        f
        for f in schema.fields
        if f.type is FieldType.TEXT and (_COMPANY.search(f.api_name) or _COMPANY.search(f.label))
    ]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value if v is not None)
    return " ".join(str(value).split())


def _joined(
    fields: Mapping[str, object], defs: Sequence[FieldDef], convert: Callable[[object], str]
) -> str | None:
    """The values of these fields, space-separated; ``None`` when the answer carried none of them."""
    present = [f.api_name for f in defs if f.api_name in fields]
    if not present:
        return None
    return " ".join(part for name in present if (part := convert(fields[name])))


def _digits(value: object) -> str:
    return " ".join(d for d in (re.sub(r"\D", "", _text(v)) for v in _as_list(value)) if d)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def entry_for(schema: WorkspaceSchema, lead: Lead, *, seen_at: float = 0.0) -> IndexEntry | None:
    """The index row of a lead as TeleCRM gave it (``None`` without an id). A field the answer did not
    carry stays ``None``, so recording the row keeps what the index already had."""
    if not lead.id:
        return None
    fields = lead.fields
    of_type = {t: [f for f in schema.fields if f.type is t] for t in (FieldType.PHONE, FieldType.EMAIL)}
    status = next((f for f in schema.fields if f.type is FieldType.STATUS), None)
    status_key = status.api_name if status is not None and status.api_name in fields else "status"
    ident = schema.identifier.api_name
    return IndexEntry(
        lead_id=lead.id,
        name=_text(fields["name"]) if "name" in fields else None,
        identifier=_text(fields[ident]) if ident in fields else None,
        phones=_joined(fields, of_type[FieldType.PHONE], _digits),
        email=_joined(fields, of_type[FieldType.EMAIL], _text),
        company=_joined(fields, company_fields(schema), _text),
        status=_text(fields[status_key]) if status_key in fields else None,
        seen_at=seen_at,
    )


def created_ms(lead: Lead) -> int | None:
    """When TeleCRM created the lead (epoch ms; a number below 10¹¹ is read as seconds)."""
    value = lead.fields.get("created_on")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number if abs(number) >= 1e11 else number * 1000)


# --- what the bot sees -----------------------------------------------------------------------------


class IndexFeed:
    """The observer of the TeleCRM client (telecrm/observed.py): every lead read or written is recorded
    as seen now; one TeleCRM does not have is forgotten. Nothing happens until the schema is cached."""

    def __init__(self, index: LeadIndex, schema: SchemaSource) -> None:
        self._index = index
        self._schema = schema

    def seen(self, leads: Sequence[Lead]) -> None:
        schema = self._schema()
        if schema is None:
            return
        entries = [e for lead in leads if (e := entry_for(schema, lead)) is not None]
        try:
            self._index.record(entries)
        except STORE_ERRORS as exc:  # the store's own health check reports an unusable file
            log.warning("the lead index could not record %d lead(s): %s", len(entries), exc)

    def gone(self, lead_id: str) -> None:
        try:
            self._index.forget(lead_id)
        except STORE_ERRORS as exc:
            log.warning("the lead index could not drop a lead: %s", exc)


# --- the mirror of recent leads --------------------------------------------------------------------


def advance(cursor: MirrorCursor, items: Sequence[Lead]) -> MirrorCursor:
    """The cursor after reading a page (newest first) of the leads created at or before ``sweep_to``.

    The next page is the leads created at or before the page's oldest, less those already read at that
    very moment; leads created meanwhile are newer and do not shift it. Without creation times it falls
    back to ``skip``.
    """
    times = [created_ms(lead) for lead in items]
    known = [t for t in times if t is not None]
    if not items or len(known) < len(times) or cursor.sweep_to is None:
        return replace(cursor, sweep_skip=cursor.sweep_skip + len(items))
    oldest = min(known)
    if oldest >= cursor.sweep_to:
        return replace(cursor, sweep_skip=cursor.sweep_skip + len(items))
    return replace(cursor, sweep_to=oldest, sweep_skip=sum(1 for t in known if t == oldest))


class LeadMirror:
    """Reads the recently created leads into the index, a few pages per run (see the module docstring)."""

    def __init__(
        self,
        client: TeleCRMClient,
        index: LeadIndex,
        budget: RequestBudget,
        schema: SchemaSource,
        *,
        days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._index = index
        self._budget = budget
        self._schema = schema
        self.days = days
        self._clock = clock

    @property
    def reserve(self) -> int:
        """Requests of each minute's budget the mirror leaves to the other background readers."""
        per_minute = self._budget.per_minute
        return min(per_minute - 1, per_minute - max(1, int(per_minute * MIRROR_SHARE)))

    def run(self) -> int:
        """One run: read pages while the budget has more than :attr:`reserve` left; how many were read."""
        schema = self._schema()
        if self.days <= 0 or schema is None:
            return 0
        cursor = self._index.cursor()
        if cursor.days != self.days:  # first run, or the window changed: start over
            cursor = MirrorCursor(days=self.days, checked_at=cursor.checked_at, pages=cursor.pages)
        read = 0
        while self._budget.available() > self.reserve:
            now_ms = int(self._clock() * 1000)
            start_ms = now_ms - self.days * DAY_MS
            if not cursor.sweeping:
                floor = start_ms if cursor.high_ms is None else cursor.high_ms - OVERLAP_MS
                cursor = replace(cursor, sweep_top=now_ms, sweep_to=now_ms, sweep_skip=0, sweep_floor=floor)
            if not self._budget.take():
                break
            try:
                page = self._read(cursor, max(start_ms, cursor.sweep_floor or start_ms))
            except TeleCRMError as exc:
                log.warning(
                    "the lead index could not read recent leads from TeleCRM (%s); next run retries", exc
                )
                break
            read += 1
            self._index.record(self._entries(schema, page.items, now_ms))
            cursor = replace(advance(cursor, page.items), pages=cursor.pages + 1)
            if len(page.items) < MIRROR_PAGE:  # reached the floor: everything up to sweep_top is in
                cursor = replace(
                    cursor,
                    high_ms=cursor.sweep_top,
                    sweep_top=None,
                    sweep_to=None,
                    sweep_skip=0,
                    sweep_floor=None,
                    checked_at=self._clock(),
                )
            self._index.save_cursor(cursor)
            if not cursor.sweeping:
                break
        return read

    def _read(self, cursor: MirrorCursor, floor_ms: int) -> Page[Lead]:
        """One page of the leads created between the floor and the cursor, newest first. Not reported to
        the client's observer: these are recorded here, as seen when they were created."""
        window = {"from": floor_ms, "to": cursor.sweep_to}
        client = self._client
        quiet = client.unobserved() if isinstance(client, ObservedTeleCRMClient) else contextlib.nullcontext()
        with quiet:
            return client.search_leads({"created_on": window}, skip=cursor.sweep_skip, limit=MIRROR_PAGE)

    @staticmethod
    def _entries(schema: WorkspaceSchema, leads: Sequence[Lead], now_ms: int) -> list[IndexEntry]:
        out = []
        for lead in leads:
            created = created_ms(lead)
            entry = entry_for(schema, lead, seen_at=min(created or now_ms, now_ms) / 1000)
            if entry is not None:
                out.append(entry)
        return out
