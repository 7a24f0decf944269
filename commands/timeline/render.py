"""How a timeline looks: one row per action (icon, when, who, key fields), the page around the rows
(header, filters, *Older* / *Newer*), and the `/timeline` usage text.

Pure: no I/O. Every row comes from TeleCRM, so every piece of it is escaped (tests/security/test_injection.py
drives it with hostile values), and a page stays within Slack's message limits whatever the rows hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeGuard

from commands.timeline.query import PAGE_SIZE, TimelineQuery
from kit import ids
from kit.display import display_value
from kit.format import format_money, format_when, mrkdwn_escape, mrkdwn_link, truncate, zone
from kit.timeline_grammar import BUILTIN_ACTION_TYPES
from telecrm.models import Page
from telecrm.schema import FieldType, WorkspaceSchema, humanize

#: each row's section is capped well below Slack's 3000 characters
MAX_ACTION_TEXT = 1500
MAX_VALUE_TEXT = 200
MAX_DETAILS = 8
MAX_FALLBACK_TEXT = 3000

CUSTOM_ICON = "📌"
UNKNOWN_ICON = "🔹"
PAYMENT_STATUS_ICONS = {
    "PENDING": "⏳",
    "PROCESSING": "🔄",
    "COMPLETED": "✅",
    "FAILED": "❌",
    "CANCELLED": "🚫",
    "REFUNDED": "↩️",
}
# keys of an action-search row that are about the row, not details worth showing
_ROW_KEYS = {
    "type",
    "action_id",
    "actionId",
    "id",
    "_id",
    "created_on",
    "createdOn",
    "performed_by",
    "performedBy",
    "lead_id",
    "leadId",
    "fields",
}


def type_label(schema: WorkspaceSchema | None, action_type: object) -> tuple[str, str]:
    """(icon, human name) of an action type; custom actions by their display name from the cache."""
    text = str(action_type or "").strip()
    builtin = BUILTIN_ACTION_TYPES.get(text.upper())
    if builtin:
        return builtin
    custom = schema.custom_action(text) if schema is not None and text else None
    if custom is not None:
        return CUSTOM_ICON, custom.display_name
    if text.isdigit() or text.upper().startswith("ACTION_"):
        return CUSTOM_ICON, f"Custom activity {text.upper().removeprefix('ACTION_')}"
    return UNKNOWN_ICON, humanize(text.lower()) if text else "Activity"


def _who(schema: WorkspaceSchema | None, performed_by: object) -> str:
    """Who did it, by the team member's name when TeleCRM gives an email the cache knows."""
    if isinstance(performed_by, Mapping):
        performed_by = performed_by.get("name") or performed_by.get("email") or ""
    text = str(performed_by or "").strip()
    if not text:
        return ""
    member = schema.member_by_email(text) if schema is not None and "@" in text else None
    return member.name if member is not None and member.name else text


def _duration(value: object) -> str | None:
    """Seconds as ``3m 05s`` (call rows carry a bare number); ``None`` when it is not a duration."""
    try:
        seconds = int(float(str(value)))
    except (TypeError, ValueError):
        return None
    if seconds < 0:
        return None
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _is_epoch_ms(value: object) -> TypeGuard[int | float]:
    """A number in the range of epoch milliseconds (years 1973–5138): TeleCRM's way of sending a time."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 1e11 <= abs(value) < 1e14


def _value_text(key: str, value: object, ftype: FieldType | None, tz: str | None) -> str:
    """One detail value as read by a person: times in ``tz``, durations, nested objects flattened."""
    if ftype in (FieldType.DATE, None) and _is_epoch_ms(value):
        return format_when(value, tz)
    if ftype is None and "duration" in key.lower():
        shown = _duration(value)
        if shown:
            return shown
    if isinstance(value, Mapping):
        return ", ".join(f"{humanize(str(k))}: {display_value(v)}" for k, v in value.items())
    return display_value(value)


def _details(
    schema: WorkspaceSchema | None, action_type: str, row: Mapping[str, Any], tz: str | None
) -> list[tuple[str, str]]:
    """(label, value) pairs worth showing, in the custom action's own field order when it is known."""
    custom = schema.custom_action(action_type) if schema is not None and action_type else None
    raw_fields = row.get("fields")
    fields = raw_fields if isinstance(raw_fields, Mapping) else {}
    values: dict[str, object] = {str(k): v for k, v in fields.items()}
    for key, value in row.items():
        if key not in _ROW_KEYS and key not in values and action_type.upper() != "PAYMENT":
            values[str(key)] = value
    out: list[tuple[str, str]] = []
    if custom is not None:
        for f in custom.fields:
            if f.api_name in values:
                value = values.pop(f.api_name)
                if display_value(value).strip():
                    out.append((f.label, _value_text(f.api_name, value, f.type, tz)))
    for key, value in values.items():
        if display_value(value).strip():
            out.append((humanize(key), _value_text(key, value, None, tz)))
    return out


