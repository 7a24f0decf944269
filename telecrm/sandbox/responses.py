"""The sandbox's JSON answers, and TeleCRM's error envelope as an HTTP response."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from .errors import ApiError


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, headers=headers, content_type="application/json"
    )


def error_response(err: ApiError) -> Response:
    return json_response(err.status, err.body(), err.headers)
