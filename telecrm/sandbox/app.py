"""The sandbox WSGI application: routing, auth and faults in front of the route groups.

`Sandbox` puts the parts together: the shared state and inspection helpers (telecrm/sandbox/base.py),
the Sync and Async routes by group (lead_routes.py, member_routes.py, metadata_routes.py), the
`/_sandbox/` admin API (admin_routes.py). A request to the API is held, reset or answered by an
injected fault when one is armed (fault_injection.py), then matched to its route, its token and
enterprise checked, its rate limited, and handed to the route's `_api_<endpoint>` handler.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .admin_routes import AdminRoutes
from .base import LoggedRequest
from .documented import documented_only
from .errors import ApiError
from .fault_injection import fault_response, injected_latency, reset_connection
from .lead_routes import LeadRoutes
from .member_routes import MemberRoutes
from .metadata_routes import MetadataRoutes
from .responses import error_response, json_response

log = logging.getLogger(__name__)

NOT_AUTHORIZED = "Invalid or missing access token."

_V2 = "/autoupdate/v2/enterprise/<eid>"
_ROUTES = [
    Rule(f"{_V2}/lead", methods=["POST"], endpoint="create_lead"),
    Rule(f"{_V2}/lead/search", methods=["POST"], endpoint="search_leads"),
    Rule(f"{_V2}/lead/<lead_id>", methods=["GET"], endpoint="get_lead"),
    Rule(f"{_V2}/lead/<lead_id>", methods=["POST"], endpoint="update_lead"),
    Rule(f"{_V2}/lead/<lead_id>/action", methods=["POST"], endpoint="create_actions"),
    Rule(f"{_V2}/lead/<lead_id>/action/search", methods=["POST"], endpoint="search_actions"),
    Rule(f"{_V2}/lead/<lead_id>/action/<action_id>", methods=["GET"], endpoint="get_action"),
    Rule(f"{_V2}/lead/<lead_id>/action/<action_id>", methods=["POST"], endpoint="update_action"),
    Rule(f"{_V2}/team-members", methods=["GET"], endpoint="list_members"),
    Rule(f"{_V2}/team-members", methods=["POST"], endpoint="create_member"),
    Rule(f"{_V2}/team-members/<email>", methods=["GET"], endpoint="get_member"),
    Rule(f"{_V2}/teammember/state_change", methods=["POST"], endpoint="state_change"),
    Rule(f"{_V2}/metadata", methods=["GET"], endpoint="metadata"),
    Rule(f"{_V2}/custom-fields", methods=["GET"], endpoint="custom_fields"),
    Rule(f"{_V2}/custom-fields/<api_name>", methods=["GET"], endpoint="custom_field"),
    Rule(f"{_V2}/custom-actions", methods=["GET"], endpoint="custom_actions"),
    Rule(f"{_V2}/custom-actions/<code>", methods=["GET"], endpoint="custom_action"),
    Rule(f"{_V2}/lead-stage-pipeline", methods=["GET"], endpoint="pipeline"),
    Rule("/enterprise/<eid>/autoupdatelead", methods=["POST"], endpoint="autoupdatelead"),
]
_URL_MAP = Map(_ROUTES, merge_slashes=False, strict_slashes=False)


def _not_found(request: Request) -> Response:
    path = request.path
    if path.startswith("/autoupdate/v2/") or path.startswith("/enterprise/"):
        return json_response(
            404, {"error": {"code": "NOT_FOUND", "message": f"Cannot {request.method} {path}"}}
        )
    body = f"<!DOCTYPE html>\n<html><head><title>Error</title></head><body><pre>Cannot {request.method} {html.escape(path)}</pre></body></html>\n"
    return Response(body, status=404, content_type="text/html; charset=utf-8")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Sandbox(LeadRoutes, MemberRoutes, MetadataRoutes, AdminRoutes):
    """A strict in-memory TeleCRM workspace behind the Sync and Async HTTP routes."""

    # a class attribute, so a test can make every injected fault answer its own way
    _fault_response = staticmethod(fault_response)

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            return self._admin(request)(environ, start_response)
        rule = self.faults.take(path)
        latency = injected_latency(self.faults, request)
        if latency:
            self.faults.hold(latency)
        if rule is not None and rule.kind == "reset":
            self._log(request, 0)
            reset_connection(environ)
        if rule is not None and rule.kind == "fail":
            response = self._fault_response(rule)
        else:
            response = self._dispatch(request)
            if rule is not None and rule.kind == "fail_after_write":
                response = self._fault_response(rule)
        self._log(request, response.status_code)
        return response(environ, start_response)

    __call__ = wsgi_app

    def _log(self, request: Request, status: int) -> None:
        with self._log_lock:
            self.request_log.append(LoggedRequest(request.method, request.path, status))

    def _dispatch(self, request: Request) -> Response:
        adapter = _URL_MAP.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException:
            return _not_found(request)
        if endpoint in ("get_lead", "get_action") and "search" in (
            args.get("lead_id"),
            args.get("action_id"),
        ):
            return _not_found(request)  # search is POST only in TeleCRM
        args = dict(args)
        eid = args.pop("eid")
        try:
            self._authorize(request, eid, is_async=endpoint == "autoupdatelead")
            handler = getattr(self, f"_api_{endpoint}")
            status, body = handler(request, **args)
            if self.strict_docs:
                body = documented_only(endpoint, body)
            return json_response(status, body)
        except ApiError as err:
            return error_response(err)
        except Exception:
            log.exception("sandbox error on %s %s", request.method, request.path)
            return json_response(
                500, {"error": {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error."}}
            )

    def _authorize(self, request: Request, eid: str, *, is_async: bool) -> None:
        """The token first (Sync or Async, as the route wants), then the enterprise, then the rate."""
        token = _bearer(request)
        if token != (self.async_token if is_async else self.sync_token):
            raise ApiError(401, "NOT_AUTHORIZED", NOT_AUTHORIZED)
        if eid != self.enterprise_id:
            if is_async:
                raise ApiError(
                    401, "NOT_AUTHORIZED", f"Access token is not valid for enterprise with id {eid}."
                )
            raise ApiError(404, "ENTERPRISE_NOT_FOUND", f"The enterprise with ID {eid} was not found.")
        retry_after = self.faults.check_rate("async" if is_async else "sync", token)
        if retry_after is None:
            return
        if is_async:
            # API.md §11: the Async limit answers a bare 429 (TeleCRM documents no Retry-After for it;
            # the client is to stay under the limit), so none is sent: the bot must pace itself
            self._count_async("rate_limited")
            limit, window = self.faults.async_rate_limit, self.faults.async_rate_window_seconds
            per = "hour" if window == 3600 else f"{window:g} seconds"
            raise ApiError(
                429, "TOO_MANY_REQUESTS", f"Rate limit of {limit} requests per {per} per token exceeded."
            )
        raise ApiError(
            429,
            "TOO_MANY_REQUESTS",
            f"Rate limit of {self.faults.rate_limit_per_hour} requests per hour per token exceeded. "
            f"Retry after {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
