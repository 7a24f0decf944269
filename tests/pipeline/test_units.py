"""The pure pieces of /pipeline: the grammar and the days it means, counting (cache, budget, an
unreachable TeleCRM), the chart (size, light card with transparent corners), posting around Slack's
upload processing, and what SQLite keeps."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kit.pipeline.chart import MAX_BYTES, has_chart, render_chart
from kit.pipeline.counting import OVER_BUDGET, UNREACHABLE, LeadCounter, Missing
from kit.pipeline.numbers import PipelineNumbers, split_by_bar
from kit.pipeline.period import Period, PipelineAsk, parse_pipeline
from kit.pipeline.report import send_with_chart
from kit.pipeline.reps import member_by_name
from storage.db import Store
from storage.pipeline import DigestDays, MoneyTotal, PaymentTotals, PipelineReports
from telecrm.budget import RequestBudget
from telecrm.errors import TeleCRMBadRequest, TeleCRMError
from telecrm.models import Lead, Page
from telecrm.schema import StatusDef, TeamMember, WorkspaceSchema

TZ = "Asia/Kolkata"


@pytest.mark.parametrize(
    ("typed", "asked"),
    [
        ("", PipelineAsk()),
        ("today", PipelineAsk(word="today")),
        ("MONTH", PipelineAsk(word="month")),
        ("01/03/2026..15/03/2026", PipelineAsk(word="range", first=date(2026, 3, 1), last=date(2026, 3, 15))),
        (
            "01/03/2026 .. 15/03/2026",
            PipelineAsk(word="range", first=date(2026, 3, 1), last=date(2026, 3, 15)),
        ),
        ("5/3/2026", PipelineAsk(word="range", first=date(2026, 3, 5), last=date(2026, 3, 5))),
        ("<@U0PRIYA|priya> week", PipelineAsk(word="week", rep_user="U0PRIYA")),
        ("today @Priya.Sharma", PipelineAsk(word="today", rep_text="Priya.Sharma")),
        ("help", PipelineAsk(help=True)),
    ],
)
def test_grammar(typed: str, asked: PipelineAsk) -> None:
    assert parse_pipeline(typed) == (asked, None)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("fortnight", "is not a period"),
        ("31/02/2026", "is not a period"),
        ("01/01/2025..02/01/2026", "at most 366 days"),
        ("@a @b", "one rep at most"),
        ("@", "needs a name"),
        ("today week", "after the period"),
    ],
)
def test_grammar_mistakes(typed: str, problem: str) -> None:
    _ask, said = parse_pipeline(typed)
    assert said is not None and problem in said


def test_periods_are_whole_days_of_the_team_zone() -> None:
    week = Period.of(PipelineAsk(), date(2026, 3, 9), TZ)
    assert (week.first, week.last, week.days, week.step) == (date(2026, 3, 3), date(2026, 3, 9), 7, "day")
    assert week.title == "Last 7 days, 3–9 Mar 2026"
    assert [b.label for b in week.buckets()] == [
        "Tue 3",
        "Wed 4",
        "Thu 5",
        "Fri 6",
        "Sat 7",
        "Sun 8",
        "Mon 9",
    ]
    # 3 March 2026 00:00 in India is 2 March 18:30 UTC
    assert week.start_ms() == 1772476200000 and week.end_ms() == 1773081000000 - 1
    month = Period.of(PipelineAsk(word="month"), date(2026, 3, 9), TZ)
    assert month.days == 30 and len(month.buckets()) == 30
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31), TZ)
    assert quarter.step == "week" and quarter.buckets()[0].last == date(2026, 1, 4)  # weeks end on Sunday
    year = Period(date(2025, 4, 1), date(2026, 3, 31), TZ)
    assert year.step == "month" and [b.label for b in year.buckets()][:2] == ["Apr 2025", "May 2025"]
    assert Period.day(date(2026, 3, 8), TZ).title == "Yesterday, Sun 8 Mar 2026"


class FakeTeleCRM:
    def __init__(self, answers: dict[str, int] | None = None, fail: Exception | None = None) -> None:
        self.asked: list[dict[str, Any]] = []
        self.answers = answers or {}
        self.fail = fail

    def search_leads(self, fields: dict[str, Any], *, limit: int) -> Page[Any]:
        self.asked.append(fields)
        if self.fail is not None:
            raise self.fail
        total = self.answers.get(str(fields.get("status")), 7)
        leads = [Lead(id=f"L{i}", fields={"assignee": "asha@acme.in"}) for i in range(min(total, limit))]
        return Page(items=leads if limit > 1 else [], total_count=total, skip=0, limit=limit)


def _budget() -> RequestBudget:
    return RequestBudget(60, clock=Clock())


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_counts_are_cached_for_a_while_and_kept_within_the_budget() -> None:
    telecrm, clock = FakeTeleCRM({"Won": 3}), Clock()
    counter = LeadCounter(telecrm, RequestBudget(3, clock=clock), clock, ttl=120)  # type: ignore[arg-type]
    first = counter.count({"won": {"status": "Won"}, "all": {}})
    assert first.values == {"won": 3, "all": 7} and first.requests == 2
    again = counter.count(
        {"won": {"status": "Won"}, "lost": {"status": "Lost"}, "fresh": {"status": "Fresh"}}
    )
    assert again.values["won"] == 3 and again.cached == 1 and again.requests == 1
    assert isinstance(again.values["lost"], int) != isinstance(again.values["fresh"], int)
    assert Missing(OVER_BUDGET) in again.values.values()
    clock.now += 121  # the cache and the budget's window have passed
    later = counter.count({"won": {"status": "Won"}})
    assert later.requests == 1 and later.values == {"won": 3}


def test_a_question_may_bring_its_leads_when_they_all_fit_a_page() -> None:
    telecrm, clock = FakeTeleCRM({"Won": 3, "Lost": 250}), Clock()
    counter = LeadCounter(telecrm, RequestBudget(60, clock=clock), clock)  # type: ignore[arg-type]
    listed = counter.count({"won": {"status": "Won"}, "lost": {"status": "Lost"}}, page=100)
    assert listed.values == {"won": 3, "lost": 250}
    assert [lead.id for lead in listed.leads["won"]] == ["L0", "L1", "L2"]
    assert "lost" not in listed.leads  # 250 do not fit one page: only the count is known


def test_an_unreachable_telecrm_stops_the_counting_and_a_refusal_is_explained() -> None:
    down = LeadCounter(FakeTeleCRM(fail=TeleCRMError("connection refused")), _budget(), Clock(), parallel=1)  # type: ignore[arg-type]
    counts = down.count({f"s{i}": {"status": str(i)} for i in range(10)})
    assert counts.requests == 1 and set(counts.values.values()) == {Missing(UNREACHABLE)}
    assert counts.missing(["s3"]) == UNREACHABLE
    refused = LeadCounter(
        FakeTeleCRM(fail=TeleCRMBadRequest("Invalid filter", status=400)), _budget(), Clock()
    )  # type: ignore[arg-type]
    assert refused.count({"x": {"nope": 1}}).missing(["x"]) == "TeleCRM refused the search (Invalid filter)"


def busy_numbers(days: int = 30, groups: int = 20) -> PipelineNumbers:
    period = Period(date(2026, 3, 1), date(2026, 3, days), TZ)
    numbers = PipelineNumbers(period=period, today=period.last, buckets=period.buckets())
    numbers.per_bucket = [(i * 37) % 250 + 1 for i in range(len(numbers.buckets))]
    numbers.new_total = sum(numbers.per_bucket)
    numbers.group_kind = "rep"
    numbers.groups = [(f"Sales Representative Number {i}", 1000 - i) for i in range(groups)]
    stages = ["OPEN"] * 8 + ["WON"] * 3 + ["LOST"] * 3
    numbers.statuses = [
        (StatusDef(f"A rather long status label {i}", stage), i * 991) for i, stage in enumerate(stages)
    ]
    numbers.archived = []
    numbers.all_leads = 50_000
    numbers.payments = PaymentTotals(
        (MoneyTotal("INR", 40, Decimal("12345678.5")), MoneyTotal("AED", 2, Decimal("900"))),
        (MoneyTotal("INR", 12, Decimal("345678")),),
    )
    numbers.followups_today = 321
    return numbers


@pytest.mark.parametrize("days", [1, 7, 30])
def test_chart_is_a_small_png_on_a_light_card_with_transparent_corners(days: int) -> None:
    numbers = busy_numbers(days)
    if days == 7:
        numbers.stacked = [
            ("Priya", [5] * 7),
            ("Rohan", [3] * 7),
            ("Unassigned and others", [n - 8 for n in numbers.per_bucket or []]),
        ]
    png = render_chart(numbers, title="Pipeline · a long title for a busy month · Priya Sharma")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) <= MAX_BYTES
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    width, height = image.size
    assert width >= 700 and height >= 350
    assert image.getpixel((0, 0))[3] == 0  # outside the rounded card: transparent, for dark themes too
    red, green, blue, alpha = image.getpixel((width // 2, height // 6))
    assert alpha == 255 and min(red, green, blue) >= 240  # the card itself: opaque and light


def test_nothing_to_draw_means_no_chart() -> None:
    period = Period(date(2026, 3, 1), date(2026, 3, 7), TZ)
    numbers = PipelineNumbers(period=period, today=period.last, buckets=period.buckets())
    assert not has_chart(numbers)
    numbers.per_bucket, numbers.new_total = [0] * 7, 0
    numbers.statuses = [(StatusDef("Fresh"), 0)]
    assert not has_chart(numbers)
    numbers.statuses = [(StatusDef("Fresh"), 1)]
    assert has_chart(numbers)


def test_a_chart_slack_is_still_processing_is_tried_again_then_dropped() -> None:
    blocks = [{"type": "section"}, {"type": "image", "slack_file": {"id": "F1"}, "alt_text": "x"}]
    refusal = ("invalid_blocks", ["[ERROR] invalid slack file [json-pointer:/blocks/1/slack_file]"])
    sent: list[list[dict[str, Any]]] = []
    waits: list[float] = []

    def twice_refused(chosen: list[dict[str, Any]]) -> tuple[str, list[str]] | None:
        sent.append(chosen)
        return refusal if len(sent) <= 2 else None

    assert send_with_chart(twice_refused, blocks, sleep=waits.append) is True
    assert len(sent) == 3 and waits == [0.5, 1.0]
    sent.clear()
    waits.clear()
    assert (
        send_with_chart(
            lambda b: sent.append(b) or (refusal if len(sent) <= 4 else None), blocks, sleep=waits.append
        )
        is False
    )
    assert all(b["type"] != "image" for b in sent[-1]) and waits == [0.5, 1.0, 2.0]
    with pytest.raises(RuntimeError):
        send_with_chart(lambda b: ("msg_too_long", []), blocks, sleep=waits.append)


def test_reports_are_shared_once_and_days_claimed_once(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "bot.sqlite3"))
    clock = Clock()
    reports = PipelineReports(store, clock=clock)
    reports.save("r1", "U1", "C1", "text", [{"type": "divider"}])
    assert reports.get("r1").blocks == [{"type": "divider"}]  # type: ignore[union-attr]
    assert reports.mark_shared("r1", "U1") and not reports.mark_shared("r1", "U1")
    reports.unmark_shared("r1")
    assert reports.mark_shared("r1", "U1")
    clock.now += 25 * 3600
    assert reports.get("r1") is None  # a day later the button says it is too old
    days = DigestDays(store, clock=clock)
    assert days.claim("2026-03-08", "C1") and not days.claim("2026-03-08", "C1")
    days.finish("2026-03-08", "posted", "1.2")
    assert days.state("2026-03-08") == "posted"
    store.close()


def test_reps_are_found_by_handle_name_or_first_name() -> None:
    schema = WorkspaceSchema(
        fields=(),
        team_members=(
            TeamMember("Priya Sharma", "priya.sharma@x.in"),
            TeamMember("Priya Nair", "pnair@x.in"),
            TeamMember("Rohan Iyer", "rohan.iyer@x.in"),
            TeamMember("Old Timer", "old@x.in", status="Deleted"),
        ),
    )
    assert member_by_name(schema, "rohan").email == "rohan.iyer@x.in"  # type: ignore[union-attr]
    assert member_by_name(schema, "priya.sharma").email == "priya.sharma@x.in"  # type: ignore[union-attr]
    assert member_by_name(schema, "Priya_Nair").email == "pnair@x.in"  # type: ignore[union-attr]
    assert member_by_name(schema, "priya") is None  # two Priyas: which one?
    assert member_by_name(schema, "old") is None


def test_the_periods_leads_are_split_into_bars_by_creation_time_unless_one_does_not_say() -> None:
    period = Period(date(2026, 3, 1), date(2026, 3, 3), TZ)
    numbers = PipelineNumbers(period=period, today=date(2026, 3, 3), buckets=period.buckets())
    second_day = period.start_ms(date(2026, 3, 2)) + 1000
    leads = [Lead(id=f"L{i}", fields={"created_on": second_day + i}) for i in range(3)]
    first_day = Lead(id="F", fields={"created_on": str(period.start_ms(date(2026, 3, 1)) // 1000)})  # seconds
    split = split_by_bar(numbers, [*leads, first_day])
    assert split is not None and [len(bar) for bar in split] == [1, 3, 0]
    undated = Lead(id="U", fields={"name": "no created_on"})
    assert split_by_bar(numbers, [*leads, undated]) is None  # then each bar is counted by TeleCRM
