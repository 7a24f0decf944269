"""The workspace metadata routes of the Sync API (handlers as in telecrm/sandbox/lead_routes.py)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from .base import SandboxBase
from .request_parsing import flag


class MetadataRoutes(SandboxBase):
    """`metadata`, `custom-fields[/{apiName}]`, `custom-actions[/{code}]`, `lead-stage-pipeline`."""

    def _api_metadata(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.metadata(self.enterprise_id)

    def _api_custom_fields(self, request: Request) -> tuple[int, Any]:
        detail = flag(request, "detail")
        with self._lock:
            return 200, self._state.custom_fields(detail=detail)

    def _api_custom_field(self, request: Request, api_name: str) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.custom_field(api_name)

    def _api_custom_actions(self, request: Request) -> tuple[int, Any]:
        detail = flag(request, "detail")
        with self._lock:
            return 200, self._state.custom_actions(detail=detail)

    def _api_custom_action(self, request: Request, code: str) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.custom_action(code)

    def _api_pipeline(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.lead_stage_pipeline()
