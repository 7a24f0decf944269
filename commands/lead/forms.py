"""The New lead form and its *More fields* page, as pure functions of the cached schema (no I/O, so
they are unit tested); also the block helpers the Edit form (:mod:`commands.lead.edit_form`) shares.

* **New lead**: one input per lead field (``block_id`` = API name), identifier first and required,
  then required fields, then the most used. A workspace with more fields than one Slack view holds
  gets a *More fields…* button that pushes a second page; beyond that, an "Other fields" box takes
  ``key=value`` text. An optional *Log an activity* select adds the chosen custom action's fields.

Only a :class:`~kit.view_context.ViewContext` travels in ``private_metadata`` (sealed when the view is
sent); everything bigger lives in SQLite (:mod:`commands.lead.store`). The listeners that open and
read these forms are in :mod:`commands.lead.new_lead`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from commands.lead.values import WORKSPACE_TZ
from kit import ids
from kit.activity_section import BLOCK_PICK, Picker, activity_blocks, is_section_block, updated_view
from kit.fields import FieldError, form_values, input_block, normalize_amount, order_fields_for_modal
from kit.format import channel_mention, mrkdwn_escape, truncate
from kit.lead_fields import assignee_field
from kit.view_context import ViewContext
from telecrm.schema import PAYMENT_CURRENCIES, FieldDef, FieldType, WorkspaceSchema

MAX_VIEW_BLOCKS = 100
MAX_ACTIVITY_FIELDS = 15  # fields of one custom action shown in the New lead modal

# Block ids of the form's own blocks; they contain ":" so they never clash with a field's API name.
INTRO_BLOCK = "lead:intro"
MORE_BLOCK = "lead:more"
OTHER_BLOCK = "lead:other"
CARD_PLACE_BLOCK = "lead:card_place"
ADVANCE_AMOUNT_BLOCK = "lead:advance_amount"
ADVANCE_CURRENCY_BLOCK = "lead:advance_currency"
ADVANCE_STATUS = "COMPLETED"  # money already received; the payment's buttons can change it later
NEW_LEAD_TITLE = "New lead"

#: the New lead modal's "Log an activity" select (the section is :mod:`kit.activity_section`)
NEW_LEAD_ACTIVITY = Picker(
    action_id=ids.ACT_LEAD_ACTIVITY_PICK,
    label="Log an activity",  # Slack adds "(optional)" to an optional input itself
    hint="Saved on the lead's timeline together with the new lead.",
    most_used_first=True,
)

# --- small helpers -----------------------------------------------------------------------------------


def plain_text(text: str, n: int = 150) -> dict[str, Any]:
    """A plain_text object cut to the length Slack allows where it is used."""
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def context_block(block_id: str, text: str) -> dict[str, Any]:
    """A context line with a fixed block id, so it can be found and replaced later."""
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}],
    }


def input_block_ids(blocks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The block ids of a view's inputs: the API names of the fields it shows."""
    return [str(b.get("block_id")) for b in blocks if b.get("type") == "input"]


# --- the New lead modal -------------------------------------------------------------------------------


def _activity_reserve(schema: WorkspaceSchema) -> int:
    """Blocks kept free for the activity select and the widest activity's fields."""
    if not schema.custom_actions:
        return 0
    widest = max((len(a.fields) for a in schema.custom_actions), default=0)
    return 1 + min(widest, MAX_ACTIVITY_FIELDS)


def first_page_budget(schema: WorkspaceSchema, *, extra: int = 0) -> tuple[int, bool]:
    """(lead fields on the first page, whether a *More fields…* button is needed) with ``extra``
    blocks of the form's own besides the intro line."""
    room = MAX_VIEW_BLOCKS - 1 - extra - _activity_reserve(schema)  # 1: the intro line
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
    schema: WorkspaceSchema,
    usage: Mapping[str, int] | None = None,
    prefilled: Iterable[str] = (),
    *,
    extra: int = 0,
) -> tuple[list[FieldDef], list[FieldDef]]:
    """(fields on the first page, the rest) — identifier first, required fields, then the most used."""
    budget, _ = first_page_budget(schema, extra=extra)
    priority = _priority(schema, usage)
    top = max(priority.values(), default=0) + 1
    priority.update({name: top for name in prefilled})
    return order_fields_for_modal(schema, usage=priority, max_fields=budget)


