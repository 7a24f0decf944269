"""The lead and action routes of the Sync API, and the Async API's one route (an upsert of a lead).

Each handler reads the request (telecrm/sandbox/request_parsing.py) and calls the `State` operation
under the sandbox's lock, returning `(status, body)`; `Sandbox._dispatch` finds it by the route's
endpoint name (`_api_<endpoint>`). A lead or action that must exist is looked up before the body is
read, so an unknown id answers 404 whatever the body.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from .base import SandboxBase
from .request_parsing import LIMIT_100, flag, json_body, object_body, paging


class LeadRoutes(SandboxBase):
    """`lead`, `lead/search`, `lead/{id}`, `lead/{id}/action[/search|/{actionId}]`, `autoupdatelead`."""

    def _api_create_lead(self, request: Request) -> tuple[int, Any]:
        body = object_body(request)
        with self._lock:
            return 201, self._state.create_lead(body)

    def _api_get_lead(self, request: Request, lead_id: str) -> tuple[int, Any]:
        include = flag(request, "includeActions")
        skip, limit = paging(request, 100, LIMIT_100) if include else (0, 10)
        with self._lock:
            return 200, self._state.get_lead(lead_id, include_actions=include, skip=skip, limit=limit)

    def _api_update_lead(self, request: Request, lead_id: str) -> tuple[int, Any]:
        with self._lock:
            self._state._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        body = object_body(request)
        with self._lock:
            return 200, self._state.update_lead(lead_id, body)

    def _api_search_leads(self, request: Request) -> tuple[int, Any]:
        skip, limit = paging(request, 100, LIMIT_100)
        body = object_body(request, optional=True)
        with self._lock:
            return 200, self._state.search_leads(body, skip=skip, limit=limit)

    def _api_create_actions(self, request: Request, lead_id: str) -> tuple[int, Any]:
        with self._lock:
            self._state._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        body = object_body(request)
        with self._lock:
            return 200, self._state.create_actions(lead_id, body)

    def _api_get_action(self, request: Request, lead_id: str, action_id: str) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.get_action(lead_id, action_id)

    def _api_update_action(self, request: Request, lead_id: str, action_id: str) -> tuple[int, Any]:
        with self._lock:
            lead = self._state._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
            self._state._action_or_404(lead, action_id)
        body = object_body(request)
        with self._lock:
            return 200, self._state.update_action(lead_id, action_id, body)

    def _api_search_actions(self, request: Request, lead_id: str) -> tuple[int, Any]:
        with self._lock:
            self._state._lead_or_404(lead_id, "Lead with given ID was not found.")
        skip, limit = paging(request, 100, LIMIT_100)
        body = object_body(request, optional=True)
        with self._lock:
            return 200, self._state.search_actions(lead_id, body, skip=skip, limit=limit)

    # -- the Async API ---------------------------------------------------------------------------

    def _api_autoupdatelead(self, request: Request) -> tuple[int, Any]:
        body = json_body(request)
        self._async.put(body)
        self._count_async("accepted")
        return 200, {"status": "QUEUED"}
