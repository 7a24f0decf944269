"""What a listener finds in Bolt's context: the bot's :class:`~kit.services.Services`.

Listeners are plain top-level functions (importable, unit-testable); ``register(app, services)`` of
each feature only binds them. They take ``context: BoltContext`` and read the services with
:func:`services_of`, and who acted where from Bolt itself: ``context.user_id`` and
``context.channel_id`` (Bolt fills them for commands, actions, shortcuts, views and events alike).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext

from kit.services import Services

_SERVICES = "telecrm_services"
_DELIVERY = "telecrm_delivery"  # the request's de-duplication key, until a write records it
_DELIVERY_RECORDED = "telecrm_delivery_recorded"


def services_middleware(services: Services) -> Callable[..., Any]:
    """A Bolt global middleware that puts ``services`` into every request's context."""

    def put_services(context: BoltContext, next: Callable[[], Any]) -> Any:  # noqa: A002
        attach_services(context, services)
        return next()

    return put_services


def attach_services(context: BoltContext, services: Services) -> None:
    """Put ``services`` into one request's context (what :func:`services_middleware` does, for a
    middleware of the composition root that does more)."""
    context[_SERVICES] = services


def services_of(context: BoltContext) -> Services:
    services = context.get(_SERVICES)
    if not isinstance(services, Services):
        raise RuntimeError("no services in the Bolt context: was services_middleware installed?")
    return services


def expect_delivery(context: BoltContext, key: str) -> None:
    """Middleware: this request's delivery key, to be recorded with its first write."""
    context[_DELIVERY] = key


def claim_delivery(context: BoltContext) -> str | None:
    """A listener about to queue a write: the delivery key to record in the same transaction
    (``Worker.submit(..., delivery=…)``), so the acknowledgement costs one durable write."""
    key = context.get(_DELIVERY)
    if key is not None:
        context[_DELIVERY_RECORDED] = True
    return key if isinstance(key, str) else None


def delivery_recorded(context: BoltContext) -> bool:
    """Whether a listener recorded this request's delivery with its write."""
    return bool(context.get(_DELIVERY_RECORDED))
