"""Forms open at once, even on a cold start: a loading modal first, the real form when TeleCRM answers.

Slack's trigger id lives 3 s, and every form (New lead, Record payment, Timeline, Log activity, Edit)
is built from the workspace schema, which a first start may not have yet and a slow TeleCRM may take
longer than that to give. So:

* with the schema cached, the form is built and opened as before (:func:`open_form`);
* without it, a "Loading your workspace's fields…" modal is opened right away — before any TeleCRM
  call — and the schema is awaited on the worker's read pool (``Services.schema``: one fetch shared by
  everyone waiting, ``storage/cache.py``); the modal is then replaced in place (``views.update`` by
  its view id, sealed like every form, :mod:`kit.view_context`) with the real form, or, when the
  schema cannot come (TeleCRM unreachable, token refused, timed out), with the reason and what to do
  (:func:`kit.explain.explain_error`).

:func:`open_then_fill` is the general form of it: open any placeholder now, fill it from the worker.

An explanation that TeleCRM did not answer carries *Try again* (:func:`on_form_retry`): the same
modal goes back to loading and is filled again. What refills it lives in this process only (a bounded
map by view id): after a restart the button says to open the form again instead.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from kit.blocks import button
from kit.context import services_of
from kit.explain import Doing, describe_failure, explain_error, telecrm_error_in
from kit.format import truncate
from kit.ids import ACT_FORM_RETRY
from kit.services import Services
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)

LOADING_TEXT = ":hourglass_flowing_sand: Loading your workspace's fields from TeleCRM…"
LOADING_NOTE = "The form appears here by itself as soon as TeleCRM answers; you can leave this open."
GONE_TEXT = (
    ":information_source: This form was opened before the bot restarted, so it cannot be loaded again "
    "from here. Close it and open the form again (the same command or button)."
)
RETRIES_KEPT = 500  # forms whose *Try again* this process remembers (the oldest are forgotten first)

View = dict[str, Any]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, 24), "emoji": True}


def loading_view(title: str, text: str = LOADING_TEXT) -> View:
    """The placeholder a form opens as: its title, what it is waiting for, nothing to submit."""
    return {
        "type": "modal",
        "title": _plain(title),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": LOADING_NOTE}]},
        ],
    }


def message_view(title: str, text: str) -> View:
    """A form that cannot be shown: why, and what to do (the text of :func:`kit.explain.explain_error`)."""
    return {
        "type": "modal",
        "title": _plain(title),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}],
    }


def open_form(
    services: Services,
    client: WebClient,
    *,
    trigger_id: str,
    user: str,
    title: str,
    build: Callable[[WorkspaceSchema], View],
    without_schema: Callable[[BaseException], View | None] | None = None,
) -> None:
    """Open the form ``build`` makes from the schema: at once when it is cached, else through a
    loading modal filled when the schema arrives. ``without_schema`` may offer a form anyway when
    the schema cannot come (return None to explain instead).

    Raises ``SlackApiError`` when Slack does not open the modal (the trigger expired): the caller
    says how else to do it.
    """
    schema = services.cache.cached()
    if schema is not None:
        client.views_open(trigger_id=trigger_id, view=services.view_seal.seal(build(schema), user=user))
        return
    open_then_fill(
        services,
        client,
        trigger_id=trigger_id,
        user=user,
        loading=loading_view(title),
        fill=lambda view_id: build(services.schema()),
        failed=lambda error, text: (
            (without_schema(error) if without_schema else None) or message_view(title, text)
        ),
    )


def open_then_fill(
    services: Services,
    client: WebClient,
    *,
    trigger_id: str,
    user: str,
    loading: View,
    fill: Callable[[str], View],
    failed: Callable[[BaseException, str], View],
    what: str = "the form",
    doing: Doing = "form",
) -> str:
    """Open ``loading`` now; on the worker, replace it with ``fill(view_id)`` — or, if that raises, with
    ``failed(error, explanation)``. Returns the view id. Raises ``SlackApiError`` as :func:`open_form`."""
    shown = client.views_open(trigger_id=trigger_id, view=services.view_seal.seal(loading, user=user))
    view_id = str(shown["view"]["id"])
    services.worker.background(_fill, services, client, view_id, user, fill, failed, what, doing)
    return view_id


Refill = Callable[[], None]
_retries: OrderedDict[str, Refill] = OrderedDict()
_retries_lock = threading.Lock()


def _remember_retry(view_id: str, refill: Refill) -> None:
    with _retries_lock:
        _retries[view_id] = refill
        _retries.move_to_end(view_id)
        while len(_retries) > RETRIES_KEPT:
            _retries.popitem(last=False)


def _with_try_again(view: View) -> View:
    """The explanation with a *Try again* button under it."""
    again = button("Try again", ACT_FORM_RETRY, "again", style="primary")
    return {**view, "blocks": [*view.get("blocks", []), {"type": "actions", "elements": [again]}]}


def _fill(
    services: Services,
    client: WebClient,
    view_id: str,
    user: str,
    fill: Callable[[str], View],
    failed: Callable[[BaseException, str], View],
    what: str,
    doing: Doing,
) -> None:
    """Runs on the worker's read pool: build the real view (waiting for TeleCRM), then show it."""
    try:
        view = fill(view_id)
    except Exception as exc:
        if telecrm_error_in(exc) is not None:
            log.warning("a form could not be filled: %s", describe_failure(exc))
        else:
            log.exception("a form could not be filled")
        view = failed(exc, explain_error(exc, what=what, doing=doing))
        if not view.get("submit"):  # an explanation, not a form offered anyway: it may be tried again
            _remember_retry(
                view_id, lambda: _fill(services, client, view_id, user, fill, failed, what, doing)
            )
            view = _with_try_again(view)
    try:
        client.views_update(view_id=view_id, view=services.view_seal.seal(view, user=user))
    except SlackApiError as exc:  # closed meanwhile (not_found): nothing to show it in
        log.info("a loading form was not updated: %s", exc.response.get("error"))


def on_form_retry(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """*Try again* on an explanation: back to loading, and filled again on the worker."""
    ack()
    services = services_of(context)
    view = body.get("view") or {}
    view_id, user = str(view.get("id") or ""), str(context.user_id or "")
    with _retries_lock:
        refill = _retries.pop(view_id, None)
    title = str((view.get("title") or {}).get("text") or "TeleCRM")
    shown = loading_view(title) if refill is not None else message_view(title, GONE_TEXT)
    try:
        client.views_update(view_id=view_id, view=services.view_seal.seal(shown, user=user))
    except SlackApiError as exc:
        log.info("a form could not go back to loading: %s", exc.response.get("error"))
        return
    if refill is not None:
        services.worker.background(refill)
