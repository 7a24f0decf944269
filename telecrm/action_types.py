"""The three spellings of a custom action's type, and which TeleCRM route wants which (docs/TELECRM.md).

Sync payloads use the bare code (``1001``), the Async API and the metadata routes ``ACTION_1001``;
the client converts at the edge so the rest of the code may hold either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


def sync_action_type(value: object) -> str:
    """Sync payloads use the bare custom action code (``"1001"``), never ``ACTION_1001``."""
    text = str(value).strip()
    if text.upper().startswith("ACTION_") and text[7:].isdigit():
        return text[7:]
    return text


def async_action_type(value: object) -> str:
    """The Async API needs ``ACTION_1001``; a bare code would be silently dropped there."""
    text = str(value).strip()
    return f"ACTION_{text}" if text.isdigit() else text


def custom_action_code(code: object) -> str:
    """The metadata path form: ``1001`` / ``action_1001`` → ``ACTION_1001``."""
    text = str(code).strip()
    if text.isdigit():
        return f"ACTION_{text}"
    if text.upper().startswith("ACTION_"):
        return "ACTION_" + text[7:]
    return text


def with_action_types(actions: Iterable[Mapping[str, Any]], convert: Callable[[object], str]) -> list[dict]:
    """Copies of ``actions`` with each ``type`` spelled by ``convert``."""
    out = []
    for action in actions:
        copy = dict(action)
        if "type" in copy:
            copy["type"] = convert(copy["type"])
        out.append(copy)
    return out
