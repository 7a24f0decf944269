"""The sandbox's workspace state and every TeleCRM operation on it, free of HTTP.

`State` is not thread-safe on its own: `Sandbox` serialises every call through one lock. Each
operation either returns the documented response body or raises `ApiError` carrying the
documented status, code and message.
"""

from __future__ import annotations

import copy
import itertools
import logging
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .values import (
    DATE_REMARK,
    DroppedValue,
    InvalidValue,
    ValueContext,
    check_value,
    is_int,
    is_number,
    is_valid_email,
    now_ms,
    parse_date,
    parse_decimal,
    parse_relative,
    parse_relative_or_date,
    phone_match_key,
)
from .workspace import SYSTEM_FIELDS, ActionDef, FieldDef, Workspace, WorkspaceError, stable_id

log = logging.getLogger(__name__)

PAYMENT_STATUSES: tuple[str, ...] = ("PENDING", "COMPLETED", "FAILED", "REFUNDED", "CANCELLED", "PROCESSING")
CURRENCIES: tuple[str, ...] = ("INR", "USD", "PKR", "AED", "QAR", "SAR", "MYR", "AUD", "CAD", "SGD", "XOF")
AVAILABILITY_STATES: tuple[str, ...] = ("Active", "Inactive", "On Leave", "Working")
ROLE_TEMPLATES: dict[str, str] = {
    "ADMIN": "Admin",
    "MANAGER": "Manager",
    "CALLER": "Sales Agent",
    "MARKETING_USER": "Marketing",
}
_HEX24 = re.compile(r"^[0-9a-f]{24}$")

NOT_WRITABLE = "Only custom actions and payment actions can be created"
NOT_RETRIEVABLE = "Only custom actions and payment actions can be retrieved"
NOT_UPDATABLE = "Only custom actions and payment actions can be updated"
PAYMENT_LOCKED = "Cannot update amount, currency, or paymentid fields for existing payment action."
INVALID_FILTER = "Invalid filter"