def _payment_text(row: Mapping[str, Any]) -> str:
    """``*₹5,000.00* · ✅ Completed · payment id …``: a payment row's money first, its status by icon."""
    raw_fields = row.get("fields")
    fields = raw_fields if isinstance(raw_fields, Mapping) else {}

    def pick(key: str) -> str:
        return str(row.get(key) if row.get(key) is not None else fields.get(key, "") or "").strip()

    amount, currency, status = pick("amount"), pick("currency").upper(), pick("status").upper()
    parts = []
    if amount:
        parts.append("*" + mrkdwn_escape(format_money(amount, currency or "INR")) + "*")
    if status:
        icon = PAYMENT_STATUS_ICONS.get(status, "")
        parts.append(f"{icon} {mrkdwn_escape(status.title())}".strip())
    if pick("paymentid"):
        parts.append("payment id " + mrkdwn_escape(truncate(pick("paymentid"), 60)))
    return " · ".join(parts)


def render_action(schema: WorkspaceSchema | None, row: Mapping[str, Any], tz: str | None) -> str:
    """One action as mrkdwn: icon and name, when (in ``tz``), who, then its key fields; ≤ 1500 chars."""
    action_type = str(row.get("type") or "")
    icon, name = type_label(schema, action_type)
    head = [f"{icon} *{mrkdwn_escape(name)}*"]
    if action_type.upper() == "PAYMENT":
        money = _payment_text(row)
        if money:
            head.append(money)
    when = row.get("created_on", row.get("createdOn"))
    if when not in (None, ""):  # an unreadable time is shown as it came, so escaped
        head.append(mrkdwn_escape(format_when(when, tz)))
    who = _who(schema, row.get("performed_by", row.get("performedBy")))
    if who:
        head.append("by " + mrkdwn_escape(truncate(who, 80)))
    lines = [" · ".join(head)]
    details = [] if action_type.upper() == "PAYMENT" else _details(schema, action_type, row, tz)
    shown = [
        f"*{mrkdwn_escape(truncate(label, 60))}:* {mrkdwn_escape(truncate(value, MAX_VALUE_TEXT))}"
        for label, value in details[:MAX_DETAILS]
    ]
    if len(details) > MAX_DETAILS:
        shown.append(f"_and {len(details) - MAX_DETAILS} more_")
    if shown:
        lines.append("      " + " · ".join(shown))
    action_id = row.get("action_id") or row.get("actionId")
    if action_id and (action_type.upper() == "PAYMENT" or type_label(schema, action_type)[0] == CUSTOM_ICON):
        lines[-1] += f" · id `{mrkdwn_escape(truncate(str(action_id), 40))}`"
    return truncate("\n".join(lines), MAX_ACTION_TEXT)


def describe_filters(
    schema: WorkspaceSchema | None,
    action_type: str | None,
    start_ms: int | None,
    end_ms: int | None,
    tz: str | None,
) -> str:
    """ "Outgoing call · 1 Apr 2026 – 30 Apr 2026" (empty when there are no filters)."""
    parts = []
    if action_type:
        parts.append(type_label(schema, action_type)[1])
    if start_ms is not None or end_ms is not None:

        def day(ms: int) -> str:
            moment = datetime.fromtimestamp(ms / 1000, zone(tz))
            return f"{moment.day} {moment:%b %Y}"

        if start_ms is not None and end_ms is not None:
            parts.append(f"{day(start_ms)} – {day(end_ms)}")
        elif start_ms is not None:
            parts.append(f"since {day(start_ms)}")
        elif end_ms is not None:
            parts.append(f"until {day(end_ms)}")
    return " · ".join(parts)


