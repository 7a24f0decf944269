"""The TeleCRM API client: every Sync route and the Async upsert, behind one pooled HTTP client.

Answers are read tolerantly (docs/TELECRM.md): real workspaces differ from the documentation in key names
and shapes, so ids, statuses and pages are looked for in every place TeleCRM is known to put them.
Failures become typed :mod:`telecrm.errors`; the client never retries by itself, because a write that
is retried blindly may be applied twice — the caller decides, using ``TeleCRMError.transient``.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from telecrm.errors import (
    TeleCRMAuthError,
    TeleCRMError,
    TeleCRMNotReached,
    TeleCRMUnavailable,
    TeleCRMUnreadableAnswer,
    error_class_for,
)
from telecrm.redact import mask
from telecrm.schema import (
    CustomActionDef,
    FieldDef,
    LostReasonDef,
    StatusDef,
    TeamMember,
    WorkspaceSchema,
    identifier_from,
    parse_custom_action,
    parse_custom_actions,
    parse_custom_fields,
    parse_field,
    parse_pipeline,
    parse_team_member,
)

logger = logging.getLogger(__name__)

DEFAULT_SYNC_URL = "https://next.telecrm.in/autoupdate/v2"
DEFAULT_ASYNC_URL = "https://next-api.telecrm.in"
TEAM_PAGE_SIZE = 10  # the documented maximum of GET /team-members
_MAX_TEAM_PAGES = 1000  # a safety stop against a server that never ends its pages

_LEAD_ID_KEYS = ("id", "_id", "leadId", "lead_id")
# Standard fields some workspaces return at a search row's top level instead of inside ``fields``.
_TOP_LEVEL_FIELDS = ("status", "rating", "name", "phone", "email", "assignee")

T = TypeVar("T")


# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionOutcome:
    """One entry of a write's ``actions`` array, in request order; ``IGNORED`` means not stored."""

    action_id: str | None
    status: str

    @property
    def created(self) -> bool:
        return self.action_id is not None and self.status.upper() != "IGNORED"


@dataclass(frozen=True)
class Remark:
    """A part of a write that TeleCRM dropped, e.g. ``fields.rating``: "Rating must be between 1 and 5"."""

    field: str
    status: str
    remark: str


@dataclass(frozen=True)
class WriteResult:
    """The answer to a create: ids of what was stored and remarks for what was not."""

    lead_id: str | None
    actions: list[ActionOutcome] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)

    @property
    def ignored_actions(self) -> list[int]:
        """Indexes (request order) of actions TeleCRM did not store."""
        return [i for i, a in enumerate(self.actions) if not a.created]


@dataclass(frozen=True)
class Lead:
    id: str | None
    fields: dict[str, Any]
    actions: list[dict[str, Any]] = field(default_factory=list)
    actions_skip: int | None = None
    actions_limit: int | None = None

    @property
    def status(self) -> str | None:
        value = self.fields.get("status")
        return None if value is None else str(value)

    @property
    def name(self) -> str | None:
        value = self.fields.get("name")
        return None if value is None else str(value)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total_count: int
    skip: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.skip + len(self.items) < self.total_count


# --- tolerant readers ------------------------------------------------------------------------------


def _as_int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload]  # TeleCRM's answer is untyped; bad values fall to except
    except (TypeError, ValueError):
        return default


def _id_string(value: object) -> str | None:
    if isinstance(value, Mapping):  # e.g. {"$oid": "..."}
        value = value.get("$oid") or value.get("id")
    if value is None or value == "":
        return None
    return str(value)


def parse_write_result(body: Mapping[str, Any], *, lead_id: str | None = None) -> WriteResult:
    actions = []
    for raw in body.get("actions") or []:
        if isinstance(raw, Mapping):
            action_id = _id_string(raw.get("action_id") or raw.get("actionId") or raw.get("id"))
            actions.append(
                ActionOutcome(action_id, str(raw.get("status") or ("CREATED" if action_id else "IGNORED")))
            )
    remarks = []
    for raw in body.get("remarks") or []:
        if isinstance(raw, Mapping):
            remarks.append(
                Remark(
                    field=str(raw.get("field") or ""),
                    status=str(raw.get("status") or "IGNORED"),
                    remark=str(raw.get("remark") or raw.get("message") or ""),
                )
            )
        elif raw:
            remarks.append(Remark("", "IGNORED", str(raw)))
    found_id = None
    for key in ("lead_id", *_LEAD_ID_KEYS):
        found_id = _id_string(body.get(key))
        if found_id:
            break
    return WriteResult(lead_id=found_id or lead_id, actions=actions, remarks=remarks)


