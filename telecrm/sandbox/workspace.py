"""Workspace definitions: the JSON format, its validation and the shipped demo workspaces.

A workspace JSON file is checked completely when it is loaded (including its seeded leads, by
`load_workspace` in telecrm/sandbox/state.py), so a mistake in a `--workspace FILE` is reported at
start-up with the exact path of the bad entry.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .values import ACTION_FIELD_TYPES, FIELD_TYPES, IDENTIFIER_TYPES, OPTION_TYPES

DEMO_ENTERPRISE_ID = "6650a1c2e4b0d3f1a2b3c4d5"
DEMO_SYNC_TOKEN = "sandbox-sync-token"
DEMO_ASYNC_TOKEN = "sandbox-async-token"

#: Read-only lead properties the sandbox adds to every lead's `fields`; not usable as API names.
SYSTEM_FIELDS: tuple[str, ...] = ("created_on", "modified_on", "last_activity_type", "last_activity_on")
ROLES: tuple[str, ...] = ("ADMIN", "MANAGER", "CALLER", "MARKETING_USER")
MEMBER_STATUSES: tuple[str, ...] = ("Active", "Inactive", "On Leave", "Working", "Invited", "Deleted")
STAGE_TYPES: tuple[str, ...] = ("OPEN", "WON", "LOST")
_API_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ACTION_CODE_RE = re.compile(r"^ACTION_(\d+)$")


class WorkspaceError(ValueError):
    """A workspace definition (JSON file or dict) is malformed; the message names the bad entry."""


def stable_id(*parts: object) -> str:
    """24-hex id derived from its inputs, so seeded ids survive restarts of the sandbox."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]


@dataclass
class FieldDef:
    api_name: str
    type: str
    id: str
    name: str
    description: str
    lock_after_create: bool = False
    is_identifier: bool = False
    options: list[dict[str, str]] = field(default_factory=list)
    max_length: int | None = None

    def option_labels(self) -> list[str]:
        return [o["label"] for o in self.options]


@dataclass
class ActionDef:
    code: str  # ACTION_1001
    number: str  # 1001
    raw: dict[str, Any]

    @property
    def field_schema(self) -> dict[str, dict[str, Any]]:
        return self.raw["fieldSchema"]

    @property
    def allows_predating(self) -> bool:
        return bool((self.raw.get("allowPredatedActivity") or {}).get("enabled"))


@dataclass
class Workspace:
    """The compiled, validated schema part of a workspace (seeded data stays raw)."""

    enterprise: dict[str, Any]
    fields: dict[str, FieldDef]
    identifier: str
    actions: dict[str, ActionDef]  # keyed by the bare number, e.g. "1001"
    pipeline: dict[str, Any]
    team_members: list[dict[str, Any]]
    leads: list[dict[str, Any]]
    seats: int | None
    license_type: str
    api_actor: str | None


def _err(where: str, message: str) -> WorkspaceError:
    return WorkspaceError(f"{where}: {message}")


