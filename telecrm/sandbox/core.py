"""The data of one sandbox workspace and what every operation on it shares: lookups, rendering,
field checks, and making lead and action records.

The operations are layered on top, each in its own module and each calling only down:
telecrm/sandbox/actions.py, then telecrm/sandbox/leads.py, then telecrm/sandbox/seeding.py, beside
telecrm/sandbox/members.py and telecrm/sandbox/metadata.py; telecrm/sandbox/state.py puts them together.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Callable
from typing import Any

from .errors import ApiError, invalid_filter
from .values import (
    DATE_REMARK,
    InvalidValue,
    ValueContext,
    check_value,
    now_ms,
    parse_date,
    phone_match_key,
)
from .workspace import ActionDef, FieldDef, Workspace, stable_id

# one logger name for the state's log lines, as when all of it was telecrm/sandbox/state.py
log = logging.getLogger("telecrm.sandbox.state")


class StateBase:
    """Leads, actions, team members and schema of one workspace, and the helpers every operation uses."""

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

    # -- lookups --------------------------------------------------------------------------------

    def _assignable_email(self, email: str) -> str | None:
        member = self.members.get(email.strip().lower())
        if member is None or member["status"] == "Deleted":
            return None
        return member["email"]

    def _identifier_key(self, value: Any, *, checked: bool = True) -> str | None:
        """The key leads are matched on. A `checked` value is already in its stored form (a phone as
        country code + number), so it is not read again: a stored international number might also
        read as a number of the default country."""
        ftype = self.fields[self.identifier].type
        if ftype == "PHONE":
            if checked and isinstance(value, str):
                return value
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
        """Unknown dropdown/tags labels become new options, as TeleCRM does (telecrm/sandbox/__init__.py)."""
        if fdef.type not in ("DROPDOWN", "TAGS"):
            return
        labels = fdef.option_labels()
        for label in [value] if fdef.type == "DROPDOWN" else value:
            if label not in labels:
                fdef.options.append({"id": stable_id("option", fdef.api_name, label), "label": label})
                labels.append(label)
                log.info("auto-created option %r on field %s", label, fdef.api_name)

    # -- records --------------------------------------------------------------------------------

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

    def _sorted_actions(self, lead: dict[str, Any]) -> list[dict[str, Any]]:
        actions = [self.actions[a] for a in lead["action_ids"]]
        return sorted(actions, key=lambda a: (a["created_on"], a["seq"]), reverse=True)

    # -- filters --------------------------------------------------------------------------------

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