def parse_lead(body: Mapping[str, Any], *, lead_id: str | None = None) -> Lead:
    """A lead from get/update answers or from a search row (id and status wherever they are)."""
    fields = body.get("fields")
    fields = dict(fields) if isinstance(fields, Mapping) else {}
    for key in _TOP_LEVEL_FIELDS:
        if key not in fields and key in body and not isinstance(body[key], (Mapping, list)):
            fields[key] = body[key]
    found_id = None
    for key in _LEAD_ID_KEYS:
        found_id = _id_string(body.get(key))
        if found_id:
            break
    actions = body.get("actions")
    has_slice = "actions_skip" in body or "actions_limit" in body
    return Lead(
        id=found_id or lead_id,
        fields=fields,
        actions=[dict(a) for a in actions if isinstance(a, Mapping)] if isinstance(actions, list) else [],
        actions_skip=_as_int(body.get("actions_skip"), 0) if has_slice else None,
        actions_limit=_as_int(body.get("actions_limit"), 0) if has_slice else None,
    )


def parse_page(body: object, item: Callable[[Mapping[str, Any]], T], *, skip: int, limit: int) -> Page[T]:
    envelope: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    rows: list[Any] = (
        body
        if isinstance(body, list)
        else next(
            (envelope[k] for k in ("data", "items", "results", "leads") if isinstance(envelope.get(k), list)),
            [],
        )
    )
    items = [item(r) for r in rows if isinstance(r, Mapping)]
    total = envelope.get("total_count", envelope.get("totalCount", envelope.get("total")))
    real_skip = _as_int(envelope.get("skip"), skip)
    return Page(
        items=items,
        total_count=_as_int(total, real_skip + len(items)),
        skip=real_skip,
        limit=_as_int(envelope.get("limit"), limit),
    )


def sync_action_type(value: object) -> str:
    """Sync payloads use the bare custom action code (``"1001"``), never ``ACTION_1001``."""
    text = str(value).strip()
    if text.upper().startswith("ACTION_") and text[7:].isdigit():
        return text[7:]
    return text


def async_action_type(value: object) -> str:
    """The Async API needs ``ACTION_1001``; a bare code would be silently dropped there."""
    text = str(value).strip()
    return f"ACTION_{text}" if text.isdigit() else text


def custom_action_code(code: object) -> str:
    """The metadata path form: ``1001`` / ``action_1001`` → ``ACTION_1001``."""
    text = str(code).strip()
    if text.isdigit():
        return f"ACTION_{text}"
    if text.upper().startswith("ACTION_"):
        return "ACTION_" + text[7:]
    return text


def _with_action_types(actions: Iterable[Mapping[str, Any]], convert: Callable[[object], str]) -> list[dict]:
    out = []
    for action in actions:
        copy = dict(action)
        if "type" in copy:
            copy["type"] = convert(copy["type"])
        out.append(copy)
    return out


