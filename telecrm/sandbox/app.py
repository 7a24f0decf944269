"""The sandbox WSGI application: routing, auth, faults, the Async queue and the `/_sandbox/` admin API."""

from __future__ import annotations

import copy
import html
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from waitress.channel import ClientDisconnected
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .faults import FaultRule, Faults
from .server import ABORT_KEY
from .state import ApiError, State, bad_request
from .values import format_date
from .workspace import (
    DEMO_ASYNC_TOKEN,
    DEMO_ENTERPRISE_ID,
    DEMO_SYNC_TOKEN,
    compile_workspace,
    demo_workspace,
)

log = logging.getLogger(__name__)

NOT_AUTHORIZED = "Invalid or missing access token."
LIMIT_100 = "Limit should be between 1 and 100"
LIMIT_10 = "Limit should be between 1 and 10"

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
_ADMIN_ROUTES = [
    Rule("/_sandbox/", methods=["GET"], endpoint="index"),
    Rule("/_sandbox/state", methods=["GET"], endpoint="state"),
    Rule("/_sandbox/leads", methods=["GET"], endpoint="leads"),
    Rule("/_sandbox/leads/<lead_id>", methods=["GET"], endpoint="lead"),
    Rule("/_sandbox/leads/<lead_id>/actions", methods=["GET"], endpoint="actions"),
    Rule("/_sandbox/leads/<lead_id>/builtin-actions", methods=["POST"], endpoint="builtin_action"),
    Rule("/_sandbox/requests", methods=["GET", "DELETE"], endpoint="requests"),
    Rule("/_sandbox/faults", methods=["GET", "POST", "DELETE"], endpoint="faults"),
    Rule("/_sandbox/drain-async", methods=["POST"], endpoint="drain_async"),
    Rule("/_sandbox/reset", methods=["POST"], endpoint="reset"),
]
_URL_MAP = Map(_ROUTES, merge_slashes=False, strict_slashes=False)
_ADMIN_MAP = Map(_ADMIN_ROUTES, merge_slashes=False, strict_slashes=False)


class LoggedRequest(NamedTuple):
    """One served API request; `status` is 0 when the connection was aborted."""

    method: str
    path: str
    status: int


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, headers=headers, content_type="application/json"
    )


def _error_response(err: ApiError) -> Response:
    return _json_response(err.status, err.body(), err.headers)


