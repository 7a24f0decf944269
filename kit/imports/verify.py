"""Proof an import landed: the Async API only ever answers ``QUEUED``, so after the last row the
leads are read back through the Sync API by their identifier.

* **Which rows** — every sent row when the import has at most ``IMPORT_VERIFY_ALL_MAX`` valid rows,
  else a random sample of :data:`SAMPLE_SIZE` (seeded by the import's id, so a restart checks the
  same sample) and the summary says so.
* **How** — up to :data:`SEARCH_BATCH` identifiers per lead search (a list of values, as the lead
  watcher reads; one by one when TeleCRM refuses a list), each request taken from the shared
  background budget (``TELECRM_WATCH_BUDGET_PER_MINUTE``, telecrm/budget.py), so verifying never
  crowds out the lead watcher or ``/pipeline``'s share.
* **When is a row missing** — Async applies requests later (seconds, not guaranteed), so a row not
  found is looked for again every :data:`RECHECK_SECONDS` until ``IMPORT_VERIFY_WAIT_SECONDS`` after
  verifying began, and only then counted missing.
* **Created or updated** — a lead whose ``created_on`` is at or after the moment sending began was
  created by the import; an older one existed and was updated. (The preview cannot tell: it makes no
  TeleCRM requests per row, and a lead could be created by someone else in between.) A lead read
  without ``created_on`` counts as verified only.

Leads read back reach the find index on their own (the client reports every lead it reads,
telecrm/observed.py); a lead with a thread gets its card redrawn (kit/lead_changes.py).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from typing import Any

from kit.imports.progress import Summary
from kit.lead_changes import request_card_refresh
from kit.services import Services
from storage.import_sending import REFUSED, ImportSending
from storage.imports import CANCELLED, MISSING, READY, SENT, VERIFIED
from telecrm.errors import TeleCRMError
from telecrm.models import Lead

log = logging.getLogger(__name__)

SAMPLE_SIZE = 400
SEARCH_BATCH = 100  # identifiers per lead search, as the lead watcher reads (commands/lead/watch.py)
RECHECK_SECONDS = 5.0  # between looks for rows not found yet
CLOCK_SLACK_MS = 2_000  # TeleCRM's clock and the bot's may differ a little


def identifier_key(value: object) -> str:
    """An identifier as both sides can compare it: a phone's digits, an email in lower case."""
    text = str(value or "").strip()
    if "@" in text:
        return text.casefold()
    return "".join(c for c in text if c.isdigit()) or text.casefold()


def rows_to_check(services: Services, import_id: str, sending: ImportSending) -> tuple[list[int], bool]:
    """(the sent rows to read back, whether they are a sample)."""
    record = services.imports.get(import_id)
    sent = sending.sent_row_numbers(import_id)
    limit = services.settings.import_verify_all_max
    if record is None or record.valid_rows <= limit or len(sent) <= SAMPLE_SIZE:
        return sent, False
    return sorted(random.Random(import_id).sample(sent, SAMPLE_SIZE)), True


def _pending(services: Services, import_id: str, chosen: set[int]) -> dict[int, str]:
    """Chosen rows still ``sent`` (not read back yet): row → identifier."""
    out: dict[int, str] = {}
    after = 0
    while True:
        rows = services.imports.rows(import_id, state=SENT, after=after, limit=1000)
        if not rows:
            return out
        out.update({r.row_no: r.identifier for r in rows if r.row_no in chosen})
        after = rows[-1].row_no


def verify_import(
    services: Services, import_id: str, sending: ImportSending, *, should_stop: Callable[[float], bool]
) -> bool:
    """Read the import's leads back until each chosen row is found or the window ends (then it is
    ``missing``). True when verifying finished; False when the run had to stop (paused, cancelled,
    shutdown) — the next run picks up the rows not read back yet."""
    chosen, _ = rows_to_check(services, import_id, sending)
    pending = _pending(services, import_id, set(chosen))
    deadline = services.clock() + services.settings.import_verify_wait_seconds
    api = services.schema().identifier_api_name
    since = sending.sending_since(import_id) or services.clock()
    while pending:
        found = read_back(services, api, pending, since_ms=since * 1000, should_stop=should_stop)
        if found is None:
            return False
        if found:
            sending.record_checks(import_id, found)
            for lead_id, _ in found.values():
                if lead_id:
                    request_card_refresh(services, lead_id)
        pending = {n: ident for n, ident in pending.items() if n not in found}
        remaining = deadline - services.clock()
        if not pending:
            break
        if remaining <= 0:
            services.imports.mark_rows(import_id, sorted(pending), to=MISSING)
            break
        if should_stop(min(RECHECK_SECONDS, remaining)):
            return False
    return True


