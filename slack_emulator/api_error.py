"""A refused Web API call, in Slack's words: a leaf module, so every part of the emulator can raise it."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Slack `{"ok": false, "error": ...}` answer, optionally with response_metadata.messages."""

    def __init__(self, error: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.extra = extra
