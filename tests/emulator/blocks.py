"""Tiny Block Kit builders for tests, so each case shows only what it is about."""

from __future__ import annotations

from typing import Any


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(text: str = "Go", action_id: str = "go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id, **extra}


def actions(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **extra}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def options(n: int) -> list[dict[str, Any]]:
    return [option(f"Option {i}", f"v{i}") for i in range(n)]


def static_select(
    opts: list[dict[str, Any]] | None = None, action_id: str = "pick", **extra: Any
) -> dict[str, Any]:
    return {"type": "static_select", "action_id": action_id, "options": opts or options(3), **extra}


def input_block(
    element: dict[str, Any] | None = None, label: str = "Name", block_id: str = "name", **extra: Any
) -> dict[str, Any]:
    element = element or {"type": "plain_text_input", "action_id": "value"}
    return {"type": "input", "block_id": block_id, "label": plain(label), "element": element, **extra}


def modal(blocks: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "callback_id": "cb",
        "title": plain("New lead"),
        "submit": plain("Create"),
        "close": plain("Cancel"),
        "blocks": blocks if blocks is not None else [input_block()],
    }
    view.update(extra)
    return view
