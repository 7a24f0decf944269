"""The TeleCRM API client: every Sync route and the Async upsert, as the bot calls them.

Each method builds one request (action types spelled as the route wants them,
:mod:`telecrm.action_types`), sends it through :mod:`telecrm.transport` (one pooled HTTP client;
failures become typed :mod:`telecrm.errors`) and reads the answer tolerantly with
:mod:`telecrm.readers` into :mod:`telecrm.models` objects (docs/TELECRM.md): real workspaces differ
from the documentation in key names and shapes. The client never retries by itself, because a write
that is retried blindly may be applied twice — the caller decides, using ``TeleCRMError.transient``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from telecrm.action_types import async_action_type, custom_action_code, sync_action_type, with_action_types
from telecrm.errors import TeleCRMAuthError, TeleCRMError, TeleCRMUnreadableAnswer
from telecrm.models import Lead, Page, WriteResult
from telecrm.readers import as_dict, parse_lead, parse_page, parse_write_result
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
from telecrm.transport import TeleCRMTransport

logger = logging.getLogger(__name__)

DEFAULT_SYNC_URL = "https://next.telecrm.in/autoupdate/v2"
DEFAULT_ASYNC_URL = "https://next-api.telecrm.in"
TEAM_PAGE_SIZE = 10  # the documented maximum of GET /team-members
_MAX_TEAM_PAGES = 1000  # a safety stop against a server that never ends its pages


def _range(value: tuple | list | Mapping | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    start, end = value
    return {k: v for k, v in (("from", start), ("to", end)) if v is not None}


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
        auth_remedy: str | None = None,
    ) -> None:
        """``auth_remedy``: what an admin does when TeleCRM refuses the token, said in the error (None:
        check the ``TELECRM_*`` settings; '' nothing, when the caller says it)."""
        self._transport = TeleCRMTransport(
            base_url=base_url,
            async_base_url=async_base_url or DEFAULT_ASYNC_URL,
            enterprise_id=enterprise_id,
            sync_token=sync_token,
            async_token=async_token,
            timeout=timeout,
            transport=transport,
            auth_remedy=auth_remedy,
        )

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def async_base_url(self) -> str:
        return self._transport.async_base_url

    @property
    def enterprise_id(self) -> str:
        return self._transport.enterprise_id

    @property
    def has_async_token(self) -> bool:
        """Whether an Async token is configured (bulk imports need one before anything starts)."""
        return self._transport.has_async_token

    def __repr__(self) -> str:
        return f"TeleCRMClient(base_url={self.base_url!r}, enterprise_id={self.enterprise_id!r})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> TeleCRMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- leads ------------------------------------------------------------------------------------

    def create_lead(
        self, fields: Mapping[str, Any], actions: list[Mapping[str, Any]] | None = None
    ) -> WriteResult:
        body: dict[str, Any] = {"fields": dict(fields)}
        if actions:
            body["actions"] = with_action_types(actions, sync_action_type)
        return parse_write_result(as_dict(self._transport.post("lead", body=body)))

    def get_lead(
        self, lead_id: str, *, include_actions: bool = False, skip: int = 0, limit: int = 10
    ) -> Lead:
        params = {"includeActions": True, "skip": skip, "limit": limit} if include_actions else None
        return parse_lead(as_dict(self._transport.get("lead", lead_id, params=params)), lead_id=lead_id)

    def update_lead(self, lead_id: str, fields: Mapping[str, Any]) -> Lead:
        body = self._transport.post("lead", lead_id, body={"fields": dict(fields)})
        return parse_lead(as_dict(body), lead_id=lead_id)

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
        answer = self._transport.post("lead", "search", body=body, params={"skip": skip, "limit": limit})
        return parse_page(answer, parse_lead, skip=skip, limit=limit)

    def find_lead_by_identifier(self, api_name: str, value: object) -> Lead | None:
        """The lead whose identifier field equals ``value`` (the caller normalises phones first)."""
        page = self.search_leads({api_name: value}, limit=1)
        return page.items[0] if page.items else None

    # --- actions ----------------------------------------------------------------------------------

    def create_actions(self, lead_id: str, actions: list[Mapping[str, Any]]) -> WriteResult:
        body = {"actions": with_action_types(actions, sync_action_type)}
        return parse_write_result(
            as_dict(self._transport.post("lead", lead_id, "action", body=body)), lead_id=lead_id
        )

    def get_action(self, lead_id: str, action_id: str) -> dict[str, Any]:
        return as_dict(self._transport.get("lead", lead_id, "action", action_id))

    def update_action(self, lead_id: str, action_id: str, action: Mapping[str, Any]) -> dict[str, Any]:
        body = with_action_types([action], sync_action_type)[0]
        return as_dict(self._transport.post("lead", lead_id, "action", action_id, body=body))

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
        answer = self._transport.post(
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
        answer = self._transport.get("team-members", params=params)
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
        return parse_team_member(as_dict(self._transport.post("team-members", body=body)))

    def get_team_member(self, email: str, include_deleted: bool = False) -> TeamMember:
        params = {"includeDeleted": True} if include_deleted else None
        return parse_team_member(as_dict(self._transport.get("team-members", email.strip(), params=params)))

    def change_member_state(self, email: str, state: str) -> dict[str, Any]:
        """Availability (``Active``, ``Inactive``, ``On Leave``, ``Working``); note the singular route."""
        return as_dict(
            self._transport.post("teammember", "state_change", body={"email": email.strip(), "state": state})
        )

    # --- enterprise metadata ----------------------------------------------------------------------

    def get_metadata(self) -> dict[str, Any]:
        return as_dict(self._transport.get("metadata"))

    def custom_fields_raw(self, detail: bool = True) -> list[dict[str, Any]]:
        body = as_dict(self._transport.get("custom-fields", params={"detail": detail}))
        raw = body.get("customFields", body.get("data", []))
        return [dict(r) for r in raw or [] if isinstance(r, Mapping)]

    def list_custom_fields(self, detail: bool = True) -> tuple[FieldDef, ...]:
        return parse_custom_fields({"customFields": self.custom_fields_raw(detail)})

    def get_custom_field(self, api_name: str) -> FieldDef:
        return parse_field(as_dict(self._transport.get("custom-fields", api_name)))

    def custom_actions_raw(self, detail: bool = True) -> list[dict[str, Any]]:
        body = as_dict(self._transport.get("custom-actions", params={"detail": detail}))
        raw = body.get("customActions", body.get("data", []))
        return [dict(r) for r in raw or [] if isinstance(r, Mapping)]

    def list_custom_actions(self, detail: bool = True) -> tuple[CustomActionDef, ...]:
        return parse_custom_actions({"customActions": self.custom_actions_raw(detail)})

    def get_custom_action(self, code: str | int) -> CustomActionDef:
        """``code`` as ``1001`` or ``ACTION_1001``; the route needs the ``ACTION_`` form."""
        return parse_custom_action(as_dict(self._transport.get("custom-actions", custom_action_code(code))))

    def get_pipeline(self) -> tuple[tuple[StatusDef, ...], tuple[LostReasonDef, ...]]:
        return parse_pipeline(as_dict(self._transport.get("lead-stage-pipeline")))

    # --- async ------------------------------------------------------------------------------------

    def async_upsert(
        self, fields: Mapping[str, Any], actions: list[Mapping[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Create-or-update through the Async API. ``{"status": "QUEUED"}`` means accepted, not applied.

        That answer is the only one the Async docs give for success; any other 2xx answer (another
        status, no status, not an object) is a failure (:class:`TeleCRMUnreadableAnswer`: whether
        the request was queued is unknown).
        """
        if not self._transport.has_async_token:
            raise TeleCRMAuthError("No TeleCRM Async token is configured (TELECRM_ASYNC_TOKEN).")
        body: dict[str, Any] = {"fields": dict(fields)}
        if actions:
            body["actions"] = with_action_types(actions, async_action_type)
        answer = self._transport.post_async("autoupdatelead", body)
        if not isinstance(answer, Mapping) or answer.get("status") != "QUEUED":
            raise TeleCRMUnreadableAnswer(
                'TeleCRM\'s Async API did not answer {"status": "QUEUED"} '
                f"(it answered {mask(json.dumps(answer, ensure_ascii=False))[:200]}), so the lead may not have been queued.",
                status=200,
            )
        return dict(answer)

    # --- everything the bot caches ----------------------------------------------------------------

    def fetch_schema(self) -> WorkspaceSchema:
        """Read the workspace's fields, actions, pipeline and team into one :class:`WorkspaceSchema`.

        The five reads are independent, so they run at once (a first start waits for the slowest
        one, not for their sum); the first failure is raised, after the others have finished.
        """
        with ThreadPoolExecutor(max_workers=5, thread_name_prefix="schema-fetch") as pool:
            metadata_read = pool.submit(self.get_metadata)
            fields_read = pool.submit(self.custom_fields_raw, True)
            actions_read = pool.submit(self._custom_actions_in_full)
            pipeline_read = pool.submit(self.get_pipeline)
            members_read = pool.submit(self.all_team_members)
            metadata, raw_fields, actions = (
                metadata_read.result(),
                fields_read.result(),
                actions_read.result(),
            )
            (statuses, lost_reasons), members = pipeline_read.result(), members_read.result()
        fields = parse_custom_fields({"customFields": raw_fields})
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

    def _custom_actions_in_full(self) -> list[CustomActionDef]:
        """Every custom action with its ``fieldSchema``: a summary without one is read on its own."""
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
        return actions
