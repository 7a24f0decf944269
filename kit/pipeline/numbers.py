"""The numbers of a pipeline report, each with where it came from.

From TeleCRM (lead search ``total_count``, :mod:`kit.pipeline.counting`): leads created in the
period and in each bar of the chart, per rep (or, for one rep, per source), the leads in each status
of the workspace's pipeline right now (archived statuses apart), and the follow-ups due today.
From what the bot recorded itself: payments recorded and completed in the period, per currency
(only payments recorded through Slack), and, when TeleCRM cannot be reached, the leads created from
Slack. A number that could not be had is ``None`` with the reason in ``missing``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kit.config import Settings
from kit.format import zone
from kit.lead_fields import follow_up_field
from kit.pipeline.counting import Counts, LeadCounter
from kit.pipeline.period import Bucket, Period
from kit.services import Services
from storage.pipeline import PaymentTotals, payment_totals, slack_leads
from telecrm.schema import FieldDef, FieldType, StatusDef, WorkspaceSchema

log = logging.getLogger(__name__)

STACK_UP_TO = 14  # bars stacked by top rep/source when there are at most this many (3 counts a bar)
STACKED_GROUPS = 3
MAX_SOURCE_OPTIONS = 15  # a source dropdown with more options is not broken down (one count each)

# the parts of a report, as the message names them when they are missing
NEW_LEADS = "new leads"
BY_GROUP = "new leads by rep or source"
PIPELINE = "leads by status"
FOLLOW_UPS = "follow-ups due today"


@dataclass(frozen=True)
class Rep:
    """The person a report is narrowed to: their TeleCRM account and Slack users linked to it."""

    name: str
    email: str
    slack_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """One rep or source of the breakdown: its label and the search filter that selects it."""

    label: str
    api_name: str
    value: str


@dataclass
class PipelineNumbers:
    period: Period
    today: date
    rep: Rep | None = None
    buckets: list[Bucket] = field(default_factory=list)
    new_total: int | None = None
    per_bucket: list[int] | None = None
    group_kind: str = ""  # "rep", a source field's label, or "" (no breakdown)
    groups: list[tuple[str, int]] | None = None  # biggest first, "Other" last
    stacked: list[tuple[str, list[int]]] | None = None  # top groups (+ "Other") per bar
    statuses: list[tuple[StatusDef, int]] | None = None  # active ones, pipeline order
    archived: list[tuple[StatusDef, int]] | None = None
    all_leads: int | None = None
    followup_field: FieldDef | None = None
    followups_today: int | None = None
    payments: PaymentTotals = field(default_factory=lambda: PaymentTotals((), ()))
    slack_leads: int = 0
    missing: dict[str, str] = field(default_factory=dict)  # part → why
    requests: int = 0  # TeleCRM requests this report cost
    cached: int = 0  # counts answered from the last few minutes' answers

    @property
    def unknown_status(self) -> int:
        """Leads whose status is none of the workspace's (e.g. a status since deleted)."""
        if self.all_leads is None or self.statuses is None or self.archived is None:
            return 0
        return max(0, self.all_leads - sum(n for _, n in self.statuses) - sum(n for _, n in self.archived))

    @property
    def empty_workspace(self) -> bool:
        """No lead in TeleCRM at all and nothing recorded here: the team's first day."""
        return self.rep is None and self.all_leads == 0 and self.payments.empty and self.slack_leads == 0

    @property
    def telecrm_reached(self) -> bool:
        return not {NEW_LEADS, PIPELINE} <= set(self.missing)

    @property
    def something_to_say(self) -> bool:
        """Whether the period had anything: new leads, payments, or follow-ups due today."""
        return bool(self.new_total or not self.payments.empty or self.followups_today or self.slack_leads)


# --- shared counters ---------------------------------------------------------------------------------

_counters: dict[int, LeadCounter] = {}
_counters_lock = threading.Lock()


