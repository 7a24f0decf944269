"""OAuth mode: App Home's *Connect TeleCRM* and *Disconnect* (the form and the check are in
:mod:`commands.home.connection`). TeleCRM is asked after the acknowledgement, never before it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from commands.home.connection import (
    ACT_CONNECT,
    ACT_DISCONNECT,
    CB_CONNECT,
    connect_form,
    message_view,
    metadata_problem,
    shape_errors,
    submitted_values,
)
from commands.home.listeners import is_admin, publish_home
from kit.answered import wait_until_answered
from kit.context import services_of
from kit.format import mrkdwn_escape
from kit.services import Services
from storage.tenancy import team_key

log = logging.getLogger(__name__)


def on_connect_clicked(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    services = services_of(context)
    # the form opens at once (trigger ids expire in 3 s); who may submit it is checked on submission
    services.slack.views_open(trigger_id=body["trigger_id"], view=connect_form())


def on_connect_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    workspace_id, sync_token, async_token = submitted_values(body["view"])
    errors = shape_errors(workspace_id, sync_token, async_token)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack(
        response_action="update",
        view=message_view(":hourglass_flowing_sand: Checking the connection with TeleCRM…"),
    )
    view_id, user = body["view"]["id"], context.user_id or ""
    services.worker.background(
        check_and_connect,
        services,
        team_key(),
        user,
        view_id,
        (workspace_id, sync_token, async_token or None),
    )


def check_and_connect(
    services: Services, team_id: str, user: str, view_id: str, credentials: tuple[str, str, str | None]
) -> None:
    """After the acknowledgement: ask TeleCRM with these credentials; save them only if it answers."""
    teams = services.team_telecrms
    workspace_id, sync_token, async_token = credentials
    if teams is None or not is_admin(services, user):
        services.slack.views_update(
            view_id=view_id, view=message_view(":no_entry: Only workspace admins can connect TeleCRM.")
        )
        return
    problem = metadata_problem(services, workspace_id, sync_token)
    wait_until_answered()  # the "Checking…" view must be on screen before it is replaced
    if problem is not None:
        services.slack.views_update(view_id=view_id, view=connect_form(workspace_id, problem))
        return
    teams.connect(team_id, workspace_id, sync_token, async_token, user)
    log.info("workspace %s connected to TeleCRM workspace %s", team_id, workspace_id)
    done = f":white_check_mark: Connected to TeleCRM workspace `{mrkdwn_escape(workspace_id)}`. Everyone here can use the bot now."
    services.slack.views_update(view_id=view_id, view=message_view(done))
    publish_home(services, user)


def on_disconnect_clicked(ack: Ack, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    services.worker.background(disconnect, services, team_key(), context.user_id or "")


def disconnect(services: Services, team_id: str, user: str) -> None:
    teams = services.team_telecrms
    if teams is None or not is_admin(services, user):
        publish_home(services, user, notice=":no_entry: Only workspace admins can disconnect TeleCRM.")
        return
    teams.disconnect(team_id)
    log.info("workspace %s disconnected from TeleCRM by %s", team_id, user)
    publish_home(services, user, notice=":electric_plug: TeleCRM is disconnected from this Slack workspace.")


def register(app: App, services: Services) -> None:
    if services.team_telecrms is None:  # single-workspace mode: TeleCRM is the environment's
        return
    app.action(ACT_CONNECT)(on_connect_clicked)
    app.view(CB_CONNECT)(on_connect_submitted)
    app.action(ACT_DISCONNECT)(on_disconnect_clicked)
