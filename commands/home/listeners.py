"""App Home: the week's pipeline (the team's for admins and MANAGER_USERS, a rep's own otherwise), the
user's recent leads, the schema cache's health, pending writes, and an admin refresh."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from commands.home.connection import connection_blocks
from kit import ids
from kit.cards import thread_permalink
from kit.context import services_of
from kit.explain import describe_failure, explain_error
from kit.format import ago, format_when, mrkdwn_escape, mrkdwn_link, truncate
from kit.pipeline.home import pipeline_home_blocks
from kit.services import Services
from storage.tenancy import team_key

log = logging.getLogger(__name__)


def is_admin(services: Services, user_id: str) -> bool:
    """Workspace admins and owners, plus anyone listed in ``ADMIN_USERS``."""
    if user_id in services.settings.admin_users:
        return True
    user = services.slack_user(user_id)
    return bool(user.get("is_admin") or user.get("is_owner"))


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _intro_blocks(notice: str | None) -> list[dict[str, Any]]:
    blocks = [
        _header("TeleCRM in Slack"),
        _mrkdwn_section(
            "Type `/lead` to capture a lead, `/payment` to record a payment, `/timeline` to read a "
            "lead's history and `/pipeline` for the pipeline at a glance. Everything about a lead lands in "
            "its thread."
        ),
    ]
    if notice:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": notice}]})
    return blocks


def _recent_lead_blocks(services: Services, user_id: str, tz: str | None) -> list[dict[str, Any]]:
    """The user's ten most recent leads: name, identifier, links to TeleCRM and the thread, when."""
    blocks = [{"type": "divider"}, _header("Your recent leads")]
    recent = services.threads.recent(10, created_by=user_id)
    if not recent:
        blocks.append(_mrkdwn_section("_No leads yet — try `/lead`._"))
    for thread in recent:
        permalink = thread_permalink(services, thread)
        parts = [f"*{mrkdwn_escape(thread.name or thread.lead_id)}*"]
        if thread.identifier:
            parts.append(mrkdwn_escape(thread.identifier))
        parts.append(mrkdwn_link(services.settings.lead_url(thread.lead_id), "TeleCRM"))
        if permalink:
            parts.append(mrkdwn_link(permalink, "thread"))
        parts.append(format_when(thread.created_at * 1000, tz))
        blocks.append(_mrkdwn_section(truncate(" · ".join(parts), 3000)))
    return blocks


def _status_blocks(services: Services) -> list[dict[str, Any]]:
    """The schema cache's state and the writes still waiting for TeleCRM (the first five shown)."""
    status = services.cache.status()
    pending = services.worker.outbox.pending()
    freshness = (
        " (fresh)" if status.fresh else " (stale, refreshing in the background)" if status.fetched_at else ""
    )
    lines = [
        f"*Workspace schema:* {status.field_count} fields, {status.custom_action_count} custom actions, "
        f"{status.team_member_count} team members — refreshed {ago(status.age_seconds)}" + freshness,
        f"*Writes waiting for TeleCRM:* {len(pending)}",
    ]
    if status.last_error:
        lines.append(f":warning: Last refresh failed: {mrkdwn_escape(truncate(status.last_error, 300))}")
    blocks = [{"type": "divider"}, _header("Status"), _mrkdwn_section("\n".join(lines))]
    for item in pending[:5]:
        text = f"`{mrkdwn_escape(item.kind)}` · attempt {item.attempts} · {mrkdwn_escape(item.last_error or 'waiting')}"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 300)}]})
    return blocks


def _admin_blocks() -> list[dict[str, Any]]:
    refresh = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Refresh schema now"},
        "action_id": ids.ACT_HOME_REFRESH,
        "value": "refresh",
    }
    return [{"type": "actions", "block_id": "home_admin", "elements": [refresh]}]


def is_manager(services: Services, user_id: str, *, admin: bool) -> bool:
    """Who sees the whole team's numbers: admins and ``MANAGER_USERS``."""
    return admin or user_id in services.settings.manager_users


def render_home(
    services: Services,
    user_id: str,
    *,
    admin: bool,
    tz: str | None = None,
    notice: str | None = None,
    pipeline: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The Home tab view (kept well under Slack's 100-block limit)."""
    blocks = _intro_blocks(notice) + (pipeline or [])
    blocks += _recent_lead_blocks(services, user_id, tz) + _status_blocks(services)
    if admin:
        blocks += _admin_blocks()
    return {"type": "home", "blocks": blocks}


def publish_home(services: Services, user_id: str, *, notice: str | None = None) -> None:
    admin = is_admin(services, user_id)
    tz = services.user_tz(user_id)
    teams = services.team_telecrms
    connection = teams.connections.find(team_key()) if teams is not None else None
    if teams is not None and connection is None:  # OAuth mode, no TeleCRM yet: only how to connect it
        blocks = _intro_blocks(notice) + connection_blocks(services, None, admin=admin, tz=tz)
        services.slack.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})
        return
    pipeline = pipeline_home_blocks(services, user_id, manager=is_manager(services, user_id, admin=admin))
    view = render_home(services, user_id, admin=admin, tz=tz, notice=notice, pipeline=pipeline)
    if teams is not None:
        view["blocks"] += connection_blocks(services, connection, admin=admin, tz=tz)
    services.slack.views_publish(user_id=user_id, view=view)


def on_home_opened(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    services = services_of(context)
    services.worker.background(publish_home, services, event["user"])


def on_refresh(ack: Ack, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    services.worker.background(refresh_schema, services, context.user_id)


def refresh_schema(services: Services, user: str) -> None:
    """*Refresh schema now* from App Home: admins only; the Home tab says how it went."""
    if not is_admin(services, user):
        publish_home(services, user, notice=":no_entry: Only workspace admins can refresh the schema.")
        return
    try:
        schema = services.cache.refresh()
        notice = f":white_check_mark: Schema refreshed: {len(schema.fields)} fields."
    except Exception as exc:
        log.warning("schema refresh from App Home failed: %s", describe_failure(exc))
        notice = explain_error(exc, what="the refresh", doing="read") + " The cached copy is kept."
    publish_home(services, user, notice=notice)


def register(app: App, services: Services) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action(ids.ACT_HOME_REFRESH)(on_refresh)