def counter_for(services: Services) -> LeadCounter:
    """One counter (cache and budget) per running bot, shared by /pipeline, the digest and App Home."""
    with _counters_lock:
        counter = _counters.get(id(services))
        if counter is None:
            counter = _counters[id(services)] = LeadCounter(services.telecrm, services.clock)
            weakref.finalize(services, _counters.pop, id(services), None)
        return counter


# --- what to count ------------------------------------------------------------------------------------


def team_today(services: Services) -> date:
    """Today in the team's zone (DIGEST_TZ)."""
    return datetime.fromtimestamp(services.clock(), zone(services.settings.digest_tz)).date()


def followup_field(schema: WorkspaceSchema, settings: Settings) -> FieldDef | None:
    """The follow-up date field, as reminders find it (:func:`kit.lead_fields.follow_up_field`)."""
    return follow_up_field(schema, settings.follow_up_field)


def source_field(schema: WorkspaceSchema) -> FieldDef | None:
    """The dropdown that says where a lead came from (``contact_source``, *Lead Source*, …)."""
    dropdowns = [f for f in schema.fields if f.type is FieldType.DROPDOWN and f.options]
    by_name = [f for f in dropdowns if "source" in f.api_name.lower()]
    found = by_name or [f for f in dropdowns if "source" in f.label.lower()]
    return found[0] if found else None


def breakdown(schema: WorkspaceSchema | None, rep: Rep | None) -> tuple[str, list[Group]]:
    """Per rep for the team; per source for one rep (when the workspace has a source dropdown)."""
    if schema is None:
        return "", []
    if rep is None:
        members = [m for m in schema.team_members if m.status.lower() != "deleted" and m.email]
        return "rep", [Group(m.name or m.email, "assignee", m.email) for m in members]
    source = source_field(schema)
    if source is None or len(source.options) > MAX_SOURCE_OPTIONS:
        return "", []
    return source.label, [Group(option, source.api_name, option) for option in source.options]


def gather(
    services: Services, period: Period, rep: Rep | None = None, *, today: date | None = None
) -> PipelineNumbers:
    """Every number of a report; TeleCRM is asked only after Slack has been answered (callers run this
    on the worker's read pool)."""
    today = today or team_today(services)
    numbers = PipelineNumbers(period=period, today=today, rep=rep, buckets=period.buckets())
    counter = counter_for(services)
    schema = _schema(services)
    base: dict[str, Any] = {"assignee": rep.email} if rep else {}

    def created(first: date, last: date, **more: Any) -> dict[str, Any]:
        return {**base, **more, "created_on": {"from": period.start_ms(first), "to": period.end_ms(last)}}

    kind, groups = breakdown(schema, rep)
    questions: dict[str, dict[str, Any]] = {"all": dict(base), "new": created(period.first, period.last)}
    if len(numbers.buckets) > 1:
        questions.update({f"b{i}": created(b.first, b.last) for i, b in enumerate(numbers.buckets)})
    questions.update(
        {f"g{j}": created(period.first, period.last, **{g.api_name: g.value}) for j, g in enumerate(groups)}
    )
    statuses = list(schema.statuses) if schema is not None else []
    questions.update({f"s{k}": {**base, "status": s.label} for k, s in enumerate(statuses)})
    numbers.followup_field = followup_field(schema, services.settings) if schema is not None else None
    if numbers.followup_field is not None:
        questions["fu"] = {**base, numbers.followup_field.api_name: today.strftime("%d/%m/%Y")}
    counts = counter.count(questions)
    _read_new_leads(numbers, counts, kind, groups)
    _read_pipeline(numbers, counts, statuses, schema)
    _read_followups(numbers, counts, schema)
    if numbers.groups and numbers.new_total and 2 <= len(numbers.buckets) <= STACK_UP_TO:
        _stack(numbers, counter, created, groups)
    start, end = period.bounds_s()
    numbers.payments = payment_totals(services.store, start, end, rep.slack_users if rep else None)
    numbers.slack_leads = slack_leads(services.store, start, end, rep.slack_users if rep else None)
    numbers.requests += counts.requests
    numbers.cached += counts.cached
    return numbers


