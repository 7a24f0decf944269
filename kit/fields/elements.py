"""Block Kit input elements for fields, always within Slack's limits whatever the workspace holds.

One ``element_*`` builder per kind of input; :mod:`kit.fields.kinds` says which type uses which.
A choice field with more options than a static select may hold becomes an ``external_select``,
answered by :func:`options_for_query`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from kit.fields.base import (
    MAX_ACTION_ID,
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_PLACEHOLDER,
    PHONE_EXAMPLE,
    ConvertCtx,
    ElementCtx,
    FieldError,
    is_empty,
)
from kit.fields.choices import Choice, choices_of, option_value
from kit.fields.dates import parse_datetime
from kit.fields.values import NUMBER, normalize_amount, ungroup
from kit.format import truncate, zone
from telecrm.schema import FieldDef, WorkspaceSchema


def plain(text: str, n: int) -> dict[str, Any]:
    """A plain_text object cut to Slack's limit `n`, so a long label never makes Slack refuse the view."""
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def option(choice: Choice) -> dict[str, Any]:
    """A Block Kit option; its value is :func:`~kit.fields.choices.option_value` of the label."""
    return {"text": plain(choice.text, MAX_OPTION_TEXT), "value": option_value(choice.label)}


def _base(kind: str, ctx: ElementCtx, placeholder: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": kind, "action_id": ctx.action_id[:MAX_ACTION_ID]}
    if placeholder:
        element["placeholder"] = plain(placeholder, MAX_PLACEHOLDER)
    return element


def _initial_text(initial: object) -> str | None:
    if is_empty(initial) or isinstance(initial, Mapping | bool):
        return None
    if isinstance(initial, list | tuple):
        return ", ".join(str(i) for i in initial if not is_empty(i))
    return str(initial)


_MULTILINE = re.compile(
    r"note|description|comment|remark|address|message|detail|summary|feedback|requirement", re.IGNORECASE
)
_DATETIME_NAME = re.compile(r"time|(?:^|[_\s])at$|appointment|meeting|schedule|slot", re.IGNORECASE)


def element_text(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    element = _base("plain_text_input", ctx, f"Enter {field.label.lower()}")
    if _MULTILINE.search(field.api_name) or _MULTILINE.search(field.label):
        element["multiline"] = True
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def element_email(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    element = _base("email_text_input", ctx, "name@example.com")
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def element_phone(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    element = _base("plain_text_input", ctx, f"e.g. {PHONE_EXAMPLE}")
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def _numeric_initial(initial: object) -> str | None:
    text = _initial_text(initial)
    if text is None:
        return None
    cleaned = ungroup(text.strip())
    return cleaned if cleaned and NUMBER.fullmatch(cleaned) else None


def element_number(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    element = _base("number_input", ctx, "e.g. 1500")
    element["is_decimal_allowed"] = True
    if (text := _numeric_initial(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def element_money(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    element = _base("number_input", ctx, "e.g. 5000")
    element["is_decimal_allowed"] = True
    element["min_value"] = "0.01"
    if not is_empty(ctx.initial):
        with contextlib.suppress(FieldError):
            amount = normalize_amount(ctx.initial)
            if Decimal(amount) >= Decimal("0.01"):
                element["initial_value"] = amount
    return element


def element_date(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    with_time = bool(_DATETIME_NAME.search(field.api_name) or _DATETIME_NAME.search(field.label))
    element = _base("datetimepicker" if with_time else "datepicker", ctx)
    if not with_time:
        element["placeholder"] = plain("Pick a date", MAX_PLACEHOLDER)
    if is_empty(ctx.initial):
        return element
    try:
        moment = parse_datetime(ctx.initial, tz=ctx.tz)
    except (ValueError, OverflowError):
        return element
    if with_time:
        with contextlib.suppress(OverflowError, OSError, ValueError):
            element["initial_date_time"] = int(moment.replace(tzinfo=zone(ctx.tz)).timestamp())
    else:
        element["initial_date"] = moment.strftime("%Y-%m-%d")
    return element


def _select(
    field: FieldDef, ctx: ElementCtx, choices: list[Choice], *, initial: Sequence[str], multi: bool = False
) -> dict[str, Any]:
    """static_select with options (grouped when choices carry groups), or external_select when too many."""
    chosen = [c for label in initial for c in choices if c.label == label][: 1 if not multi else None]
    kind = "multi_static_select" if multi else "static_select"
    noun = "Choose options" if multi else "Choose an option"
    if len(choices) > MAX_OPTIONS:
        kind = "multi_external_select" if multi else "external_select"
        element = _base(kind, ctx, "Type to search")
        element["min_query_length"] = 0
    else:
        element = _base(kind, ctx, noun)
        groups = list(dict.fromkeys(c.group for c in choices))
        if len(groups) > 1:
            element["option_groups"] = [
                {
                    "label": plain(group or "Other", MAX_OPTION_TEXT),
                    "options": [option(c) for c in choices if c.group == group],
                }
                for group in groups
            ]
        else:
            element["options"] = [option(c) for c in choices]
    if chosen:
        if multi:
            element["initial_options"] = [option(c) for c in chosen]
        else:
            element["initial_option"] = option(chosen[0])
    return element


def _initial_labels(field: FieldDef, ctx: ElementCtx) -> list[str]:
    """The labels an initial value stands for, read by the field type's own converter."""
    schema, initial = ctx.schema, ctx.initial
    if is_empty(initial):
        return []
    convert_ctx = ConvertCtx(schema, "91", None, None)
    try:
        value = ctx.convert(field, initial, convert_ctx)
    except FieldError:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values]


def element_choice(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    choices = choices_of(field, ctx.schema)
    if not choices:
        return element_text(field, ctx)
    return _select(field, ctx, choices, initial=_initial_labels(field, ctx))


def element_tags(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    choices = choices_of(field, ctx.schema)
    if not choices:
        element = _base("plain_text_input", ctx, "Comma-separated, e.g. VIP, Returning")
        if (text := _initial_text(ctx.initial)) is not None:
            element["initial_value"] = text
        return element
    return _select(field, ctx, choices, initial=_initial_labels(field, ctx), multi=True)


def element_url(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    element = _base("url_text_input", ctx, "https://example.com")
    if (text := _initial_text(ctx.initial)) is not None:
        element["initial_value"] = text
    return element


def element_member(field: FieldDef, ctx: ElementCtx) -> dict[str, Any]:
    choices = choices_of(field, ctx.schema)
    if not choices:
        return element_email(field, ctx)
    initial = _initial_labels(field, ctx)
    if not initial and ctx.preferred_member_email:
        preferred = ctx.schema.member_by_email(ctx.preferred_member_email)
        if preferred is not None and preferred.is_active:
            initial = [preferred.email]
    return _select(field, ctx, choices, initial=initial)


def options_for_query(
    field: FieldDef, schema: WorkspaceSchema, query: str, *, limit: int = MAX_OPTIONS
) -> list[dict[str, Any]]:
    """Options for an external_select's type-ahead: prefix matches first, then word starts, then substrings."""
    wanted = " ".join((query or "").split()).casefold()
    ranked: list[tuple[int, int, Choice]] = []
    for index, choice in enumerate(choices_of(field, schema)):
        haystack = choice.text.casefold() + " " + choice.label.casefold()
        if (
            not wanted
            or choice.label.casefold().startswith(wanted)
            or choice.text.casefold().startswith(wanted)
        ):
            rank = 0
        elif re.search(r"(?:^|[\s(@._-])" + re.escape(wanted), haystack):
            rank = 1
        elif wanted in haystack:
            rank = 2
        else:
            continue
        ranked.append((rank, index, choice))
    ranked.sort(key=lambda item: item[:2])
    return [option(choice) for _, _, choice in ranked[: max(0, min(limit, MAX_OPTIONS))]]
