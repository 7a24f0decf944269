"""/timeline (first cut: answers, the full feature lands next)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import Services


def register(app: App, services: Services) -> None:
    @app.command("/timeline")
    def on_command(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        ack()
        respond(
            response_type="ephemeral", text="/timeline is being set up in this workspace; try again soon."
        )
