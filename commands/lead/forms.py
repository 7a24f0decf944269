"""The /lead modals, as pure functions of the cached schema (no I/O, so they are unit tested).

* **New lead**: one input per lead field (``block_id`` = API name), identifier first and required,
  then required fields, then the most used. A workspace with more fields than one Slack view holds
  gets a *More fields…* button that pushes a second page; beyond that, an "Other fields" box takes
  ``key=value`` text. An optional *Log an activity* select adds the chosen custom action's fields.
* **Edit lead**: opened at once as a "reading…" view, then updated with the lead's current values.

Only a :class:`~kit.view_context.ViewContext` travels in ``private_metadata`` (sealed when the view is
sent); everything bigger lives in SQLite (:mod:`commands.lead.store`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from kit import ids
from kit.fields import (
    FieldError,
    convert,
    form_values,
    input_block,
    normalize_phone,
    order_fields_for_modal,
)
from kit.format import DEFAULT_TZ, channel_mention, format_when, mrkdwn_escape, mrkdwn_link, truncate
from kit.grammar import slack_unescape
from kit.view_context import ViewContext
from telecrm.schema import CustomActionDef, FieldDef, FieldType, WorkspaceSchema

MAX_VIEW_BLOCKS = 100
MAX_ACTIVITY_FIELDS = 15  # fields of one custom action shown in the New lead modal
WORKSPACE_TZ = DEFAULT_TZ  # TeleCRM reads zone-less date strings in the workspace's (India's) time

# Block ids of the form's own blocks; they contain ":" so they never clash with a field's API name.
INTRO_BLOCK = "lead:intro"
MORE_BLOCK = "lead:more"
OTHER_BLOCK = "lead:other"
ACTIVITY_TYPE_BLOCK = "activity:type"
ACTIVITY_FIELD_PREFIX = "activity:f:"

_ASSIGNEE_NAMES = {"assignee", "assignedto", "owner", "leadowner"}


# --- small helpers -----------------------------------------------------------------------------------


def _plain(text: str, n: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def _context(block_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}],
    }


def _norm(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def assignee_field(schema: WorkspaceSchema) -> FieldDef | None:
    """The team-member field that says whose lead it is: named like "assignee", else the only one."""
    members = [f for f in schema.fields if f.type is FieldType.ACTIVE_USERS]
    for f in members:
        if _norm(f.api_name) in _ASSIGNEE_NAMES or _norm(f.label) in _ASSIGNEE_NAMES:
            return f
    return members[0] if len(members) == 1 else None


def view_spec(view: Mapping[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A view as received from Slack → the spec ``views.update`` takes, with new blocks."""
    spec: dict[str, Any] = {"type": "modal", "blocks": blocks}
    for key in ("callback_id", "title", "submit", "close", "private_metadata", "notify_on_close"):
        if view.get(key) not in (None, ""):
            spec[key] = view[key]
    return spec


def input_block_ids(blocks: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(b.get("block_id")) for b in blocks if b.get("type") == "input"]


# --- the New lead modal -------------------------------------------------------------------------------


def _activity_reserve(schema: WorkspaceSchema) -> int:
    if not schema.custom_actions:
        return 0
    widest = max((len(a.fields) for a in schema.custom_actions), default=0)
    return 1 + min(widest, MAX_ACTIVITY_FIELDS)


def first_page_budget(schema: WorkspaceSchema) -> tuple[int, bool]:
    """(lead fields on the first page, whether a *More fields…* button is needed)."""
    room = MAX_VIEW_BLOCKS - 1 - _activity_reserve(schema)  # 1: the intro line
    if len(schema.fields) <= room:
        return len(schema.fields), False
    return room - 1, True


def _priority(schema: WorkspaceSchema, usage: Mapping[str, int] | None) -> dict[str, int]:
    """Usage counts with required fields (and the assignee) lifted to the top."""
    counts = {k: v for k, v in (usage or {}).items() if v > 0}
    top = max(counts.values(), default=0) + 1
    assignee = assignee_field(schema)
    for f in schema.fields:
        if f.required:
            counts[f.api_name] = top * 2
    if assignee is not None:
        counts[assignee.api_name] = max(counts.get(assignee.api_name, 0), top)
    return counts


def split_fields_for_create(
    schema: WorkspaceSchema, usage: Mapping[str, int] | None = None, prefilled: Iterable[str] = ()
) -> tuple[list[FieldDef], list[FieldDef]]:
    """(fields on the first page, the rest) — identifier first, required fields, then the most used."""
    budget, _ = first_page_budget(schema)
    priority = _priority(schema, usage)
    top = max(priority.values(), default=0) + 1
    priority.update({name: top for name in prefilled})
    return order_fields_for_modal(schema, usage=priority, max_fields=budget)


