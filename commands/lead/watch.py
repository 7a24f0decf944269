"""The lead watcher: re-reads the leads that have a Slack thread, so a change made in TeleCRM (not
through the bot) reaches the thread, once, and the card shows it.

``register`` in ``commands/lead/listeners.py`` runs :func:`watch_leads` every few seconds (every
``LEAD_WATCH_SECONDS`` when that is shorter) while ``LEAD_WATCH_SECONDS`` is not 0. Each run:

1. takes the watcher's lease (one process of several sharing the database watches at a time), the
   requests it sent in the last minute and any pause TeleCRM asked for (``storage/lead_watch.py``);
2. lists the leads due: not looked at for ``LEAD_WATCH_SECONDS`` and not being written by the bot
   right now; recently active ones (changed within :data:`RECENT_SECONDS`) first, then the least
   recently looked at — a round-robin over the quiet ones — except that one request in
   :data:`QUIET_SHARE` goes to the quiet ones while both wait, so a budget too small for every
   active lead still reaches the quiet ones (docs/PERFORMANCE.md shows both);
3. reads them within ``TELECRM_WATCH_BUDGET_PER_MINUTE`` (:class:`telecrm.budget.RequestBudget`, never
   exceeded): up to 100 leads in one lead search on their identifiers (the search takes a list of
   values, docs/TELECRM.md), or one ``GET`` per lead when the identifier is unknown or TeleCRM
   refused such a search; a lead missing from the search is read alone, and a 404 means it is gone;
4. compares each with what the bot last saw (its snapshot): fields as people read them, and — when
   ``last_activity_on`` moved — the actions since (one action search): payments and custom actions
   recorded in TeleCRM (the bot's own are known and left out), calls and messages only with
   ``LEAD_WATCH_CALLS=1``; who made a change, where TeleCRM says (an assignment's ``performed_by``);
5. records what it saw and queues the ``lead.changed_in_telecrm`` job
   (``commands/lead/watch_job.py``) in one transaction, only if nothing else touched the lead's row
   since it was read, so a restart, a second process or the bot's own write never makes a change
   reported twice or wrongly.

A failure (TeleCRM down, a 429) ends the run without recording anything: the leads stay due and the
next run tries again (after ``Retry-After`` for a 429). A malformed lead is skipped with one log line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

from commands.lead.payloads import LeadChangedInTeleCRM
from commands.lead.values import comparable
from kit.cards import activity_label, member_name, plain_value
from kit.display import display_value, has_value
from kit.events import PaymentFoundInTeleCRM
from kit.format import format_money
from kit.services import Services
from storage.lead_watch import KNOWN_ACTIONS_KEPT, LeadWatch, Sighting, WatchCandidate
from telecrm.budget import RequestBudget
from telecrm.errors import TeleCRMError, TeleCRMNotFound
from telecrm.models import Lead
from telecrm.schema import FieldType, WorkspaceSchema

log = logging.getLogger(__name__)

WATCH_NAME = "lead-watch"
#: a lead changed (in TeleCRM or through the bot) within this long is "recently active"
RECENT_SECONDS = 3 * 24 * 3600.0
#: the longest pause between two runs: a lead is looked at at most this long after it is due
TICK_SECONDS = 5.0
#: one request in this many goes to the quiet leads while recently active ones wait too
QUIET_SHARE = 5
#: leads read by one lead search (the API's largest page)
SEARCH_BATCH = 100
#: how long one process keeps the watcher; another takes over only after it ran out
LEASE_SECONDS = 300.0
#: a 429 without Retry-After pauses the watcher this long
DEFAULT_PAUSE_SECONDS = 60.0
#: lead keys where a TeleCRM workspace may say who changed a lead last (none is documented)
_CHANGED_BY_KEYS = ("modified_by", "modifiedBy", "updated_by", "updatedBy", "last_modified_by")
_CALL_WORDS = ("CALL", "WHATSAPP", "SMS", "EMAIL", "MSG")


def per_run(per_minute: int) -> int:
    """The most requests one run sends: twice a tick's share of the minute's budget (at least 2)."""
    return max(2, math.ceil(per_minute * TICK_SECONDS / 60) * 2)


def tick_seconds(lead_watch_seconds: float) -> float:
    """How often the watcher runs: every :data:`TICK_SECONDS`, or every interval when shorter."""
    return max(0.05, min(TICK_SECONDS, lead_watch_seconds))


@dataclass
class WatchReport:
    """What one run did (for logs, tests and the benchmark)."""

    requests: int = 0
    looked: int = 0
    changed: int = 0
    gone: int = 0
    skipped: int = 0
    stopped: str | None = None
    found: list[str] = field(default_factory=list)


def watch_leads(
    services: Services, *, owner: str | None = None, interval: float | None = None
) -> WatchReport:
    """One run of the watcher (see the module doc); never raises for TeleCRM's sake.

    ``interval`` (default ``LEAD_WATCH_SECONDS``, where 0 means the watcher is off) is how long a
    lead rests between two looks; ``interval=0`` given here looks at every lead now (tests).
    """
    report = WatchReport()
    rest = services.settings.lead_watch_seconds if interval is None else interval
    if interval is None and rest <= 0:
        return report
    me = owner or services.worker.outbox.owner
    watches = services.watches
    ours, spent, paused_until = watches.lease(WATCH_NAME, me, LEASE_SECONDS)
    if not ours:
        report.stopped = "another process watches"
        return report
    budget = services.watch_budget
    budget.load(spent)
    now = services.clock()
    if paused_until is not None and paused_until > now:
        report.stopped = "paused"
        return report
    run = _Run(services, budget, report, now, rest)
    try:
        run.go()
    finally:
        watches.save_run(WATCH_NAME, me, spent=budget.spent(), paused_until=run.paused_until)
    if report.changed or report.gone:
        log.info(
            "lead watch: %d lead(s) changed in TeleCRM, %d gone (%d request(s))",
            report.changed,
            report.gone,
            report.requests,
        )
    return report


class _Stop(Exception):
    """End the run: TeleCRM is not answering (or asked for a pause); nothing more is recorded."""


class _Run:
    def __init__(
        self, services: Services, budget: RequestBudget, report: WatchReport, now: float, interval: float
    ) -> None:
        self.interval = interval
        self.services = services
        self.budget = budget
        self.report = report
        self.now = now
        self.paused_until: float | None = None
        # looks that found nothing to tell: recorded together, one transaction per request
        self._quiet: list[tuple[str, int, Sighting]] = []
        # payments recorded in TeleCRM that the lead being looked at holds (filled by _action_line)
        self._payments_found: list[PaymentFoundInTeleCRM] = []

    # --- the plan -------------------------------------------------------------------------------------

    def go(self) -> None:
        due = self.services.watches.due(
            now=self.now, interval=self.interval, active_since=self.now - RECENT_SECONDS
        )
        if not due:
            return
        try:
            self.schema = self.services.schema()
        except Exception as exc:
            log.warning("lead watch waits for the workspace schema: %s", exc)
            self.report.stopped = "no schema"
            return
        batching = not self.services.watches.note(WATCH_NAME, "no_batch")
        try:
            for request in self._plan(due, batching):
                if not self._spend():
                    self.report.stopped = "budget"
                    return
                if len(request) == 1 and not (batching and self._identifier(request[0])):
                    self._read_one(request[0])
                else:
                    self._read_batch(request)
                self._record_quiet()
        except _Stop as stop:
            self.report.stopped = str(stop)
        finally:
            self._record_quiet()

    def _record_quiet(self) -> None:
        """Record the looks that found nothing to tell (each only if its row is as it was read)."""
        if not self._quiet:
            return
        quiet, self._quiet = self._quiet, []
        with self.services.store.transaction():
            for lead_id, version, sighting in quiet:
                self.services.watches.record(lead_id, version, sighting)

    def _identifier(self, c: WatchCandidate) -> str | None:
        known = (c.watch.fields or {}).get(self.schema.identifier_api_name)
        value = display_value(known).strip() or (c.identifier or "").strip()
        return value or None

    def _plan(self, due: Sequence[WatchCandidate], batching: bool) -> list[list[WatchCandidate]]:
        """Requests in priority order (:func:`interleave`): recently active leads first, with one
        request in :data:`QUIET_SHARE` kept for the quiet ones, so they are never starved."""
        active = self._requests([c for c in due if c.recently_active], batching)
        quiet = self._requests([c for c in due if not c.recently_active], batching)
        return interleave(active, quiet, QUIET_SHARE)

    def _requests(self, due: Sequence[WatchCandidate], batching: bool) -> list[list[WatchCandidate]]:
        """A search takes a due lead with an identifier and the next ones, up to :data:`SEARCH_BATCH`;
        a lead without one is read alone."""
        requests: list[list[WatchCandidate]] = []
        batch: list[WatchCandidate] | None = None
        for c in due:
            if batching and self._identifier(c):
                if batch is None or len(batch) >= SEARCH_BATCH:
                    batch = []
                    requests.append(batch)
                batch.append(c)
            else:
                requests.append([c])
        return requests

    def _spend(self) -> bool:
        """One request of the budget, and of this run's share of it (requests are spread over the
        minute rather than sent in one burst)."""
        if self.report.requests >= per_run(self.budget.per_minute) or not self.budget.take():
            return False
        self.report.requests += 1
        return True

    # --- reading ------------------------------------------------------------------------------------

    def _failed(self, exc: TeleCRMError, what: str) -> NoReturn:
        """A read failed: pause after a 429, stop the run for any failure that may pass."""
        if exc.status == 429:
            self.paused_until = self.now + (exc.retry_after or DEFAULT_PAUSE_SECONDS)
            log.warning("lead watch paused: TeleCRM asked to wait (%s)", exc)
            raise _Stop("rate limited")
        if exc.transient:
            log.warning("lead watch paused, TeleCRM did not answer %s: %s", what, exc)
            raise _Stop("TeleCRM unreachable")
        log.warning("lead watch stopped, TeleCRM refused %s: %s", what, exc)
        raise _Stop("refused")

    def _read_one(self, c: WatchCandidate) -> None:
        try:
            lead = self.services.telecrm.get_lead(c.lead_id)
        except TeleCRMNotFound:
            self._gone(c)
            return
        except TeleCRMError as exc:
            self._failed(exc, "reading a lead")
        self._look(c, lead)

    def _read_batch(self, batch: list[WatchCandidate]) -> None:
        api = self.schema.identifier_api_name
        values = list(dict.fromkeys(v for v in (self._identifier(c) for c in batch) if v))
        try:
            page = self.services.telecrm.search_leads({api: values}, limit=SEARCH_BATCH)
        except TeleCRMError as exc:
            if exc.status == 400:  # this TeleCRM does not take a list of values: one lead per request
                log.warning(
                    "TeleCRM refused a lead search on several identifiers (%s); reading one by one", exc
                )
                self.services.watches.note(WATCH_NAME, "no_batch", True)
                raise _Stop("search refused") from None
            self._failed(exc, "a lead search")
        by_id = {lead.id: lead for lead in page.items if lead.id}
        by_ident = {_ident_key(lead.fields.get(api)): lead for lead in page.items}
        missing = []
        for c in batch:
            lead = by_id.get(c.lead_id)
            if lead is None and not by_id:  # rows without ids: matched on the identifier
                lead = by_ident.get(_ident_key(self._identifier(c)))
            if lead is None:
                missing.append(c)
            else:
                self._look(c, Lead(c.lead_id, lead.fields))
        for c in missing:  # not found by its identifier: read alone (a 404 means it is gone)
            if not self._spend():
                self.report.stopped = "budget"
                return
            self._read_one(c)

    # --- comparing ------------------------------------------------------------------------------------

    def _look(self, c: WatchCandidate, lead: Lead) -> None:
        self.report.looked += 1
        self._payments_found = []
        watches = self.services.watches
        problem = malformed(lead, c.lead_id)
        if problem:
            log.warning("lead %s as TeleCRM sent it is malformed (%s); skipped this time", c.lead_id, problem)
            watches.checked(c.lead_id, self.now)
            self.report.skipped += 1
            return
        w = c.watch
        fields = dict(lead.fields)
        modified_on = _number(fields.get("modified_on"))
        activity_on = _number(fields.get("last_activity_on"))
        if w.fields is None:  # first look at this lead: what later looks compare against
            sighting = Sighting(fields, modified_on, activity_on, w.known_actions, changed=False)
            self._quiet.append((c.lead_id, w.version, sighting))
            return
        changes, assigned_to = self._changes(w.fields, fields)
        activities, known, cursor, assigner = self._activities(c, w, activity_on)
        # who reassigned the lead is on its LEAD_ASSIGNMENT action; the rest only if the lead says
        rows = tuple((label, old, new, assigner if is_user else "") for (label, old, new, is_user) in changes)
        by = next(
            (member_name(self.schema, fields[k]) for k in _CHANGED_BY_KEYS if has_value(fields.get(k))), ""
        )
        payments = [replace(p, lead_id=c.lead_id) for p in self._payments_found]
        changed = bool(rows or activities or payments)
        sighting = Sighting(fields, modified_on, cursor, known, changed=changed)
        if not changed:
            self._quiet.append((c.lead_id, w.version, sighting))
            return
        payload = LeadChangedInTeleCRM(
            lead_id=c.lead_id,
            changes=rows,
            by=by,
            activities=tuple(activities),
            assigned_to=assigned_to,
            fields=fields,
        )
        digest = hashlib.sha1(json.dumps(payload.to_json(), sort_keys=True, default=str).encode()).hexdigest()
        with self.services.store.transaction():
            if not watches.record(c.lead_id, w.version, sighting):
                return  # the bot (or another process) changed the row since it was read: next time
            if rows or activities:
                self.services.worker.submit(f"leadwatch:{c.lead_id}:{w.version}:{digest[:12]}", payload)
            for found in payments:  # shown with their buttons by the payments feature
                self.services.worker.submit(f"leadwatch:payment:{found.action_id}", found)
        self.report.changed += 1
        self.report.found.append(c.lead_id)

    def _changes(
        self, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> tuple[list[tuple[str, str, str, bool]], str]:
        """Fields whose value differs, as people read them; and the new assignee's email if any."""
        cc = self.services.settings.default_country_code
        rows = []
        assigned_to = ""
        for f in self.schema.fields:
            old, new = before.get(f.api_name), after.get(f.api_name)
            if comparable(self.schema, f, old, default_country_code=cc) == comparable(
                self.schema, f, new, default_country_code=cc
            ):
                continue
            is_user = f.type is FieldType.ACTIVE_USERS
            if (
                is_user
                and isinstance(new, str)
                and "@" in new
                and (f.api_name == "assignee" or not assigned_to)
            ):
                assigned_to = new
            label = "Status" if f.api_name == "status" else f.label
            rows.append(
                (
                    label,
                    plain_value(self.services, self.schema, f, old),
                    plain_value(self.services, self.schema, f, new),
                    is_user,
                )
            )
        return rows, assigned_to

    def _activities(
        self, c: WatchCandidate, w: LeadWatch, activity_on: float | None
    ) -> tuple[list[str], tuple[str, ...], float | None, str]:
        """Actions recorded in TeleCRM since the last look (one action search, when the budget
        allows): their lines, the known action ids, the new cursor, who assigned the lead."""
        cursor = w.activity_on
        if activity_on is None or (cursor is not None and activity_on <= cursor):
            return [], w.known_actions, cursor, ""
        if not self._spend():  # no budget left now: the actions are looked for next time
            return [], w.known_actions, cursor, ""
        since_ms = cursor if cursor is not None else (w.seen_at or c.thread_created_at) * 1000 - 300_000
        try:
            page = self.services.telecrm.search_actions(
                c.lead_id, created_on=(int(since_ms), None), limit=100
            )
        except TeleCRMNotFound:
            return [], w.known_actions, cursor, ""  # the lead is gone: its next read says so
        except TeleCRMError as exc:
            self._failed(exc, "an action search")
        known = set(w.known_actions)
        lines: list[str] = []
        assigner = ""
        newest = activity_on
        seen: list[str] = []
        for row in reversed(page.items):  # oldest first, as they happened
            action_id = str(row.get("action_id") or row.get("actionId") or row.get("id") or "")
            created = _number(row.get("created_on"))
            if created is not None:
                newest = max(newest, created)
            if not action_id or action_id in known:
                continue
            seen.append(action_id)
            line, who = self._action_line(row)
            if str(row.get("type") or "").upper() == "LEAD_ASSIGNMENT":
                assigner = who or assigner
                continue
            if line:
                lines.append(line)
        merged = tuple(list(dict.fromkeys([*w.known_actions, *seen]))[-KNOWN_ACTIONS_KEPT:])
        return lines, merged, newest, assigner

    def _action_line(self, row: Mapping[str, Any]) -> tuple[str | None, str]:
        """One action as a line for the thread (``None`` for the kinds not reported), and who did it."""
        action_type = str(row.get("type") or "").strip()
        performer = row.get("performed_by") or row.get("performedBy")
        if isinstance(performer, Mapping):
            performer = performer.get("email") or performer.get("name")
        who = member_name(self.schema, performer) if has_value(performer) else ""
        by = f", by {who}" if who else ""
        icon, label = activity_label(self.schema, action_type)
        upper = action_type.upper()
        if upper == "PAYMENT":
            action_id = str(row.get("action_id") or "")
            if action_id and self.services.payments.get(action_id) is not None:
                return None, who  # recorded through the bot: its thread has it already
            money = format_money(display_value(row.get("amount")), display_value(row.get("currency")))
            status = display_value(row.get("status")).upper()
            if action_id and has_value(row.get("amount")) and has_value(row.get("currency")):
                self._payments_found.append(
                    PaymentFoundInTeleCRM(
                        "", action_id, str(row["amount"]), str(row["currency"]), status or "PENDING", by=who
                    )
                )
                return None, who  # its own message, with buttons, says it
            return f"{icon} {label} {money} {status}".strip() + by, who
        custom = self.schema.custom_action(action_type) if action_type else None
        if custom is not None or action_type.isdigit():
            return f"{icon} {label}{_custom_summary(self.services, self.schema, custom, row)}{by}", who
        if upper == "LEAD_ASSIGNMENT":
            return None, who
        if self.services.settings.lead_watch_calls and any(word in upper for word in _CALL_WORDS):
            return f"{icon} {label}{by}", who
        return None, who

    # --- gone -------------------------------------------------------------------------------------------

    def _gone(self, c: WatchCandidate) -> None:
        """TeleCRM says the lead does not exist: one message in its thread, and it is no longer watched."""
        watches = self.services.watches
        with self.services.store.transaction():
            if not watches.mark_gone(c.lead_id, c.watch.version):
                return
            self.services.worker.submit(
                f"leadwatch:{c.lead_id}:gone", LeadChangedInTeleCRM(lead_id=c.lead_id, gone=True)
            )
        self.report.gone += 1
        self.report.found.append(c.lead_id)


