"""One module per user-facing capability; each exposes ``register(app, services)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.services import Services


def register_all(app: App, services: Services) -> None:
    from commands import activity, home, lead, payment, timeline

    for module in (lead, payment, timeline, activity, home):
        module.register(app, services)
