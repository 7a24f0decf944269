"""The numbers of a pipeline report, each with where it came from.

From TeleCRM (lead search ``total_count``, :mod:`kit.pipeline.counting`): leads created in the
period and in each bar of the chart, per rep (or, for one rep, per source), the leads in each status
of the workspace's pipeline right now (archived statuses apart), and the follow-ups due today. The
period's leads come with their search when they fit a page; then the bars and the per-rep (or
per-source) numbers are tallied from them instead of costing a search each.
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
from kit.lead_index import created_ms
from kit.pipeline.counting import OVER_BUDGET, UNREACHABLE, Counts, LeadCounter
from kit.pipeline.period import Bucket, Period
from kit.services import Services
from storage.pipeline import PaymentTotals, payment_totals, slack_leads
from storage.tenancy import team_key
from telecrm.models import Lead
from telecrm.schema import FieldDef, FieldType, StatusDef, WorkspaceSchema

log = logging.getLogger(__name__)

STACK_UP_TO = 14  # bars stacked by top rep/source when there are at most this many (3 counts a bar)
STACKED_GROUPS = 3
LEADS_PER_SEARCH = 100  # the most one lead search returns (docs/TELECRM.md): a bar's leads, when they fit
MAX_SOURCE_OPTIONS = 15  # a source dropdown with more options is not broken down (one count each)

# the parts of a report, as the message names them when they are missing
NEW_LEADS = "new leads"
BY_GROUP = "new leads by rep or source"
PIPELINE = "leads by status"
FOLLOW_UPS = "follow-ups due today"
BARS_BY_GROUP = "each bar split by rep or source"


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

_counters: dict[tuple[int, str], LeadCounter] = {}
_counters_lock = threading.Lock()


def counter_for(services: Services) -> LeadCounter:
    """One counter (cache and budget) per running bot and Slack workspace (OAuth mode: each counts
    its own TeleCRM's leads), shared by /pipeline, the digest and App Home."""
    key = (id(services), team_key())
    with _counters_lock:
        counter = _counters.get(key)
        if counter is None:
            counter = _counters[key] = LeadCounter(services.telecrm, services.watch_budget, services.clock)
            weakref.finalize(services, _counters.pop, key, None)
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
    statuses = list(schema.statuses) if schema is not None else []
    numbers.followup_field = followup_field(schema, services.settings) if schema is not None else None
    # what the report cannot do without, first: the budget may not cover everything
    questions: dict[str, dict[str, Any]] = {"all": dict(base)}
    questions.update({f"s{k}": {**base, "status": s.label} for k, s in enumerate(statuses)})
    if numbers.followup_field is not None:
        questions["fu"] = {**base, numbers.followup_field.api_name: today.strftime("%d/%m/%Y")}
    counts = counter.count(questions)
    bars, listed = _count_bars(numbers, counter, created, counts)
    _read_new_leads(numbers, listed, bars)
    if groups and numbers.new_total:
        _read_groups(numbers, counter, listed, bars, created, kind, groups)
    _read_pipeline(numbers, counts, statuses, schema)
    _read_followups(numbers, counts, schema)
    numbers.requests += counts.requests + listed.requests
    numbers.cached += counts.cached + listed.cached
    start, end = period.bounds_s()
    numbers.payments = payment_totals(services.store, start, end, rep.slack_users if rep else None)
    numbers.slack_leads = slack_leads(services.store, start, end, rep.slack_users if rep else None)
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


def _count_bars(
    numbers: PipelineNumbers, counter: LeadCounter, created: Any, counts: Counts
) -> tuple[list[str], Counts]:
    """Each bar's count (``b0``, ``b1``, … or ``new`` for a single bar) and its leads when they fit.

    The whole period is asked first, with its leads: when they fit one page and each says when it
    was created, the bars are drawn from them and cost nothing more (a small team's week is one
    request); otherwise each bar is one search. Nothing is asked when TeleCRM was just found
    unreachable.
    """
    bars = [f"b{i}" for i in range(len(numbers.buckets))] if len(numbers.buckets) > 1 else ["new"]
    if counts.unreachable:
        return bars, Counts.none(bars, UNREACHABLE)
    whole = counter.count({"new": created(numbers.period.first, numbers.period.last)}, page=LEADS_PER_SEARCH)
    if bars == ["new"]:
        return bars, whole
    split = split_by_bar(numbers, whole.leads.get("new"))
    if split is not None:
        found = Counts(requests=whole.requests, cached=whole.cached)
        for name, leads in zip(bars, split, strict=True):
            found.values[name], found.leads[name] = len(leads), leads
        return bars, found
    listed = counter.count(
        {name: created(b.first, b.last) for name, b in zip(bars, numbers.buckets, strict=True)},
        page=LEADS_PER_SEARCH,
    )
    listed.requests += whole.requests
    listed.cached += whole.cached
    return bars, listed


def split_by_bar(numbers: PipelineNumbers, leads: list[Lead] | None) -> list[list[Lead]] | None:
    """The period's leads per bar by their creation time; None when one of them does not say it."""
    if leads is None:
        return None
    period = numbers.period
    edges = [(period.start_ms(b.first), period.end_ms(b.last)) for b in numbers.buckets]
    split: list[list[Lead]] = [[] for _ in edges]
    for lead in leads:
        at = created_ms(lead)
        where = next((i for i, (low, high) in enumerate(edges) if at is not None and low <= at <= high), None)
        if where is None:
            return None
        split[where].append(lead)
    return split


def _read_new_leads(numbers: PipelineNumbers, listed: Counts, bars: list[str]) -> None:
    why = listed.missing(bars)
    if why:
        numbers.missing[NEW_LEADS] = why
        return
    numbers.per_bucket = [listed.get(k) or 0 for k in bars]
    numbers.new_total = sum(numbers.per_bucket)


def _read_groups(
    numbers: PipelineNumbers,
    counter: LeadCounter,
    listed: Counts,
    bars: list[str],
    created: Any,
    kind: str,
    groups: list[Group],
) -> None:
    """New leads per rep (or source), and the chart's bars stacked by the biggest few.

    When every bar's leads came with its search, they are tallied here and cost nothing more;
    otherwise each rep or source is one more count, and each stacked piece of a bar another.
    """
    per_bar = [listed.leads.get(k) for k in bars]
    if all(leads is not None for leads in per_bar):
        tallies = [_tally(leads or [], groups) for leads in per_bar]
        totals = {g.label: sum(t.get(g.label, 0) for t in tallies) for g in groups}
        _set_groups(numbers, kind, totals)
        if 2 <= len(numbers.buckets) <= STACK_UP_TO:
            top = _top(numbers, groups)
            _set_stacked(numbers, [(g.label, [t.get(g.label, 0) for t in tallies]) for g in top])
        return
    counts = counter.count(
        {
            f"g{j}": created(numbers.period.first, numbers.period.last, **{g.api_name: g.value})
            for j, g in enumerate(groups)
        }
    )
    numbers.requests += counts.requests
    numbers.cached += counts.cached
    why = counts.missing([f"g{j}" for j in range(len(groups))])
    if why:
        numbers.missing[BY_GROUP] = why
        return
    _set_groups(numbers, kind, {g.label: counts.get(f"g{j}") or 0 for j, g in enumerate(groups)})
    if 2 <= len(numbers.buckets) <= STACK_UP_TO:
        _stack(numbers, counter, created, _top(numbers, groups))


def _tally(leads: list[Lead], groups: list[Group]) -> dict[str, int]:
    """How many of ``leads`` each group holds (a rep by assignee email, a source by its option)."""
    by_value = {(g.api_name, g.value.strip().lower()): g.label for g in groups}
    tally: dict[str, int] = {}
    for lead in leads:
        for (api_name, value), label in by_value.items():
            if str(lead.fields.get(api_name) or "").strip().lower() == value:
                tally[label] = tally.get(label, 0) + 1
                break
    return tally


def _set_groups(numbers: PipelineNumbers, kind: str, totals: dict[str, int]) -> None:
    numbers.group_kind = kind
    named = sorted(((label, n) for label, n in totals.items() if n), key=lambda item: (-item[1], item[0]))
    other = (numbers.new_total or 0) - sum(n for _, n in named)
    if other > 0:
        named.append(("Unassigned" if kind == "rep" else "Other", other))
    numbers.groups = named


def _top(numbers: PipelineNumbers, groups: list[Group]) -> list[Group]:
    by_label = {g.label: g for g in groups}
    return [by_label[label] for label, n in (numbers.groups or []) if label in by_label and n][
        :STACKED_GROUPS
    ]


def _set_stacked(numbers: PipelineNumbers, series: list[tuple[str, list[int]]]) -> None:
    """The top groups' share of each bar, and the rest of each bar as one more series."""
    if not series or numbers.per_bucket is None:
        return
    rest = [total - sum(s[1][i] for s in series) for i, total in enumerate(numbers.per_bucket)]
    if any(n > 0 for n in rest):
        series.append(
            ("Unassigned and others" if numbers.group_kind == "rep" else "Other", [max(0, n) for n in rest])
        )
    numbers.stacked = series


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


def _stack(numbers: PipelineNumbers, counter: LeadCounter, created: Any, top: list[Group]) -> None:
    """Per bar, the leads of the biggest few reps or sources.

    Each top group's leads of the period are asked for once: when they fit a page they are split by
    bar here (one search a group); otherwise each piece of each bar is one count, when the budget
    has room for them all.
    """
    if not top:
        return
    whole = counter.count(
        {g.label: created(numbers.period.first, numbers.period.last, **{g.api_name: g.value}) for g in top},
        page=LEADS_PER_SEARCH,
    )
    numbers.requests += whole.requests
    numbers.cached += whole.cached
    split = [split_by_bar(numbers, whole.leads.get(g.label)) for g in top]
    if all(parts is not None for parts in split):
        _set_stacked(
            numbers, [(g.label, [len(p) for p in parts or []]) for g, parts in zip(top, split, strict=True)]
        )
        return
    questions = {
        f"b{i}g{j}": created(b.first, b.last, **{g.api_name: g.value})
        for i, b in enumerate(numbers.buckets)
        for j, g in enumerate(top)
    }
    if counter.budget.available() < len(questions):  # cheaper to leave out than to lose later numbers
        numbers.missing[BARS_BY_GROUP] = OVER_BUDGET
        return
    counts = counter.count(questions)
    numbers.requests += counts.requests
    numbers.cached += counts.cached
    if counts.missing(list(questions)):
        return  # the bars still show each day's total
    _set_stacked(
        numbers,
        [
            (g.label, [counts.get(f"b{i}g{j}") or 0 for i in range(len(numbers.buckets))])
            for j, g in enumerate(top)
        ],
    )
