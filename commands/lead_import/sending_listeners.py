"""The buttons of an import from *Import N valid rows* on: ``import_confirm`` (value: the import id),
and *Pause*, *Resume* and *Cancel* on the progress message.

Each is a compare-and-set of the import's state (storage/imports.py), stored together with the
``import.send`` outbox job it starts (kit/imports/sending.py) before Slack is acknowledged, like every
write of the bot: a double click or a redelivered click moves the import once and starts one send.
The sending itself, the progress message and the summary run on the worker. ``register_sending``
binds them and the job kind.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from kit.context import claim_delivery, services_of
from kit.imports.progress import (
    ACT_CANCEL_SENDING,
    ACT_PAUSE,
    ACT_RESUME,
    Progress,
    progress_blocks,
    progress_text,
)
from kit.imports.sending import SendImport, has_async_token, send_job_kind, start_sending
from kit.services import Services
from storage.imports import CANCELLED, PAUSED, PREVIEW, READY, SENDING

log = logging.getLogger(__name__)

ACT_IMPORT_CONFIRM = "import_confirm"

NO_ASYNC_TOKEN = (
    ":warning: Nothing was sent: imports go through TeleCRM's Async API, and no Async token is "
    "configured. Ask an admin to set `TELECRM_ASYNC_TOKEN`, then press the button again."
)


def _where(body: dict[str, Any], context: BoltContext) -> tuple[str | None, str | None, str | None]:
    """(user, channel, the thread of the clicked message)."""
    container = body.get("container") or {}
    thread = container.get("thread_ts") or container.get("message_ts")
    return context.user_id, context.channel_id or container.get("channel_id"), thread


def _tell(services: Services, body: dict[str, Any], context: BoltContext, text: str) -> None:
    user, channel, thread = _where(body, context)
    if user and channel:
        services.ephemeral(channel, user, text, thread_ts=thread)


def on_import_confirm(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Import N valid rows*: the import moves preview → sending once, and its send is queued."""
    services = services_of(context)
    import_id = str(action.get("value") or "")
    record = services.imports.get(import_id)
    if record is None:
        ack()
        _tell(
            services,
            body,
            context,
            ":warning: I have no import with this id any more; upload the file again.",
        )
        return
    if not has_async_token(services):
        ack()
        _tell(services, body, context, NO_ASYNC_TOKEN)
        return
    _, channel, thread = _where(body, context)
    if (not record.channel or not record.thread_ts) and channel and thread:
        services.imports.set_thread(import_id, channel=channel, thread_ts=thread)
    started = start_sending(
        services,
        import_id,
        run=str(action.get("action_ts") or ""),
        only_from=(PREVIEW,),
        delivery=claim_delivery(context) if record.state == PREVIEW else None,
    )
    ack()
    if not started and record.state != PREVIEW:
        _tell(services, body, context, f"This import is already {_state_words(services, import_id)}.")


def _is(services: Services, import_id: str, state: str) -> bool:
    record = services.imports.get(import_id)
    return record is not None and record.state == state


def _state_words(services: Services, import_id: str) -> str:
    record = services.imports.get(import_id)
    return {SENDING: "being sent", PAUSED: "paused", CANCELLED: "cancelled"}.get(
        record.state if record else "", record.state if record else "gone"
    )


def _redraw(services: Services, import_id: str) -> None:
    """Show the new state at once (the sender redraws it too, when it notices)."""
    record = services.imports.get(import_id)
    if record is None or not record.channel or not record.progress_ts:
        return
    counts = services.imports.row_counts(import_id)
    total = sum(counts.values())
    progress = Progress(import_id, record.file_name, record.state, total - counts[READY], total, None, None)
    try:
        services.slack.chat_update(
            channel=record.channel,
            ts=record.progress_ts,
            text=progress_text(progress),
            blocks=progress_blocks(progress),
        )
    except Exception as exc:  # the sender's next update carries the same state
        log.warning("import %s: could not redraw the progress message: %s", import_id, exc)


def on_pause(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Pause*: sending stops after the request in flight; the rows left stay ready."""
    services = services_of(context)
    import_id = str(action.get("value") or "")
    moved = services.imports.move(import_id, to=PAUSED, only_from=(SENDING,))
    ack()
    if moved:
        _redraw(services, import_id)
    else:
        _tell(
            services, body, context, f"This import is {_state_words(services, import_id)}; nothing to pause."
        )


def on_resume(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Resume*: back to sending, from the first row not sent."""
    services = services_of(context)
    import_id = str(action.get("value") or "")
    if not has_async_token(services):
        ack()
        _tell(services, body, context, NO_ASYNC_TOKEN)
        return
    started = start_sending(
        services,
        import_id,
        run=str(action.get("action_ts") or ""),
        only_from=(PAUSED,),
        delivery=claim_delivery(context) if _is(services, import_id, PAUSED) else None,
    )
    ack()
    if started:
        _redraw(services, import_id)
    else:
        _tell(
            services, body, context, f"This import is {_state_words(services, import_id)}; nothing to resume."
        )


def on_cancel_sending(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Cancel*: rows not sent stay unsent; the summary says how many were sent. A paused import has
    no run to write it, so one is queued; a sending one's run writes it when it notices."""
    services = services_of(context)
    import_id = str(action.get("value") or "")
    with services.store.transaction():
        was_paused = services.imports.move(import_id, to=CANCELLED, only_from=(PAUSED,))
        if was_paused:
            services.worker.submit(f"import.send:{import_id}:cancelled", SendImport(import_id))
        moved = was_paused or services.imports.move(import_id, to=CANCELLED, only_from=(SENDING,))
    ack()
    if moved:
        _redraw(services, import_id)
    else:
        _tell(
            services, body, context, f"This import is {_state_words(services, import_id)}; nothing to cancel."
        )


def register_sending(app: App, services: Services) -> None:
    """Bind the sending buttons and the ``import.send`` job (called by commands/lead_import's
    ``register``)."""
    services.worker.register(send_job_kind(services))
    app.action(ACT_IMPORT_CONFIRM)(on_import_confirm)
    app.action(ACT_PAUSE)(on_pause)
    app.action(ACT_RESUME)(on_resume)
    app.action(ACT_CANCEL_SENDING)(on_cancel_sending)