def _need(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise _err(where, f"missing required key {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _err(f"{where}.{key}", f"expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {dict: "an object", list: "an array", str: "a string", int: "an integer", bool: "true/false"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def compile_workspace(data: Any) -> Workspace:
    """Validate the shape of a workspace dict and build its schema objects.

    Each part is checked by its own function below, in the order of the file, so the first
    mistake in the file is the one reported.
    """
    if not isinstance(data, dict):
        raise WorkspaceError("workspace: expected a JSON object at the top level")
    enterprise = data.get("enterprise", {})
    if not isinstance(enterprise, dict):
        raise _err("enterprise", "expected an object")
    fields = _compile_fields(_need(data, "fields", list, "workspace"))
    identifier = data.get("lead_identifier", "phone")
    if identifier not in fields:
        raise _err("lead_identifier", f"{identifier!r} is not one of the workspace fields")
    if fields[identifier].type not in IDENTIFIER_TYPES:
        raise _err("lead_identifier", f"the identifier must be a {', '.join(IDENTIFIER_TYPES)} field")
    fields[identifier].is_identifier = True
    actions = _compile_actions(data.get("custom_actions", []))
    pipeline = _need(data, "pipeline", dict, "workspace")
    _check_pipeline(pipeline)
    members, emails = _compile_members(data.get("team_members", []))
    leads = data.get("leads", [])
    if not isinstance(leads, list) or not all(isinstance(lead, dict) for lead in leads):
        raise _err("leads", "expected an array of objects")
    seats = data.get("seats")
    if seats is not None and (not isinstance(seats, int) or isinstance(seats, bool) or seats < 0):
        raise _err("seats", "expected a non-negative integer or null (unlimited)")
    api_actor = data.get("api_actor")
    if api_actor is not None and str(api_actor).lower() not in emails:
        raise _err("api_actor", f"{api_actor!r} is not a team member")
    return Workspace(
        enterprise=copy.deepcopy(enterprise),
        fields=fields,
        identifier=identifier,
        actions=actions,
        pipeline=copy.deepcopy(pipeline),
        team_members=members,
        leads=copy.deepcopy(leads),
        seats=seats,
        license_type=str(data.get("license_type", "GROWTH")),
        api_actor=api_actor,
    )


def _compile_fields(specs: list[Any]) -> dict[str, FieldDef]:
    fields: dict[str, FieldDef] = {}
    for i, raw in enumerate(specs):
        where = f"fields[{i}]"
        if not isinstance(raw, dict):
            raise _err(where, "expected an object")
        api = _need(raw, "apiName", str, where)
        if not _API_NAME_RE.match(api):
            raise _err(f"{where}.apiName", f"{api!r} is not a valid API name (letters, digits, underscore)")
        if api in fields:
            raise _err(f"{where}.apiName", f"duplicate API name {api!r}")
        if api in SYSTEM_FIELDS:
            raise _err(f"{where}.apiName", f"{api!r} is reserved for a read-only system field")
        ftype = _need(raw, "type", str, where)
        if ftype not in FIELD_TYPES:
            raise _err(
                f"{where}.type", f"unknown field type {ftype!r} (expected one of {', '.join(FIELD_TYPES)})"
            )
        options = _compile_options(raw, api, ftype, where)
        max_length = raw.get("maxLength")
        if max_length is not None and (
            not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1
        ):
            raise _err(f"{where}.maxLength", "expected a positive integer")
        fields[api] = FieldDef(
            api_name=api,
            type=ftype,
            id=str(raw.get("id") or stable_id("field", api)),
            name=str(raw.get("name") or api.replace("_", " ").title()),
            description=str(raw.get("description", "")),
            lock_after_create=bool(raw.get("lockAfterCreate", False)),
            options=options,
            max_length=max_length,
        )
    return fields


def _compile_options(raw: dict[str, Any], api: str, ftype: str, where: str) -> list[dict[str, str]]:
    """A dropdown's or tags field's options as ``{id, label}``: a bare label gets a stable id."""
    options: list[dict[str, str]] = []
    if ftype in OPTION_TYPES:
        for j, opt in enumerate(raw.get("options", [])):
            if isinstance(opt, str):
                options.append({"id": stable_id("option", api, opt), "label": opt})
            elif isinstance(opt, dict) and isinstance(opt.get("label"), str):
                options.append(
                    {
                        "id": str(opt.get("id") or stable_id("option", api, opt["label"])),
                        "label": opt["label"],
                    }
                )
            else:
                raise _err(f"{where}.options[{j}]", "expected a label string or {id, label}")
        labels = [o["label"] for o in options]
        if len(set(labels)) != len(labels):
            raise _err(f"{where}.options", "duplicate option labels")
    elif "options" in raw:
        raise _err(f"{where}.options", f"options are only allowed on {' and '.join(OPTION_TYPES)} fields")
    return options


def _compile_actions(specs: Any) -> dict[str, ActionDef]:
    actions: dict[str, ActionDef] = {}
    for i, raw in enumerate(specs):
        where = f"custom_actions[{i}]"
        if not isinstance(raw, dict):
            raise _err(where, "expected an object")
        code = _need(raw, "code", str, where)
        match = _ACTION_CODE_RE.match(code)
        if not match:
            raise _err(f"{where}.code", f"{code!r} must look like ACTION_1001")
        if match.group(1) in actions:
            raise _err(f"{where}.code", f"duplicate custom action code {code!r}")
        _need(raw, "displayName", str, where)
        schema = raw.get("fieldSchema", {})
        if not isinstance(schema, dict):
            raise _err(f"{where}.fieldSchema", "expected an object")
        for key, spec in schema.items():
            _check_action_field(f"{where}.fieldSchema.{key}", key, spec)
        full = copy.deepcopy(raw)
        full.setdefault("id", stable_id("action", code))
        full["fieldSchema"] = copy.deepcopy(schema)
        actions[match.group(1)] = ActionDef(code=code, number=match.group(1), raw=full)
    return actions


def _check_action_field(swhere: str, key: str, spec: Any) -> None:
    if not _API_NAME_RE.match(key):
        raise _err(swhere, "invalid field key")
    if not isinstance(spec, dict) or spec.get("type") not in ACTION_FIELD_TYPES:
        raise _err(
            swhere,
            f'expected {{"type": one of {", ".join(ACTION_FIELD_TYPES)}}} (the field types TeleCRM documents '
            "for custom actions)",
        )
    if spec["type"] == "DROPDOWN" and not (
        isinstance(spec.get("options"), list) and all(isinstance(o, str) for o in spec["options"])
    ):
        raise _err(swhere, "dropdown fields need an options array of labels")


def _check_pipeline(pipeline: dict[str, Any]) -> None:
    stages = _need(pipeline, "leadStages", list, "pipeline")
    seen_labels: set[str] = set()
    for i, stage in enumerate(stages):
        where = f"pipeline.leadStages[{i}]"
        if not isinstance(stage, dict):
            raise _err(where, "expected an object")
        if stage.get("stageType") not in STAGE_TYPES:
            raise _err(f"{where}.stageType", f"expected one of {', '.join(STAGE_TYPES)}")
        for key in ("activeStatuses", "archivedStatuses"):
            for j, status in enumerate(stage.get(key, [])):
                if not isinstance(status, dict) or not isinstance(status.get("label"), str):
                    raise _err(f"{where}.{key}[{j}]", "expected {statusid, label, color}")
                if status["label"] in seen_labels:
                    raise _err(f"{where}.{key}[{j}]", f"duplicate status label {status['label']!r}")
                seen_labels.add(status["label"])
    for key in ("activeLeadLostReasons", "archivedLeadLostReasons"):
        for j, reason in enumerate(pipeline.get(key, [])):
            if not isinstance(reason, dict) or not isinstance(reason.get("reasonLabel"), str):
                raise _err(f"pipeline.{key}[{j}]", "expected {reasonid, reasonLabel, isDefault}")


def _compile_members(specs: Any) -> tuple[list[dict[str, Any]], set[str]]:
    """The team members, and their emails lowercased (managers and the API actor must be among them)."""
    members: list[dict[str, Any]] = []
    emails: set[str] = set()
    for i, raw in enumerate(specs):
        where = f"team_members[{i}]"
        if not isinstance(raw, dict):
            raise _err(where, "expected an object")
        for key in ("name", "email", "phone_number", "role", "status"):
            _need(raw, key, str, where)
        if raw["role"] not in ROLES:
            raise _err(f"{where}.role", f"expected one of {', '.join(ROLES)}")
        if raw["status"] not in MEMBER_STATUSES:
            raise _err(f"{where}.status", f"expected one of {', '.join(MEMBER_STATUSES)}")
        if raw["email"].lower() in emails:
            raise _err(f"{where}.email", "duplicate email")
        emails.add(raw["email"].lower())
        members.append(copy.deepcopy(raw))
    for i, member in enumerate(members):
        manager = member.get("manager_email")
        if manager is not None and str(manager).lower() not in emails:
            raise _err(f"team_members[{i}].manager_email", f"{manager!r} is not a team member")
    return members, emails


def _packaged(name: str) -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


def demo_workspace() -> dict[str, Any]:
    """The shipped demo workspace (a fresh copy each call)."""
    return _packaged("demo_workspace.json")


def email_identifier_workspace() -> dict[str, Any]:
    """A small shipped workspace whose lead identifier is `email`."""
    return _packaged("email_identifier_workspace.json")