def _custom_summary(services: Services, schema: WorkspaceSchema, custom: Any, row: Mapping[str, Any]) -> str:
    """``: Outcome Interested; Note Roof is …`` — the first fields of a custom action, as people read them."""
    raw = row.get("fields")
    values = raw if isinstance(raw, Mapping) else {}
    defs = {f.api_name: f for f in (custom.fields if custom is not None else ())}
    parts = []
    for key, value in values.items():
        if not has_value(value):
            continue
        f = defs.get(key)
        label = f.label if f is not None else key
        text = plain_value(services, schema, f, value) if f is not None else display_value(value)
        parts.append(f"{label} {text[:80]}")
        if len(parts) == 2:
            break
    return (": " + "; ".join(parts)) if parts else ""


def interleave(first: Sequence[Any], rest: Sequence[Any], share: int) -> list[Any]:
    """``first`` in order, with every ``share``-th place given to ``rest`` (in order) while both have
    items left; then whatever is left of either. ``interleave([a1..a8], [q1, q2], 4)`` →
    ``a1 a2 a3 q1 a4 a5 a6 q2 a7 a8``."""
    out: list[Any] = []
    i = j = 0
    while i < len(first) or j < len(rest):
        take_rest = j < len(rest) and (i >= len(first) or (len(out) + 1) % share == 0)
        if take_rest:
            out.append(rest[j])
            j += 1
        else:
            out.append(first[i])
            i += 1
    return out


def malformed(lead: Lead, lead_id: str) -> str | None:
    """Why a lead TeleCRM sent cannot be compared (``None`` when it can)."""
    fields = lead.fields
    if not isinstance(fields, Mapping) or not fields:
        return "no fields"
    if lead.id and lead.id != lead_id:
        return "another lead's id"
    for key in ("modified_on", "last_activity_on"):
        value = fields.get(key)
        if value is not None and _number(value) is None:
            return f"{key} is not a time"
    for key, value in fields.items():
        if isinstance(value, Mapping) or (
            isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value)
        ):
            return f"{key} is not a value"
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]  # TeleCRM's values are untyped; bad ones fall to except
    except (TypeError, ValueError):
        return None


def _ident_key(value: object) -> str:
    """An identifier compared the way TeleCRM matches it: digits for phones, else case-folded text."""
    text = display_value(value).strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and len(digits) >= 7 and all(ch.isdigit() or ch in "+ -()" for ch in text):
        return digits[-10:]
    return text.casefold()