def _nav_button(text: str, action_id: str, query: TimelineQuery) -> dict[str, Any]:
    """A paging button; it carries its whole query, so turning a page needs no server-side state."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": query.to_value(),
    }


def _context_block(
    query: TimelineQuery, *, filters: str, shown: str | None, tz: str | None, link: str | None
) -> dict[str, Any]:
    """The line under the header: lead id, TeleCRM link, filters, which rows, and the time zone used."""
    context = [f"Lead id `{mrkdwn_escape(query.lead_id)}`"]
    if link:
        context.append(mrkdwn_link(link, "Open in TeleCRM"))
    if filters:
        context.append(mrkdwn_escape(filters))
    if shown:
        context.append(f"{shown}, newest first")
    context.append(f"times in {mrkdwn_escape(zone(tz).key)}")
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(" · ".join(context), 3000)}]}


def _empty_section(query: TimelineQuery, filters: str) -> dict[str, Any]:
    """Why a page has no rows: past the last page, nothing matches the filters, or no history at all."""
    if query.skip:
        empty = "No older activities."
    elif filters:
        empty = f"No activities match ({mrkdwn_escape(filters)})."
    else:
        empty = "No activities recorded for this lead yet."
    return {"type": "section", "text": {"type": "mrkdwn", "text": empty}}


def _paging_block(query: TimelineQuery, name: str, *, last: int, total: int) -> dict[str, Any] | None:
    """*Newer* / *Older*, each only when there is such a page; the buttons keep the lead's name."""
    buttons = []
    named = replace(query, name=name)
    if query.skip > 0:
        buttons.append(_nav_button("Newer", ids.ACT_TIMELINE_NEWER, named.at(query.skip - PAGE_SIZE)))
    if last < total:
        buttons.append(_nav_button("Older", ids.ACT_TIMELINE_OLDER, named.at(query.skip + PAGE_SIZE)))
    if not buttons:
        return None
    return {"type": "actions", "block_id": "timeline_paging", "elements": buttons}


def _fallback_text(
    schema: WorkspaceSchema | None,
    rows: list[dict[str, Any]],
    *,
    name: str,
    filters: str,
    shown: str | None,
    tz: str | None,
) -> str:
    """The notification / screen-reader text of a page: a summary line, then one short line per row."""
    summary = f"Timeline of {mrkdwn_escape(name)}" + (f" ({mrkdwn_escape(filters)})" if filters else "")
    summary += f": {shown} activities" if shown else ": no activities"
    lines = [summary]
    for row in rows:
        icon, type_name = type_label(schema, row.get("type"))
        when = row.get("created_on")
        line = f"{icon} {type_name}" + (f", {format_when(when, tz)}" if when else "")
        lines.append(mrkdwn_escape(line))
    return truncate("\n".join(lines), MAX_FALLBACK_TEXT)


def render_timeline(
    schema: WorkspaceSchema | None,
    *,
    query: TimelineQuery,
    page: Page[dict[str, Any]],
    name: str,
    tz: str | None,
    link: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of one page; always within Slack's message limits whatever the rows hold."""
    filters = describe_filters(schema, query.type, query.start_ms, query.end_ms, tz)
    rows = list(page.items)[:PAGE_SIZE]
    first, last = query.skip + 1, query.skip + len(rows)
    total = max(page.total_count, last)
    shown = f"{first}–{last} of {total}" if rows else None
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(f"🕑 Timeline: {name}", 150), "emoji": True},
        },
        _context_block(query, filters=filters, shown=shown, tz=tz, link=link),
    ]
    if not rows:
        blocks.append(_empty_section(query, filters))
    for row in rows:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": render_action(schema, row, tz)}})
    paging = _paging_block(query, name, last=last, total=total)
    if paging is not None:
        blocks.append(paging)
    text = _fallback_text(schema, rows, name=name, filters=filters, shown=shown, tz=tz)
    return text, blocks


def usage_text(schema: WorkspaceSchema | None) -> str:
    """`/timeline help` and the answer to a command the grammar could not read; names real activities."""
    ident = mrkdwn_escape(schema.identifier.label.lower()) if schema is not None else "identifier"
    custom = [a.display_name for a in schema.custom_actions][:5] if schema is not None else []
    lines = [
        "*/timeline* shows a lead's activities, newest first:",
        f"• `/timeline <lead id or {ident}>` — everything",
        "• `/timeline 919999999999 OUTGOING_CALL` — one type (calls, messages, PAYMENT, …)",
        "• `/timeline 919999999999 01/04/2026..30/04/2026` — a date range (DD/MM/YYYY, both days included)",
        "• `/timeline` alone opens a form.",
    ]
    if custom:
        lines.append(
            "Custom activities of this workspace: " + ", ".join(f"“{mrkdwn_escape(c)}”" for c in custom)
        )
    return "\n".join(lines)
