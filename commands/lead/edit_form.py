"""The Edit lead modal, as pure functions of the cached schema and the lead's current values.

Opened at once as a "reading…" view (the trigger id expires in 3 s), then updated with the lead's
current values; :func:`edit_baseline` records what an untouched form would submit, so only fields
a person changed are sent. The listeners are in :mod:`commands.lead.edit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commands.lead.forms import (
    INTRO_BLOCK,
    MAX_VIEW_BLOCKS,
    context_block,
    field_input,
    other_fields_block,
    plain_text,
)
from commands.lead.values import WORKSPACE_TZ, has_value
from kit import ids
from kit.display import field_text
from kit.fields import FieldError, convert
from kit.format import mrkdwn_escape, mrkdwn_link, truncate
from kit.view_context import ViewContext
from telecrm.schema import FieldDef, WorkspaceSchema


def edit_loading_view(lead_id: str, *, name: str | None, channel: str | None) -> dict[str, Any]:
    """Opened at once on *Edit* (the trigger id expires in 3 s); filled in when TeleCRM answers."""
    who = f"*{mrkdwn_escape(name)}*" if name else f"lead `{mrkdwn_escape(lead_id)}`"
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_EDIT,
        "title": plain_text("Edit lead", 24),
        "close": plain_text("Cancel", 24),
        "private_metadata": ViewContext(channel=channel, lead_id=lead_id).to_metadata(),
        "blocks": [
            {
                "type": "section",
                "block_id": INTRO_BLOCK,
                "text": {"type": "mrkdwn", "text": f":hourglass_flowing_sand: Reading {who} from TeleCRM…"},
            }
        ],
    }


def edit_message_view(lead_id: str, text: str, *, channel: str | None) -> dict[str, Any]:
    """The Edit modal when the lead cannot be read: say why, offer nothing to submit."""
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_EDIT,
        "title": plain_text("Edit lead", 24),
        "close": plain_text("Close", 24),
        "private_metadata": ViewContext(channel=channel, lead_id=lead_id).to_metadata(),
        "blocks": [
            {
                "type": "section",
                "block_id": INTRO_BLOCK,
                "text": {"type": "mrkdwn", "text": truncate(text, 3000)},
            }
        ],
    }


def editable_fields(
    schema: WorkspaceSchema, current: Mapping[str, object], usage: Mapping[str, int] | None = None
) -> tuple[list[FieldDef], list[FieldDef], list[FieldDef]]:
    """(fields shown as inputs, fields only reachable as key=value text, read-only fields).

    The identifier never changes, nor does a field locked after creation once it has a value; filled
    fields come first (they are what people correct), then the most used, then the workspace's order.
    """
    ident = schema.identifier.api_name
    read_only = [
        f
        for f in schema.fields
        if f.api_name == ident or (f.lock_after_create and has_value(current.get(f.api_name)))
    ]
    locked = {f.api_name for f in read_only}
    candidates = [f for f in schema.fields if f.api_name not in locked]
    counts = usage or {}
    position = {f.api_name: i for i, f in enumerate(candidates)}
    ranked = sorted(
        candidates,
        key=lambda f: (
            0 if has_value(current.get(f.api_name)) else 1,
            -counts.get(f.api_name, 0),
            position[f.api_name],
        ),
    )
    room = MAX_VIEW_BLOCKS - 2  # the intro line and the read-only line
    if len(ranked) <= room:
        return [f for f in candidates], [], read_only
    shown_names = {f.api_name for f in ranked[: room - 1]}
    shown = [f for f in candidates if f.api_name in shown_names]
    rest = [f for f in candidates if f.api_name not in shown_names]
    return shown, rest, read_only


def edit_view(
    schema: WorkspaceSchema,
    lead_id: str,
    current: Mapping[str, object],
    *,
    channel: str | None,
    usage: Mapping[str, int] | None = None,
    lead_link: str | None = None,
) -> dict[str, Any]:
    """The Edit modal pre-filled with the lead's current values (only changed fields are sent)."""
    shown, rest, read_only = editable_fields(schema, current, usage)
    intro = "Change what you need; only the fields you change are sent to TeleCRM."
    if lead_link:
        intro += " " + mrkdwn_link(lead_link, "Open in TeleCRM")
    blocks: list[dict[str, Any]] = [context_block(INTRO_BLOCK, intro)]
    fixed = [
        f"*{mrkdwn_escape(f.label)}*: {mrkdwn_escape(field_text(f, current.get(f.api_name)))}"
        for f in read_only
        if has_value(current.get(f.api_name))
    ]
    if fixed:
        blocks.append(
            context_block(
                "lead:fixed",
                truncate(" · ".join(fixed), 2900) + "  _(cannot be changed here)_",
            )
        )
    blocks.extend(field_input(schema, f, initial=current.get(f.api_name), required=False) for f in shown)
    if rest:
        blocks.append(other_fields_block(schema, rest))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_EDIT,
        "title": plain_text("Edit lead", 24),
        "submit": plain_text("Save changes", 24),
        "close": plain_text("Cancel", 24),
        "private_metadata": ViewContext(channel=channel, lead_id=lead_id).to_metadata(),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def untouched_value(element: Mapping[str, Any]) -> object:
    """What an input submits when nobody touches it (its initial value, in ``state.values`` terms)."""
    kind = element.get("type")
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return element.get("initial_value")
    if kind in ("static_select", "external_select"):
        option = element.get("initial_option")
        return option.get("value") if isinstance(option, Mapping) else None
    if kind in ("multi_static_select", "multi_external_select"):
        return [o.get("value") for o in element.get("initial_options") or [] if isinstance(o, Mapping)]
    if kind == "datepicker":
        return element.get("initial_date")
    if kind == "datetimepicker":
        return element.get("initial_date_time")
    return None


def edit_baseline(
    schema: WorkspaceSchema, view: Mapping[str, Any], *, default_country_code: str = "91"
) -> dict[str, object]:
    """The converted values the Edit modal would submit untouched; a field differing from it was edited."""
    baseline: dict[str, object] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        f = schema.field(str(block.get("block_id", "")))
        raw = untouched_value(block.get("element") or {})
        if f is None or not has_value(raw):
            continue
        try:
            baseline[f.api_name] = convert(
                f, raw, schema, default_country_code=default_country_code, tz=WORKSPACE_TZ
            )
        except FieldError:
            continue
    return baseline
