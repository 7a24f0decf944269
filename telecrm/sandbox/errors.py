"""How the sandbox refuses: TeleCRM's error answers, and the remarks of an action it ignores.

A leaf module, so every part of the state (telecrm/sandbox/core.py and the modules built on it) and
the HTTP app (telecrm/sandbox/app.py and its route modules) can raise these without importing one
another.
"""

from __future__ import annotations

from typing import Any

NOT_WRITABLE = "Only custom actions and payment actions can be created"
NOT_RETRIEVABLE = "Only custom actions and payment actions can be retrieved"
NOT_UPDATABLE = "Only custom actions and payment actions can be updated"
PAYMENT_LOCKED = "Cannot update amount, currency, or paymentid fields for existing payment action."
INVALID_FILTER = "Invalid filter"


class ApiError(Exception):
    """An error answer in TeleCRM's envelope: ``{"error": {"code", "message", "details"?}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str, details: list[dict[str, str]] | None = None) -> ApiError:
    return ApiError(400, "BAD_REQUEST", message, details=details)


def invalid_filter(where: str, why: str) -> ApiError:
    return bad_request(INVALID_FILTER, [{"field": where, "message": why}])


class ActionRejected(Exception):
    """One action of a batch is not stored; its remarks explain why (the batch goes on)."""

    def __init__(self, remarks: list[dict[str, str]]) -> None:
        super().__init__("action rejected")
        self.remarks = remarks


def remark(path: str, text: str) -> dict[str, str]:
    """A remark in the answer: the value at `path` was ignored, and why."""
    return {"field": path, "status": "IGNORED", "remark": text}
