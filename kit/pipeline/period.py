"""``/pipeline [today|week|month|DD/MM/YYYY..DD/MM/YYYY] [@rep]``: what was asked, and the days it means.

Days are the team's days, in ``DIGEST_TZ`` (default Asia/Kolkata), so ``/pipeline today`` and the
morning digest count the same leads whoever asks. ``week`` is the last 7 days and ``month`` the last
30, today included; a range names its first and last day. The parser never raises: a mistake comes
back as words for the person who typed it, with the grammar and an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kit.format import mrkdwn_escape, truncate

USAGE = "`/pipeline [today|week|month|DD/MM/YYYY..DD/MM/YYYY] [@rep]`"
EXAMPLES = "`/pipeline week`, `/pipeline month @priya`, `/pipeline 01/03/2026..15/03/2026`"
MAX_DAYS = 366
WEEK_DAYS = 7
MONTH_DAYS = 30
# a period this long or shorter is drawn per day; longer ones per week, then per month
DAILY_UP_TO = 31
WEEKLY_UP_TO = 190

_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class PipelineAsk:
    """What was typed: a period word (or a range) and perhaps a rep."""

    word: str = "week"  # today | week | month | range
    first: date | None = None  # a range's days
    last: date | None = None
    rep_user: str | None = None  # a Slack mention <@U…>
    rep_text: str | None = None  # a typed @name
    help: bool = False

    @property
    def rep_shown(self) -> str | None:
        if self.rep_user:
            return f"<@{self.rep_user}>"
        return f"@{mrkdwn_escape(self.rep_text)}" if self.rep_text else None


def usage_text(problem: str | None = None) -> str:
    lines = [f":warning: {problem}"] if problem else []
    lines += [
        f"Usage: {USAGE}",
        "• `today`, `week` (the last 7 days, the default), `month` (the last 30 days) or a range of days "
        "`DD/MM/YYYY..DD/MM/YYYY`",
        "• `@rep`: only the leads assigned to that person (a Slack mention, or their TeleCRM name)",
        f"Examples: {EXAMPLES}",
    ]
    return "\n".join(lines)


def _day(text: str) -> date | None:
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None
    try:
        return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None


def parse_pipeline(text: str) -> tuple[PipelineAsk, str | None]:
    """(what was asked, the problem to explain or None). Never raises."""
    cleaned = re.sub(r"\s*\.\.\s*", "..", (text or "").replace("&amp;", "&").strip())
    words = cleaned.split()
    word, first, last = "week", None, None
    rep_user = rep_text = None
    seen_period = False
    for raw in words:
        low = raw.lower()
        mention = _MENTION.fullmatch(raw)
        if low in {"help", "-h", "--help", "?"}:
            return PipelineAsk(help=True), None
        if mention or raw.startswith("@"):
            raw = truncate(raw, 60)
            if rep_user or rep_text:
                return PipelineAsk(), "name one rep at most."
            if mention:
                rep_user = mention.group(1)
            elif len(raw) > 1:
                rep_text = raw[1:]
            else:
                return PipelineAsk(), "`@` needs a name after it, e.g. `@priya`."
            continue
        if seen_period:
            return PipelineAsk(), f"I don't understand “{mrkdwn_escape(truncate(raw, 40))}” after the period."
        seen_period = True
        if low in {"today", "week", "month"}:
            word = low
            continue
        start_text, dots, end_text = raw.partition("..")
        start, end = _day(start_text), _day(end_text) if dots else _day(start_text)
        if start is None or end is None:
            return PipelineAsk(), f"“{mrkdwn_escape(truncate(raw, 40))}” is not a period."
        if end < start:
            return PipelineAsk(), f"the range ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y})."
        if (end - start).days + 1 > MAX_DAYS:
            return PipelineAsk(), f"a range can be at most {MAX_DAYS} days long."
        word, first, last = "range", start, end
    return PipelineAsk(word=word, first=first, last=last, rep_user=rep_user, rep_text=rep_text), None


@dataclass(frozen=True)
class Bucket:
    """One bar of the new-leads chart: a day, a week or a month (clipped to the period)."""

    label: str
    first: date
    last: date


@dataclass(frozen=True)
class Period:
    """Whole days ``first``..``last`` in the team's time zone ``tz``."""

    first: date
    last: date
    tz: str
    word: str = "range"  # today | week | month | range | day (the digest's yesterday)

    @classmethod
    def of(cls, ask: PipelineAsk, today: date, tz: str) -> Period:
        if ask.word == "today":
            return cls(today, today, tz, "today")
        if ask.word == "month":
            return cls(today - timedelta(days=MONTH_DAYS - 1), today, tz, "month")
        if ask.word == "range" and ask.first and ask.last:
            return cls(ask.first, ask.last, tz, "range")
        return cls(today - timedelta(days=WEEK_DAYS - 1), today, tz, "week")

    @classmethod
    def day(cls, day: date, tz: str) -> Period:
        return cls(day, day, tz, "day")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def includes(self, day: date) -> bool:
        return self.first <= day <= self.last

    def start_ms(self, day: date | None = None) -> int:
        """First millisecond of ``day`` (default: the period's first day) in the team's zone."""
        moment = datetime.combine(day or self.first, time(0), ZoneInfo(self.tz))
        return int(moment.timestamp() * 1000)

    def end_ms(self, day: date | None = None) -> int:
        """Last millisecond of ``day`` (default: the period's last day)."""
        return self.start_ms((day or self.last) + timedelta(days=1)) - 1

    def bounds_s(self) -> tuple[float, float]:
        """[start, end) in epoch seconds, for what the bot records itself."""
        return self.start_ms() / 1000, (self.end_ms() + 1) / 1000

    @property
    def title(self) -> str:
        span = _span(self.first, self.last)
        return {
            "today": f"Today, {span}",
            "day": f"Yesterday, {span}",
            "week": f"Last 7 days, {span}",
            "month": f"Last 30 days, {span}",
        }.get(self.word, span)

    @property
    def step(self) -> str:
        """``day``, ``week`` or ``month``: what one bar of the chart counts."""
        if self.days <= DAILY_UP_TO:
            return "day"
        return "week" if self.days <= WEEKLY_UP_TO else "month"

    def buckets(self) -> list[Bucket]:
        step = self.step
        found: list[Bucket] = []
        day = self.first
        while day <= self.last:
            if step == "day":
                end = day
                label = day.strftime("%a %-d") if self.days <= 14 else day.strftime("%-d %b")
            elif step == "week":
                end = min(self.last, day + timedelta(days=6 - day.weekday()))
                label = day.strftime("%-d %b")
            else:
                following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
                end = min(self.last, following - timedelta(days=1))
                label = day.strftime("%b %Y")
            found.append(Bucket(label, day, end))
            day = end + timedelta(days=1)
        return found


def _span(first: date, last: date) -> str:
    if first == last:
        return first.strftime("%a %-d %b %Y")
    if first.year != last.year:
        return f"{first:%-d %b %Y} – {last:%-d %b %Y}"
    if first.month != last.month:
        return f"{first:%-d %b} – {last:%-d %b %Y}"
    return f"{first:%-d}–{last:%-d %b %Y}"
