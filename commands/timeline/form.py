"""The small form `/timeline` alone opens (lead, type of activity, from, to) and reading it back.

Built from the cached schema only, so it opens within Slack's 3-second trigger; a submitted form is
checked here (lead reference, known type, real dates in order) before anything is sent to TeleCRM.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from commands.timeline.query import LeadRef, TimelineQuery, day_bounds_ms, lead_reference
from commands.timeline.render import CUSTOM_ICON
from kit import ids
from kit.fields import parse_datetime
from kit.format import truncate
from kit.timeline_grammar import BUILTIN_ACTION_TYPES
from kit.view_context import ViewContext
from telecrm.schema import WorkspaceSchema

BLOCK_LEAD = "timeline_lead"
BLOCK_TYPE = "timeline_type"
BLOCK_FROM = "timeline_from"
BLOCK_TO = "timeline_to"


def _option(text: str, value: str) -> dict[str, Any]:
    """A select option within Slack's limits (75-character text, 150-character value)."""
    return {"text": {"type": "plain_text", "text": truncate(text, 75), "emoji": True}, "value": value[:150]}


#: built-in types of one telephony provider: listed only once this workspace's timelines show them
PROVIDER_TYPES = frozenset(
    code
    for code in BUILTIN_ACTION_TYPES
    if code.startswith(("MAQSAM_", "IVR_", "MCUBE_", "KNOWLARITY_", "CALLER_DESK_"))
)


def type_choices(
    schema: WorkspaceSchema | None, seen: Mapping[str, int] | None = None, *, every_provider: bool = False
) -> list[tuple[str, str, str]]:
    """(group, label, value) of the types one can filter on: those seen on this workspace's
    timelines first (most seen first), then its custom activities, then the common built-in types.
    Provider-specific call types never seen here are left out of the list, not out of a search
    (``every_provider``: someone typing "maqsam" means it)."""
    seen = seen or {}
    every: dict[str, str] = {code: f"{icon} {name}" for code, (icon, name) in BUILTIN_ACTION_TYPES.items()}
    custom: dict[str, str] = {}
    if schema is not None:
        custom = {a.numeric_code: f"{CUSTOM_ICON} {a.display_name}" for a in schema.custom_actions}
    labels = {**every, **custom}
    used: list[str] = []
    for kind in sorted(seen, key=lambda c: -seen[c]):
        action = schema.custom_action(kind) if schema is not None and kind not in labels else None
        code = action.numeric_code if action is not None else kind  # "ACTION_1001" → "1001"
        if code in labels and code not in used:
            used.append(code)
    out = [("Used in this workspace", labels[code], code) for code in used]
    out += [("Custom activities", label, code) for code, label in custom.items() if code not in used]
    out += [
        ("Built-in", label, code)
        for code, label in every.items()
        if code not in used and code not in PROVIDER_TYPES
    ]
    if every_provider:
        out += [("Other call providers", every[c], c) for c in every if c in PROVIDER_TYPES and c not in used]
    return out


def type_options_for_query(
    schema: WorkspaceSchema | None, query: str, seen: Mapping[str, int] | None = None
) -> list[dict[str, Any]]:
    """Type-ahead for the type select when there are more than 100 types to choose from."""
    wanted = " ".join((query or "").split()).casefold()
    hits = [
        (label, value)
        for _, label, value in type_choices(schema, seen, every_provider=True)
        if wanted in label.casefold() or wanted in value.casefold()
    ]
    return [_option(label, value) for label, value in hits[:100]]


def _type_element(schema: WorkspaceSchema | None, seen: Mapping[str, int] | None) -> dict[str, Any]:
    """Grouped static options, or type-ahead past Slack's 100 options (see :func:`type_options_for_query`)."""
    choices = type_choices(schema, seen)
    element: dict[str, Any] = {
        "action_id": ids.ACT_TIMELINE_TYPE,
        "placeholder": {"type": "plain_text", "text": "All activities"},
    }
    if len(choices) > 100:
        element.update({"type": "external_select", "min_query_length": 0})
        return element
    element["type"] = "static_select"
    groups: dict[str, list[dict[str, Any]]] = {}
    for group, label, value in choices:
        groups.setdefault(group, []).append(_option(label, value))
    element["option_groups"] = [
        {"label": {"type": "plain_text", "text": group}, "options": options}
        for group, options in groups.items()
    ]
    return element