def _range(value: tuple | list | Mapping | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    start, end = value
    return {k: v for k, v in (("from", start), ("to", end)) if v is not None}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` is either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC).timestamp()
    return max(0.0, when.timestamp() - current)


# --- the client ------------------------------------------------------------------------------------


class TeleCRMClient:
    """One TeleCRM workspace, reached through one pooled ``httpx.Client`` with explicit timeouts."""

    def __init__(
        self,
        *,
        base_url: str,
        enterprise_id: str,
        sync_token: str,
        async_base_url: str | None = None,
        async_token: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.async_base_url = (async_base_url or DEFAULT_ASYNC_URL).rstrip("/")
        self.enterprise_id = enterprise_id
        self._sync_token = sync_token
        self._async_token = async_token
        self._secrets = tuple(t for t in (sync_token, async_token) if t)
        self._http = httpx.Client(
            timeout=httpx.Timeout(connect=min(timeout, 5.0), read=timeout, write=timeout, pool=timeout),
            # keep-alive = max: with fewer, httpcore 1.0 may close an idle connection another thread
            # has just been given (EBADF, or a read that hangs until the timeout)
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
            headers={"Accept": "application/json", "User-Agent": "telecrm-slack"},
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"TeleCRMClient(base_url={self.base_url!r}, enterprise_id={self.enterprise_id!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TeleCRMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport --------------------------------------------------------------------------------

    def _path(self, *segments: object) -> str:
        quoted = "/".join(quote(str(s), safe="@") for s in segments)
        return f"/enterprise/{quote(self.enterprise_id, safe='')}/{quoted}"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = None,
        use_async: bool = False,
    ) -> Any:
        base, token = (
            (self.async_base_url, self._async_token) if use_async else (self.base_url, self._sync_token)
        )
        headers = {"Authorization": f"Bearer {token}"}
        if json is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            response = self._http.request(method, base + path, params=params, json=json, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._log(method, path, "not reached", started)
            raise TeleCRMNotReached(
                f"Could not reach TeleCRM: {self._scrub(str(exc)) or type(exc).__name__}."
            ) from exc
        except httpx.TimeoutException as exc:
            self._log(method, path, "timeout", started)
            raise TeleCRMUnavailable(f"TeleCRM did not answer in time ({type(exc).__name__}).") from exc
        except httpx.HTTPError as exc:
            self._log(method, path, "network error", started)
            raise TeleCRMUnavailable(
                f"Could not reach TeleCRM: {self._scrub(str(exc)) or type(exc).__name__}."
            ) from exc
        self._log(method, path, response.status_code, started)
        return self._read(response, use_async=use_async)

    def _log(self, method: str, path: str, outcome: object, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = (time.monotonic() - started) * 1000
            logger.debug("TeleCRM %s %s -> %s in %.0f ms", method, mask(path), outcome, elapsed)

    def _read(self, response: httpx.Response, *, use_async: bool = False) -> Any:
        status = response.status_code
        try:
            body = response.json() if response.content else None
            is_json = True
        except ValueError:
            body, is_json = None, False
        if 200 <= status < 300:
            if not is_json:
                raise TeleCRMUnreadableAnswer(
                    f"TeleCRM answered {status} with something that is not JSON; check the API base URL.",
                    status=status,
                )
            return {} if body is None else body
        code, message, details = self._error_parts(body)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if not is_json:
            kind = (
                "an HTML page"
                if "html" in response.headers.get("Content-Type", "").lower()
                else "a non-JSON answer"
            )
            raise TeleCRMUnavailable(
                f"TeleCRM answered {status} with {kind}; check the API base URL (TELECRM_API_URL).",
                status=status,
                retry_after=retry_after,
            )
        if status == 401:
            variable = "TELECRM_ASYNC_TOKEN" if use_async else "TELECRM_SYNC_TOKEN"
            message = (
                f"The TeleCRM token was rejected ({message or 'not authorized'}); "
                f"check {variable} and TELECRM_ENTERPRISE_ID."
            )
            raise TeleCRMAuthError(message, status=status, code=code, details=details)
        cls = error_class_for(status)
        default = f"TeleCRM answered HTTP {status}"
        raise cls(message or default, status=status, code=code, details=details, retry_after=retry_after)

    def _error_parts(self, body: object) -> tuple[str | None, str, list[Any]]:
        """The ``{"error": {"code", "message"}}`` envelope, or any looser shape an error body might take."""
        if not isinstance(body, Mapping):
            return None, self._scrub(str(body)) if body else "", []
        error = body.get("error", body)
        if isinstance(error, str):
            return (str(body["code"]) if body.get("code") else None), self._scrub(error), []
        if not isinstance(error, Mapping):
            return None, "", []
        code = error.get("code")
        message = error.get("message") or body.get("message") or ""
        details = error.get("details") or body.get("details") or body.get("errors") or []
        return (
            str(code) if code else None,
            self._scrub(str(message)),
            details if isinstance(details, list) else [details],
        )

    def _get(self, *segments: object, params: Mapping[str, Any] | None = None) -> Any:
        return self._request("GET", self._path(*segments), params=params)

    def _post(self, *segments: object, body: object, params: Mapping[str, Any] | None = None) -> Any:
        return self._request("POST", self._path(*segments), json=body, params=params)

    @staticmethod
    def _dict(body: object) -> dict[str, Any]:
        return dict(body) if isinstance(body, Mapping) else {}

    # --- leads ------------------------------------------------------------------------------------

    def create_lead(
        self, fields: Mapping[str, Any], actions: list[Mapping[str, Any]] | None = None
    ) -> WriteResult:
        body: dict[str, Any] = {"fields": dict(fields)}
        if actions:
            body["actions"] = _with_action_types(actions, sync_action_type)
        return parse_write_result(self._dict(self._post("lead", body=body)))

    def get_lead(
        self, lead_id: str, *, include_actions: bool = False, skip: int = 0, limit: int = 10
    ) -> Lead:
        params = {"includeActions": True, "skip": skip, "limit": limit} if include_actions else None
        return parse_lead(self._dict(self._get("lead", lead_id, params=params)), lead_id=lead_id)

    def update_lead(self, lead_id: str, fields: Mapping[str, Any]) -> Lead:
        body = self._post("lead", lead_id, body={"fields": dict(fields)})
        return parse_lead(self._dict(body), lead_id=lead_id)

    def search_leads(
        self,
        fields: Mapping[str, Any] | None = None,
        actions: Mapping[str, Any] | None = None,
        *,
        skip: int = 0,
        limit: int = 10,
    ) -> Page[Lead]:
        body: dict[str, Any] = {}
        if fields:
            body["fields"] = dict(fields)
        if actions:
            filters = dict(actions)
            if "type" in filters:
                kinds = filters["type"]
                filters["type"] = (
                    [sync_action_type(k) for k in kinds]
                    if isinstance(kinds, list)
                    else sync_action_type(kinds)
                )
            body["actions"] = filters
        answer = self._post("lead", "search", body=body, params={"skip": skip, "limit": limit})
        return parse_page(answer, parse_lead, skip=skip, limit=limit)

    def find_lead_by_identifier(self, api_name: str, value: object) -> Lead | None:
        """The lead whose identifier field equals ``value`` (the caller normalises phones first)."""
        page = self.search_leads({api_name: value}, limit=1)
        return page.items[0] if page.items else None

    # --- actions ----------------------------------------------------------------------------------

    def create_actions(self, lead_id: str, actions: list[Mapping[str, Any]]) -> WriteResult:
        body = {"actions": _with_action_types(actions, sync_action_type)}
        return parse_write_result(
            self._dict(self._post("lead", lead_id, "action", body=body)), lead_id=lead_id
        )

    def get_action(self, lead_id: str, action_id: str) -> dict[str, Any]:
        return self._dict(self._get("lead", lead_id, "action", action_id))

    def update_action(self, lead_id: str, action_id: str, action: Mapping[str, Any]) -> dict[str, Any]:
        body = _with_action_types([action], sync_action_type)[0]
        return self._dict(self._post("lead", lead_id, "action", action_id, body=body))

    def search_actions(
        self,
        lead_id: str,
        *,
        type: str | None = None,
        created_on: tuple | Mapping | None = None,
        performed_by: str | list[str] | None = None,
        skip: int = 0,
        limit: int = 10,
    ) -> Page[dict[str, Any]]:
        body: dict[str, Any] = {}
        if type:
            body["type"] = sync_action_type(type)
        window = _range(created_on)
        if window:
            body["created_on"] = window
        if performed_by:
            body["performed_by"] = performed_by
        answer = self._post(
            "lead", lead_id, "action", "search", body=body, params={"skip": skip, "limit": limit}
        )
        return parse_page(answer, dict, skip=skip, limit=limit)

    # --- team members -----------------------------------------------------------------------------

    def list_team_members(
        self, *, skip: int = 0, limit: int = TEAM_PAGE_SIZE, include_deleted: bool = False
    ) -> Page[TeamMember]:
        params: dict[str, Any] = {"skip": skip, "limit": limit}
        if include_deleted:
            params["includeDeleted"] = True
        answer = self._get("team-members", params=params)
        return parse_page(answer, parse_team_member, skip=skip, limit=limit)

    def all_team_members(self, include_deleted: bool = False) -> list[TeamMember]:
        """Every member, fetched in pages of 10 (the API's maximum)."""
        members: list[TeamMember] = []
        skip = 0
        for _ in range(_MAX_TEAM_PAGES):
            page = self.list_team_members(skip=skip, limit=TEAM_PAGE_SIZE, include_deleted=include_deleted)
            members.extend(page.items)
            skip += len(page.items)
            if not page.items or skip >= page.total_count:
                break
        else:
            logger.warning("Stopped reading team members after %d pages", _MAX_TEAM_PAGES)
        return members

    def create_team_member(
        self, *, name: str, email: str, phone_number: str, role: str, password: str | None = None
    ) -> TeamMember:
        body = {"name": name, "email": email, "phone_number": phone_number, "role": role}
        if password:
            body["password"] = password
        return parse_team_member(self._dict(self._post("team-members", body=body)))

    def get_team_member(self, email: str, include_deleted: bool = False) -> TeamMember:
        params = {"includeDeleted": True} if include_deleted else None
        return parse_team_member(self._dict(self._get("team-members", email.strip(), params=params)))

    def change_member_state(self, email: str, state: str) -> dict[str, Any]:
        """Availability (``Active``, ``Inactive``, ``On Leave``, ``Working``); note the singular route."""
        return self._dict(
            self._post("teammember", "state_change", body={"email": email.strip(), "state": state})
        )

    # --- enterprise metadata ----------------------------------------------------------------------

    def get_metadata(self) -> dict[str, Any]:
        return self._dict(self._get("metadata"))

    def custom_fields_raw(self, detail: bool = True) -> list[dict[str, Any]]:
        body = self._dict(self._get("custom-fields", params={"detail": detail}))
        raw = body.get("customFields", body.get("data", []))
        return [dict(r) for r in raw or [] if isinstance(r, Mapping)]

    def list_custom_fields(self, detail: bool = True) -> tuple[FieldDef, ...]:
        return parse_custom_fields({"customFields": self.custom_fields_raw(detail)})

    def get_custom_field(self, api_name: str) -> FieldDef:
        return parse_field(self._dict(self._get("custom-fields", api_name)))

    def custom_actions_raw(self, detail: bool = True) -> list[dict[str, Any]]:
        body = self._dict(self._get("custom-actions", params={"detail": detail}))
        raw = body.get("customActions", body.get("data", []))
        return [dict(r) for r in raw or [] if isinstance(r, Mapping)]

    def list_custom_actions(self, detail: bool = True) -> tuple[CustomActionDef, ...]:
        return parse_custom_actions({"customActions": self.custom_actions_raw(detail)})

    def get_custom_action(self, code: str | int) -> CustomActionDef:
        """``code`` as ``1001`` or ``ACTION_1001``; the route needs the ``ACTION_`` form."""
        return parse_custom_action(self._dict(self._get("custom-actions", custom_action_code(code))))

    def get_pipeline(self) -> tuple[tuple[StatusDef, ...], tuple[LostReasonDef, ...]]:
        return parse_pipeline(self._dict(self._get("lead-stage-pipeline")))

    # --- async ------------------------------------------------------------------------------------

    def async_upsert(
        self, fields: Mapping[str, Any], actions: list[Mapping[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Create-or-update through the Async API. ``{"status": "QUEUED"}`` means accepted, not applied."""
        if not self._async_token:
            raise TeleCRMAuthError("No TeleCRM Async token is configured (TELECRM_ASYNC_TOKEN).")
        body: dict[str, Any] = {"fields": dict(fields)}
        if actions:
            body["actions"] = _with_action_types(actions, async_action_type)
        path = f"/enterprise/{quote(self.enterprise_id, safe='')}/autoupdatelead"
        return self._dict(self._request("POST", path, json=body, use_async=True))

    # --- everything the bot caches ----------------------------------------------------------------

    def fetch_schema(self) -> WorkspaceSchema:
        """Read the workspace's fields, actions, pipeline and team into one :class:`WorkspaceSchema`."""
        metadata = self.get_metadata()
        raw_fields = self.custom_fields_raw(detail=True)
        fields = parse_custom_fields({"customFields": raw_fields})
        actions = []
        for raw in self.custom_actions_raw(detail=True):
            if "fieldSchema" not in raw and raw.get("code"):
                try:
                    actions.append(self.get_custom_action(str(raw["code"])))
                    continue
                except TeleCRMError as exc:
                    if exc.transient:
                        raise
                    logger.warning("Custom action %s has no readable definition: %s", raw.get("code"), exc)
            actions.append(parse_custom_action(raw))
        statuses, lost_reasons = self.get_pipeline()
        members = self.all_team_members()
        return WorkspaceSchema(
            fields=fields,
            identifier_api_name=identifier_from(metadata, fields, raw_fields),
            statuses=statuses,
            lost_reasons=lost_reasons,
            custom_actions=tuple(a for a in actions if a.code),
            team_members=tuple(members),
            enterprise_name=str(metadata.get("name") or ""),
            fetched_at=time.time(),
        )