def field_input(
    schema: WorkspaceSchema,
    f: FieldDef,
    *,
    initial: object = None,
    member_email: str | None = None,
    required: bool | None = None,
    block_id: str | None = None,
) -> dict[str, Any]:
    """One field's input block; the identifier is required, the assignee defaults to the typist."""
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


def card_place_block(channel: str) -> dict[str, Any]:
    """Asked when the bot is not in the channel: the card goes to the user's DMs (checked), or
    to the channel once they invite the bot."""
    option = {
        "text": {"type": "mrkdwn", "text": "Post the card in my DMs"},
        # Slack allows 75 characters here; the hint below says the rest
        "description": {
            "type": "mrkdwn",
            "text": truncate(f"I'm not in {channel_mention(channel)}, so I can't post there", 75),
        },
        "value": "dm",
    }
    return {
        "type": "input",
        "block_id": CARD_PLACE_BLOCK,
        "optional": True,
        "label": plain_text("Where the card goes", 2000),
        "hint": plain_text(
            "To keep this channel's leads in it, invite me there first (/invite @TeleCRM) and uncheck this.",
            2000,
        ),
        "element": {
            "type": "checkboxes",
            "action_id": ids.ACT_FIELD_VALUE,
            "options": [option],
            "initial_options": [option],
        },
    }


ADVANCE_BLOCKS = (ADVANCE_AMOUNT_BLOCK, ADVANCE_CURRENCY_BLOCK)


def advance_payment_blocks(currency: str) -> list[dict[str, Any]]:
    """An optional payment received with the lead: amount, and currency (the workspace's default)."""
    chosen = currency if currency in PAYMENT_CURRENCIES else PAYMENT_CURRENCIES[0]

    def option(code: str) -> dict[str, Any]:
        return {"text": plain_text(code, 75), "value": code}

    return [
        {
            "type": "input",
            "block_id": ADVANCE_AMOUNT_BLOCK,
            "optional": True,
            "label": plain_text("Advance payment", 2000),
            "hint": plain_text(
                "Money already received, recorded as a completed payment with the lead. Commas and ₹ or $ are fine.",
                2000,
            ),
            "element": {
                "type": "plain_text_input",
                "action_id": ids.ACT_FIELD_VALUE,
                "placeholder": plain_text("e.g. 5,000", 150),
                "max_length": 30,
            },
        },
        {
            "type": "input",
            "block_id": ADVANCE_CURRENCY_BLOCK,
            "optional": True,
            "label": plain_text("Currency of the advance", 2000),
            "element": {
                "type": "static_select",
                "action_id": ids.ACT_FIELD_VALUE,
                "options": [option(c) for c in PAYMENT_CURRENCIES],
                "initial_option": option(chosen),
            },
        },
    ]


def advance_payment(
    state_values: Mapping[str, Any], default_currency: str
) -> tuple[dict[str, Any] | None, str | None]:
    """(the PAYMENT action to create with the lead, or None; a problem with the amount)."""
    values = form_values(state_values)
    raw = values.get(ADVANCE_AMOUNT_BLOCK)
    if raw is None or not str(raw).strip():
        return None, None
    try:
        amount = normalize_amount(raw)
    except FieldError as exc:
        return None, exc.message
    currency = str(values.get(ADVANCE_CURRENCY_BLOCK) or default_currency).upper()
    if currency not in PAYMENT_CURRENCIES:
        return None, f"{currency} is not a currency TeleCRM takes"
    return {"type": "PAYMENT", "amount": amount, "currency": currency, "status": ADVANCE_STATUS}, None


def card_to_dm(state_values: Mapping[str, Any]) -> bool:
    """Whether a submitted form asks for the card in the user's DMs."""
    chosen = form_values(state_values).get(CARD_PLACE_BLOCK)
    return isinstance(chosen, list) and "dm" in chosen


