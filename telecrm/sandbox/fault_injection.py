"""Faults applied to API requests: injected latency, reset connections, error answers, and the
`POST /_sandbox/faults` settings. What is armed lives in `Faults` (telecrm/sandbox/faults.py);
this module turns it into what a client sees on the wire.
"""

from __future__ import annotations

from typing import Any, NoReturn

from waitress.channel import ClientDisconnected
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from .errors import bad_request
from .faults import FaultRule, Faults
from .responses import json_response
from .server import ABORT_KEY

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_SETTINGS = (
    "latency",
    "write_latency",
    "async_delay",
    "rate_limit_per_hour",
    "async_rate_limit",
    "async_rate_window_seconds",
    "async_rate_limit_per_hour",
)
_ONE_SHOT_RULES = ("fail_next", "fail_after_write_next", "reset_next")


def injected_latency(faults: Faults, request: Request) -> float:
    """Seconds to hold this request: the latency of every request, plus the write latency for writes."""
    latency = faults.latency
    if request.method in WRITE_METHODS and not request.path.endswith("/search"):
        latency += faults.write_latency
    return latency


def reset_connection(environ: dict[str, Any]) -> NoReturn:
    """Drop the client's connection without an answer (the server puts its abort hook in `environ`)."""
    abort = environ.get(ABORT_KEY)
    if abort is None:
        raise ConnectionAbortedError("sandbox fault: connection reset")
    abort()
    raise ClientDisconnected("sandbox fault: connection reset")


def _status_code_name(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error").upper().replace(" ", "_").replace("'", "")


def fault_response(rule: FaultRule) -> Response:
    """The injected answer: the rule's HTML body as given, else TeleCRM's error envelope."""
    if rule.body is not None:
        return Response(rule.body, status=rule.status, mimetype="text/html")
    if rule.status == 429:
        message = f"Too many requests. Retry after {rule.retry_after} seconds."
    else:
        message = f"Injected fault: {HTTP_STATUS_CODES.get(rule.status, 'error')}."
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else None
    return json_response(
        rule.status, {"error": {"code": _status_code_name(rule.status), "message": message}}, headers
    )


def apply_fault_settings(faults: Faults, body: dict[str, Any]) -> None:
    """Apply a `POST /_sandbox/faults` body (keys as the `Faults` attributes and methods)."""
    known = {"clear", *_SETTINGS, *_ONE_SHOT_RULES}
    unknown = sorted(set(body) - known)
    if unknown:
        raise bad_request(f"Unknown fault settings: {', '.join(unknown)}. Known: {', '.join(sorted(known))}")
    if body.get("clear"):
        faults.clear()
    for key in _SETTINGS:
        if key in body:
            setattr(faults, key, body[key])
    for key in _ONE_SHOT_RULES:
        if key in body:
            spec = body[key]
            if not isinstance(spec, dict):
                raise bad_request(f"{key} must be an object")
            getattr(faults, key)(**spec)
