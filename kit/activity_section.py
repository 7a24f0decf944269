"""The one "Log an activity" section of a modal: the workspace's custom actions as a select, and the
chosen one's fields.

Used by the *Log activity* modal of a lead card (:mod:`commands.activity.form`, where the section is
required) and by the *New lead* modal (:mod:`commands.lead.forms`, where it is optional). Built from
the cached ``custom_actions`` only: a select of the workspace's activities (``dispatch_action``) and, once one is chosen, its ``fieldSchema`` fields through the same type table as
lead fields (:mod:`kit.fields`). Every block of the section has a block id starting with
:data:`BLOCK_PREFIX` and its fields' ids carry the activity's code, so the section can live in any
view and choosing another activity swaps only those blocks and starts them empty
(:func:`replace_activity_section`, :func:`updated_view`).

Pure: no I/O.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kit import ids
from kit.fields import input_block, parse_datetime, validate_fields, view_spec
from kit.fields.base import TELECRM_DATETIME_FORMAT
from kit.format import DEFAULT_TZ, truncate
from telecrm.schema import CustomActionDef, FieldDef, WorkspaceSchema

BLOCK_PREFIX = "activity:"
BLOCK_PICK = "activity:type"
BLOCK_WHEN = "activity:when"  # "When it happened", for activities TeleCRM lets be back-dated
MAX_MODAL_BLOCKS = 100
MAX_OPTIONS = 100


@dataclass(frozen=True)
class Picker:
    """How the section's select reads in one modal, and the listener its choice goes to."""

    action_id: str = ids.ACT_ACTIVITY_PICK
    label: str = "Activity"
    hint: str | None = None  # shown when no activity is chosen yet (the chosen one's description wins)
    most_used_first: bool = False  # else in the workspace's own order


def field_block_id(action: CustomActionDef, field: FieldDef) -> str:
    """Block id of one of an activity's fields; carries the code so switching activities starts empty."""
    return f"{BLOCK_PREFIX}{action.numeric_code}:{field.api_name}"[:255]


def parse_field_block_id(block_id: str) -> tuple[str, str] | None:
    """``activity:1001:note`` → (``1001``, ``note``)."""
    match = re.fullmatch(re.escape(BLOCK_PREFIX) + r"(\w+):(.+)", block_id or "")
    return (match.group(1), match.group(2)) if match else None


def is_section_block(block_id: object) -> bool:
    """Whether a block (by its id) belongs to the activity section."""
    return str(block_id or "").startswith(BLOCK_PREFIX)


def _plain(text: str, n: int) -> dict[str, Any]:
    """Plain text cut to the ``n`` characters Slack allows where it goes."""
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def _action_option(action: CustomActionDef) -> dict[str, Any]:
    """One activity as a select option; its value is the numeric code the Sync API wants."""
    return {"text": _plain(action.display_name or action.code, 75), "value": action.numeric_code}


def action_options_for_query(schema: WorkspaceSchema | None, query: str) -> list[dict[str, Any]]:
    """Type-ahead for the activity select when a workspace defines more than 100 activities."""
    wanted = " ".join((query or "").split()).casefold()
    actions = schema.custom_actions if schema is not None else ()
    hits = [a for a in actions if wanted in a.display_name.casefold() or wanted in a.numeric_code]
    return [_action_option(a) for a in hits[:MAX_OPTIONS]]


def field_of_block(schema: WorkspaceSchema, block_id: str) -> FieldDef | None:
    """The activity field a type-ahead request is for, found from its block id alone."""
    parsed = parse_field_block_id(block_id)
    definition = schema.custom_action(parsed[0]) if parsed else None
    if not (definition and parsed):
        return None
    return next((f for f in definition.fields if f.api_name == parsed[1]), None)


def picker_block(
    schema: WorkspaceSchema,
    chosen: CustomActionDef | None,
    *,
    required: bool,
    picker: Picker = Picker(),
) -> dict[str, Any]:
    """The activity select; choosing dispatches an action so the form can show that activity's fields."""
    element: dict[str, Any] = {
        "action_id": picker.action_id,
        "placeholder": _plain("Choose an activity", 150),
    }
    if len(schema.custom_actions) > MAX_OPTIONS:
        element.update({"type": "external_select", "min_query_length": 0})
    else:
        actions = list(schema.custom_actions)
        if picker.most_used_first:
            actions.sort(key=lambda a: -a.score)
        element.update({"type": "static_select", "options": [_action_option(a) for a in actions]})
    if chosen is not None:
        element["initial_option"] = _action_option(chosen)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": BLOCK_PICK,
        "dispatch_action": True,
        "label": _plain(picker.label, 2000),
        "element": element,
        "optional": not required,
    }
    hint = chosen.description if chosen is not None and chosen.description else picker.hint
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def activity_blocks(
    schema: WorkspaceSchema,
    action_code: str | None,
    *,
    required: bool = True,
    max_blocks: int = MAX_MODAL_BLOCKS - 1,
    tz: str | None = None,
    picker: Picker = Picker(),
) -> list[dict[str, Any]]:
    """The "Log an activity" section: the select, then the chosen activity's fields (its own required
    flags), at most ``max_blocks`` blocks. ``required=False`` makes the whole section optional."""
    chosen = schema.custom_action(action_code) if action_code else None
    blocks = [picker_block(schema, chosen, required=required, picker=picker)]
    if chosen is None:
        return blocks
    for f in chosen.fields[: max(0, max_blocks - 1)]:
        blocks.append(
            input_block(
                f,
                schema,
                optional=not f.required,
                block_id=field_block_id(chosen, f),
                action_id=ids.ACT_ACTIVITY_FIELD,
                tz=tz,
            )
        )
    if chosen.allow_predated and len(blocks) < max_blocks:
        blocks.append(when_block())
    return blocks


