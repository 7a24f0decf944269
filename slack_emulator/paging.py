"""Reading Web API arguments as Slack does: booleans given as text, and cursor paging."""

from __future__ import annotations

import base64
from typing import Any

from .api_error import ApiError


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise ApiError("invalid_cursor") from exc


def _page(items: list[Any], args: dict[str, Any], default_limit: int = 100) -> tuple[list[Any], str]:
    start = _decode_cursor(args.get("cursor"))
    limit = int(args.get("limit") or default_limit) or default_limit
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, _encode_cursor(start + limit) if more else ""