def timeline_modal(
    schema: WorkspaceSchema | None,
    *,
    channel: str | None,
    lead: str = "",
    seen: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The small form `/timeline` opens: lead, type, from, to. Built from the cache only."""
    ident = schema.identifier.label if schema is not None else "identifier"
    lead_element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACT_FIELD_VALUE,
        "placeholder": {"type": "plain_text", "text": f"Lead id or {ident.lower()}"},
    }
    if lead:
        lead_element["initial_value"] = lead
    return {
        "type": "modal",
        "callback_id": ids.VIEW_TIMELINE,
        "title": {"type": "plain_text", "text": "Lead timeline"},
        "submit": {"type": "plain_text", "text": "Show"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": ViewContext(channel=channel).to_metadata(),
        "blocks": [
            {
                "type": "input",
                "block_id": BLOCK_LEAD,
                "label": {"type": "plain_text", "text": "Lead"},
                "hint": {"type": "plain_text", "text": f"The TeleCRM lead id, or the lead's {ident.lower()}"},
                "element": lead_element,
            },
            {
                "type": "input",
                "block_id": BLOCK_TYPE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Type of activity"},
                "hint": {"type": "plain_text", "text": "Types used in this workspace come first."},
                "element": _type_element(schema, seen),
            },
            {
                "type": "input",
                "block_id": BLOCK_FROM,
                "optional": True,
                "label": {"type": "plain_text", "text": "From"},
                "element": {"type": "datepicker", "action_id": ids.ACT_FIELD_VALUE},
            },
            {
                "type": "input",
                "block_id": BLOCK_TO,
                "optional": True,
                "label": {"type": "plain_text", "text": "To"},
                "hint": {"type": "plain_text", "text": "Both days are included."},
                "element": {"type": "datepicker", "action_id": ids.ACT_FIELD_VALUE},
            },
        ],
    }


@dataclass(frozen=True)
class TimelineForm:
    """A checked `/timeline` form; the days become epoch ms once the user's time zone is known."""

    lead: LeadRef
    type: str | None
    date_from: str | None
    date_to: str | None

    def query(self, lead_id: str, tz: str | None) -> TimelineQuery:
        """The first page of the lead's history under these filters, days read in ``tz``."""
        start_ms, end_ms = day_bounds_ms(self.date_from, self.date_to, tz)
        return TimelineQuery(lead_id, self.type, start_ms, end_ms)


def read_timeline_form(
    schema: WorkspaceSchema, values: Mapping[str, object], *, default_country_code: str = "91"
) -> tuple[TimelineForm | None, dict[str, str]]:
    """The submitted form (``{block_id: value}``) → a checked form, or errors keyed by block id."""
    errors: dict[str, str] = {}
    ref = lead_reference(schema, str(values.get(BLOCK_LEAD) or ""), default_country_code=default_country_code)
    if isinstance(ref, str):
        errors[BLOCK_LEAD] = truncate(ref[:1].upper() + ref[1:], 2000)
    action_type = str(values.get(BLOCK_TYPE) or "").strip() or None
    if action_type and action_type not in BUILTIN_ACTION_TYPES and schema.custom_action(action_type) is None:
        errors[BLOCK_TYPE] = "That activity type is no longer defined in TeleCRM — choose another one."
    start = str(values.get(BLOCK_FROM) or "").strip() or None
    end = str(values.get(BLOCK_TO) or "").strip() or None
    for block, text in ((BLOCK_FROM, start), (BLOCK_TO, end)):
        if text:
            try:
                parse_datetime(text)
            except ValueError:
                errors[block] = "That is not a date — pick one with the calendar."
    dates_read = BLOCK_FROM not in errors and BLOCK_TO not in errors
    if start and end and dates_read and parse_datetime(end) < parse_datetime(start):
        errors[BLOCK_TO] = "The end date is before the start date — pick a day on or after “From”."
    if errors or isinstance(ref, str):
        return None, errors
    return TimelineForm(ref, action_type, start, end), {}