def _take_budget(services: Services, should_stop: Callable[[float], bool]) -> bool:
    while not services.watch_budget.take():
        if should_stop(max(0.1, min(5.0, services.watch_budget.seconds_until_free()))):
            return False
    return True


def read_back(
    services: Services,
    api: str,
    pending: dict[int, str],
    *,
    since_ms: float,
    should_stop: Callable[[float], bool],
) -> dict[int, tuple[str | None, bool | None]] | None:
    """Rows of ``pending`` whose lead TeleCRM has now: row → (lead id, created by the import?).
    None when the run had to stop."""
    by_key: dict[str, list[int]] = {}
    for row_no, identifier in pending.items():
        by_key.setdefault(identifier_key(identifier), []).append(row_no)
    values = list(dict.fromkeys(pending.values()))
    found: dict[int, tuple[str | None, bool | None]] = {}
    for start in range(0, len(values), SEARCH_BATCH):
        if not _take_budget(services, should_stop):
            return None
        batch = values[start : start + SEARCH_BATCH]
        for lead in _search(services, api, batch, should_stop):
            for row_no in by_key.get(identifier_key(lead.fields.get(api)), []):
                found[row_no] = (lead.id, _created(lead, since_ms))
    return found


def _search(
    services: Services, api: str, values: list[str], should_stop: Callable[[float], bool]
) -> Iterable[Lead]:
    try:
        return services.telecrm.search_leads({api: values}, limit=len(values)).items
    except TeleCRMError as exc:
        if exc.status != 400 or len(values) == 1:
            raise
    log.warning("TeleCRM refused a lead search on several identifiers; reading one by one")
    leads = []
    for value in values:
        if not _take_budget(services, should_stop):
            break
        lead = services.telecrm.find_lead_by_identifier(api, value)
        if lead is not None:
            leads.append(lead)
    return leads


def _created(lead: Lead, since_ms: float) -> bool | None:
    created_on: Any = lead.fields.get("created_on")
    if isinstance(created_on, bool) or not isinstance(created_on, int | float):
        return None
    return created_on >= since_ms - CLOCK_SLACK_MS


def summarize(services: Services, import_id: str, sending: ImportSending) -> Summary:
    """The import's summary from what is stored (the same after a restart)."""
    record = services.imports.get(import_id)
    counts = services.imports.row_counts(import_id)
    created, updated = sending.created_updated(import_id)
    chosen, sampled = rows_to_check(services, import_id, sending)
    sent = counts[SENT] + counts[VERIFIED] + counts[MISSING]
    return Summary(
        file_name=record.file_name if record else "",
        sent=sent,
        created=created,
        updated=updated,
        verified=counts[VERIFIED],
        missing=counts[MISSING],
        checked=counts[VERIFIED] + counts[MISSING],
        sampled=sampled,
        problems_skipped=record.problem_rows if record else 0,
        refused=counts.get(REFUSED, 0),
        unsent=counts[READY],
        cancelled=record is not None and record.state == CANCELLED,
    )


def missing_rows_csv(services: Services, import_id: str) -> str | None:
    """A CSV of the rows not found after the window (row, identifier, reason, then the sent fields);
    None when there are none."""
    import csv
    import io
    import json

    rows = services.imports.rows(import_id, state=MISSING, limit=1_000_000)
    if not rows:
        return None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "identifier", "reason", "sent"])
    for row in rows:
        reason = "not found in TeleCRM after the waiting time"
        writer.writerow([row.row_no, row.identifier, reason, json.dumps(row.body, ensure_ascii=False)])
    return out.getvalue()
