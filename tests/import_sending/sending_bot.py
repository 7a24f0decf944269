"""``telecrm-bot`` with the sending listeners bound, for the tests that run the bot as its own process
(commands/lead_import/__init__.py binds them once the feature is merged; then this goes)."""

from __future__ import annotations

import sys
from typing import Any

from bot import app as bot_app
from commands.lead_import.sending_listeners import register_sending


class _Sending:
    @staticmethod
    def register(app: Any, services: Any) -> None:
        register_sending(app, services)


bot_app.FEATURES = (*bot_app.FEATURES, _Sending)  # type: ignore[assignment]  # a stand-in feature module

if __name__ == "__main__":
    from bot.cli import main

    sys.exit(main())
