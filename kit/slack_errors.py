"""Which Slack Web API failures are worth retrying, and after how long.

A job that has done its TeleCRM write still owes the user a message. When Slack answers
``ratelimited`` (HTTP 429 with ``Retry-After``), a 5xx, or cannot be reached, the message is not
lost: the job is retried later from its Slack step. Anything else (``channel_not_found``,
``not_in_channel``, ``invalid_blocks`` …) will not get better by waiting.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

# Slack's own names for "try again later" (https://api.slack.com/web#responses)
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
_NETWORK_ERRORS = (
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    socket.timeout,
    http.client.HTTPException,
)


def _header(headers: Mapping[str, object] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def _retry_after(exc: SlackApiError) -> float | None:
    value = _header(getattr(exc.response, "headers", None), "retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def slack_failure(exc: BaseException) -> tuple[bool, float | None] | None:
    """``(transient, retry_after)`` for a Slack failure, or None when ``exc`` is not one."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200) or 200
        error = str(exc.response.get("error") or "") if hasattr(exc.response, "get") else ""
        transient = status == 429 or status >= 500 or error in _TRANSIENT_ERRORS
        return transient, _retry_after(exc) if transient else None
    if isinstance(exc, _NETWORK_ERRORS):
        return True, None
    return None


def is_transient_slack_failure(exc: BaseException) -> bool:
    """True for a Slack failure that a later attempt may get past (rate limit, 5xx, network)."""
    found = slack_failure(exc)
    return found is not None and found[0]
