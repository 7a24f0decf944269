"""Lead fields with a meaning beyond their type, found in any workspace by name: whose lead it is
(the assignee) and when to follow it up.

Pure functions of the cached schema; the lead feature (forms, the ``lead.create`` job) and the
follow-up reminders (:mod:`kit.follow_ups`) use the same answers.
"""

from __future__ import annotations

from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

_ASSIGNEE_NAMES = {"assignee", "assignedto", "owner", "leadowner"}


def _norm(text: str) -> str:
    """A name reduced to lowercase letters and digits, to match field names loosely."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def assignee_field(schema: WorkspaceSchema) -> FieldDef | None:
    """The team-member field that says whose lead it is: named like "assignee", else the only one."""
    members = [f for f in schema.fields if f.type is FieldType.ACTIVE_USERS]
    for f in members:
        if _norm(f.api_name) in _ASSIGNEE_NAMES or _norm(f.label) in _ASSIGNEE_NAMES:
            return f
    return members[0] if len(members) == 1 else None


def follow_up_field(schema: WorkspaceSchema, configured: str = "") -> FieldDef | None:
    """The DATE field holding a lead's follow-up: the one ``FOLLOW_UP_FIELD`` names (API name or
    label, case-insensitive), else the first whose API name or label contains "follow".

    A configured name that is not a DATE field of the workspace gives ``None``: no reminders rather
    than reminders from a field the admin did not mean.
    """
    dates = [f for f in schema.fields if f.type is FieldType.DATE]
    if configured.strip():
        wanted = _norm(configured)
        return next((f for f in dates if wanted in {_norm(f.api_name), _norm(f.label)}), None)
    return next(
        (f for f in dates if "follow" in f.api_name.casefold() or "follow" in f.label.casefold()), None
    )