class ApiError(Exception):
    """An error answer in the §2.1 envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str, details: list[dict[str, str]] | None = None) -> ApiError:
    return ApiError(400, "BAD_REQUEST", message, details=details)


def invalid_filter(where: str, why: str) -> ApiError:
    return bad_request(INVALID_FILTER, [{"field": where, "message": why}])


class _ActionRejected(Exception):
    """One action of a batch is not stored; its remarks explain why."""

    def __init__(self, remarks: list[dict[str, str]]) -> None:
        super().__init__("action rejected")
        self.remarks = remarks


def _remark(path: str, text: str) -> dict[str, str]:
    return {"field": path, "status": "IGNORED", "remark": text}


class State:
    """Leads, actions, team members and schema of one workspace."""

    def __init__(
        self, ws: Workspace, *, default_country_code: str, clock: Callable[[], int] = now_ms
    ) -> None:
        self.ws = ws
        self.country_code = str(default_country_code).lstrip("+")
        self.clock = clock
        self.fields: dict[str, FieldDef] = copy.deepcopy(ws.fields)
        self.identifier = ws.identifier
        self.actions_def: dict[str, ActionDef] = ws.actions
        self.pipeline = ws.pipeline
        self.leads: dict[str, dict[str, Any]] = {}
        self.actions: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        self.write_count = 0
        self._seq = itertools.count(1)
        self._by_identifier: dict[str, str] = {}
        self._statuses: dict[str, str] = {}
        self._lost_reasons: dict[str, str] = {}
        for stage in self.pipeline["leadStages"]:
            for status in stage.get("activeStatuses", []):
                self._statuses[status["label"]] = "active"
            for status in stage.get("archivedStatuses", []):
                self._statuses[status["label"]] = "archived"
        for reason in self.pipeline.get("activeLeadLostReasons", []):
            self._lost_reasons[reason["reasonLabel"]] = "active"
        for reason in self.pipeline.get("archivedLeadLostReasons", []):
            self._lost_reasons.setdefault(reason["reasonLabel"], "archived")
        self.ctx = ValueContext(
            default_country_code=self.country_code,
            member_email=self._assignable_email,
            status_state=self._statuses.get,
            lost_reason_state=self._lost_reasons.get,
        )
        for raw in ws.team_members:
            member = copy.deepcopy(raw)
            member.setdefault("id", stable_id("member", raw["email"].lower()))
            self.members[raw["email"].lower()] = member
        for i, seed in enumerate(ws.leads):
            self._seed_lead(i, seed)

    # -- lookups --------------------------------------------------------------------------------

    def _assignable_email(self, email: str) -> str | None:
        member = self.members.get(email.strip().lower())
        if member is None or member["status"] == "Deleted":
            return None
        return member["email"]

    def _identifier_key(self, value: Any) -> str | None:
        ftype = self.fields[self.identifier].type
        if ftype == "PHONE":
            return phone_match_key(value, self.country_code)
        if not isinstance(value, str):
            return None
        return value.strip().casefold() if ftype == "EMAIL" else value.casefold()

    def default_status(self) -> str | None:
        for stage in self.pipeline["leadStages"]:
            if stage.get("stageType") == "OPEN" and stage.get("activeStatuses"):
                return stage["activeStatuses"][0]["label"]
        return None

    def _lead_or_404(self, lead_id: str, message: str) -> dict[str, Any]:
        lead = self.leads.get(lead_id)
        if lead is None:
            raise ApiError(404, "LEAD_NOT_FOUND", message)
        return lead

    def _action_or_404(self, lead: dict[str, Any], action_id: str) -> dict[str, Any]:
        action = self.actions.get(action_id)
        if action is None or action["lead_id"] != lead["id"]:
            raise ApiError(404, "ACTION_NOT_FOUND", f"Action with ID {action_id} was not found.")
        return action

    def _is_custom(self, action_type: Any) -> bool:
        return isinstance(action_type, str) and action_type in self.actions_def

    # -- rendering ------------------------------------------------------------------------------

    def render_fields(self, lead: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(lead["fields"])
        out["created_on"] = lead["created_on"]
        out["modified_on"] = lead["modified_on"]
        newest = self._newest_action(lead)
        if newest is not None:
            out["last_activity_type"] = newest["type"]
            out["last_activity_on"] = newest["created_on"]
        return out

    def _newest_action(self, lead: dict[str, Any]) -> dict[str, Any] | None:
        actions = [self.actions[a] for a in lead["action_ids"]]
        return max(actions, key=lambda a: (a["created_on"], a["seq"]), default=None)

    @staticmethod
    def render_action(action: dict[str, Any]) -> dict[str, Any]:
        """Timeline row (action search, get-with-actions): payload plus id, time and performer."""
        row: dict[str, Any] = {"type": action["type"]}
        row.update(copy.deepcopy(action["payload"]))
        row["action_id"] = action["action_id"]
        row["created_on"] = action["created_on"]
        row["performed_by"] = action["performed_by"]
        return row

    @staticmethod
    def render_writable_action(action: dict[str, Any]) -> dict[str, Any]:
        """Get/update-action body: exactly the documented keys."""
        return {"type": action["type"], **copy.deepcopy(action["payload"])}

    def render_member(self, member: dict[str, Any]) -> dict[str, Any]:
        manager = self.members.get(str(member.get("manager_email") or "").lower())
        return {
            "name": member["name"],
            "email": member["email"],
            "status": member["status"],
            "phone_number": member["phone_number"],
            "manager_name": manager["name"] if manager else None,
            "manager_email": manager["email"] if manager else None,
            "permission_template_name": member.get("permission_template_name")
            or ROLE_TEMPLATES.get(member["role"], member["role"]),
            "license": copy.deepcopy(member.get("license")),
        }

    # -- field checking -------------------------------------------------------------------------

    def _check_identifier(self, value: Any) -> Any:
        """The identifier's type check, plus: it must not be blank (it is what leads are matched on)."""
        checked = self._check_field(self.fields[self.identifier], value)
        if isinstance(checked, str) and not checked.strip():
            raise InvalidValue("The lead identifier must not be empty")
        return checked

    def _check_field(self, fdef: FieldDef, value: Any) -> Any:
        return check_value(
            fdef.type, value, self.ctx, options=fdef.option_labels(), max_length=fdef.max_length
        )

    def _check_action_field(self, spec: dict[str, Any], value: Any) -> Any:
        """A custom action's field: its type's rules, and only its fieldSchema options (no auto-create)."""
        return check_value(
            spec["type"],
            value,
            self.ctx,
            options=spec.get("options"),
            fixed_options=True,
            max_length=spec.get("maxLength"),
        )

    def _commit_options(self, fdef: FieldDef, value: Any) -> None:
        """Unknown dropdown/tags labels become new options (API.md §5.2, dropdown)."""
        if fdef.type not in ("DROPDOWN", "TAGS"):
            return
        labels = fdef.option_labels()
        for label in [value] if fdef.type == "DROPDOWN" else value:
            if label not in labels:
                fdef.options.append({"id": stable_id("option", fdef.api_name, label), "label": label})
                labels.append(label)
                log.info("auto-created option %r on field %s", label, fdef.api_name)

    # -- leads ----------------------------------------------------------------------------------

    def _new_lead(
        self, fields: dict[str, Any], *, lead_id: str | None = None, created_on: int | None = None
    ) -> dict[str, Any]:
        now = self.clock() if created_on is None else created_on
        lead_id = lead_id or stable_id("lead", next(self._seq), now, self.clock())
        lead = {
            "id": lead_id,
            "fields": fields,
            "created_on": now,
            "modified_on": now,
            "seq": next(self._seq),
            "action_ids": [],
        }
        self.leads[lead_id] = lead
        key = self._identifier_key(fields[self.identifier])
        assert key is not None
        self._by_identifier[key] = lead_id
        return lead

    def _add_action(
        self,
        lead: dict[str, Any],
        action_type: str,
        payload: dict[str, Any],
        *,
        created_on: int | None = None,
        performed_by: str | None = None,
        action_id: str | None = None,
    ) -> dict[str, Any]:
        now = self.clock()
        action = {
            "action_id": action_id or stable_id("action", lead["id"], next(self._seq), now),
            "lead_id": lead["id"],
            "type": action_type,
            "payload": payload,
            "created_on": now if created_on is None else created_on,
            "performed_by": performed_by,
            "seq": next(self._seq),
        }
        self.actions[action["action_id"]] = action
        lead["action_ids"].append(action["action_id"])
        return action

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
        self._screen_sync_actions(raw_actions)
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
                remarks.append(_remark(f"fields.{api}", text))
                continue
            try:
                clean[api] = self._check_field(fdef, value)
            except InvalidValue as exc:
                remarks.append(_remark(f"fields.{api}", exc.remark))
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

    def _sorted_actions(self, lead: dict[str, Any]) -> list[dict[str, Any]]:
        actions = [self.actions[a] for a in lead["action_ids"]]
        return sorted(actions, key=lambda a: (a["created_on"], a["seq"]), reverse=True)

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
                    continue  # [l-update]: unknown status labels are dropped
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
                predicates.append(lambda lead, lo=lo, hi=hi: lo <= lead["created_on"] <= hi)
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
            predicates.append(
                lambda lead, f=fdef, vs=values: any(
                    self._value_matches(f, lead["fields"].get(f.api_name), v) for v in vs
                )
            )
        if "actions" in body:
            predicates.append(self._lead_action_predicate(body["actions"]))
        leads = [lead for lead in self.leads.values() if all(p(lead) for p in predicates)]
        leads.sort(key=lambda lead: (lead["created_on"], lead["seq"]), reverse=True)
        return {
            "data": [
                {"id": lead["id"], "fields": self.render_fields(lead)} for lead in leads[skip : skip + limit]
            ],
            "total_count": len(leads),
            "skip": skip,
            "limit": limit,
        }

    def _range(self, cond: Any, where: str) -> tuple[float, float]:
        if not isinstance(cond, dict) or not cond or any(k not in ("from", "to") for k in cond):
            raise invalid_filter(where, "expected a range object {from, to}")
        try:
            lo = parse_date(cond["from"]) if "from" in cond else float("-inf")
            hi = parse_date(cond["to"], end_of_day=True) if "to" in cond else float("inf")
        except InvalidValue as exc:
            raise invalid_filter(where, DATE_REMARK) from exc
        if lo > hi:
            raise invalid_filter(where, "'from' is after 'to'")
        return lo, hi

    @staticmethod
    def _str_list(value: Any, where: str) -> list[str]:
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise invalid_filter(where, "expected a string or a non-empty array of strings")
        return values

    def _lead_action_predicate(self, cond: Any) -> Callable[[dict[str, Any]], bool]:
        if not isinstance(cond, dict):
            raise invalid_filter("actions", "must be an object")
        checks: list[Callable[[dict[str, Any]], bool]] = []
        for key, value in cond.items():
            where = f"actions.{key}"
            if key == "type":
                types = {t.casefold() for t in self._str_list(value, where)}
                checks.append(lambda a, ts=types: a["type"].casefold() in ts)
            elif key == "performed_by":
                emails = {e.strip().casefold() for e in self._str_list(value, where)}
                checks.append(lambda a, es=emails: (a["performed_by"] or "").casefold() in es)
            elif key == "performed_at":
                lo, hi = self._range(value, where)
                checks.append(lambda a, lo=lo, hi=hi: lo <= a["created_on"] <= hi)
            else:
                raise invalid_filter(where, "unknown filter key; use type, performed_by, performed_at")

        def predicate(lead: dict[str, Any]) -> bool:
            return any(all(c(self.actions[a]) for c in checks) for a in lead["action_ids"])

        return predicate

    def _value_matches(self, fdef: FieldDef, stored: Any, query: Any) -> bool:
        """Case-insensitive exact match (API.md §3.5), except status labels: case-sensitive (§8)."""
        if stored is None:
            return False
        t = fdef.type
        if t == "PHONE":
            key = phone_match_key(query, self.country_code)
            return key is not None and key == stored
        if t == "STATUS":
            return query == stored
        if t in ("NUMBER", "RATING", "MONEY"):
            q, s = parse_decimal(query), parse_decimal(stored)
            return q is not None and q == s
        if t == "DATE":
            try:
                lo = parse_date(query)
                hi = parse_date(query, end_of_day=True)
            except InvalidValue:
                return False
            return lo <= stored <= hi
        if not isinstance(query, str):
            return False
        if t == "TAGS":
            return any(tag.casefold() == query.casefold() for tag in stored)
        if t == "EMAIL":
            return stored.casefold() == query.strip().casefold()
        return str(stored).casefold() == query.casefold()

    # -- actions --------------------------------------------------------------------------------

    def _screen_sync_actions(self, raw_actions: list[Any]) -> None:
        """Request-level refusals that reject the whole Sync request before anything is written."""
        for i, raw in enumerate(raw_actions):
            action_type = raw.get("type") if isinstance(raw, dict) else None
            if not isinstance(action_type, str) or action_type == "PAYMENT" or action_type.isdigit():
                continue
            if re.fullmatch(r"ACTION_\d+", action_type):
                raise bad_request(
                    f"actions[{i}].type: the Sync API takes the bare numeric custom action code, e.g. "
                    f'"{action_type[7:]}" (not "{action_type}")'
                )
            raise bad_request(NOT_WRITABLE)

    def _store_actions(
        self, lead: dict[str, Any], raw_actions: list[Any], remarks: list[dict[str, str]], *, mode: str
    ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for i, raw in enumerate(raw_actions):
            try:
                action_type, payload, created_on = self._check_action(i, raw, mode=mode)
            except _ActionRejected as rejected:
                remarks.extend(rejected.remarks)
                results.append({"action_id": None, "status": "IGNORED"})
                continue
            action = self._add_action(
                lead, action_type, payload, created_on=created_on, performed_by=self.ws.api_actor
            )
            results.append({"action_id": action["action_id"], "status": "CREATED"})
        if any(r["status"] == "CREATED" for r in results):
            lead["modified_on"] = max(self.clock(), lead["modified_on"])
        return results

    def _check_action(self, i: int, raw: Any, *, mode: str) -> tuple[str, dict[str, Any], int | None]:
        """Validate one action of a batch; `mode` is "sync" (bare codes), "async" (ACTION_ codes) or "seed"."""
        base = f"actions[{i}]"
        if not isinstance(raw, dict):
            raise _ActionRejected([_remark(base, "Action must be an object")])
        action_type = raw.get("type")
        if not isinstance(action_type, str):
            raise _ActionRejected(
                [
                    _remark(
                        f"{base}.type",
                        'Action type is required as a string: a custom action code such as "1001", or "PAYMENT"',
                    )
                ]
            )
        if action_type == "PAYMENT":
            return "PAYMENT", self._check_payment(base, raw), None
        if mode == "async":
            match = re.fullmatch(r"ACTION_(\d+)", action_type)
            if not match or match.group(1) not in self.actions_def:
                raise _ActionRejected(
                    [_remark(f"{base}.type", "Not an ACTION_-prefixed custom action of this workspace")]
                )
            number = match.group(1)
        else:
            number = action_type
            if number not in self.actions_def:
                raise _ActionRejected(
                    [_remark(f"{base}.type", f"Custom action {number} is not defined in this workspace")]
                )
        definition = self.actions_def[number]
        remarks: list[dict[str, str]] = []
        for key in raw:
            if key not in ("type", "fields", "created_on"):
                remarks.append(_remark(f"{base}.{key}", f"Unknown property '{key}' for a custom action"))
        fields = raw.get("fields", {})
        clean: dict[str, Any] = {}
        if not isinstance(fields, dict):
            remarks.append(_remark(f"{base}.fields", "fields must be an object"))
            fields = {}
        for key, value in fields.items():
            spec = definition.field_schema.get(key)
            if spec is None:
                remarks.append(
                    _remark(
                        f"{base}.fields.{key}",
                        f"Field '{key}' is not defined for custom action {number} ({definition.raw['displayName']})",
                    )
                )
                continue
            try:
                clean[key] = self._check_action_field(spec, value)
            except (InvalidValue, DroppedValue) as exc:
                text = exc.remark if isinstance(exc, InvalidValue) else "Value not accepted"
                remarks.append(_remark(f"{base}.fields.{key}", text))
        created_on: int | None = None
        if "created_on" in raw and (definition.allows_predating or mode == "seed"):
            try:
                created_on = parse_date(raw["created_on"])
            except InvalidValue as exc:
                remarks.append(_remark(f"{base}.created_on", exc.remark))
            else:
                if created_on > self.clock() and mode != "seed":
                    remarks.append(_remark(f"{base}.created_on", "created_on cannot be in the future"))
        if remarks:
            raise _ActionRejected(remarks)
        return number, {"fields": clean}, created_on

    def _check_payment(self, base: str, raw: dict[str, Any]) -> dict[str, Any]:
        remarks: list[dict[str, str]] = []
        for key in raw:
            if key not in ("type", "status", "currency", "amount", "paymentid", "created_on"):
                remarks.append(_remark(f"{base}.{key}", f"Unknown property '{key}' for a PAYMENT action"))
        status, currency, amount = raw.get("status"), raw.get("currency"), raw.get("amount")
        if status not in PAYMENT_STATUSES:
            remarks.append(
                _remark(f"{base}.fields.status", f"status is required, one of {', '.join(PAYMENT_STATUSES)}")
            )
        if currency not in CURRENCIES:
            remarks.append(
                _remark(f"{base}.fields.currency", f"currency is required, one of {', '.join(CURRENCIES)}")
            )
        if "amount" not in raw:
            remarks.append(
                _remark(f"{base}.fields.amount", 'amount is required as a numeric string, e.g. "5000"')
            )
        elif not isinstance(amount, str) or parse_decimal(amount) is None:
            remarks.append(_remark(f"{base}.fields.amount", 'Amount must be a numeric string, e.g. "5000"'))
        elif parse_decimal(amount) <= 0:  # type: ignore[operator]
            remarks.append(_remark(f"{base}.fields.amount", "Amount must be greater than 0"))
        paymentid = raw.get("paymentid")
        if paymentid is not None and not (isinstance(paymentid, str) and paymentid.strip()):
            remarks.append(_remark(f"{base}.fields.paymentid", "paymentid must be a non-empty string"))
        if remarks:
            raise _ActionRejected(remarks)
        payload = {"status": status, "currency": currency, "amount": amount.strip()}
        if paymentid is not None:
            payload["paymentid"] = paymentid
        return payload

    def create_actions(self, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        raw_actions = body.get("actions")
        if not isinstance(raw_actions, list) or not raw_actions:
            raise bad_request("Request body must contain a non-empty 'actions' array.")
        self._screen_sync_actions(raw_actions)
        remarks: list[dict[str, str]] = []
        results = self._store_actions(lead, raw_actions, remarks, mode="sync")
        if any(r["status"] == "CREATED" for r in results):
            self.write_count += 1
        return {"lead_id": lead_id, "actions": results, "remarks": remarks}

    def get_action(self, lead_id: str, action_id: str) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        action = self._action_or_404(lead, action_id)
        if action["type"] != "PAYMENT" and not self._is_custom(action["type"]):
            raise bad_request(NOT_RETRIEVABLE)
        return self.render_writable_action(action)

    def update_action(self, lead_id: str, action_id: str, body: dict[str, Any]) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        action = self._action_or_404(lead, action_id)
        if action["type"] != "PAYMENT" and not self._is_custom(action["type"]):
            raise bad_request(NOT_UPDATABLE)
        sent_type = body.get("type")
        if sent_type != action["type"]:
            raise bad_request(f"'type' must equal the action's type \"{action['type']}\" (got {sent_type!r})")
        if action["type"] == "PAYMENT":
            if any(k in body for k in ("amount", "currency", "paymentid")):
                raise bad_request(PAYMENT_LOCKED)
            for key in body:
                if key not in ("type", "status"):
                    raise bad_request(f"Unknown property '{key}' for a PAYMENT action")
            if "status" in body:
                if body["status"] not in PAYMENT_STATUSES:
                    raise bad_request(f"status must be one of {', '.join(PAYMENT_STATUSES)}")
                action["payload"]["status"] = body["status"]
        else:
            for key in body:
                if key not in ("type", "fields"):
                    raise bad_request(f"Unknown property '{key}' for a custom action")
            fields = body.get("fields", {})
            if not isinstance(fields, dict):
                raise bad_request("'fields' must be an object.")
            schema = self.actions_def[action["type"]].field_schema
            changes: dict[str, Any] = {}
            for key, value in fields.items():
                spec = schema.get(key)
                if spec is None:
                    raise bad_request(f"Field '{key}' is not defined for custom action {action['type']}")
                try:
                    changes[key] = self._check_action_field(spec, value)
                except (InvalidValue, DroppedValue) as exc:
                    reason = exc.remark if isinstance(exc, InvalidValue) else "value not accepted"
                    raise bad_request(f"Invalid value for field '{key}': {reason}") from exc
            action["payload"]["fields"].update(changes)
        lead["modified_on"] = max(self.clock(), lead["modified_on"])
        self.write_count += 1
        return self.render_writable_action(action)

    def search_actions(self, lead_id: str, body: dict[str, Any], *, skip: int, limit: int) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, "Lead with given ID was not found.")
        checks: list[Callable[[dict[str, Any]], bool]] = []
        for key, value in body.items():
            if key == "type":
                if not isinstance(value, str) or not value:
                    raise invalid_filter(
                        "type", 'expected one action type string, e.g. "1001" or "OUTGOING_CALL"'
                    )
                wanted_type = value.casefold()
                checks.append(lambda a, t=wanted_type: a["type"].casefold() == t)
            elif key == "created_on":
                lo, hi = self._range(value, "created_on")
                checks.append(lambda a, lo=lo, hi=hi: lo <= a["created_on"] <= hi)
            elif key == "performed_by":
                wanted = {v.strip().casefold() for v in self._str_list(value, "performed_by")}
                ids = {m["email"].casefold() for m in self.members.values() if m["id"] in wanted}
                wanted |= ids
                checks.append(lambda a, w=wanted: (a["performed_by"] or "").casefold() in w)
            else:
                raise invalid_filter(key, "unknown filter key; use type, created_on, performed_by")
        rows = [a for a in self._sorted_actions(lead) if all(c(a) for c in checks)]
        return {
            "data": [self.render_action(a) for a in rows[skip : skip + limit]],
            "total_count": len(rows),
            "skip": skip,
            "limit": limit,
        }

    def add_builtin_action(
        self,
        lead_id: str,
        action_type: str,
        *,
        created_on_ms: int | None,
        performed_by: str | None,
        extra: dict[str, Any],
    ) -> str:
        lead = self.leads.get(lead_id)
        if lead is None:
            raise KeyError(f"no lead with id {lead_id}")
        if not isinstance(action_type, str) or not action_type:
            raise ValueError("action type must be a non-empty string")
        if created_on_ms is not None and not is_int(created_on_ms):
            raise ValueError("created_on_ms must be an integer (epoch milliseconds)")
        member = self.members.get((performed_by or "").lower())
        action = self._add_action(
            lead,
            action_type,
            copy.deepcopy(extra),
            created_on=created_on_ms,
            performed_by=member["email"] if member else performed_by,
        )
        return action["action_id"]

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

    # -- team members ---------------------------------------------------------------------------

    def list_members(self, *, skip: int, limit: int, include_deleted: bool) -> dict[str, Any]:
        members = [m for m in self.members.values() if include_deleted or m["status"] != "Deleted"]
        members.sort(key=lambda m: (m["name"].casefold(), m["email"].casefold()))
        return {
            "data": [self.render_member(m) for m in members[skip : skip + limit]],
            "total_count": len(members),
            "skip": skip,
            "limit": limit,
        }

    def _find_member(self, email: Any, *, include_deleted: bool) -> dict[str, Any]:
        if not isinstance(email, str) or not is_valid_email(email.strip()):
            raise bad_request("Invalid email format")
        member = self.members.get(email.lower())  # whitespace is not trimmed: [t-pitfalls] 4
        if member is None or (member["status"] == "Deleted" and not include_deleted):
            raise ApiError(404, "TEAM_MEMBER_NOT_FOUND", "Team member not found")
        return member

    def get_member(self, email: str, *, include_deleted: bool) -> dict[str, Any]:
        return self.render_member(self._find_member(email, include_deleted=include_deleted))

    def create_member(self, body: dict[str, Any]) -> dict[str, Any]:
        details: list[dict[str, str]] = []
        allowed = ("name", "email", "phone_number", "role", "password")
        for key in body:
            if key not in allowed:
                details.append(
                    {"field": key, "message": f"Unknown field. Allowed fields: {', '.join(allowed)}"}
                )
        name, email, phone, role = (body.get(k) for k in ("name", "email", "phone_number", "role"))
        if not isinstance(name, str) or not name.strip():
            details.append({"field": "name", "message": "name is required"})
        if not isinstance(email, str) or not email:
            details.append({"field": "email", "message": "email is required"})
        elif not is_valid_email(email):
            details.append({"field": "email", "message": "Invalid email format"})
        if not isinstance(phone, str) or not phone:
            details.append({"field": "phone_number", "message": "phone_number is required"})
        elif not phone.isdigit() or not self._valid_member_phone(phone):
            details.append({"field": "phone_number", "message": "Invalid phone_number format"})
        if role not in ROLE_TEMPLATES:
            details.append(
                {
                    "field": "role",
                    "message": "Invalid role. Allowed roles: ADMIN, MANAGER, CALLER, MARKETING_USER",
                }
            )
        password = body.get("password")
        if password is not None and (not isinstance(password, str) or len(password) < 8):
            details.append(
                {"field": "password", "message": "password must be a string of at least 8 characters"}
            )
        if details:
            raise bad_request("Validation failed", details)
        assert (
            isinstance(email, str)
            and isinstance(name, str)
            and isinstance(phone, str)
            and isinstance(role, str)
        )
        if email.lower() in self.members:
            raise ApiError(
                409, "TEAM_MEMBER_ALREADY_EXISTS", f"Team member with email {email} already exists."
            )
        seats = self.ws.seats
        if seats is not None and sum(m["status"] != "Deleted" for m in self.members.values()) >= seats:
            raise ApiError(
                402,
                "BUY_LICENSE",
                f"No free licence seat (all {seats} seats are taken; inactive and invited members hold seats too). "
                "Buy a licence to add team members.",
            )
        today = date.fromtimestamp(self.clock() / 1000)
        member = {
            "id": stable_id("member", email.lower()),
            "name": name.strip(),
            "email": email,
            "phone_number": phone,
            "role": role,
            "status": "Active" if password else "Invited",
            "manager_email": None,
            "permission_template_name": ROLE_TEMPLATES[role],
            "license": {
                "status": "ACTIVE",
                "type": self.ws.license_type,
                "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=365)).isoformat(),
            },
        }
        self.members[email.lower()] = member
        return {
            "name": member["name"],
            "email": email,
            "phone_number": phone,
            "role": role,
            "status": "Active" if password else "INVITED",
        }

    @staticmethod
    def _valid_member_phone(digits: str) -> bool:
        import phonenumbers

        try:
            return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
        except phonenumbers.NumberParseException:
            return False

    def change_state(self, body: dict[str, Any]) -> dict[str, Any]:
        state, email = body.get("state"), body.get("email")
        if state not in AVAILABILITY_STATES:
            raise bad_request(f"Invalid state. Allowed states: {', '.join(AVAILABILITY_STATES)}")
        if email is None:
            raise bad_request("email is required")
        member = self._find_member(email, include_deleted=False)
        if member["status"] == "Invited":
            raise bad_request("Team member has not accepted the invitation yet")
        member["status"] = state
        return {"email": member["email"], "status": state}

    # -- metadata -------------------------------------------------------------------------------

    def metadata(self, enterprise_id: str) -> dict[str, Any]:
        e = self.ws.enterprise
        return {
            "name": e.get("name", "TeleCRM Sandbox"),
            "id": enterprise_id,
            "creationTimeStamp": e.get("creationTimeStamp", 1609459200000),
            "teamSize": e.get("teamSize", "1-10"),
            "industry": e.get("industry", ""),
            "website": e.get("website", ""),
            "leadIdentifierFieldId": self.fields[self.identifier].id,
            "integrations": list(e.get("integrations", [])),
        }

    def field_summary(self, fdef: FieldDef) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": fdef.type,
            "apiName": fdef.api_name,
            "lockAfterCreate": fdef.lock_after_create,
            "isLeadid": fdef.is_identifier,
        }
        if fdef.type in ("DROPDOWN", "TAGS"):
            out["options"] = fdef.option_labels()
        return out

    def field_detail(self, fdef: FieldDef) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": fdef.id,
            "type": fdef.type,
            "apiName": fdef.api_name,
            "name": fdef.name,
            "description": fdef.description,
            "lockAfterCreate": fdef.lock_after_create,
            "isLeadid": fdef.is_identifier,
        }
        if fdef.type in ("DROPDOWN", "TAGS"):
            out["options"] = copy.deepcopy(fdef.options)
        if fdef.type == "DATE":
            out["dateFormat"] = "DD/MM/YYYY HH:mm:ss"
        if fdef.max_length is not None:
            out["maxLength"] = fdef.max_length
        return out

    def custom_fields(self, *, detail: bool) -> dict[str, Any]:
        render = self.field_detail if detail else self.field_summary
        return {"customFields": [render(f) for f in self.fields.values()]}

    def custom_field(self, api_name: str) -> dict[str, Any]:
        fdef = self.fields.get(api_name)
        if fdef is None:
            raise ApiError(404, "NOT_FOUND", f"Could not find custom field with apiName {api_name}")
        return self.field_detail(fdef)

    def _action_detail(self, definition: ActionDef) -> dict[str, Any]:
        raw = definition.raw
        return {
            "id": raw["id"],
            "code": definition.code,
            "displayName": raw["displayName"],
            "icon": raw.get("icon", "zap"),
            "description": raw.get("description", ""),
            "score": raw.get("score", 0),
            "fieldSchema": copy.deepcopy(raw["fieldSchema"]),
            "displaySchema": copy.deepcopy(raw.get("displaySchema", {})),
            "allowPredatedActivity": copy.deepcopy(raw.get("allowPredatedActivity", {"enabled": False})),
            "quickAdd": copy.deepcopy(raw.get("quickAdd", {})),
            "definitionType": raw.get("definitionType", "USER_DEFINED"),
            "createdOn": raw.get("createdOn", 1609459200000),
            "createdBy": raw.get("createdBy", ""),
            "modifiedOn": raw.get("modifiedOn", raw.get("createdOn", 1609459200000)),
            "modifiedBy": raw.get("modifiedBy", raw.get("createdBy", "")),
            "source": raw.get("source", "USER"),
        }

    def custom_actions(self, *, detail: bool) -> dict[str, Any]:
        out = []
        for definition in self.actions_def.values():
            if detail:
                out.append(self._action_detail(definition))
            else:
                raw = definition.raw
                out.append(
                    {
                        "code": definition.code,
                        "displayName": raw["displayName"],
                        "score": raw.get("score", 0),
                        "source": raw.get("source", "USER"),
                    }
                )
        return {"customActions": out}

    def custom_action(self, code: str) -> dict[str, Any]:
        match = re.fullmatch(r"ACTION_(\d+)", code)
        definition = self.actions_def.get(match.group(1)) if match else None
        if definition is None:
            raise ApiError(404, "NOT_FOUND", f"Custom action with code {code} was not found.")
        return self._action_detail(definition)

    def lead_stage_pipeline(self) -> dict[str, Any]:
        p = copy.deepcopy(self.pipeline)
        return {
            "leadStages": p["leadStages"],
            "activeLeadLostReasons": p.get("activeLeadLostReasons", []),
            "archivedLeadLostReasons": p.get("archivedLeadLostReasons", []),
            "creationTimestamp": p.get("creationTimestamp", 1609459200000),
            "modificationTimestamp": p.get(
                "modificationTimestamp", p.get("creationTimestamp", 1609459200000)
            ),
            "lastModifiedBy": p.get("lastModifiedBy", ""),
            "version": p.get("version", 1),
        }

    # -- inspection -----------------------------------------------------------------------------

    def inspect_lead(self, lead: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": lead["id"],
            "fields": copy.deepcopy(lead["fields"]),
            "created_on": lead["created_on"],
            "modified_on": lead["modified_on"],
        }

    def inspect_actions(self, lead_id: str) -> list[dict[str, Any]]:
        lead = self.leads.get(lead_id)
        if lead is None:
            return []
        ordered = sorted(
            (self.actions[a] for a in lead["action_ids"]), key=lambda a: (a["created_on"], a["seq"])
        )
        return [self.render_action(a) for a in ordered]

    # -- seeding --------------------------------------------------------------------------------

    def _seed_lead(self, i: int, seed: dict[str, Any]) -> None:
        where = f"leads[{i}]"
        fields = seed.get("fields")
        if not isinstance(fields, dict):
            raise WorkspaceError(f"{where}.fields: expected an object")
        if self.identifier not in fields:
            raise WorkspaceError(f"{where}.fields: the identifier field {self.identifier!r} is required")
        clean: dict[str, Any] = {}
        now = self.clock()
        try:
            self._check_identifier(fields[self.identifier])
        except (InvalidValue, DroppedValue) as exc:
            raise WorkspaceError(f"{where}.fields.{self.identifier}: invalid lead identifier") from exc
        for api, value in fields.items():
            fdef = self.fields.get(api)
            if fdef is None:
                raise WorkspaceError(f"{where}.fields.{api}: not a field of this workspace")
            if fdef.type == "DATE":
                value = parse_relative(value, now) or value
            try:
                clean[api] = self._check_field(fdef, value)
            except DroppedValue:
                clean[api] = value  # historical leads may carry archived statuses / lost reasons
            except InvalidValue as exc:
                raise WorkspaceError(f"{where}.fields.{api}: {exc.remark}") from exc
            self._commit_options(fdef, clean[api])
        key = self._identifier_key(clean[self.identifier])
        if key in self._by_identifier:
            raise WorkspaceError(f"{where}: duplicate identifier value {clean[self.identifier]!r}")
        self._apply_defaults(clean)
        try:
            created_on = parse_relative_or_date(seed.get("created_on", now), now)
        except InvalidValue as exc:
            raise WorkspaceError(f"{where}.created_on: {exc.remark} (or relative, e.g. -3d, -2h30m)") from exc
        lead_id = seed.get("id") or stable_id("lead", i, key)
        if not isinstance(lead_id, str) or not _HEX24.match(lead_id) or lead_id in self.leads:
            raise WorkspaceError(f"{where}.id: expected a unique 24-character lowercase hex string")
        lead = self._new_lead(clean, lead_id=lead_id, created_on=created_on)
        seeded_actions = seed.get("actions", [])
        if not isinstance(seeded_actions, list):
            raise WorkspaceError(f"{where}.actions: expected an array")
        for j, raw in enumerate(seeded_actions):
            self._seed_action(lead, f"{where}.actions[{j}]", j, raw, now)
        if "modified_on" in seed:
            lead["modified_on"] = parse_relative_or_date(seed["modified_on"], now)
        else:
            times = [self.actions[a]["created_on"] for a in lead["action_ids"]]
            lead["modified_on"] = max([created_on, *times])

    def _seed_action(self, lead: dict[str, Any], where: str, j: int, raw: Any, now: int) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise WorkspaceError(f"{where}: expected an object with a string 'type'")
        raw = dict(raw)
        performed_by = raw.pop("performed_by", None)
        if performed_by is not None:
            member = self.members.get(str(performed_by).lower())
            if member is None:
                raise WorkspaceError(f"{where}.performed_by: {performed_by!r} is not a team member")
            performed_by = member["email"]
        try:
            created_on = parse_relative_or_date(raw.pop("created_on", lead["created_on"]), now)
        except InvalidValue as exc:
            raise WorkspaceError(f"{where}.created_on: {exc.remark} (or relative, e.g. -3d)") from exc
        action_id = raw.pop("action_id", None) or stable_id("action", lead["id"], j)
        action_type = raw["type"]
        if action_type in self.actions_def and isinstance(raw.get("fields"), dict):
            schema = self.actions_def[action_type].field_schema
            raw["fields"] = {
                k: (parse_relative(v, now) or v) if schema.get(k, {}).get("type") == "DATE" else v
                for k, v in raw["fields"].items()
            }
        if action_type == "PAYMENT" or action_type in self.actions_def:
            try:
                action_type, payload, _ = self._check_action(j, raw, mode="seed")
            except _ActionRejected as rejected:
                raise WorkspaceError(
                    f"{where}: {'; '.join(r['field'] + ': ' + r['remark'] for r in rejected.remarks)}"
                ) from None
        elif action_type.isdigit() or action_type.startswith("ACTION_"):
            raise WorkspaceError(f"{where}.type: custom action {action_type!r} is not defined")
        else:
            payload = {k: v for k, v in raw.items() if k != "type"}
        self._add_action(
            lead, action_type, payload, created_on=created_on, performed_by=performed_by, action_id=action_id
        )
