"""The shape of a TeleCRM workspace, as the bot needs it.

TeleCRM's metadata endpoints come in several shapes (summary vs detail, ``leadStages`` vs top-level
``statuses``), so everything is parsed here, tolerantly, into small immutable objects.  The rest of
the bot only ever sees these objects, never raw metadata JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    """Lead and custom-action field types (docs/TELECRM.md, *Workspace schema*)."""

    TEXT = "text"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    DROPDOWN = "dropdown"
    TAGS = "tags"
    MONEY = "money"
    WEBSITE = "website"
    MEDIALINK = "medialink"
    ACTIVE_USERS = "active_users"
    RATING = "rating"
    STATUS = "status"
    LOST_REASON = "lost_reason"

    @classmethod
    def parse(cls, raw: object) -> FieldType:
        """Map any spelling TeleCRM uses (``ACTIVE_USERS``, ``activeUsers``, ``lostReason``) to a type.

        An unknown type is treated as text, never an error: a new TeleCRM type must not break forms.
        """
        key = re.sub(r"[^a-z]", "", str(raw or "").lower())
        return _TYPE_KEYS.get(key, cls.TEXT)


_TYPE_KEYS = {t.value.replace("_", ""): t for t in FieldType}
_TYPE_KEYS.update(
    {"activeuser": FieldType.ACTIVE_USERS, "url": FieldType.WEBSITE, "multiselect": FieldType.TAGS}
)

PAYMENT_STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED", "REFUNDED")
PAYMENT_CURRENCIES = ("INR", "USD", "PKR", "AED", "QAR", "SAR", "MYR", "AUD", "CAD", "SGD", "XOF")


def humanize(api_name: str) -> str:
    """``follow_up_date`` → ``Follow up date``; ``dealSize`` → ``Deal size``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", api_name).replace("_", " ").replace("-", " ")
    words = " ".join(spaced.split())
    return words[:1].upper() + words[1:].lower() if words else api_name


@dataclass(frozen=True)
class FieldDef:
    """One lead field (or one field of a custom action's ``fieldSchema``)."""

    api_name: str
    type: FieldType
    label: str = ""
    options: tuple[str, ...] = ()
    is_identifier: bool = False
    lock_after_create: bool = False
    description: str = ""
    required: bool = False

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", humanize(self.api_name))


@dataclass(frozen=True)
class StatusDef:
    label: str
    stage_type: str = "OPEN"
    stage_id: str = ""
    active: bool = True
    color: str | None = None


@dataclass(frozen=True)
class LostReasonDef:
    label: str
    active: bool = True


@dataclass(frozen=True)
class CustomActionDef:
    """A workspace-defined action. ``code`` is the ``ACTION_1001`` form; Sync payloads use ``numeric_code``."""

    code: str
    display_name: str
    score: int = 0
    icon: str = ""
    description: str = ""
    fields: tuple[FieldDef, ...] = ()
    source: str = "USER"
    allow_predated: bool = False  # allowPredatedActivity.enabled: a created_on in the past is honoured

    @property
    def numeric_code(self) -> str:
        return self.code.removeprefix("ACTION_")


@dataclass(frozen=True)
class TeamMember:
    name: str
    email: str
    status: str = "Active"
    phone_number: str = ""
    role: str = ""

    @property
    def is_active(self) -> bool:
        return self.status.lower() not in {"deleted", "inactive"}


