"""The team-member routes of the Sync API (handlers as in telecrm/sandbox/lead_routes.py)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from .base import SandboxBase
from .request_parsing import LIMIT_10, flag, object_body, paging


class MemberRoutes(SandboxBase):
    """`team-members` (GET/POST), `team-members/{email}`, `teammember/state_change`."""

    def _api_list_members(self, request: Request) -> tuple[int, Any]:
        skip, limit = paging(request, 10, LIMIT_10)
        include_deleted = flag(request, "includeDeleted")
        with self._lock:
            return 200, self._state.list_members(skip=skip, limit=limit, include_deleted=include_deleted)

    def _api_create_member(self, request: Request) -> tuple[int, Any]:
        body = object_body(request)
        with self._lock:
            return 201, self._state.create_member(body)

    def _api_get_member(self, request: Request, email: str) -> tuple[int, Any]:
        include_deleted = flag(request, "includeDeleted")
        with self._lock:
            return 200, self._state.get_member(email, include_deleted=include_deleted)

    def _api_state_change(self, request: Request) -> tuple[int, Any]:
        body = object_body(request)
        with self._lock:
            return 200, self._state.change_state(body)
