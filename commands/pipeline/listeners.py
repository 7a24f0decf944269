"""``/pipeline``'s Slack listeners and ``register``.

The command is checked (grammar, period) before the acknowledgement and costs no TeleCRM call there;
counting, drawing and uploading run on the worker's read pool afterwards (``show.py``). ``register``
also schedules the morning digest when ``DIGEST_CHANNEL`` is set (``digest.py``).
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from commands.pipeline.digest import DIGEST_CHECK_SECONDS, digest_tick, post_digest
from commands.pipeline.payloads import PostDigest
from commands.pipeline.show import SharedReport, say, share_report, show_report
from kit import ids
from kit.context import services_of
from kit.pipeline.chart import warm_up
from kit.pipeline.numbers import team_today
from kit.pipeline.period import Period, parse_pipeline, usage_text
from kit.services import Services
from kit.worker import JobKind


def on_pipeline_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """``/pipeline [today|week|month|DD/MM/YYYY..DD/MM/YYYY] [@rep]``: acknowledged at once."""
    services = services_of(context)
    ask, problem = parse_pipeline(command.get("text") or "")
    if ask.help or problem:
        ack()
        say(respond, usage_text(problem))
        return
    today = team_today(services)
    period = Period.of(ask, today, services.settings.digest_tz)
    if period.first > today:
        ack()
        say(respond, usage_text(f"that period starts after today ({today:%d/%m/%Y})."))
        return
    ack()
    services.worker.background(
        show_report,
        services,
        ask=ask,
        period=period,
        user=context.user_id or "",
        channel=context.channel_id,
        respond=respond,
    )


def on_share(ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    shared = SharedReport.from_value(action.get("value"))
    services.worker.background(
        share_report,
        services,
        report_id=shared.report_id if shared else None,
        user=context.user_id or "",
        respond=respond,
    )


def register(app: App, services: Services) -> None:
    """Bind the command and its button; the digest's job kind and, with DIGEST_CHANNEL, its clock."""
    services.worker.register(JobKind(PostDigest, lambda job: post_digest(services, job)))
    if services.settings.digest_channel:
        services.schedule("pipeline-digest", DIGEST_CHECK_SECONDS, partial(digest_tick, services))
    threading.Thread(target=warm_up, name="chart-warm-up", daemon=True).start()
    app.command(ids.CMD_PIPELINE)(on_pipeline_command)
    app.action(ids.ACT_PIPELINE_SHARE)(on_share)
