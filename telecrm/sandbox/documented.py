"""`SANDBOX_STRICT_DOCS`: answers cut down to exactly the keys TeleCRM's documentation shows.

The sandbox's answers carry a few keys the documents do not show but that live TeleCRM is reported
to send, or that make the sandbox easier to use: a lead's `created_on` / `modified_on` /
`last_activity_*`, a timeline row's `action_id` / `created_on` / `performed_by` and a built-in
action's own properties, lead search's `skip` / `limit`, a field's display `name`, `dateFormat` and
`maxLength`, a custom action field's `label`. The bot must be correct without them, so with strict
docs on (`Sandbox(strict_docs=True)` or the environment variable `SANDBOX_STRICT_DOCS=1`) every
answer keeps only the keys in the documented examples, per route (`documented_only`):

* a lead: `fields` holds lead field values only; lead search rows are `{"id", "fields"}` with
  `total_count` (the get-lead page says lead ids come "from POST /lead or search results", the only
  documented way to find a lead by its identifier, so the id stays);
* an action (get, update, timeline rows of action search and get-with-actions): a custom action is
  `{"type", "fields"}`, a PAYMENT `{"type", "status", "currency", "amount"}`, a built-in one
  `{"type"}` (the action search example);
* create answers: `lead_id`, `actions[{action_id, status}]`, `remarks[{field, status, remark}]`;
* team members, metadata, custom fields and actions, the pipeline: the documented objects' keys;
* the Async answer: `{"status"}`; error answers keep TeleCRM's envelope `{"error": {"code",
  "message", "details"}}`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .workspace import SYSTEM_FIELDS

ENV_VAR = "SANDBOX_STRICT_DOCS"

# A shape: a dict maps each kept key to the shape of its value (ANY keeps the value whole), a
# one-element list is "an array of this shape", a callable picks the shape from the value itself.
ANY = object()


def strict_docs_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """`SANDBOX_STRICT_DOCS` as a switch: 1/true/yes/on turn it on."""
    value = (environ if environ is not None else os.environ).get(ENV_VAR, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def _action(row: Any) -> Any:
    """The documented shape of one action, from its type."""
    if not isinstance(row, dict):
        return ANY
    action_type = row.get("type")
    if action_type == "PAYMENT":
        return {"type": ANY, "status": ANY, "currency": ANY, "amount": ANY}
    if isinstance(action_type, str) and action_type.isdigit():
        return {"type": ANY, "fields": ANY}
    return {"type": ANY}


def _lead_fields(fields: Any) -> Any:
    """A lead's field values, without the read-only keys no document shows."""
    if not isinstance(fields, dict):
        return ANY
    return {k: ANY for k in fields if k not in SYSTEM_FIELDS}


_WRITE = {
    "lead_id": ANY,
    "actions": [{"action_id": ANY, "status": ANY}],
    "remarks": [{"field": ANY, "status": ANY, "remark": ANY}],
}
_LEAD = {"fields": _lead_fields, "actions": [_action], "actions_skip": ANY, "actions_limit": ANY}
_ACTION_PAGE = {"data": [_action], "total_count": ANY, "skip": ANY, "limit": ANY}
_MEMBER = {
    "name": ANY,
    "email": ANY,
    "status": ANY,
    "phone_number": ANY,
    "manager_name": ANY,
    "manager_email": ANY,
    "permission_template_name": ANY,
    "license": ANY,
}
_FIELD = {
    "id": ANY,
    "type": ANY,
    "apiName": ANY,
    "description": ANY,
    "lockAfterCreate": ANY,
    "isLeadid": ANY,
    "options": ANY,
}
_CUSTOM_ACTION = {
    "id": ANY,
    "code": ANY,
    "displayName": ANY,
    "icon": ANY,
    "description": ANY,
    "score": ANY,
    "fieldSchema": lambda schema: (
        {k: {"type": ANY, "options": ANY} for k in schema} if isinstance(schema, dict) else ANY
    ),
    "displaySchema": ANY,
    "allowPredatedActivity": ANY,
    "quickAdd": ANY,
    "definitionType": ANY,
    "createdOn": ANY,
    "createdBy": ANY,
    "modifiedOn": ANY,
    "modifiedBy": ANY,
    "source": ANY,
}
_STATUS = {"statusid": ANY, "label": ANY, "color": ANY}
_REASON = {"reasonid": ANY, "reasonLabel": ANY, "isDefault": ANY}

#: route endpoint (telecrm/sandbox/app.py) → the documented shape of its 2xx answer
SHAPES: dict[str, Any] = {
    "create_lead": _WRITE,
    "get_lead": _LEAD,
    "update_lead": {"fields": _lead_fields},
    "search_leads": {"data": [{"id": ANY, "fields": _lead_fields}], "total_count": ANY},
    "create_actions": _WRITE,
    "get_action": _action,
    "update_action": _action,
    "search_actions": _ACTION_PAGE,
    "list_members": {"data": [_MEMBER], "total_count": ANY, "skip": ANY, "limit": ANY},
    "create_member": {"name": ANY, "email": ANY, "phone_number": ANY, "role": ANY, "status": ANY},
    "get_member": _MEMBER,
    "state_change": {"email": ANY, "status": ANY},
    "metadata": {
        "name": ANY,
        "id": ANY,
        "creationTimeStamp": ANY,
        "teamSize": ANY,
        "industry": ANY,
        "website": ANY,
        "leadIdentifierFieldId": ANY,
        "integrations": ANY,
    },
    "custom_fields": {"customFields": [_FIELD]},
    "custom_field": _FIELD,
    "custom_actions": {"customActions": [_CUSTOM_ACTION]},
    "custom_action": _CUSTOM_ACTION,
    "pipeline": {
        "leadStages": [
            {
                "stageid": ANY,
                "stageType": ANY,
                "visibility": ANY,
                "activeStatuses": [_STATUS],
                "archivedStatuses": [_STATUS],
            }
        ],
        "activeLeadLostReasons": [_REASON],
        "archivedLeadLostReasons": [_REASON],
        "creationTimestamp": ANY,
        "modificationTimestamp": ANY,
        "lastModifiedBy": ANY,
        "version": ANY,
    },
    "autoupdatelead": {"status": ANY},
}


def _keep(value: Any, shape: Any) -> Any:
    if shape is ANY:
        return value
    if callable(shape):
        return _keep(value, shape(value))
    if isinstance(shape, list):
        return [_keep(item, shape[0]) for item in value] if isinstance(value, list) else value
    if isinstance(shape, dict) and isinstance(value, dict):
        return {k: _keep(v, shape[k]) for k, v in value.items() if k in shape}
    return value


def documented_only(endpoint: str, body: Any) -> Any:
    """`body`, the 2xx answer of `endpoint`, with only the keys the documents show."""
    shape = SHAPES.get(endpoint)
    return body if shape is None else _keep(body, shape)
