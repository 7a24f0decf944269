"""The emulator's HTTP side (WSGI): the Web API at ``/api/<method>``, response_urls at
``/response/<id>``, the browser page (slack_emulator/web.py), ``/healthz`` and message permalinks.

Every Web API call is checked as Slack checks it (token kind, known method), answered by
:class:`~slack_emulator.webapi.WebApi` or an injected fault (slack_emulator/faults.py), and recorded
in ``calls`` under the workspace's lock, so a test waiting for a change never sees it before its
call is recorded.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from . import directory
from .faults import WebApiFault, WebApiFaults
from .oauth import OAuthServer, PageError
from .socket_mode import SocketModeServer
from .state import Workspace
from .web import WebUI
from .webapi import ApiError, WebApi

# The scope each method needs (docs.slack.dev method pages), checked against the app's manifest; only
# the file methods for now, whose scopes an app adds late.
METHOD_SCOPES = {
    "files.info": "files:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}

# the name this module's log lines had when they were written from slack_emulator/emulator.py
logger = logging.getLogger("slack_emulator.emulator")


class Routes:
    """WSGI routing; a mixin of :class:`~slack_emulator.emulator.SlackEmulator`, whose constructor sets
    the attributes below (tokens are read at each call, so a test may change them)."""

    ws: Workspace
    api: WebApi
    web_faults: WebApiFaults
    socket: SocketModeServer
    ui: WebUI
    team_id: str
    bot_token: str
    app_token: str
    bot_scopes: set[str] | None
    clock: Callable[[], float]
    oauth: OAuthServer

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Web API at /api/<method>, response_urls at /response/<id>, the browser page at /."""
        request = Request(environ)
        path = request.path
        if path == "/oauth/v2/authorize":
            response = self._handle_authorize(request)
        elif self.ui.handles(path):
            response = self.ui.handle(request)
        elif path.startswith("/api/"):
            response = self._handle_api(request, path[len("/api/") :])
        elif path.startswith("/response/") and request.method == "POST":
            response = self._handle_response_url(request, path[len("/response/") :])
        elif path.startswith("/upload/v1/") and request.method == "POST":
            response = self._handle_upload(request, path[len("/upload/v1/") :])
        elif path.startswith("/files-pri/") and request.method in ("GET", "HEAD"):
            response = self._handle_file_download(request, path)
        elif path == "/healthz":
            response = _json({"ok": True, "emulator": "slack", "team_id": self.team_id})
        elif path.startswith("/archives/"):
            response = Response(f"permalink {path}", mimetype="text/plain")
        else:
            response = _json({"ok": False, "error": "not_found"}, status=404)
        return response(environ, start_response)

    def _fault(self, method: str, args: dict[str, Any], fault: WebApiFault, started: float) -> Response:
        """An injected failure: nothing happens in the workspace, the answer is Slack's error shape."""
        result = {"ok": False, "error": fault.error}
        self._record(method, args, result, started)
        response = _json(result, status=fault.status)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    def _request_args(self, request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.args.items())
        if request.method == "POST":
            if request.mimetype == "application/json":
                body = request.get_json(silent=True) if request.get_data() else {}
                if not isinstance(body, dict):
                    raise ApiError("invalid_json")
                args.update(body)
            else:
                args.update(request.form.items())
        return args

    def _token(self, request: Request, args: dict[str, Any]) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = args.get("token")
        return str(token) if token else None

    def _handle_api(self, request: Request, method: str) -> Response:
        """Runs under the state lock so a waiter never sees a change before its call is recorded."""
        with self.ws.cond:
            return self._handle_api_locked(request, method)

    def _handle_api_locked(self, request: Request, method: str) -> Response:
        started = self.clock()
        args: dict[str, Any] = {}
        team: str | None = None  # the workspace of the token the call was made with
        try:
            args = self._request_args(request)
            token = self._token(request, args)
            args.pop("token", None)
            if method == "apps.connections.open":
                result = self._connections_open(request)
            elif method == "oauth.v2.access":  # the app's client credentials, no token
                result = {"ok": True, **self.oauth.access(args, request.headers.get("Authorization", ""))}
                args = {k: v for k, v in args.items() if k != "client_secret"}
            else:
                if method not in self.api.methods:
                    raise ApiError("unknown_method", req_method=method)
                if not token:
                    raise ApiError("not_authed")
                if token.startswith("xapp-"):
                    raise ApiError("not_allowed_token_type")
                team = self._token_team(token)
                needed = _needed_scope(method, args)
                if needed and self.bot_scopes is not None and needed not in self.bot_scopes:
                    raise ApiError("missing_scope", needed=needed, provided=",".join(sorted(self.bot_scopes)))
                fault = self.web_faults.take(method)
                if fault is not None:
                    return self._fault(method, args, fault, started)
                result = self.api.call(method, args)
                if method == "auth.test":
                    result.update(team_id=team, team=self.oauth.teams.get(team, result["team"]))
        except ApiError as exc:
            result = {"ok": False, "error": exc.error, **exc.extra}
            if exc.messages:
                result["response_metadata"] = {"messages": exc.messages}
        except Exception:
            logger.exception("emulated %s crashed", method)
            result = {"ok": False, "error": "fatal_error"}
        self._record(method, args, result, started, team_id=team)
        if not result["ok"]:
            logger.info("%s refused: %s %s", method, result["error"], result.get("response_metadata", ""))
        return _json(result)

    def _token_team(self, token: str) -> str:
        """The team a bot token belongs to: the emulator's own token is its workspace's, a token
        from ``oauth.v2.access`` the team it was granted for, until it is revoked."""
        if token == self.bot_token:
            return self.team_id
        grant = self.oauth.grant(token)
        if grant is None:
            raise ApiError("invalid_auth")
        if grant.revoked:
            raise ApiError("token_revoked")
        return grant.team_id

    def _handle_authorize(self, request: Request) -> Response:
        """Slack's install page: GET shows it, POST is the person's choice (a redirect to the app)."""
        args = {k: v for k, v in (request.form if request.method == "POST" else request.args).items()}
        try:
            if request.method == "GET":
                with self.ws.cond:
                    users = list(self.ws.users.values())
                return Response(self.oauth.page(args, users), mimetype="text/html")
            if request.method != "POST":
                return Response("Method Not Allowed", status=405, mimetype="text/plain")
            if args.get("deny"):
                location = self.oauth.deny(args)
            else:
                user = args.get("user") or ""
                if user not in self.ws.users:
                    raise PageError("user_not_found: pick who you are")
                location = self.oauth.approve(args, team_id=args.get("team") or "", user_id=user)
        except PageError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
        return Response("", status=302, headers={"Location": location})

    def _connections_open(self, request: Request) -> dict[str, Any]:
        """Only an app-level token, and only in the Authorization header (Slack refuses it as a parameter)."""
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            raise ApiError("not_authed")
        if not token.startswith("xapp-"):
            raise ApiError("not_allowed_token_type")
        if token != self.app_token:
            raise ApiError("invalid_auth")
        return {"ok": True, "url": self.socket.open_url()}

    def _handle_response_url(self, request: Request, rid: str) -> Response:
        with self.ws.cond:
            return self._handle_response_url_locked(request, rid)

    def _handle_response_url_locked(self, request: Request, rid: str) -> Response:
        started = self.clock()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            body = dict(request.form.items()) if request.form else {}
        try:
            args = dict(body)
            self.api.decode_json_args(args)
            result = {"ok": True, **self.api.response_url(rid, args)}
            status = 200
        except ApiError as exc:
            result = {"ok": False, "error": exc.error}
            if exc.messages:
                result["response_metadata"] = {"messages": exc.messages}
            status = 404 if exc.error in ("expired_url", "used_url") else 400
        self._record("response_url", body, result, started)
        return _json(result, status=status)

    def _handle_upload(self, request: Request, key: str) -> Response:
        """An upload URL from files.getUploadURLExternal: raw bytes, or a multipart form with one file,
        no bigger than the length declared for it (plus room for a multipart envelope)."""
        with self.ws.cond:
            declared = self.ws.files.declared_length(key)
        if declared is None:
            return Response("Not Found", status=404, mimetype="text/plain")
        request.max_content_length = declared + 64 * 1024
        if (request.content_length or 0) > request.max_content_length:
            return Response("Request Entity Too Large", status=413, mimetype="text/plain")
        if request.mimetype == "multipart/form-data":
            part = next(iter(request.files.values()), None)
            data = part.read() if part is not None else b""
        else:
            data = request.get_data()
        started = self.clock()
        with self.ws.cond:
            stored = self.ws.files.receive(key, data)
            result: dict[str, Any] = {"ok": stored is not None, "bytes": len(data)}
            if stored is None:
                result["error"] = "upload_url_not_found"
            self._record("upload", {"bytes": len(data)}, result, started)
        if stored is None:
            return Response("Not Found", status=404, mimetype="text/plain")
        return Response(f"OK - {len(data)}", mimetype="text/plain")

    def _handle_file_download(self, request: Request, path: str) -> Response:
        """``url_private`` / ``url_private_download``: the bytes, to a bearer of the bot token when the
        bot can see the file; without a valid token, Slack's redirect to its sign-in page."""
        if self._token(request, {}) != self.bot_token:
            # what Slack's file servers answer a browser that is not signed in (no file, no JSON)
            return Response(
                "Found",
                status=302,
                mimetype="text/plain",
                headers={"Location": "/?" + urlencode({"redir": path})},
            )
        with self.ws.cond:
            stored = self.ws.files.by_private_path(path)
            visible = stored is not None and self.ws.files.visible_to(stored, directory.BOT_USER_ID)
            data = stored.data if stored is not None and visible else None
            mimetype = stored.mimetype if stored is not None else ""
            name = stored.name if stored is not None else ""
        if data is None:
            return Response("Not Found", status=404, mimetype="text/plain")
        response = Response(data, mimetype=mimetype)
        response.headers["Content-Length"] = str(len(data))
        if "/download/" in path:
            response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response

    def _record(
        self,
        method: str,
        args: dict[str, Any],
        result: dict[str, Any],
        started: float,
        *,
        team_id: str | None = None,
    ) -> None:
        with self.ws.cond:
            self.ws.calls.append(
                {
                    "method": method,
                    "args": copy.deepcopy(args),
                    "ok": result["ok"],
                    "error": result.get("error"),
                    "messages": list(result.get("response_metadata", {}).get("messages", [])),
                    "warnings": list(result.get("response_metadata", {}).get("warnings", [])),
                    "response": copy.deepcopy(result),
                    "at": started,
                    "team_id": team_id,
                }
            )
            self.ws.changed()


def _needed_scope(method: str, args: dict[str, Any]) -> str | None:
    """The scope a call needs: its method's, or ``files:read`` for a view with a file_input ("your app
    must have the files:read scope", docs.slack.dev, File input element)."""
    if method in ("views.open", "views.update", "views.push"):
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return None
        blocks = view.get("blocks") if isinstance(view, dict) else None
        elements = [b.get("element") for b in blocks or [] if isinstance(b, dict)]
        if any(isinstance(e, dict) and e.get("type") == "file_input" for e in elements):
            return "files:read"
    return METHOD_SCOPES.get(method)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")
