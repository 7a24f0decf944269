"""A report for the person who typed ``/pipeline``, on the worker's read pool after Slack has been
acknowledged, and the *Share in channel* button that posts it for everyone.

Reads only: nothing here writes to TeleCRM. The report goes back through the command's
``response_url`` (only the caller sees it, in any channel, even one the bot is not in); it is kept
in SQLite for a day (``storage/pipeline.py``) so the button can post the same numbers and chart.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Respond

from kit import ids
from kit.format import mention, mrkdwn_escape
from kit.packed import Packed, key
from kit.pipeline.numbers import Rep, gather
from kit.pipeline.period import Period, PipelineAsk, usage_text
from kit.pipeline.render import first_day_text
from kit.pipeline.report import blocks_for, make_chart, send_with_chart
from kit.pipeline.reps import member_by_name, rep_for_slack_user, rep_of_member
from kit.services import Services
from storage.pipeline import PipelineReports

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SharedReport(Packed):
    """What the *Share in channel* button carries: the stored report's id."""

    REQUIRED = ("report_id",)

    report_id: str = field(default="", metadata=key("r", max_len=40))


def reports_of(services: Services) -> PipelineReports:
    return PipelineReports(services.store, clock=services.clock)


def send(
    respond: Respond, text: str, blocks: list[dict[str, Any]], **kw: Any
) -> tuple[str, list[str]] | None:
    """Post through a response_url; None when Slack took it, else (error, messages)."""
    answer = respond(text=text, blocks=blocks, **kw)
    if answer.status_code == 200:
        return None
    try:
        body = json.loads(answer.body or "{}")
    except ValueError:
        body = {}
    return str(body.get("error") or f"HTTP {answer.status_code}"), list(
        (body.get("response_metadata") or {}).get("messages") or []
    )


def say(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def resolve_rep(services: Services, ask: PipelineAsk) -> tuple[Rep | None, str | None]:
    """The rep the report is narrowed to, or the problem to explain."""
    if ask.rep_user:
        rep = rep_for_slack_user(services, ask.rep_user)
        if rep is None:
            return None, (
                f"{mention(ask.rep_user)} has no TeleCRM account I can match (no team member has their "
                "Slack email)."
            )
        return rep, None
    if ask.rep_text:
        schema = services.cache.cached() or services.schema()
        member = member_by_name(schema, ask.rep_text)
        if member is None:
            names = ", ".join(f"`@{m.email.split('@')[0]}`" for m in schema.active_members[:5])
            return None, (
                f"I don't know a rep called “@{mrkdwn_escape(ask.rep_text)}” in TeleCRM"
                + (f" (for example {names})." if names else ".")
            )
        return rep_of_member(services, member), None
    return None, None


def show_report(
    services: Services, *, ask: PipelineAsk, period: Period, user: str, channel: str | None, respond: Respond
) -> None:
    """Count, draw, upload, and answer the caller only, with a *Share in channel* button; whatever goes
    wrong, the caller hears something."""
    try:
        _show_report(services, ask=ask, period=period, user=user, channel=channel, respond=respond)
    except Exception:
        log.exception("a /pipeline report could not be shown")
        services.ephemeral(
            channel,
            user,
            ":warning: Sorry — your `/pipeline` report could not be shown this time. Please try again; "
            "tell your admin if it keeps happening.",
        )


def _show_report(
    services: Services, *, ask: PipelineAsk, period: Period, user: str, channel: str | None, respond: Respond
) -> None:
    try:
        rep, problem = resolve_rep(services, ask)
    except Exception as exc:  # the workspace's team could not be read (TeleCRM down on a cold start)
        log.warning("could not resolve the rep of a /pipeline: %s", exc)
        say(
            respond,
            f":warning: I can't read the TeleCRM team right now to find {ask.rep_shown}; try again soon.",
        )
        return
    if problem:
        say(respond, usage_text(problem))
        return
    numbers = gather(services, period, rep)
    if numbers.empty_workspace:
        say(respond, first_day_text(numbers))
        return
    chart = make_chart(services, numbers)
    text, blocks = blocks_for(numbers, chart)
    report_id = uuid.uuid4().hex
    reports_of(services).save(report_id, user, channel, text, blocks)
    share = {
        "type": "actions",
        "block_id": "pipeline_share",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Share in channel"},
                "action_id": ids.ACT_PIPELINE_SHARE,
                "value": SharedReport(report_id=report_id).to_value(),
            }
        ],
    }
    send_with_chart(
        lambda b: send(respond, text, b, response_type="ephemeral", replace_original=False), [*blocks, share]
    )
    log.info(
        "/pipeline %s%s: %d TeleCRM searches (%d from cache), chart %d bytes drawn in %.0f ms",
        period.word,
        " for one rep" if rep else "",
        numbers.requests,
        numbers.cached,
        chart.png_bytes,
        chart.render_seconds * 1000,
    )


def share_report(services: Services, *, report_id: str | None, user: str, respond: Respond) -> None:
    """*Share in channel*: the stored report, posted in the channel, once; the private copy goes."""
    reports = reports_of(services)
    report = reports.get(report_id) if report_id else None
    if report is None:
        say(respond, ":hourglass: This report is too old to share; run `/pipeline` again for fresh numbers.")
        return
    if report.user_id != user:
        say(respond, "Only the person who asked for this report can share it.")
        return
    if not reports.mark_shared(report.id, user):
        say(respond, "This report was shared in the channel already.")
        return
    shared_by = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Shared by {mention(user)}"}]}
    try:
        send_with_chart(
            lambda b: send(respond, report.text, b, response_type="in_channel", replace_original=False),
            [*report.blocks, shared_by],
        )
    except Exception:
        reports.unmark_shared(report.id)
        log.exception("a pipeline report could not be shared")
        say(respond, ":warning: Slack did not take the report this time; try *Share in channel* again.")
        return
    respond(delete_original=True)
