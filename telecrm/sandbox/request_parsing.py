"""Reading an API request as strictly as TeleCRM: JSON bodies, paging and true/false flags.

Each reader returns what the route needs or raises a 400 `ApiError` with the message TeleCRM gives
(telecrm/sandbox/__init__.py, *Auth and routing*).
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request

from .errors import bad_request

LIMIT_100 = "Limit should be between 1 and 100"
LIMIT_10 = "Limit should be between 1 and 10"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body(request: Request, *, optional: bool = False) -> Any:
    """The body as JSON (`Content-Type: application/json`); `optional` lets an empty body read as `{}`."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise bad_request("Request body is required (a JSON object).")
    if request.mimetype != "application/json":
        raise bad_request("Content-Type must be application/json.")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("Request body is not valid JSON.") from exc


def object_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object."""
    body = json_body(request, optional=optional)
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.")
    return body


def paging(request: Request, max_limit: int, message: str) -> tuple[int, int]:
    """`skip` (≥ 0, default 0) and `limit` (1..`max_limit`, default 10) from the query string."""
    args = request.args
    try:
        limit = int(args.get("limit", "10"))
    except ValueError:
        raise bad_request(message) from None
    if not 1 <= limit <= max_limit:
        raise bad_request(message)
    try:
        skip = int(args.get("skip", "0"))
    except ValueError:
        skip = -1
    if skip < 0:
        raise bad_request("Skip should be a non-negative integer")
    return skip, limit


def flag(request: Request, name: str) -> bool:
    """A query flag: absent is false, else exactly `true` or `false` (any case)."""
    value = request.args.get(name)
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"{name} must be true or false")
