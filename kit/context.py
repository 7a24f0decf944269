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


def services_middleware(services: Services) -> Callable[..., Any]:
    """A Bolt global middleware that puts ``services`` into every request's context."""

    def put_services(context: BoltContext, next: Callable[[], Any]) -> Any:  # noqa: A002
        context[_SERVICES] = services
        return next()

    return put_services


def services_of(context: BoltContext) -> Services:
    services = context.get(_SERVICES)
    if not isinstance(services, Services):
        raise RuntimeError("no services in the Bolt context: was services_middleware installed?")
    return services
