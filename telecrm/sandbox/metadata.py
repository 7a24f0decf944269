"""The workspace's schema as TeleCRM describes it: enterprise metadata, custom fields, custom actions
and the lead stage pipeline (what the bot caches, telecrm/schema.py)."""

from __future__ import annotations

import copy
import re
from typing import Any

from .core import StateBase
from .errors import ApiError
from .workspace import ActionDef, FieldDef


class MetadataOps(StateBase):
    """The schema reads (see telecrm/sandbox/core.py for the layers)."""

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