def _schema(services: Services) -> WorkspaceSchema | None:
    cached = services.cache.cached()
    if cached is not None:
        return cached
    try:
        return services.schema()
    except Exception as exc:
        log.warning("no workspace schema for a pipeline report: %s", exc)
        return None


def _read_new_leads(numbers: PipelineNumbers, counts: Counts, kind: str, groups: list[Group]) -> None:
    bucket_keys = [f"b{i}" for i in range(len(numbers.buckets))] if len(numbers.buckets) > 1 else ["new"]
    why = counts.missing(["new", *bucket_keys])
    if why:
        numbers.missing[NEW_LEADS] = why
        return
    numbers.new_total = counts.get("new")
    numbers.per_bucket = [counts.get(k) or 0 for k in bucket_keys]
    if not groups:
        return
    why = counts.missing([f"g{j}" for j in range(len(groups))])
    if why:
        numbers.missing[BY_GROUP] = why
        return
    numbers.group_kind = kind
    found = sorted(
        ((g.label, counts.get(f"g{j}") or 0) for j, g in enumerate(groups)),
        key=lambda item: (-item[1], item[0]),
    )
    named = [(label, n) for label, n in found if n]
    other = (numbers.new_total or 0) - sum(n for _, n in named)
    if other > 0:
        named.append(("Unassigned" if kind == "rep" else "Other", other))
    numbers.groups = named


def _read_pipeline(
    numbers: PipelineNumbers, counts: Counts, statuses: list[StatusDef], schema: WorkspaceSchema | None
) -> None:
    if schema is None:
        numbers.missing[PIPELINE] = "the TeleCRM workspace's statuses could not be read"
        return
    why = counts.missing(["all", *[f"s{k}" for k in range(len(statuses))]])
    if why:
        numbers.missing[PIPELINE] = why
        return
    numbers.all_leads = counts.get("all")
    pairs = [(s, counts.get(f"s{k}") or 0) for k, s in enumerate(statuses)]
    numbers.statuses = [(s, n) for s, n in pairs if s.active]
    numbers.archived = [(s, n) for s, n in pairs if not s.active]


def _read_followups(numbers: PipelineNumbers, counts: Counts, schema: WorkspaceSchema | None) -> None:
    if schema is None or numbers.followup_field is None:
        return
    why = counts.missing(["fu"])
    if why:
        numbers.missing[FOLLOW_UPS] = why
        return
    numbers.followups_today = counts.get("fu")


def _stack(numbers: PipelineNumbers, counter: LeadCounter, created: Any, groups: list[Group]) -> None:
    """Per bar, the leads of the biggest few reps or sources; the rest of each bar is "Other"."""
    by_label = {g.label: g for g in groups}
    top = [by_label[label] for label, n in (numbers.groups or []) if label in by_label and n][:STACKED_GROUPS]
    if not top or numbers.per_bucket is None:
        return
    questions = {
        f"b{i}g{j}": created(b.first, b.last, **{g.api_name: g.value})
        for i, b in enumerate(numbers.buckets)
        for j, g in enumerate(top)
    }
    counts = counter.count(questions)
    numbers.requests += counts.requests
    numbers.cached += counts.cached
    if counts.missing(list(questions)):
        return  # the bars still show each day's total
    series = [
        (g.label, [counts.get(f"b{i}g{j}") or 0 for i in range(len(numbers.buckets))])
        for j, g in enumerate(top)
    ]
    rest = [total - sum(s[1][i] for s in series) for i, total in enumerate(numbers.per_bucket)]
    if any(n > 0 for n in rest):
        series.append(
            ("Unassigned and others" if numbers.group_kind == "rep" else "Other", [max(0, n) for n in rest])
        )
    numbers.stacked = series
