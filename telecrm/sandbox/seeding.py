"""Seeding: the leads and actions a workspace file starts with, checked as strictly as API input but
with the file's path in every message, and with what only a file may do (relative times, archived
statuses on historical leads, built-in activity types)."""

from __future__ import annotations

import re
from typing import Any

from .errors import ActionRejected
from .leads import LeadOps
from .values import DroppedValue, InvalidValue, parse_relative, parse_relative_or_date
from .workspace import WorkspaceError, stable_id

_HEX24 = re.compile(r"^[0-9a-f]{24}$")


class Seeding(LeadOps):
    """Seeding a new state (see telecrm/sandbox/core.py for the layers)."""

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
            except ActionRejected as rejected:
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