@dataclass(frozen=True)
class WorkspaceSchema:
    """Everything the forms and validators need, as cached in SQLite."""

    fields: tuple[FieldDef, ...]
    identifier_api_name: str = "phone"
    statuses: tuple[StatusDef, ...] = ()
    lost_reasons: tuple[LostReasonDef, ...] = ()
    custom_actions: tuple[CustomActionDef, ...] = ()
    team_members: tuple[TeamMember, ...] = ()
    enterprise_name: str = ""
    fetched_at: float = 0.0
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_lower.update({f.api_name.lower(): f for f in self.fields})

    @property
    def identifier(self) -> FieldDef:
        found = self.field(self.identifier_api_name)
        if found is not None:
            return found
        marked = [f for f in self.fields if f.is_identifier]
        return (
            marked[0] if marked else FieldDef(self.identifier_api_name, FieldType.PHONE, is_identifier=True)
        )

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive lookup by API name (README.md: ``/lead`` keys match case-insensitively)."""
        return self._by_lower.get(name.strip().lower())

    @property
    def active_statuses(self) -> tuple[StatusDef, ...]:
        return tuple(s for s in self.statuses if s.active)

    @property
    def active_lost_reasons(self) -> tuple[LostReasonDef, ...]:
        return tuple(r for r in self.lost_reasons if r.active)

    @property
    def active_members(self) -> tuple[TeamMember, ...]:
        return tuple(m for m in self.team_members if m.is_active)

    def member_by_email(self, email: str | None) -> TeamMember | None:
        if not email:
            return None
        wanted = email.strip().lower()
        return next((m for m in self.team_members if m.email.lower() == wanted), None)

    def custom_action(self, code: str) -> CustomActionDef | None:
        """Find by ``ACTION_1001``, ``1001`` or display name (case-insensitive)."""
        wanted = code.strip().lower()
        for action in self.custom_actions:
            if wanted in {action.code.lower(), action.numeric_code.lower(), action.display_name.lower()}:
                return action
        return None

    def choices_for(self, f: FieldDef) -> tuple[str, ...]:
        """The allowed labels of a choice-typed field (dropdown options, active statuses, ...)."""
        if f.type is FieldType.STATUS:
            return tuple(s.label for s in self.active_statuses)
        if f.type is FieldType.LOST_REASON:
            return tuple(r.label for r in self.active_lost_reasons)
        if f.type is FieldType.ACTIVE_USERS:
            return tuple(m.email for m in self.active_members)
        return f.options

    def with_fetched_at(self, fetched_at: float) -> WorkspaceSchema:
        return replace(self, fetched_at=fetched_at, _by_lower={})


# --- parsing TeleCRM metadata responses (tolerant, docs/TELECRM.md) ---------------------------------


def _options(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    out: list[str] = []
    for opt in raw:
        if isinstance(opt, Mapping):
            label = opt.get("label") or opt.get("name") or opt.get("value")
            if label is not None:
                out.append(str(label))
        elif opt is not None:
            out.append(str(opt))
    return tuple(out)


def parse_field(raw: Mapping[str, Any], *, api_name: str | None = None) -> FieldDef:
    name = str(api_name or raw.get("apiName") or raw.get("api_name") or raw.get("name") or "")
    label = raw.get("label") or raw.get("displayName") or raw.get("display_name") or ""
    if not label and name and raw.get("name") and raw.get("name") != name:
        label = raw["name"]  # beside an apiName, "name" is the field's display name
    return FieldDef(
        api_name=name,
        type=FieldType.parse(raw.get("type")),
        label=str(label),
        options=_options(raw.get("options") or raw.get("tags")),
        is_identifier=bool(raw.get("isLeadid") or raw.get("isLeadId")),
        lock_after_create=bool(raw.get("lockAfterCreate")),
        description=str(raw.get("description") or ""),
        required=bool(raw.get("required")),
    )


def parse_custom_fields(body: Mapping[str, Any]) -> tuple[FieldDef, ...]:
    """``GET /custom-fields`` (either shape) → field definitions; entries without an API name are skipped."""
    raw = body.get("customFields")
    if raw is None:
        raw = body.get("data", [])
    fields = [parse_field(item) for item in raw or [] if isinstance(item, Mapping)]
    return tuple(f for f in fields if f.api_name)


def identifier_from(
    metadata: Mapping[str, Any], fields: Iterable[FieldDef], raw_fields: Iterable[Mapping]
) -> str:
    """Resolve the identifier's API name: ``leadIdentifierFieldId`` may be an API name or a field id."""
    fields = list(fields)
    wanted = str(metadata.get("leadIdentifierFieldId") or "")
    if wanted:
        for f in fields:
            if f.api_name == wanted:
                return f.api_name
        for raw in raw_fields:
            if str(raw.get("id") or "") == wanted and raw.get("apiName"):
                return str(raw["apiName"])
    marked = [f.api_name for f in fields if f.is_identifier]
    return marked[0] if marked else (wanted or "phone")


def parse_pipeline(body: Mapping[str, Any]) -> tuple[tuple[StatusDef, ...], tuple[LostReasonDef, ...]]:
    """``GET /lead-stage-pipeline`` in the documented ``leadStages`` shape or the top-level variant."""
    statuses: list[StatusDef] = []
    for stage in body.get("leadStages") or []:
        if not isinstance(stage, Mapping):
            continue
        stage_type = str(stage.get("stageType") or "OPEN").upper()
        stage_id = str(stage.get("stageid") or stage.get("stageId") or "")
        for key, active in (("activeStatuses", True), ("archivedStatuses", False)):
            for s in stage.get(key) or []:
                label = s.get("label") if isinstance(s, Mapping) else s
                if label:
                    color = s.get("color") if isinstance(s, Mapping) else None
                    statuses.append(StatusDef(str(label), stage_type, stage_id, active, color))
    for s in body.get("statuses") or []:
        if isinstance(s, Mapping) and s.get("label"):
            archived = bool(s.get("archived") or s.get("isArchived"))
            stage_type = str(s.get("stageType") or "OPEN").upper()
            statuses.append(StatusDef(str(s["label"]), stage_type, "", not archived, s.get("color")))
        elif isinstance(s, str):
            statuses.append(StatusDef(s))

    reasons: list[LostReasonDef] = []
    for key, active in (("activeLeadLostReasons", True), ("archivedLeadLostReasons", False)):
        for r in body.get(key) or []:
            label = r.get("reasonLabel") if isinstance(r, Mapping) else r
            if label:
                reasons.append(LostReasonDef(str(label), active))
    for r in body.get("lostReasons") or []:
        if isinstance(r, Mapping) and (r.get("reasonLabel") or r.get("label")):
            archived = bool(r.get("archived") or r.get("isArchived"))
            reasons.append(LostReasonDef(str(r.get("reasonLabel") or r.get("label")), not archived))
        elif isinstance(r, str):
            reasons.append(LostReasonDef(r))
    return tuple(statuses), tuple(reasons)