def _field_input(
    schema: WorkspaceSchema,
    f: FieldDef,
    *,
    initial: object = None,
    member_email: str | None = None,
    required: bool | None = None,
    block_id: str | None = None,
) -> dict[str, Any]:
    is_required = f.api_name == schema.identifier.api_name or f.required if required is None else required
    preferred = None
    if f.type is FieldType.ACTIVE_USERS:  # only a team-member field can default to the person typing
        assignee = assignee_field(schema)
        preferred = member_email if assignee is not None and f.api_name == assignee.api_name else None
    return input_block(
        f,
        schema,
        optional=not is_required,
        block_id=block_id,
        action_id=ids.ACT_FIELD_VALUE,
        initial=initial,
        preferred_member_email=preferred,
        tz=WORKSPACE_TZ,
    )


def _activity_select(schema: WorkspaceSchema) -> dict[str, Any]:
    actions = sorted(schema.custom_actions, key=lambda a: -a.score)[:100]
    return {
        "type": "input",
        "block_id": ACTIVITY_TYPE_BLOCK,
        "optional": True,
        "dispatch_action": True,
        "label": _plain("Log an activity (optional)", 2000),
        "hint": _plain("Saved on the lead's timeline together with the new lead.", 2000),
        "element": {
            "type": "static_select",
            "action_id": ids.ACT_LEAD_ACTIVITY_PICK,
            "placeholder": _plain("Choose an activity"),
            "options": [{"text": _plain(a.display_name or a.code, 75), "value": a.code} for a in actions],
        },
    }


def intro_text(channel: str | None, *, more_saved: Sequence[str] = ()) -> str:
    where = channel_mention(channel) if channel and channel[:1] in "CG" else "this conversation"
    text = f"The lead card will be posted in {where}; its thread follows the lead."
    if more_saved:
        shown = ", ".join(more_saved[:8]) + ("…" if len(more_saved) > 8 else "")
        text += f"\n:white_check_mark: {len(more_saved)} more field(s) saved: {mrkdwn_escape(shown)}"
    return text


def new_lead_view(
    schema: WorkspaceSchema,
    *,
    channel: str | None,
    usage: Mapping[str, int] | None = None,
    member_email: str | None = None,
    initial: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The **New lead** modal; never more than Slack's 100 blocks, whatever the workspace holds."""
    initial = initial or {}
    shown, rest = split_fields_for_create(schema, usage, prefilled=initial)
    blocks: list[dict[str, Any]] = [_context(INTRO_BLOCK, intro_text(channel))]
    blocks.extend(
        _field_input(schema, f, member_email=member_email, initial=initial.get(f.api_name)) for f in shown
    )
    if rest:
        blocks.append(
            {
                "type": "actions",
                "block_id": MORE_BLOCK,
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ACT_OPEN_MORE_FIELDS,
                        "text": _plain(f"More fields ({len(rest)})…", 75),
                        "value": "more",
                    }
                ],
            }
        )
    if schema.custom_actions:
        blocks.append(_activity_select(schema))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_CREATE,
        "title": _plain("New lead", 24),
        "submit": _plain("Create lead", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": ViewContext(channel=channel).to_metadata(),
        "blocks": blocks,
    }


def with_activity(
    blocks: list[dict[str, Any]], schema: WorkspaceSchema, action: CustomActionDef | None
) -> list[dict[str, Any]]:
    """The same form with the chosen custom action's fields right after the activity select."""
    kept = [b for b in blocks if not str(b.get("block_id", "")).startswith(ACTIVITY_FIELD_PREFIX)]
    if action is None:
        return kept
    room = MAX_VIEW_BLOCKS - len(kept)
    extra = [
        _field_input(schema, f, required=f.required, block_id=ACTIVITY_FIELD_PREFIX + f.api_name)
        for f in action.fields[: max(0, min(room, MAX_ACTIVITY_FIELDS))]
    ]
    at = next((i + 1 for i, b in enumerate(kept) if b.get("block_id") == ACTIVITY_TYPE_BLOCK), len(kept))
    return kept[:at] + extra + kept[at:]


def with_more_saved(
    blocks: list[dict[str, Any]], channel: str | None, saved_labels: Sequence[str]
) -> list[dict[str, Any]]:
    """The first page, its intro line saying which fields of the second page are filled in."""
    out = []
    for block in blocks:
        if block.get("block_id") == INTRO_BLOCK:
            block = _context(INTRO_BLOCK, intro_text(channel, more_saved=saved_labels))
        out.append(block)
    return out


