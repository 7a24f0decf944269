"""OAuth mode: App Home's *Connect TeleCRM* and *Disconnect* (the form and the check are in
:mod:`commands.home.connection`). TeleCRM is asked after the acknowledgement, never before it."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

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
from kit.context import services_of
from kit.format import mrkdwn_escape
from kit.services import Services
from storage.tenancy import team_key

log = logging.getLogger(__name__)

# Slack gives up on an acknowledgement after 3 s: the "Checking…" view is there by then, or never
CHECKING_WAIT_SECONDS = 3.0


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
    # the "Checking…" view is named, so the answer replaces that view and no other (_replace_checking)
    checking = f"connect-check-{body['view']['id']}"
    ack(
        response_action="update",
        view={
            **message_view(":hourglass_flowing_sand: Checking the connection with TeleCRM…"),
            "external_id": checking,
        },
    )
    services.worker.background(
        check_and_connect,
        services,
        team_key(),
        context.user_id or "",
        checking,
        (workspace_id, sync_token, async_token or None),
    )


def check_and_connect(
    services: Services, team_id: str, user: str, checking: str, credentials: tuple[str, str, str | None]
) -> None:
    """After the acknowledgement: ask TeleCRM with these credentials; save them only if it answers."""
    teams = services.team_telecrms
    workspace_id, sync_token, async_token = credentials
    if teams is None or not is_admin(services, user):
        _replace_checking(
            services, checking, message_view(":no_entry: Only workspace admins can connect TeleCRM.")
        )
        return
    problem = metadata_problem(services, workspace_id, sync_token)
    if problem is not None:
        _replace_checking(services, checking, connect_form(workspace_id, problem))
        return
    teams.connect(team_id, workspace_id, sync_token, async_token, user)
    log.info("workspace %s connected to TeleCRM workspace %s", team_id, workspace_id)
    done = f":white_check_mark: Connected to TeleCRM workspace `{mrkdwn_escape(workspace_id)}`. Everyone here can use the bot now."
    _replace_checking(services, checking, message_view(done))
    publish_home(services, user)


def _replace_checking(services: Services, checking: str, view: dict[str, Any]) -> None:
    """Show the check's answer in place of the "Checking…" view (by its external id).

    Slack shows "Checking…" when it receives the acknowledgement, and TeleCRM can answer sooner than
    that (Bolt sends an ``ack()`` a moment after it is called). Updating the form's own view id
    then would be overwritten by the acknowledgement arriving after it; the external id only exists
    once "Checking…" is on screen, so until then Slack answers ``not_found`` and the update is
    tried again, for as long as Slack waits for an acknowledgement.
    """
    deadline = time.monotonic() + CHECKING_WAIT_SECONDS
    pause = 0.05
    while True:
        try:
            services.slack.views_update(external_id=checking, view=view)
            return
        except SlackApiError as exc:
            if exc.response.get("error") != "not_found" or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


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
