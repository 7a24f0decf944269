"""Leads: create, get, update and search through the Sync API, and the Async API's upsert.

Built on the action operations because a lead is created with its actions in one request.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from typing import Any

from .actions import ActionOps
from .errors import ApiError, bad_request, invalid_filter, remark
from .values import DroppedValue, InvalidValue, is_number, parse_date, parse_decimal, phone_match_keys
from .workspace import SYSTEM_FIELDS, FieldDef

# one logger name for the state's log lines, as when all of it was telecrm/sandbox/state.py
log = logging.getLogger("telecrm.sandbox.state")


class LeadOps(ActionOps):
    """The lead operations (see telecrm/sandbox/core.py for the layers)."""

    def _body_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise bad_request("Request body must contain a 'fields' object.")
        return fields

    def create_lead(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = self._body_fields(body)
        raw_actions = body.get("actions", [])
        if not isinstance(raw_actions, list):
            raise bad_request("'actions' must be an array.")
        ident = self.identifier
        if ident not in fields:
            raise ApiError(400, "INVALID_LEAD", f"Lead identifier field '{ident}' not found in request body.")
        try:
            ident_value = self._check_identifier(fields[ident])
        except (InvalidValue, DroppedValue) as exc:
            reason = exc.remark if isinstance(exc, InvalidValue) else "value not accepted"
            raise ApiError(
                400, "INVALID_LEAD", f"Lead identifier field '{ident}' is invalid: {reason}"
            ) from exc
        existing = self._by_identifier.get(self._identifier_key(ident_value) or "")
        if existing is not None:
            stored = self.leads[existing]["fields"][ident]
            raise ApiError(409, "LEAD_ALREADY_EXISTS", f"Lead with {ident} {stored} already exists.")
        remarks: list[dict[str, str]] = []
        clean: dict[str, Any] = {ident: ident_value}
        for api, value in fields.items():
            if api == ident:
                continue
            fdef = self.fields.get(api)
            if fdef is None:
                text = (
                    f"Field '{api}' is read-only"
                    if api in SYSTEM_FIELDS
                    else f"Field '{api}' is not defined in this workspace (API names are case-sensitive)"
                )
                remarks.append(remark(f"fields.{api}", text))
                continue
            try:
                clean[api] = self._check_field(fdef, value)
            except InvalidValue as exc:
                remarks.append(remark(f"fields.{api}", exc.remark))
            except DroppedValue:
                continue
        self._apply_defaults(clean)
        for api, value in clean.items():
            self._commit_options(self.fields[api], value)
        lead = self._new_lead(clean)
        results = self._store_actions(lead, raw_actions, remarks, mode="sync")
        self.write_count += 1
        return {"lead_id": lead["id"], "actions": results, "remarks": remarks}

    def _apply_defaults(self, clean: dict[str, Any]) -> None:
        status_field = next((f for f in self.fields.values() if f.type == "STATUS"), None)
        if status_field is not None and status_field.api_name not in clean:
            default = self.default_status()
            if default is not None:
                clean[status_field.api_name] = default

    def get_lead(self, lead_id: str, *, include_actions: bool, skip: int, limit: int) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"The lead with ID {lead_id} was not found.")
        out: dict[str, Any] = {"fields": self.render_fields(lead)}
        if include_actions:
            rows = self._sorted_actions(lead)
            out["actions"] = [self.render_action(a) for a in rows[skip : skip + limit]]
            out["actions_skip"] = skip
            out["actions_limit"] = limit
        return out

    def update_lead(self, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        fields = self._body_fields(body)
        if self.identifier in fields:
            raise ApiError(403, "INVALID_LEAD", "Cannot modify lead identifier field")
        changes: dict[str, Any] = {}
        for api, value in fields.items():
            fdef = self.fields.get(api)
            if fdef is None:
                if api in SYSTEM_FIELDS:
                    raise bad_request(f"Field '{api}' is read-only")
                raise bad_request(
                    f"Field '{api}' is not defined in this workspace (API names are case-sensitive)"
                )
            if fdef.lock_after_create and api in lead["fields"]:
                raise bad_request(f"Field '{api}' is locked after creation and cannot be changed")
            try:
                changes[api] = self._check_field(fdef, value)
            except DroppedValue:
                continue
            except InvalidValue as exc:
                if fdef.type == "STATUS":
                    continue  # TeleCRM drops unknown status labels on update (telecrm/sandbox/__init__.py)
                raise bad_request(f"Invalid value for field '{api}': {exc.remark}") from exc
        for api, value in changes.items():
            self._commit_options(self.fields[api], value)
            lead["fields"][api] = value
        lead["modified_on"] = max(self.clock(), lead["modified_on"])
        self.write_count += 1
        return {"fields": self.render_fields(lead)}

    # -- lead search ----------------------------------------------------------------------------

    def search_leads(self, body: dict[str, Any], *, skip: int, limit: int) -> dict[str, Any]:
        for key in body:
            if key not in ("fields", "actions"):
                raise invalid_filter(key, "unknown filter key; use 'fields' and 'actions'")
        field_filters = body.get("fields", {})
        if not isinstance(field_filters, dict):
            raise invalid_filter("fields", "must be an object")
        predicates: list[Callable[[dict[str, Any]], bool]] = []
        for api, cond in field_filters.items():
            where = f"fields.{api}"
            if api == "created_on":
                lo, hi = self._range(cond, where)
                predicates.append(lambda lead, lo=lo, hi=hi: lo <= lead["created_on"] <= hi)  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
                continue
            fdef = self.fields.get(api)
            if fdef is None:
                raise invalid_filter(
                    where, "not a lead field of this workspace (API names are case-sensitive)"
                )
            values = cond if isinstance(cond, list) else [cond]
            for value in values:
                if not (isinstance(value, str) or is_number(value)):
                    raise invalid_filter(
                        where, "filter values must be strings or numbers (or an array of them)"
                    )
            matches = self._matcher(fdef, values)
            predicates.append(lambda lead, api=fdef.api_name, m=matches: m(lead["fields"].get(api)))  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
        if "actions" in body:
            predicates.append(self._lead_action_predicate(body["actions"]))
        leads = list(self.leads.values())
        for matches in predicates:  # one filter at a time: each pass reads only what the last kept
            leads = [lead for lead in leads if matches(lead)]
        # newest first; only the rows of the page are ordered (a count asks for one row of thousands)
        page = heapq.nlargest(skip + limit, leads, key=lambda lead: (lead["created_on"], lead["seq"]))[skip:]
        return {
            "data": [{"id": lead["id"], "fields": self.render_fields(lead)} for lead in page],
            "total_count": len(leads),
            "skip": skip,
            "limit": limit,
        }

    def _lead_action_predicate(self, cond: Any) -> Callable[[dict[str, Any]], bool]:
        if not isinstance(cond, dict):
            raise invalid_filter("actions", "must be an object")
        checks: list[Callable[[dict[str, Any]], bool]] = []
        for key, value in cond.items():
            where = f"actions.{key}"
            if key == "type":
                types = {t.casefold() for t in self._str_list(value, where)}
                checks.append(lambda a, ts=types: a["type"].casefold() in ts)  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
            elif key == "performed_by":
                emails = {e.strip().casefold() for e in self._str_list(value, where)}
                checks.append(lambda a, es=emails: (a["performed_by"] or "").casefold() in es)  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
            elif key == "performed_at":
                lo, hi = self._range(value, where)
                checks.append(lambda a, lo=lo, hi=hi: lo <= a["created_on"] <= hi)  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
            else:
                raise invalid_filter(where, "unknown filter key; use type, performed_by, performed_at")

        def predicate(lead: dict[str, Any]) -> bool:
            return any(all(c(self.actions[a]) for c in checks) for a in lead["action_ids"])

        return predicate

    def _matcher(self, fdef: FieldDef, queries: list[Any]) -> Callable[[Any], bool]:
        """Whether a stored value matches any of ``queries``: case-insensitive exact match, except status
        labels (case-sensitive); phones by their digits; a day matches the whole day. Each query is read
        once, not once per lead, since a search reads every lead of the workspace."""
        t = fdef.type
        if t == "PHONE":
            keys = {k for q in queries for k in phone_match_keys(q, self.country_code)}
            return lambda stored: stored is not None and stored in keys
        if t == "STATUS":
            labels = [q for q in queries if isinstance(q, str)]
            return lambda stored: stored in labels
        if t in ("NUMBER", "RATING", "MONEY"):
            numbers = {n for n in (parse_decimal(q) for q in queries) if n is not None}
            return lambda stored: stored is not None and parse_decimal(stored) in numbers
        if t == "DATE":
            days = []
            for q in queries:
                try:
                    days.append((parse_date(q), parse_date(q, end_of_day=True)))
                except InvalidValue:
                    continue
            return lambda stored: stored is not None and any(lo <= stored <= hi for lo, hi in days)
        texts = [q for q in queries if isinstance(q, str)]
        if t == "TAGS":
            tags = {q.casefold() for q in texts}
            return lambda stored: stored is not None and any(tag.casefold() in tags for tag in stored)
        if t == "EMAIL":
            emails = {q.strip().casefold() for q in texts}
            return lambda stored: stored is not None and stored.casefold() in emails
        folded = {q.casefold() for q in texts}
        return lambda stored: stored is not None and str(stored).casefold() in folded

    def _value_matches(self, fdef: FieldDef, stored: Any, query: Any) -> bool:
        """Case-insensitive exact match, except status labels: case-sensitive (telecrm/sandbox/__init__.py)."""
        return self._matcher(fdef, [query])(stored)

    # -- async upsert ---------------------------------------------------------------------------

    def apply_async(self, body: Any) -> str:
        """Apply one queued Async request; every problem is a silent drop. Returns the outcome."""
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            return "dropped: no fields object"
        fields = body["fields"]
        ident = self.identifier
        if ident not in fields:
            return f"dropped: identifier {ident!r} missing"
        try:
            ident_value = self._check_identifier(fields[ident])
        except (InvalidValue, DroppedValue):
            return f"dropped: identifier {ident!r} invalid"
        lead_id = self._by_identifier.get(self._identifier_key(ident_value) or "")
        lead = self.leads.get(lead_id) if lead_id else None
        clean: dict[str, Any] = {}
        for api, value in fields.items():
            fdef = self.fields.get(api)
            if api == ident or fdef is None:
                continue
            if lead is not None and fdef.lock_after_create and api in lead["fields"]:
                continue
            try:
                clean[api] = self._check_field(fdef, value)
            except (InvalidValue, DroppedValue):
                log.info("async: dropped field %s", api)
        for api, value in clean.items():
            self._commit_options(self.fields[api], value)
        if lead is None:
            clean = {ident: ident_value, **clean}
            self._apply_defaults(clean)
            lead = self._new_lead(clean)
            outcome = "created"
        else:
            lead["fields"].update(clean)
            lead["modified_on"] = max(self.clock(), lead["modified_on"])
            outcome = "updated"
        raw_actions = body.get("actions", [])
        if isinstance(raw_actions, list):
            self._store_actions(lead, raw_actions, [], mode="async")
        self.write_count += 1
        return outcome
