"""The Slack gestures of an import up to its confirmation: the *Import leads* form, the message
shortcut *Import leads from this file*, *Change mapping*, *Check it again* and *Cancel* on a preview.

A file is previewed by an outbox job stored before the acknowledgement (so a restart loses no file
accepted from Slack); checking it again happens on the worker's background pool
(:mod:`commands.lead_import.preview`). *Import N valid rows* (``import_confirm``) and everything after
it are the sending engine's (``register_sending`` in commands/lead_import/sending_listeners.py).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.lead_import.payloads import StartImport
from commands.lead_import.preview import check_again
from kit.context import claim_delivery, services_of
from kit.ids import BLOCK_IMPORT_FILE
from kit.imports.forms import (
    MAPPING_TITLE,
    mapping_view,
    submitted_channel,
    submitted_file_ids,
    submitted_mapping,
)
from kit.imports.report import cancelled_message
from kit.imports.slack_files import importable_files
from kit.loading import open_form
from kit.view_context import refused_view
from storage.imports import CANCELLED, PREVIEW

log = logging.getLogger(__name__)


def _user(context: BoltContext) -> str:
    return context.user_id or ""


def _button_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _where(body: dict[str, Any], context: BoltContext) -> str | None:
    container = body.get("container") or {}
    return context.channel_id or container.get("channel_id")


def on_import_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """*Preview* on the *Import leads* form: the file is fetched and checked after the ack."""
    services = services_of(context)
    user = _user(context)
    sealed = services.view_seal.open(view, user=user)
    if sealed is None:
        ack(response_action="update", view=refused_view())
        return
    values = (view.get("state") or {}).get("values") or {}
    files = submitted_file_ids(values)
    if not files:
        ack(response_action="errors", errors={BLOCK_IMPORT_FILE: "Choose a CSV or XLSX file to import."})
        return
    channel = submitted_channel(values) or sealed.channel or user
    # keyed by the view: a submission Slack delivers again queues nothing new
    services.worker.submit(
        f"import-form:{view.get('id')}",
        StartImport(file_id=files[0], user=user, channel=channel, source="modal"),
    )
    ack()


def on_import_shortcut(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """*Import leads from this file* on a message: its CSV/XLSX file, previewed in the same channel."""
    services = services_of(context)
    user = _user(context)
    channel = context.channel_id or (body.get("channel") or {}).get("id") or user
    files = importable_files(body.get("message") or {})
    if not files:
        ack()
        services.ephemeral(
            channel,
            user,
            ":warning: This message has no CSV or XLSX file to import. Share the file in a message and use "
            "*Import leads from this file* on it, or type `/lead import`.",
        )
        return
    services.worker.submit(  # stored with the delivery before the ack: previewed even across a restart
        f"import-shortcut:{body.get('trigger_id')}",
        StartImport(file_id=str(files[0]["id"]), user=user, channel=channel, source="shortcut"),
        delivery=claim_delivery(context),
    )
    ack()


def on_change_mapping(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """*Change mapping*: a select per column of the file (schema-built, so through the loading form)."""
    ack()
    services = services_of(context)
    user = _user(context)
    record = services.imports.get(_button_value(body))
    if record is None or record.state != PREVIEW:
        services.ephemeral(
            _where(body, context), user, ":information_source: That import is no longer a preview."
        )
        return
    try:
        open_form(
            services,
            client,
            trigger_id=body.get("trigger_id", ""),
            user=user,
            title=MAPPING_TITLE,
            build=lambda schema: mapping_view(schema, record),
        )
    except SlackApiError as exc:
        log.warning("views.open failed for Change mapping: %s", exc.response.get("error"))


def on_mapping_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """*Check again*: the file is checked once more under the new mapping and the preview updated."""
    services = services_of(context)
    user = _user(context)
    sealed = services.view_seal.open(view, user=user)
    if sealed is None or not sealed.import_id:
        ack(response_action="update", view=refused_view())
        return
    record = services.imports.get(sealed.import_id)
    if record is None or record.state != PREVIEW:
        ack(
            response_action="errors",
            errors={
                next(iter(_input_ids(view)), "col:0"): "This import has already started or was cancelled."
            },
        )
        return
    mapping = submitted_mapping(record, (view.get("state") or {}).get("values") or {})
    ack()
    services.worker.background(check_again, services, record.id, mapping=mapping, user=user)


def _input_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input" and b.get("block_id")]


def on_check_again(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """*Check it again* on "This file was already imported …": the preview, as for a new file."""
    ack()
    services = services_of(context)
    import_id = _button_value(body)
    record = services.imports.get(import_id)
    message_ts = (body.get("container") or {}).get("message_ts")
    channel = _where(body, context)
    if record is not None and not record.thread_ts and message_ts and channel:
        # clicked before the job that posted the question had noted where it is: the click says
        services.imports.set_thread(import_id, channel=channel, thread_ts=str(message_ts))
    services.worker.background(check_again, services, import_id, mapping=None, user=_user(context))


def on_preview_cancel(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """*Cancel* on a preview (or on the "import it again?" question): nothing was sent, and it never will be."""
    ack()
    services = services_of(context)
    user = _user(context)
    record = services.imports.get(_button_value(body))
    if record is None:
        return
    if not services.imports.move(record.id, to=CANCELLED, only_from=[PREVIEW]):
        current = services.imports.get(record.id)
        if current is not None and current.state != CANCELLED:
            services.ephemeral(
                _where(body, context),
                user,
                ":information_source: This import has already started; use *Cancel* on its progress message.",
            )
        return
    text, blocks = cancelled_message(record.file_name, user)
    try:
        services.slack.chat_update(
            channel=record.channel or "", ts=record.thread_ts or "", text=text, blocks=blocks
        )
    except SlackApiError as exc:
        log.warning("could not mark an import preview cancelled: %s", exc.response.get("error"))