def intro_text(channel: str | None, *, more_saved: Sequence[str] = ()) -> str:
    """The form's first line: where the card will be posted, and what More fields saved."""
    where = channel_mention(channel) if channel and channel[:1] in "CG" else "this conversation"
    text = (
        f"The lead card will be posted in {where}; its thread follows the lead. "
        "Required fields first, then the ones your team fills in most."
    )
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
    bot_in_channel: bool = True,
    currency: str = "INR",
) -> dict[str, Any]:
    """The **New lead** modal; never more than Slack's 100 blocks, whatever the workspace holds.

    ``bot_in_channel=False``: the bot cannot post in ``channel``, so the form says so before submit
    and offers the user's DMs for the card (:data:`CARD_PLACE_BLOCK`). An optional advance payment
    (in ``currency`` unless changed) is created in the same TeleCRM call as the lead."""
    initial = initial or {}
    away = channel is not None and not bot_in_channel
    own = len(ADVANCE_BLOCKS) + (1 if away else 0)
    shown, rest = split_fields_for_create(schema, usage, prefilled=initial, extra=own)
    blocks: list[dict[str, Any]] = [context_block(INTRO_BLOCK, intro_text(channel))]
    if away and channel is not None:
        blocks.append(card_place_block(channel))
    blocks.extend(
        field_input(schema, f, member_email=member_email, initial=initial.get(f.api_name)) for f in shown
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
                        "text": plain_text(f"More fields ({len(rest)})…", 75),
                        "value": "more",
                    }
                ],
            }
        )
    blocks.extend(advance_payment_blocks(currency))
    if schema.custom_actions:
        blocks.extend(activity_blocks(schema, None, required=False, picker=NEW_LEAD_ACTIVITY))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_CREATE,
        "title": plain_text(NEW_LEAD_TITLE, 24),
        "submit": plain_text("Create lead", 24),
        "close": plain_text("Cancel", 24),
        "private_metadata": ViewContext(channel=channel).to_metadata(),
        "blocks": blocks,
    }


def with_activity(
    view: Mapping[str, Any], schema: WorkspaceSchema, action_code: str | None
) -> dict[str, Any]:
    """The same form with the chosen custom action's fields right after the activity select."""
    return updated_view(
        view,
        schema,
        action_code,
        picker=NEW_LEAD_ACTIVITY,
        max_fields=MAX_ACTIVITY_FIELDS,
        tz=WORKSPACE_TZ,
    )


def with_more_saved(
    blocks: list[dict[str, Any]], channel: str | None, saved_labels: Sequence[str]
) -> list[dict[str, Any]]:
    """The first page, its intro line saying which fields of the second page are filled in."""
    out = []
    for block in blocks:
        if block.get("block_id") == INTRO_BLOCK:
            block = context_block(INTRO_BLOCK, intro_text(channel, more_saved=saved_labels))
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
        context_block(
            INTRO_BLOCK,
            "Fill in what you know, then *Save* to go back to the first page; nothing is sent "
            "to TeleCRM until you create the lead there.",
        )
    ]
    blocks.extend(field_input(schema, f, initial=initial.get(f.api_name), required=f.required) for f in rest)
    if overflow:
        blocks.append(other_fields_block(schema, overflow, initial=initial.get(OTHER_BLOCK)))
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_MORE_FIELDS,
        "title": plain_text("More fields", 24),
        "submit": plain_text("Save", 24),
        "close": plain_text("Back", 24),
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
        "placeholder": plain_text("e.g. " + " ".join(f"{f.api_name}=…" for f in fields[:2])),
    }
    if isinstance(initial, str) and initial.strip():
        element["initial_value"] = truncate(initial, 3000)
    return {
        "type": "input",
        "block_id": OTHER_BLOCK,
        "optional": True,
        "label": plain_text(f"Other fields ({len(fields)})", 2000),
        "hint": plain_text("key=value pairs, quotes for spaces. Fields: " + names, 2000),
        "element": element,
    }


# --- reading a submitted form ---------------------------------------------------------------------------


def split_submission(state_values: Mapping[str, Any]) -> dict[str, Any]:
    """``view.state.values`` → lead values, chosen activity, activity values, the other-fields text."""
    raw = form_values(state_values)
    lead: dict[str, object] = {}
    activity: dict[str, object] = {}
    for block_id, value in raw.items():
        if is_section_block(block_id):
            activity[block_id] = value
        elif block_id != OTHER_BLOCK and ":" not in block_id:
            lead[block_id] = value
    return {
        "lead": lead,
        "activity_type": raw.get(BLOCK_PICK),
        "activity": activity,
        "other": raw.get(OTHER_BLOCK),
    }
