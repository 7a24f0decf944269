"""The Bolt app: listeners from ``commands/``, delivery de-duplication, and a friendly error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.guard import Installation, RequestGuard
from bot.listener_calls import make_listeners_lean, run_marked_listeners_on_request_thread
from bot.oauth import oauth_settings
from bot.store_outage import answer_store_outage
from bot.telecrm_required import answer_if_not_connected
from commands import activity, follow_up, home, lead, lead_import, payment, pipeline, timeline, unfurl
from kit.context import attach_services, delivery_recorded, expect_delivery
from kit.ids import ACT_FORM_RETRY
from kit.lead_changes import card_refresh_kind
from kit.loading import on_form_retry
from kit.services import Services
from storage.tenancy import current_team

log = logging.getLogger(__name__)

# the composition root is the one place that knows the features
FEATURES = (lead, lead_import, payment, timeline, activity, pipeline, home, unfurl, follow_up)


def delivery_key(body: dict[str, Any], headers: dict[str, Any] | None = None) -> str | None:
    """A key that is equal for redeliveries of one Slack request and different for two user gestures.

    Slash commands and interactions carry a fresh ``trigger_id`` per gesture; events carry
    ``event_id``. View submissions are not de-duplicated here: a corrected re-submission after
    validation errors is the same view, so their writes are keyed on the view id in the outbox.
    """
    if body.get("type") == "view_submission":
        return None
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    trigger = body.get("trigger_id")
    if trigger:
        return f"trigger:{trigger}"
    return None


def _retry_number(req: BoltRequest) -> str | None:
    """Slack's retry number of a redelivery (``X-Slack-Retry-Num``; Bolt's Socket Mode adapter copies
    the envelope's ``retry_attempt`` into the same header), None for a first delivery.

    Only a redelivery can have been seen before, so only it costs a read: a first delivery goes
    straight to its listener, whose write records the delivery. Anything that arrives twice without
    the mark (a proxy's replay) is still written once — the write and its delivery share one unique
    key (:meth:`storage.outbox.Outbox.add`), and an acknowledgement records its delivery
    (:class:`_DeliveryAck`) — it is only not turned away before its listener runs.
    """
    values = req.headers.get("x-slack-retry-num")
    return values[0] if values else None


class _DeliveryAck(Ack):
    """``ack()`` that records the request's delivery first, unless the listener's write already
    did (:func:`kit.context.claim_delivery`): one durable write per acknowledgement either way."""

    def __init__(self, services: Services, context: BoltContext, key: str) -> None:
        super().__init__()
        self._services, self._context, self._key = services, context, key

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        first_ack = self.response is None and not delivery_recorded(self._context)
        if first_ack and not self._services.deliveries.record(self._key):
            log.info("a redelivery of %s arrived while the first was running", self._key.split(":")[0])
        return super().__call__(*args, **kwargs)


class _RequestMiddleware(Middleware):
    """Every request, before any listener: the installation check (:mod:`bot.guard`), the services
    in Bolt's context (:mod:`kit.context`), and delivery de-duplication.

    Requests for another workspace or app, or with a response_url off Slack's hooks host, are
    acknowledged and dropped before anything else sees them. A redelivered request is acknowledged
    and dropped (a read, only for what Slack marks as a retry); a new one's key is recorded with the
    write its listener queues, or at its acknowledgement when it queues none. One class-based
    middleware rather than three functions: Bolt calls a :class:`Middleware` as it is, where it
    prepares some thirty keyword arguments for every function middleware on every request (the
    acknowledgement's CPU, docs/PERFORMANCE.md).
    """

    def __init__(self, services: Services, guard: RequestGuard) -> None:
        self._services, self._guard = services, guard

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002  # Bolt's name for it
    ) -> BoltResponse | None:
        body = req.body
        reason = self._guard.refusal(body)
        if reason is not None:
            log.warning("ignoring a Slack request that is not for this installation: %s", reason)
            return BoltResponse(status=200, body="")
        context = req.context
        attach_services(context, self._services)
        if self._services.settings.oauth_mode:
            # services.slack calls with this workspace's token (kit/workspace_client.py). Bolt runs
            # the listener after every middleware has returned, so the value is not reset here: each
            # request sets its own on its thread, and the listener's thread gets a copy at submit
            current_team.set(context.team_id)
            not_connected = answer_if_not_connected(self._services, context.team_id, body)
            if not_connected is not None:
                return not_connected
        return self._deduplicated(req, body, next)

    def _deduplicated(
        self,
        req: BoltRequest,
        body: dict[str, Any],
        next: Callable[[], BoltResponse],  # noqa: A002
    ) -> BoltResponse:
        """A redelivery is acknowledged and dropped; a new delivery's key is recorded with its write."""
        context = req.context
        key = delivery_key(body)
        if key is None:
            return next()
        retry = _retry_number(req)
        if retry is not None and self._services.deliveries.seen(key):
            log.info("ignoring a redelivered Slack request (%s, retry %s)", key.split(":")[0], retry)
            context.ack()
            return BoltResponse(status=200, body="")
        expect_delivery(context, key)
        context["ack"] = _DeliveryAck(self._services, context, key)
        return next()


def _auth_test(slack: WebClient) -> dict[str, Any]:
    """``auth.test`` of the bot token: which workspace (and app) this installation is."""
    data = slack.auth_test().data
    return data if isinstance(data, dict) else {}


def _oauth_app(services: Services) -> App:
    """OAuth mode (bot/oauth.py): no token of its own; Bolt finds each request's workspace token in
    the installation store, and deletes it when Slack says the app was uninstalled or its tokens
    revoked (``app_uninstalled``, ``tokens_revoked``), with the workspace's TeleCRM connection."""
    settings = services.settings
    app = App(
        name="telecrm-bot",
        signing_secret=settings.slack_signing_secret,
        client=WebClient(base_url=settings.slack_api_url),
        oauth_settings=oauth_settings(settings, services.store),
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        listener_executor=services.listeners,
    )
    _on_uninstall_forget_telecrm(app, services)
    # each request's workspace is the one Bolt found an installation for; the app and the
    # response_url are still checked here
    installation = Installation(team_id=None, app_id=settings.slack_app_id or None)
    app.use(_RequestMiddleware(services, RequestGuard(installation, settings.hooks_url)))
    return app


def _on_uninstall_forget_telecrm(app: App, services: Services) -> None:
    """Bolt's revocation listeners (the workspace's Slack tokens deleted), and then the workspace's
    TeleCRM connection deleted and its client dropped: an uninstalled workspace keeps no token."""
    delete_slack_tokens = app.default_app_uninstalled_event_listener()
    delete_bot_token = app.default_tokens_revoked_event_listener()

    def forget_telecrm(context: BoltContext) -> None:
        if services.team_telecrms is not None and context.team_id:
            services.team_telecrms.disconnect(context.team_id)

    def on_app_uninstalled(ack: Ack, context: BoltContext) -> None:
        ack()
        delete_slack_tokens(context=context)
        forget_telecrm(context)

    def on_tokens_revoked(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
        ack()
        delete_bot_token(event=event, context=context)
        if (event.get("tokens") or {}).get("bot"):  # the bot's own token: the workspace is cut off
            forget_telecrm(context)

    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)


def _single_workspace_app(services: Services, client: WebClient | None) -> App:
    """One workspace, its bot token from the environment; requests for any other are ignored."""
    settings = services.settings
    slack = client or services.slack
    app = App(
        name="telecrm-bot",
        signing_secret=settings.slack_signing_secret or None,
        client=slack,
        request_verification_enabled=not settings.socket_mode,
        token_verification_enabled=True,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        # listeners only acknowledge, validate and queue: slow TeleCRM work runs on the Worker
        listener_executor=services.listeners,
    )
    installation = Installation.from_auth_test(_auth_test(slack), app_id=settings.slack_app_id)
    app.use(_RequestMiddleware(services, RequestGuard(installation, settings.hooks_url)))
    app.event("app_uninstalled")(_on_token_gone)
    app.event("tokens_revoked")(_on_token_gone)
    return app


def _on_token_gone(ack: Ack, event: dict[str, Any]) -> None:
    """The workspace removed the app or revoked its token: nothing the bot posts will arrive, so the
    operator is told plainly (the token is the environment's, nothing to delete here)."""
    ack()
    log.error(
        "Slack says %s: SLACK_BOT_TOKEN no longer works; reinstall the app and set the new token",
        "the app was uninstalled" if event.get("type") == "app_uninstalled" else "the bot token was revoked",
    )


def build_app(services: Services, *, client: WebClient | None = None) -> App:
    settings = services.settings
    app = _oauth_app(services) if settings.oauth_mode else _single_workspace_app(services, client)

    @app.error
    def on_error(
        error: Exception,
        body: dict[str, Any],
        context: BoltContext,
        logger: logging.Logger,
        response: BoltResponse | None,
    ) -> BoltResponse | None:
        # a full disk or read-only file: Slack still gets its 200, the user a "not saved, try again"
        outage = services.store.health.record(error)
        if outage is not None:
            return answer_store_outage(services, body, context, outage, acknowledged=response is None)
        logger.exception("unhandled error in a Slack listener: %s", error.__class__.__name__)
        services.tell_user_about_error(context.user_id, context.channel_id)
        return None

    services.worker.register(card_refresh_kind(services))  # every feature may ask for a card refresh
    app.action(ACT_FORM_RETRY)(on_form_retry)  # any feature's form that could not load (kit/loading.py)
    for feature in FEATURES:
        feature.register(app, services)
    make_listeners_lean(app)  # the acknowledgement's CPU: see bot/listener_calls.py
    run_marked_listeners_on_request_thread(app)
    return app
