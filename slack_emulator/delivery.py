"""One request the emulator sent to the app, and what the app answered.

A leaf module: the transport (slack_emulator/transport.py) makes these, the view state machine
(slack_emulator/views.py) and the browser page (slack_emulator/web.py) read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Delivery:
    """One request sent to the bot and the bot's answer."""

    kind: str
    payload: dict[str, Any]
    status: int
    body: str
    headers: dict[str, str]
    elapsed: float
    trigger_id: str | None = None
    timed_out: bool = False
    problems: list[str] = field(default_factory=list)
    options: list[dict[str, Any]] | None = None
    envelope_id: str | None = None  # set when delivered over Socket Mode

    @property
    def json(self) -> Any:
        """The answer parsed as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None