def more_fields_view(
    schema: WorkspaceSchema,
    first_page_ids: Iterable[str],
    *,
    initial: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The pushed second page: every field the first page could not hold (its values are kept on Save)."""
    on_first = set(first_page_ids)
    rest = [f for f in schema.fields if f.api_name not in on_first]
    room = MAX_VIEW_BLOCKS - 1
    overflow: list[FieldDef] = []
    if len(rest) > room:
        rest, overflow = rest[: room - 1], rest[room - 1 :]
    initial = initial or {}
    blocks: list[dict[str, Any]] = [
        _context(
            INTRO_BLOCK,
            "Fill in what you know, then *Save* to go back to the first page; nothing is sent "
            "to TeleCRM until you create the lead there.",
        )
    ]
    blocks.extend(_field_input(schema, f, initial=initial.get(f.api_name), required=f.required) for f in rest)
    if overflow:
        blocks.append(other_fields_block(schema, overflow, initial=initial.get(OTHER_BLOCK)))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_MORE_FIELDS,
        "title": _plain("More fields", 24),
        "submit": _plain("Save", 24),
        "close": _plain("Back", 24),
        "blocks": blocks,
    }


def other_fields_block(
    schema: WorkspaceSchema, fields: Sequence[FieldDef], *, initial: object = None
) -> dict[str, Any]:
    """A free-text box for fields Slack has no room for: ``key=value`` pairs, as in ``/lead``."""
    names = ", ".join(f.api_name for f in fields)
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACT_FIELD_VALUE,
        "multiline": True,
        "placeholder": _plain("e.g. " + " ".join(f"{f.api_name}=…" for f in fields[:2])),
    }
    if isinstance(initial, str) and initial.strip():
        element["initial_value"] = truncate(initial, 3000)
    return {
        "type": "input",
        "block_id": OTHER_BLOCK,
        "optional": True,
        "label": _plain(f"Other fields ({len(fields)})", 2000),
        "hint": _plain("key=value pairs, quotes for spaces. Fields: " + names, 2000),
        "element": element,
    }


# --- pre-filling from a Slack message ------------------------------------------------------------------

_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])\+?\d[\d ().-]{5,}\d(?!\w)")
_NAME_LABEL = re.compile(r"\bname\s*[:=\-–]\s*([^\n,;|<>]{2,60})", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})\b")
_NOT_NAMES = {
    "call", "contact", "email", "mail", "phone", "mobile", "please", "lead", "customer", "client", "new",
    "hi", "hello", "hey", "from", "number", "whatsapp", "ping", "meet", "reach", "message", "note", "the",
    "today", "tomorrow", "yesterday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "site", "visit", "follow", "asked", "wants", "interested", "can", "could", "he", "she", "they",
}  # fmt: skip


def _guess_name(text: str) -> str | None:
    labelled = _NAME_LABEL.search(text)
    if labelled:
        return " ".join(labelled.group(1).split()).strip(" .")
    for match in _CAPITALISED.finditer(text):
        words = [w for w in match.group(1).split() if w.lower() not in _NOT_NAMES]
        if words:
            return " ".join(words)
    return None


def prefill_from_text(
    schema: WorkspaceSchema, text: str, *, default_country_code: str = "91"
) -> dict[str, object]:
    """The phone, email and name found in a message, keyed by this workspace's field API names."""
    plain = slack_unescape(text or "")
    found: dict[str, object] = {}
    phone_fields = [f for f in schema.fields if f.type is FieldType.PHONE]
    email_fields = [f for f in schema.fields if f.type is FieldType.EMAIL]
    ident = schema.identifier
    for candidates, values in (
        (phone_fields, [m.group(0) for m in _PHONE_IN_TEXT.finditer(plain)]),
        (email_fields, _EMAIL_IN_TEXT.findall(plain)),
    ):
        target = next(
            (f for f in candidates if f.api_name == ident.api_name), candidates[0] if candidates else None
        )
        for value in values:
            if target is None:
                break
            if target.type is FieldType.PHONE:
                try:
                    value = normalize_phone(value, default_country_code)
                except ValueError:
                    continue
            found[target.api_name] = value
            break
    name_field = schema.field("name")
    without = _EMAIL_IN_TEXT.sub(" ", _PHONE_IN_TEXT.sub(" ", plain))
    name = _guess_name(without) if name_field is not None else None
    if name_field is not None and name:
        found[name_field.api_name] = truncate(name, 80)
    return found


# --- reading a submitted form ---------------------------------------------------------------------------


def split_submission(state_values: Mapping[str, Any]) -> dict[str, Any]:
    """``view.state.values`` → lead values, chosen activity, activity values, the other-fields text."""
    raw = form_values(state_values)
    lead: dict[str, object] = {}
    activity: dict[str, object] = {}
    for block_id, value in raw.items():
        if block_id.startswith(ACTIVITY_FIELD_PREFIX):
            activity[block_id[len(ACTIVITY_FIELD_PREFIX) :]] = value
        elif block_id not in (ACTIVITY_TYPE_BLOCK, OTHER_BLOCK) and ":" not in block_id:
            lead[block_id] = value
    return {
        "lead": lead,
        "activity_type": raw.get(ACTIVITY_TYPE_BLOCK),
        "activity": activity,
        "other": raw.get(OTHER_BLOCK),
    }


# --- the Edit modal -------------------------------------------------------------------------------------


def edit_loading_view(lead_id: str, *, name: str | None, channel: str | None) -> dict[str, Any]:
    """Opened at once on *Edit* (the trigger id expires in 3 s); filled in when TeleCRM answers."""
    who = f"*{mrkdwn_escape(name)}*" if name else f"lead `{mrkdwn_escape(lead_id)}`"
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_EDIT,
        "title": _plain("Edit lead", 24),
        "close": _plain("Cancel", 24),
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
        "title": _plain("Edit lead", 24),
        "close": _plain("Close", 24),
        "private_metadata": ViewContext(channel=channel, lead_id=lead_id).to_metadata(),
        "blocks": [
            {
                "type": "section",
                "block_id": INTRO_BLOCK,
                "text": {"type": "mrkdwn", "text": truncate(text, 3000)},
            }
        ],
    }