def parse_custom_action(raw: Mapping[str, Any]) -> CustomActionDef:
    code = str(raw.get("code") or "")
    if code.isdigit():
        code = f"ACTION_{code}"
    schema = raw.get("fieldSchema") or {}
    fields: list[FieldDef] = []
    if isinstance(schema, Mapping):
        for key, spec in schema.items():
            fields.append(
                parse_field(spec if isinstance(spec, Mapping) else {"type": spec}, api_name=str(key))
            )
    elif isinstance(schema, list):
        fields.extend(parse_field(spec) for spec in schema if isinstance(spec, Mapping))
    return CustomActionDef(
        code=code,
        display_name=str(raw.get("displayName") or raw.get("display_name") or code),
        score=int(raw.get("score") or 0) if str(raw.get("score") or "0").lstrip("-").isdigit() else 0,
        icon=str(raw.get("icon") or ""),
        description=str(raw.get("description") or ""),
        fields=tuple(f for f in fields if f.api_name),
        source=str(raw.get("source") or "USER"),
        allow_predated=_enabled(raw.get("allowPredatedActivity")),
    )


def _enabled(setting: object) -> bool:
    """``{"enabled": true}`` (a workspace setting's shape) → True; anything else → False."""
    return isinstance(setting, Mapping) and setting.get("enabled") is True


def parse_custom_actions(body: Mapping[str, Any]) -> tuple[CustomActionDef, ...]:
    raw = body.get("customActions")
    if raw is None:
        raw = body.get("data", [])
    actions = [parse_custom_action(item) for item in raw or [] if isinstance(item, Mapping)]
    return tuple(a for a in actions if a.code)


def parse_team_member(raw: Mapping[str, Any]) -> TeamMember:
    return TeamMember(
        name=str(raw.get("name") or raw.get("email") or ""),
        email=str(raw.get("email") or ""),
        status=str(raw.get("status") or "Active"),
        phone_number=str(raw.get("phone_number") or ""),
        role=str(raw.get("role") or raw.get("permission_template_name") or ""),
    )


# --- plain-JSON round trip for the SQLite cache ---------------------------------------------------


def schema_to_json(schema: WorkspaceSchema) -> dict[str, Any]:
    def fdict(f: FieldDef) -> dict[str, Any]:
        return {
            "api_name": f.api_name,
            "type": f.type.value,
            "label": f.label,
            "options": list(f.options),
            "is_identifier": f.is_identifier,
            "lock_after_create": f.lock_after_create,
            "description": f.description,
            "required": f.required,
        }

    return {
        "fields": [fdict(f) for f in schema.fields],
        "identifier_api_name": schema.identifier_api_name,
        "statuses": [vars(s) for s in schema.statuses],
        "lost_reasons": [vars(r) for r in schema.lost_reasons],
        "custom_actions": [
            {
                "code": a.code,
                "display_name": a.display_name,
                "score": a.score,
                "icon": a.icon,
                "description": a.description,
                "source": a.source,
                "allow_predated": a.allow_predated,
                "fields": [fdict(f) for f in a.fields],
            }
            for a in schema.custom_actions
        ],
        "team_members": [vars(m) for m in schema.team_members],
        "enterprise_name": schema.enterprise_name,
        "fetched_at": schema.fetched_at,
    }


def schema_from_json(data: Mapping[str, Any]) -> WorkspaceSchema:
    def fdef(d: Mapping[str, Any]) -> FieldDef:
        return FieldDef(
            api_name=d["api_name"],
            type=FieldType.parse(d.get("type")),
            label=d.get("label", ""),
            options=tuple(d.get("options") or ()),
            is_identifier=bool(d.get("is_identifier")),
            lock_after_create=bool(d.get("lock_after_create")),
            description=d.get("description", ""),
            required=bool(d.get("required")),
        )

    return WorkspaceSchema(
        fields=tuple(fdef(f) for f in data.get("fields", [])),
        identifier_api_name=data.get("identifier_api_name", "phone"),
        statuses=tuple(StatusDef(**s) for s in data.get("statuses", [])),
        lost_reasons=tuple(LostReasonDef(**r) for r in data.get("lost_reasons", [])),
        custom_actions=tuple(
            CustomActionDef(
                code=a["code"],
                display_name=a.get("display_name", a["code"]),
                score=a.get("score", 0),
                icon=a.get("icon", ""),
                description=a.get("description", ""),
                source=a.get("source", "USER"),
                allow_predated=bool(a.get("allow_predated")),
                fields=tuple(fdef(f) for f in a.get("fields", [])),
            )
            for a in data.get("custom_actions", [])
        ),
        team_members=tuple(TeamMember(**m) for m in data.get("team_members", [])),
        enterprise_name=data.get("enterprise_name", ""),
        fetched_at=float(data.get("fetched_at", 0.0)),
    )
