"""The `/_sandbox/` admin API: look at the state, seed built-in actions, change or delete a lead as
the TeleCRM web app would, set faults, drain, reset.

No token, not logged and never faulted; errors are TeleCRM-style JSON envelopes. `GET leads` and
`GET leads/{id}` answer HTML to a browser (telecrm/sandbox/admin_pages.py), JSON otherwise.
"""

from __future__ import annotations

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .admin_pages import html_page, lead_html, leads_table
from .base import SandboxBase
from .errors import ApiError, bad_request
from .fault_injection import apply_fault_settings
from .request_parsing import object_body
from .responses import error_response, json_response

ADMIN_ROUTES = [
    Rule("/_sandbox/", methods=["GET"], endpoint="index"),
    Rule("/_sandbox/state", methods=["GET"], endpoint="state"),
    Rule("/_sandbox/leads", methods=["GET"], endpoint="leads"),
    Rule("/_sandbox/leads/<lead_id>", methods=["GET"], endpoint="lead"),
    Rule("/_sandbox/leads/<lead_id>", methods=["DELETE"], endpoint="delete_lead"),
    Rule("/_sandbox/leads/<lead_id>/change", methods=["POST"], endpoint="change_lead"),
    Rule("/_sandbox/leads/<lead_id>/actions", methods=["GET"], endpoint="actions"),
    Rule("/_sandbox/leads/<lead_id>/builtin-actions", methods=["POST"], endpoint="builtin_action"),
    Rule("/_sandbox/requests", methods=["GET", "DELETE"], endpoint="requests"),
    Rule("/_sandbox/faults", methods=["GET", "POST", "DELETE"], endpoint="faults"),
    Rule("/_sandbox/drain-async", methods=["POST"], endpoint="drain_async"),
    Rule("/_sandbox/reset", methods=["POST"], endpoint="reset"),
]
ADMIN_MAP = Map(ADMIN_ROUTES, merge_slashes=False, strict_slashes=False)


def _wants_html(request: Request) -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


class AdminRoutes(SandboxBase):
    """The admin endpoints, each `_admin_<endpoint>` of `ADMIN_ROUTES`."""

    def _admin(self, request: Request) -> Response:
        adapter = ADMIN_MAP.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException:
            return json_response(
                404, {"error": {"code": "NOT_FOUND", "message": f"Cannot {request.method} {request.path}"}}
            )
        try:
            return getattr(self, f"_admin_{endpoint}")(request, **args)
        except ApiError as err:
            return error_response(err)
        except (KeyError, ValueError, TypeError) as exc:
            return json_response(400, {"error": {"code": "BAD_REQUEST", "message": str(exc).strip("'\"")}})

    def _admin_index(self, request: Request) -> Response:
        return json_response(
            200,
            {
                "enterprise_id": self.enterprise_id,
                "routes": [r.rule for r in ADMIN_ROUTES],
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
        counts["async_pending"] = self._async.pending()
        counts["async"] = self.async_counts()
        with self._log_lock:
            counts["requests"] = len(self.request_log)
        counts["faults"] = self.faults.snapshot()
        return json_response(200, counts)

    def _admin_leads(self, request: Request) -> Response:
        leads = self.leads()
        if _wants_html(request):
            return html_page("Sandbox leads", leads_table(leads))
        return json_response(200, {"data": leads, "total_count": len(leads)})

    def _admin_lead(self, request: Request, lead_id: str) -> Response:
        lead = self.lead(lead_id)
        if lead is None:
            raise ApiError(404, "LEAD_NOT_FOUND", f"Lead with ID {lead_id} was not found.")
        actions = self.actions(lead_id)
        if _wants_html(request):
            return html_page(str(lead["fields"].get("name") or lead_id), lead_html(lead, actions))
        return json_response(200, {**lead, "actions": actions})

    def _admin_change_lead(self, request: Request, lead_id: str) -> Response:
        """``{"fields": {…}, "by": "member@…"}``: a change made in the TeleCRM web app, not the API.

        The lead page's form (``field``, ``value``, ``by``, form-encoded) changes one field and goes
        back to the page.
        """
        if request.mimetype == "application/x-www-form-urlencoded":
            field, value = request.form.get("field", "").strip(), request.form.get("value", "").strip()
            if value.lstrip("-").isdigit():  # numbers and ratings typed in the form
                value_typed: object = int(value)
            else:
                value_typed = value
            self.change_lead(lead_id, {field: value_typed}, by=request.form.get("by") or None)
            return Response(status=303, headers={"Location": f"/_sandbox/leads/{lead_id}"})
        body = object_body(request)
        fields = body.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise bad_request("fields must be a non-empty object")
        return json_response(200, self.change_lead(lead_id, fields, by=body.get("by")))

    def _admin_delete_lead(self, request: Request, lead_id: str) -> Response:
        if not self.delete_lead(lead_id):
            raise ApiError(404, "LEAD_NOT_FOUND", f"Lead with ID {lead_id} was not found.")
        return json_response(200, {"deleted": lead_id})

    def _admin_actions(self, request: Request, lead_id: str) -> Response:
        if self.lead(lead_id) is None:
            raise ApiError(404, "LEAD_NOT_FOUND", f"Lead with ID {lead_id} was not found.")
        return json_response(200, {"data": self.actions(lead_id)})

    def _admin_builtin_action(self, request: Request, lead_id: str) -> Response:
        body = object_body(request)
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
        return json_response(201, {"action_id": action_id})

    def _admin_requests(self, request: Request) -> Response:
        with self._log_lock:
            if request.method == "DELETE":
                self.request_log.clear()
            rows = [list(r) for r in self.request_log]
        return json_response(200, {"data": rows})

    def _admin_faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            body = object_body(request)
            apply_fault_settings(self.faults, body)
        return json_response(200, self.faults.snapshot())

    def _admin_drain_async(self, request: Request) -> Response:
        body = object_body(request, optional=True)
        return json_response(200, {"drained": self.drain_async(float(body.get("timeout", 10.0)))})

    def _admin_reset(self, request: Request) -> Response:
        self.reset()
        return json_response(200, {"reset": True})