def has_value(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(has_value(v) for v in value)
    return True


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
    blocks: list[dict[str, Any]] = [_context(INTRO_BLOCK, intro)]
    fixed = [
        f"*{mrkdwn_escape(f.label)}*: {mrkdwn_escape(display_text(f, current.get(f.api_name)))}"
        for f in read_only
        if has_value(current.get(f.api_name))
    ]
    if fixed:
        blocks.append(
            _context(
                "lead:fixed",
                truncate(" · ".join(fixed), 2900) + "  _(cannot be changed here)_",
            )
        )
    blocks.extend(_field_input(schema, f, initial=current.get(f.api_name), required=False) for f in shown)
    if rest:
        blocks.append(other_fields_block(schema, rest))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_EDIT,
        "title": _plain("Edit lead", 24),
        "submit": _plain("Save changes", 24),
        "close": _plain("Cancel", 24),
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


# --- comparing and showing values ------------------------------------------------------------------------


def canonical(value: object) -> object:
    """A comparable form: numbers by value (``5000`` = ``"5000.00"``), lists as sets, text trimmed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float | Decimal):
        try:
            return ("n", Decimal(str(value)).normalize())
        except InvalidOperation:
            return ("s", str(value))
    if isinstance(value, list | tuple | set):
        items = sorted(str(canonical(v)) for v in value if canonical(v) is not None)
        return ("l", tuple(items)) if items else None
    text = " ".join(str(value).split())
    try:
        if text and text.lstrip("+-").replace(".", "", 1).isdigit():
            return ("n", Decimal(text).normalize())
    except InvalidOperation:
        pass
    return ("s", text)


def comparable(
    schema: WorkspaceSchema, f: FieldDef, value: object, *, default_country_code: str = "91"
) -> object:
    """A value read from TeleCRM, converted the way the bot would send it, then made canonical."""
    if not has_value(value):
        return None
    with contextlib.suppress(FieldError):
        value = convert(f, value, schema, default_country_code=default_country_code, tz=WORKSPACE_TZ)
    return canonical(value)


def display_text(f: FieldDef | None, value: object) -> str:
    """A field value for people: dates as dates, lists comma-separated, nothing as "—"."""
    if not has_value(value):
        return "—"
    if f is not None and f.type is FieldType.DATE and not isinstance(value, list | tuple):
        return format_when(value, WORKSPACE_TZ)  # type: ignore[arg-type]
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def display_fields(schema: WorkspaceSchema, fields: Mapping[str, object]) -> dict[str, object]:
    """Lead fields as a card should show them (epoch-ms dates as dates; system fields left out)."""
    out: dict[str, object] = {}
    for key, value in fields.items():
        f = schema.field(key)
        if f is None:
            continue
        out[f.api_name] = display_text(f, value) if f.type is FieldType.DATE else value
    return out