def when_block() -> dict[str, Any]:
    """When the activity happened: empty means now; shown only for activities that allow it."""
    return {
        "type": "input",
        "block_id": BLOCK_WHEN,
        "optional": True,
        "label": _plain("When it happened", 2000),
        "hint": _plain("Leave empty for now. It can be earlier, not later.", 2000),
        "element": {"type": "datetimepicker", "action_id": ids.ACT_ACTIVITY_FIELD},
    }


def _happened(
    action: CustomActionDef, values: Mapping[str, object], now: float
) -> tuple[str | None, str | None]:
    """(``created_on`` to send, a problem) from the *When it happened* picker, in the workspace's
    time zone (TeleCRM reads ``DD/MM/YYYY HH:mm:ss`` there; docs/TELECRM.md)."""
    picked = values.get(BLOCK_WHEN)
    if not action.allow_predated or picked in (None, ""):
        return None, None
    try:
        moment = parse_datetime(picked, tz=DEFAULT_TZ)
    except ValueError:
        return None, "That is not a date and time."
    if moment > parse_datetime(now, tz=DEFAULT_TZ):
        return None, "That is in the future — an activity is logged once it has happened."
    return moment.strftime(TELECRM_DATETIME_FORMAT), None


def chosen_action_code(values: Mapping[str, object]) -> str | None:
    """The activity picked in a submitted form (``kit.fields.form_values``), if any."""
    code = str(values.get(BLOCK_PICK) or "").strip()
    return code or None


def activity_payload(
    schema: WorkspaceSchema,
    values: Mapping[str, object],
    *,
    tz: str | None = None,
    default_country_code: str = "91",
    now: float | None = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """A submitted form (``kit.fields.form_values``) → (the Sync action to send, errors by block id).

    ``(None, {})`` means no activity was chosen (the section is optional in the New lead modal).
    The action uses the bare numeric code, as the Sync API requires: ``{"type": "1001", "fields": {…}}``
    (docs/TELECRM.md, "Custom action codes").
    """
    code = chosen_action_code(values)
    if code is None:
        return None, {}
    action = schema.custom_action(code)
    if action is None:
        return None, {BLOCK_PICK: "That activity is no longer defined in TeleCRM — choose another one."}
    raw = {f.api_name: values.get(field_block_id(action, f)) for f in action.fields}
    converted, problems = validate_fields(
        schema,
        {k: v for k, v in raw.items() if v is not None},
        require_identifier=True,
        fields=action.fields,
        tz=tz,
        default_country_code=default_country_code,
    )
    by_name = {f.api_name: f for f in action.fields}
    errors: dict[str, str] = {}
    for problem in problems:
        f = by_name.get(problem.api_name)
        block = field_block_id(action, f) if f is not None else BLOCK_PICK
        errors.setdefault(block, truncate(problem.message, 2000))
    created_on, late = _happened(action, values, time.time() if now is None else now)
    if late:
        errors[BLOCK_WHEN] = late
    if errors:
        return None, errors
    sent: dict[str, Any] = {"type": action.numeric_code, "fields": converted}
    if created_on:
        sent["created_on"] = created_on
    return sent, {}


def replace_activity_section(
    blocks: Sequence[Mapping[str, Any]], section: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``blocks`` with the activity section swapped for ``section`` (appended when there was none)."""
    out: list[dict[str, Any]] = []
    inserted = False
    for block in blocks:
        if is_section_block(block.get("block_id")):
            if not inserted:
                out.extend(dict(b) for b in section)
                inserted = True
            continue
        out.append(dict(block))
    if not inserted:
        out.extend(dict(b) for b in section)
    return out


def updated_view(
    view: Mapping[str, Any],
    schema: WorkspaceSchema,
    action_code: str | None,
    *,
    picker: Picker = Picker(),
    max_fields: int = MAX_MODAL_BLOCKS,
    tz: str | None = None,
) -> dict[str, Any]:
    """The view after an activity was chosen: same everything, its activity section rebuilt (with at
    most ``max_fields`` of the activity's fields, and never past Slack's 100 blocks)."""
    blocks = list(view.get("blocks") or [])
    old = next((b for b in blocks if b.get("block_id") == BLOCK_PICK), None) or {}
    others = sum(1 for b in blocks if not is_section_block(b.get("block_id")))
    room = min(MAX_MODAL_BLOCKS - others, max_fields + 1)
    section = activity_blocks(
        schema, action_code, required=not old.get("optional", False), max_blocks=room, tz=tz, picker=picker
    )
    return view_spec(view, replace_activity_section(blocks, section))
