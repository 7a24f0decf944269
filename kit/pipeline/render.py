"""A pipeline report as people read it in Slack: a summary in words, the chart, where each number came
from, and what is missing and why. Pure functions of :class:`~kit.pipeline.numbers.PipelineNumbers`."""

from __future__ import annotations

from typing import Any

from kit.format import format_money, mrkdwn_escape, truncate
from kit.pipeline.numbers import FOLLOW_UPS, NEW_LEADS, PIPELINE, PipelineNumbers
from storage.pipeline import MoneyTotal

MAX_LISTED = 8


def report_title(numbers: PipelineNumbers) -> str:
    who = f" · {numbers.rep.name}" if numbers.rep else ""
    return f"Pipeline · {numbers.period.title}{who}"


def first_day_text(numbers: PipelineNumbers) -> str:
    return (
        ":wave: *Welcome — your TeleCRM workspace has no leads yet, so there is nothing to chart today.*\n"
        "Capture the first one with `/lead` (or in TeleCRM), record payments with `/payment`, and "
        "`/pipeline` will show new leads per day, your pipeline by status and payments here."
    )


def _listed(pairs: list[tuple[str, int]], limit: int = MAX_LISTED) -> str:
    shown = [f"{mrkdwn_escape(label)} {n:,}" for label, n in pairs[:limit]]
    if len(pairs) > limit:
        shown.append(f"+{len(pairs) - limit} more")
    return " · ".join(shown)


def _money(totals: tuple[MoneyTotal, ...]) -> str:
    return " · ".join(f"{format_money(t.amount, t.currency)} ({t.count})" for t in totals)


def summary_lines(numbers: PipelineNumbers) -> list[str]:
    lines = []
    if numbers.new_total is not None:
        line = f"*New leads:* {numbers.new_total:,}"
        if numbers.groups:
            line += f" — by {mrkdwn_escape(numbers.group_kind.lower())}: {_listed(numbers.groups)}"
        lines.append(line)
    if numbers.statuses is not None:
        active = [(s.label, n) for s, n in numbers.statuses if n]
        total = numbers.all_leads if numbers.all_leads is not None else sum(n for _, n in active)
        line = f"*Pipeline now:* {total:,} lead{'s' if total != 1 else ''}"
        if active:
            line += f" — {_listed(active, 12)}"
        lines.append(line)
        archived = [(s.label, n) for s, n in numbers.archived or [] if n]
        if archived:
            lines.append(f"*Archived statuses:* {_listed(archived)}")
        if numbers.unknown_status:
            lines.append(f"*Other statuses:* {numbers.unknown_status:,}")
    pay = numbers.payments
    if pay.empty:
        lines.append("*Payments:* none recorded or completed")
    else:
        parts = []
        if pay.recorded:
            parts.append(f"recorded {_money(pay.recorded)}")
        if pay.completed:
            parts.append(f"completed {_money(pay.completed)}")
        lines.append("*Payments:* " + " — ".join(parts))
    if numbers.followups_today is not None:
        field = mrkdwn_escape(numbers.followup_field.label) if numbers.followup_field else "follow-up date"
        lines.append(f"*Follow-ups due today:* {numbers.followups_today:,} (leads whose {field} is today)")
    return lines


def missing_text(numbers: PipelineNumbers) -> str | None:
    if not numbers.missing:
        return None
    reasons: dict[str, list[str]] = {}
    for part, why in numbers.missing.items():
        reasons.setdefault(why, []).append(part)
    sentences = [f"{', '.join(parts)} ({why})" for why, parts in reasons.items()]
    text = ":warning: *Missing from this report:* " + "; ".join(sentences) + "."
    if NEW_LEADS in numbers.missing:
        text += f" Leads created from Slack in this period: {numbers.slack_leads:,} (this app's own records)."
    return text


def sources_text(numbers: PipelineNumbers) -> str:
    parts = []
    from_telecrm = [p for p in (NEW_LEADS, PIPELINE, FOLLOW_UPS) if p not in numbers.missing]
    if numbers.followup_field is None:
        from_telecrm = [p for p in from_telecrm if p != FOLLOW_UPS]
    if from_telecrm:
        asked = f"{numbers.requests} search{'es' if numbers.requests != 1 else ''}"
        if numbers.cached:
            asked += f", {numbers.cached} from the last few minutes"
        parts.append(f"{', '.join(from_telecrm).capitalize()}: TeleCRM ({asked})")
    parts.append("Payments: those recorded through this app in Slack")
    if numbers.followup_field is None and FOLLOW_UPS not in numbers.missing:
        parts.append("Follow-ups: this workspace has no follow-up date field (set FOLLOW_UP_FIELD)")
    parts.append(f"Days in {numbers.period.tz}")
    return " · ".join(parts)


def alt_text(numbers: PipelineNumbers) -> str:
    parts = [report_title(numbers) + "."]
    if numbers.per_bucket is not None and numbers.new_total:
        bars = ", ".join(f"{b.label}: {n}" for b, n in zip(numbers.buckets, numbers.per_bucket, strict=True))
        parts.append(f"New leads: {bars}.")
    if numbers.statuses:
        parts.append("By status: " + ", ".join(f"{s.label} {n}" for s, n in numbers.statuses) + ".")
    return truncate(" ".join(parts), 1900)


def fallback_text(numbers: PipelineNumbers) -> str:
    bits = [report_title(numbers)]
    if numbers.new_total is not None:
        bits.append(f"{numbers.new_total:,} new leads")
    if numbers.all_leads is not None:
        bits.append(f"{numbers.all_leads:,} in the pipeline")
    if numbers.followups_today is not None:
        bits.append(f"{numbers.followups_today:,} follow-ups due today")
    return truncate(": ".join([bits[0], ", ".join(bits[1:])]) if len(bits) > 1 else bits[0], 3000)


def report_blocks(
    numbers: PipelineNumbers, *, file_id: str | None, chart_note: str | None = None
) -> list[dict[str, Any]]:
    """The report without buttons (what is shared in the channel and posted by the digest)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(report_title(numbers), 150)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate("\n".join(summary_lines(numbers)), 3000)},
        },
    ]
    missing = missing_text(numbers)
    if missing:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(missing, 3000)}})
    if file_id:
        blocks.append(
            {
                "type": "image",
                "slack_file": {"id": file_id},
                "alt_text": alt_text(numbers),
                "title": {"type": "plain_text", "text": "New leads and the pipeline by status"},
            }
        )
    elif chart_note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": chart_note}]})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(sources_text(numbers), 3000)}]}
    )
    return blocks
