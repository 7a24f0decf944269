"""Block Kit elements the bot's messages share."""

from __future__ import annotations

from typing import Any


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button carrying ``value``; ``style`` is Slack's ``primary`` or ``danger`` (else plain)."""
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element