def _status_code_name(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error").upper().replace(" ", "_").replace("'", "")


class Sandbox:
    """A strict in-memory TeleCRM workspace behind the Sync and Async HTTP routes."""

    def __init__(
        self,
        workspace: dict[str, Any] | None = None,
        *,
        enterprise_id: str = DEMO_ENTERPRISE_ID,
        sync_token: str = DEMO_SYNC_TOKEN,
        async_token: str = DEMO_ASYNC_TOKEN,
        default_country_code: str = "91",
    ) -> None:
        self.enterprise_id = enterprise_id
        self.sync_token = sync_token
        self.async_token = async_token
        self.default_country_code = str(default_country_code)
        self._workspace_src = copy.deepcopy(workspace) if workspace is not None else demo_workspace()
        self._lock = threading.RLock()
        self._state = self._build_state()
        self.faults = Faults()
        self.request_log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._url_map = _URL_MAP
        self._admin_map = _ADMIN_MAP
        self._async_cv = threading.Condition()
        self._async_queue: deque[Any] = deque()
        self._async_busy = False
        self._async_thread: threading.Thread | None = None
        self._closed = threading.Event()

    def _build_state(self) -> State:
        return State(compile_workspace(self._workspace_src), default_country_code=self.default_country_code)

    # -- inspection helpers (thread-safe, copies) ----------------------------------------------

    def leads(self) -> list[dict[str, Any]]:
        """Every lead, oldest first: {"id", "fields", "created_on", "modified_on"}."""
        with self._lock:
            ordered = sorted(self._state.leads.values(), key=lambda lead: lead["seq"])
            return [self._state.inspect_lead(lead) for lead in ordered]

    def lead(self, lead_id: str) -> dict[str, Any] | None:
        with self._lock:
            lead = self._state.leads.get(lead_id)
            return self._state.inspect_lead(lead) if lead else None

    def find_lead(self, identifier_value: Any) -> dict[str, Any] | None:
        """The lead whose identifier matches `identifier_value` (matched as telecrm/sandbox/__init__.py describes), if any."""
        with self._lock:
            key = self._state._identifier_key(identifier_value)
            lead_id = self._state._by_identifier.get(key or "")
            return self._state.inspect_lead(self._state.leads[lead_id]) if lead_id else None

    def actions(self, lead_id: str) -> list[dict[str, Any]]:
        """Stored actions of a lead, oldest first, in the timeline-row shape."""
        with self._lock:
            return self._state.inspect_actions(lead_id)

    def add_builtin_action(
        self,
        lead_id: str,
        type: str,  # noqa: A002 - the documented name of the property
        *,
        created_on_ms: int | None = None,
        performed_by: str | None = None,
        **extra: Any,
    ) -> str:
        """Seed a timeline entry the API cannot write (calls, messages…); extra keys are stored as-is."""
        with self._lock:
            return self._state.add_builtin_action(
                lead_id, type, created_on_ms=created_on_ms, performed_by=performed_by, extra=extra
            )

    def write_count(self) -> int:
        with self._lock:
            return self._state.write_count

    def team_members(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._state.render_member(m) for m in self._state.members.values()]

    def reset(self) -> None:
        """Back to the initial workspace: state, request log, faults and the Async queue."""
        with self._async_cv:
            self._async_queue.clear()
        self.drain_async()
        with self._lock:
            self._state = self._build_state()
        with self._log_lock:
            self.request_log.clear()
        self.faults.clear()

    # -- Async queue --------------------------------------------------------------------------

    def _enqueue_async(self, body: Any) -> None:
        with self._async_cv:
            self._async_queue.append(body)
            if self._async_thread is None or not self._async_thread.is_alive():
                self._async_thread = threading.Thread(
                    target=self._async_worker, name="telecrm-sandbox-async", daemon=True
                )
                self._async_thread.start()
            self._async_cv.notify_all()

    def _async_worker(self) -> None:
        while True:
            with self._async_cv:
                self._async_cv.wait_for(lambda: self._async_queue or self._closed.is_set())
                if self._closed.is_set():
                    self._async_queue.clear()
                    self._async_cv.notify_all()
                    return
                body = self._async_queue.popleft()
                self._async_busy = True
            try:
                delay = self.faults.async_delay
                if delay:
                    self._closed.wait(delay)
                with self._lock:
                    outcome = self._state.apply_async(body)
                log.info("async upsert: %s", outcome)
            except Exception:
                log.exception("async upsert failed")
            finally:
                with self._async_cv:
                    self._async_busy = False
                    self._async_cv.notify_all()

    def drain_async(self, timeout: float = 10.0) -> bool:
        """Wait until every queued Async request has been applied; False on timeout."""
        with self._async_cv:
            return self._async_cv.wait_for(lambda: not self._async_queue and not self._async_busy, timeout)

    def close(self) -> None:
        """Stop the Async worker (queued requests are discarded)."""
        self._closed.set()
        with self._async_cv:
            self._async_cv.notify_all()

    # -- WSGI -----------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            return self._admin(request)(environ, start_response)
        rule = self.faults.take(path)
        latency = self.faults.latency
        if request.method in WRITE_METHODS and not path.endswith("/search"):
            latency += self.faults.write_latency
        if latency:
            time.sleep(latency)
        if rule is not None and rule.kind == "reset":
            self._log(request, 0)
            abort = environ.get(ABORT_KEY)
            if abort is None:
                raise ConnectionAbortedError("sandbox fault: connection reset")
            abort()
            raise ClientDisconnected("sandbox fault: connection reset")
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

    @staticmethod
    def _fault_response(rule: FaultRule) -> Response:
        if rule.body is not None:
            return Response(rule.body, status=rule.status, mimetype="text/html")
        if rule.status == 429:
            message = f"Too many requests. Retry after {rule.retry_after} seconds."
        else:
            message = f"Injected fault: {HTTP_STATUS_CODES.get(rule.status, 'error')}."
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else None
        return _json_response(
            rule.status, {"error": {"code": _status_code_name(rule.status), "message": message}}, headers
        )

    def _dispatch(self, request: Request) -> Response:
        adapter = self._url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException:
            return self._not_found(request)
        if endpoint in ("get_lead", "get_action") and "search" in (
            args.get("lead_id"),
            args.get("action_id"),
        ):
            return self._not_found(request)  # search is POST only in TeleCRM
        args = dict(args)
        eid = args.pop("eid")
        is_async = endpoint == "autoupdatelead"
        try:
            token = self._bearer(request)
            if token != (self.async_token if is_async else self.sync_token):
                raise ApiError(401, "NOT_AUTHORIZED", NOT_AUTHORIZED)
            if eid != self.enterprise_id:
                if is_async:
                    raise ApiError(
                        401, "NOT_AUTHORIZED", f"Access token is not valid for enterprise with id {eid}."
                    )
                raise ApiError(404, "ENTERPRISE_NOT_FOUND", f"The enterprise with ID {eid} was not found.")
            retry_after = self.faults.check_rate("async" if is_async else "sync", token)
            if retry_after is not None:
                limit = self.faults.async_rate_limit_per_hour if is_async else self.faults.rate_limit_per_hour
                raise ApiError(
                    429,
                    "TOO_MANY_REQUESTS",
                    f"Rate limit of {limit} requests per hour per token exceeded. Retry after {retry_after} seconds.",
                    headers={"Retry-After": str(retry_after)},
                )
            handler = getattr(self, f"_api_{endpoint}")
            status, body = handler(request, **args)
            return _json_response(status, body)
        except ApiError as err:
            return _error_response(err)
        except Exception:
            log.exception("sandbox error on %s %s", request.method, request.path)
            return _json_response(
                500, {"error": {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error."}}
            )

    @staticmethod
    def _not_found(request: Request) -> Response:
        path = request.path
        if path.startswith("/autoupdate/v2/") or path.startswith("/enterprise/"):
            return _json_response(
                404, {"error": {"code": "NOT_FOUND", "message": f"Cannot {request.method} {path}"}}
            )
        body = f"<!DOCTYPE html>\n<html><head><title>Error</title></head><body><pre>Cannot {request.method} {html.escape(path)}</pre></body></html>\n"
        return Response(body, status=404, content_type="text/html; charset=utf-8")

    @staticmethod
    def _bearer(request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    # -- request parsing ------------------------------------------------------------------------

    @staticmethod
    def _body(request: Request, *, optional: bool = False) -> Any:
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

    @classmethod
    def _object_body(cls, request: Request, *, optional: bool = False) -> dict[str, Any]:
        body = cls._body(request, optional=optional)
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object.")
        return body

    @staticmethod
    def _paging(request: Request, max_limit: int, message: str) -> tuple[int, int]:
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

    @staticmethod
    def _flag(request: Request, name: str) -> bool:
        value = request.args.get(name)
        if value is None:
            return False
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad_request(f"{name} must be true or false")

    # -- Sync routes ----------------------------------------------------------------------------

    def _api_create_lead(self, request: Request) -> tuple[int, Any]:
        body = self._object_body(request)
        with self._lock:
            return 201, self._state.create_lead(body)

    def _api_get_lead(self, request: Request, lead_id: str) -> tuple[int, Any]:
        include = self._flag(request, "includeActions")
        skip, limit = self._paging(request, 100, LIMIT_100) if include else (0, 10)
        with self._lock:
            return 200, self._state.get_lead(lead_id, include_actions=include, skip=skip, limit=limit)

    def _api_update_lead(self, request: Request, lead_id: str) -> tuple[int, Any]:
        with self._lock:
            self._state._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        body = self._object_body(request)
        with self._lock:
            return 200, self._state.update_lead(lead_id, body)

    def _api_search_leads(self, request: Request) -> tuple[int, Any]:
        skip, limit = self._paging(request, 100, LIMIT_100)
        body = self._object_body(request, optional=True)
        with self._lock:
            return 200, self._state.search_leads(body, skip=skip, limit=limit)

    def _api_create_actions(self, request: Request, lead_id: str) -> tuple[int, Any]:
        with self._lock:
            self._state._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        body = self._object_body(request)
        with self._lock:
            return 200, self._state.create_actions(lead_id, body)

    def _api_get_action(self, request: Request, lead_id: str, action_id: str) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.get_action(lead_id, action_id)

    def _api_update_action(self, request: Request, lead_id: str, action_id: str) -> tuple[int, Any]:
        with self._lock:
            lead = self._state._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
            self._state._action_or_404(lead, action_id)
        body = self._object_body(request)
        with self._lock:
            return 200, self._state.update_action(lead_id, action_id, body)

    def _api_search_actions(self, request: Request, lead_id: str) -> tuple[int, Any]:
        with self._lock:
            self._state._lead_or_404(lead_id, "Lead with given ID was not found.")
        skip, limit = self._paging(request, 100, LIMIT_100)
        body = self._object_body(request, optional=True)
        with self._lock:
            return 200, self._state.search_actions(lead_id, body, skip=skip, limit=limit)

    def _api_list_members(self, request: Request) -> tuple[int, Any]:
        skip, limit = self._paging(request, 10, LIMIT_10)
        include_deleted = self._flag(request, "includeDeleted")
        with self._lock:
            return 200, self._state.list_members(skip=skip, limit=limit, include_deleted=include_deleted)

    def _api_create_member(self, request: Request) -> tuple[int, Any]:
        body = self._object_body(request)
        with self._lock:
            return 201, self._state.create_member(body)

    def _api_get_member(self, request: Request, email: str) -> tuple[int, Any]:
        include_deleted = self._flag(request, "includeDeleted")
        with self._lock:
            return 200, self._state.get_member(email, include_deleted=include_deleted)

    def _api_state_change(self, request: Request) -> tuple[int, Any]:
        body = self._object_body(request)
        with self._lock:
            return 200, self._state.change_state(body)

    def _api_metadata(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.metadata(self.enterprise_id)

    def _api_custom_fields(self, request: Request) -> tuple[int, Any]:
        detail = self._flag(request, "detail")
        with self._lock:
            return 200, self._state.custom_fields(detail=detail)

    def _api_custom_field(self, request: Request, api_name: str) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.custom_field(api_name)

    def _api_custom_actions(self, request: Request) -> tuple[int, Any]:
        detail = self._flag(request, "detail")
        with self._lock:
            return 200, self._state.custom_actions(detail=detail)

    def _api_custom_action(self, request: Request, code: str) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.custom_action(code)

    def _api_pipeline(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            return 200, self._state.lead_stage_pipeline()

    # -- Async route ----------------------------------------------------------------------------

    def _api_autoupdatelead(self, request: Request) -> tuple[int, Any]:
        body = self._body(request)
        self._enqueue_async(body)
        return 200, {"status": "QUEUED"}

    # -- admin API ------------------------------------------------------------------------------

    def _admin(self, request: Request) -> Response:
        adapter = self._admin_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException:
            return _json_response(
                404, {"error": {"code": "NOT_FOUND", "message": f"Cannot {request.method} {request.path}"}}
            )
        try:
            return getattr(self, f"_admin_{endpoint}")(request, **args)
        except ApiError as err:
            return _error_response(err)
        except (KeyError, ValueError, TypeError) as exc:
            return _json_response(400, {"error": {"code": "BAD_REQUEST", "message": str(exc).strip("'\"")}})

    @staticmethod
    def _wants_html(request: Request) -> bool:
        return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"

    def _admin_index(self, request: Request) -> Response:
        return _json_response(
            200,
            {
                "enterprise_id": self.enterprise_id,
                "routes": [r.rule for r in _ADMIN_ROUTES],
            },
        )

    def _admin_state(self, request: Request) -> Response:
        with self._lock:
            state = self._state
            counts = {
                "enterprise_id": self.enterprise_id,
                "leads": len(state.leads),
                "actions": len(state.actions),
                "team_members": len(state.members),
                "write_count": state.write_count,
            }
        with self._async_cv:
            counts["async_pending"] = len(self._async_queue) + int(self._async_busy)
        with self._log_lock:
            counts["requests"] = len(self.request_log)
        counts["faults"] = self.faults.snapshot()
        return _json_response(200, counts)

    def _admin_leads(self, request: Request) -> Response:
        leads = self.leads()
        if self._wants_html(request):
            return _html_page("Sandbox leads", _leads_table(leads))
        return _json_response(200, {"data": leads, "total_count": len(leads)})

    def _admin_lead(self, request: Request, lead_id: str) -> Response:
        lead = self.lead(lead_id)
        if lead is None:
            raise ApiError(404, "LEAD_NOT_FOUND", f"Lead with ID {lead_id} was not found.")
        actions = self.actions(lead_id)
        if self._wants_html(request):
            return _html_page(str(lead["fields"].get("name") or lead_id), _lead_html(lead, actions))
        return _json_response(200, {**lead, "actions": actions})

    def _admin_actions(self, request: Request, lead_id: str) -> Response:
        if self.lead(lead_id) is None:
            raise ApiError(404, "LEAD_NOT_FOUND", f"Lead with ID {lead_id} was not found.")
        return _json_response(200, {"data": self.actions(lead_id)})

    def _admin_builtin_action(self, request: Request, lead_id: str) -> Response:
        body = self._object_body(request)
        extra = {k: v for k, v in body.items() if k not in ("type", "created_on_ms", "performed_by")}
        if "type" not in body:
            raise bad_request("type is required")
        try:
            action_id = self.add_builtin_action(
                lead_id,
                body["type"],
                created_on_ms=body.get("created_on_ms"),
                performed_by=body.get("performed_by"),
                **extra,
            )
        except KeyError:
            raise ApiError(404, "LEAD_NOT_FOUND", f"Lead with ID {lead_id} was not found.") from None
        return _json_response(201, {"action_id": action_id})

    def _admin_requests(self, request: Request) -> Response:
        with self._log_lock:
            if request.method == "DELETE":
                self.request_log.clear()
            rows = [list(r) for r in self.request_log]
        return _json_response(200, {"data": rows})

    def _admin_faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            body = self._object_body(request)
            apply_fault_settings(self.faults, body)
        return _json_response(200, self.faults.snapshot())

    def _admin_drain_async(self, request: Request) -> Response:
        body = self._object_body(request, optional=True)
        return _json_response(200, {"drained": self.drain_async(float(body.get("timeout", 10.0)))})

    def _admin_reset(self, request: Request) -> Response:
        self.reset()
        return _json_response(200, {"reset": True})


def apply_fault_settings(faults: Faults, body: dict[str, Any]) -> None:
    """Apply a `POST /_sandbox/faults` body (keys as the `Faults` attributes and methods)."""
    known = {
        "clear",
        "latency",
        "write_latency",
        "async_delay",
        "rate_limit_per_hour",
        "async_rate_limit_per_hour",
        "fail_next",
        "fail_after_write_next",
        "reset_next",
    }
    unknown = sorted(set(body) - known)
    if unknown:
        raise bad_request(f"Unknown fault settings: {', '.join(unknown)}. Known: {', '.join(sorted(known))}")
    if body.get("clear"):
        faults.clear()
    for key in (
        "latency",
        "write_latency",
        "async_delay",
        "rate_limit_per_hour",
        "async_rate_limit_per_hour",
    ):
        if key in body:
            setattr(faults, key, body[key])
    for key in ("fail_next", "fail_after_write_next", "reset_next"):
        if key in body:
            spec = body[key]
            if not isinstance(spec, dict):
                raise bad_request(f"{key} must be an object")
            getattr(faults, key)(**spec)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# -- small HTML views for people clicking a lead link ----------------------------------------------

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}.muted{color:#777}"
)


def _html_page(title: str, body: str) -> Response:
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)} · TeleCRM sandbox</title>"
        f"<style>{_CSS}</style></head><body><p class='muted'>TeleCRM sandbox</p>{body}</body></html>"
    )
    return Response(page, content_type="text/html; charset=utf-8")


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return html.escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return html.escape(json.dumps(value, ensure_ascii=False))
    return html.escape("" if value is None else str(value))


def _leads_table(leads: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><a href='/_sandbox/leads/{html.escape(lead['id'])}'>{_cell(lead['fields'].get('name') or lead['id'])}</a></td>"
        f"<td>{_cell(lead['fields'].get('status'))}</td><td>{_cell(format_date(lead['created_on']))}</td></tr>"
        for lead in reversed(leads)
    )
    return f"<h1>Leads</h1><table><tr><th>Lead</th><th>Status</th><th>Created</th></tr>{rows}</table>"


def _lead_html(lead: dict[str, Any], actions: list[dict[str, Any]]) -> str:
    fields = "".join(f"<tr><th>{_cell(k)}</th><td>{_cell(v)}</td></tr>" for k, v in lead["fields"].items())
    timeline = "".join(
        f"<tr><td>{_cell(format_date(a['created_on']))}</td><td>{_cell(a['type'])}</td><td>{_cell(a['performed_by'])}</td>"
        f"<td>{_cell({k: v for k, v in a.items() if k not in ('type', 'action_id', 'created_on', 'performed_by')})}</td></tr>"
        for a in reversed(actions)
    )
    title = _cell(lead["fields"].get("name") or lead["id"])
    return (
        f"<h1>{title}</h1><p class='muted'>Lead {html.escape(lead['id'])} · created {_cell(format_date(lead['created_on']))}</p>"
        f"<h2>Fields</h2><table>{fields}</table>"
        f"<h2>Timeline</h2><table><tr><th>When</th><th>Type</th><th>By</th><th>Details</th></tr>{timeline}</table>"
    )
