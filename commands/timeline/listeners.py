"""``/timeline`` and the lead card's *Timeline* button: a lead's history, newest first (PRODUCT.md §6).

Reads only: nothing here writes to TeleCRM, so nothing goes through the outbox. The search runs on the
worker's read pool after Slack has been acknowledged; filters are checked against the cached schema
first, so a typo never costs a TeleCRM call. A page is posted in the lead's thread when the bot knows
it, otherwise only the caller sees it; *Older* / *Newer* replace the page in place, which keeps a
thread readable however long the history is and makes a double click harmless.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from kit import ids
from kit.cards import display_value, lead_name, thread_for, thread_permalink
from kit.explain import explain_error
from kit.fields import FieldError, convert, parse_datetime
from kit.format import format_money, format_when, mrkdwn_escape, mrkdwn_link, truncate, zone
from kit.grammar import BUILTIN_ACTION_TYPES, parse_timeline
from kit.services import Services
from kit.view_context import ViewContext, refused_view
from telecrm.client import Page
from telecrm.errors import TeleCRMError, TeleCRMNotFound
from telecrm.redact import mask
from telecrm.schema import FieldType, WorkspaceSchema, humanize

log = logging.getLogger(__name__)

#: Actions per message. 20 sections + header, context and buttons stay far below Slack's 50 blocks,
#: and each section is capped well below 3000 characters (see :data:`MAX_ACTION_TEXT`).
PAGE_SIZE = 20
MAX_ACTION_TEXT = 1500
MAX_VALUE_TEXT = 200
MAX_DETAILS = 8
MAX_MESSAGE_BLOCKS = 50
MAX_FALLBACK_TEXT = 3000

BLOCK_LEAD = "timeline_lead"
BLOCK_TYPE = "timeline_type"
BLOCK_FROM = "timeline_from"
BLOCK_TO = "timeline_to"

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
_LEAD_ID = re.compile(r"^[0-9a-fA-F]{24}$")
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
_PAYMENT_KEYS = ("amount", "currency", "status", "paymentid")


# --- what a query is --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadRef:
    """What the user named: a TeleCRM lead id, or a value of the workspace's identifier field."""

    kind: str  # "id" | "identifier"
    value: str
    typed: str


@dataclass(frozen=True)
class TimelineQuery:
    """One page of one lead's history; travels in the *Older*/*Newer* buttons' value."""

    lead_id: str
    type: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    skip: int = 0
    name: str | None = None  # the lead's name as shown, so a page turned far from its thread keeps it

    def to_value(self) -> str:
        data = {
            "l": self.lead_id,
            "t": self.type,
            "a": self.start_ms,
            "b": self.end_ms,
            "s": self.skip,
            "n": truncate(self.name, 80) if self.name else None,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str) -> TimelineQuery | None:
        try:
            data = json.loads(value)
            lead_id = str(data["l"])
            return cls(
                lead_id=lead_id,
                type=str(data["t"]) if data.get("t") else None,
                start_ms=int(data["a"]) if data.get("a") is not None else None,
                end_ms=int(data["b"]) if data.get("b") is not None else None,
                skip=max(0, int(data.get("s") or 0)),
                name=str(data["n"]) if data.get("n") else None,
            )
        except (ValueError, TypeError, KeyError):
            return None

    def at(self, skip: int) -> TimelineQuery:
        return replace(self, skip=max(0, skip))


class LeadNotFound(Exception):
    """The lead the user named does not exist in TeleCRM; the message says so in words."""


def lead_reference(schema: WorkspaceSchema, text: str, *, default_country_code: str = "91") -> LeadRef | str:
    """Read "which lead" without TeleCRM: a 24-hex lead id, or an identifier value (phone normalised).

    Returns an error sentence when it can be neither, so nothing is sent for a typo.
    """
    typed = " ".join((text or "").split())
    if not typed:
        return f"say which lead: its lead id or its {schema.identifier.label.lower()}"
    if _LEAD_ID.match(typed):
        return LeadRef("id", typed.lower(), typed)
    ident = schema.identifier
    try:
        value = convert(ident, typed, schema, default_country_code=default_country_code)
    except FieldError as exc:
        return (
            f"“{truncate(typed, 40)}” is not a lead id (24 characters, 0–9 and a–f) nor a valid {exc.message}"
        )
    return LeadRef("identifier", str(value), typed)


def day_bounds_ms(
    date_from: str | None, date_to: str | None, tz: str | None
) -> tuple[int | None, int | None]:
    """Whole days in the user's time zone → inclusive epoch-ms bounds (first and last millisecond).

    Accepts what the grammar gives (``01/04/2026 00:00:00``) and what a datepicker gives (``2026-04-01``);
    raises ``ValueError`` for anything else.
    """
    zone_info = zone(tz)

    def midnight(text: str, days: int) -> int:
        day = parse_datetime(text, tz=tz).date() + timedelta(days=days)
        return int(datetime(day.year, day.month, day.day, tzinfo=zone_info).timestamp() * 1000)

    start = midnight(date_from, 0) if date_from else None
    end = midnight(date_to, 1) - 1 if date_to else None
    return start, end


# --- rendering (pure) -----------------------------------------------------------------------------------


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
    if isinstance(performed_by, Mapping):
        performed_by = performed_by.get("name") or performed_by.get("email") or ""
    text = str(performed_by or "").strip()
    if not text:
        return ""
    member = schema.member_by_email(text) if schema is not None and "@" in text else None
    return member.name if member is not None and member.name else text


def _duration(value: object) -> str | None:
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


def _is_epoch_ms(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 1e11 <= abs(value) < 1e14


def _value_text(key: str, value: object, ftype: FieldType | None, tz: str | None) -> str:
    if ftype in (FieldType.DATE, None) and _is_epoch_ms(value):
        return format_when(value, tz)  # type: ignore[arg-type]
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
    fields = row.get("fields") if isinstance(row.get("fields"), Mapping) else {}
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
    fields = row.get("fields") if isinstance(row.get("fields"), Mapping) else {}

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
        head.append(mrkdwn_escape(format_when(when, tz)))  # type: ignore[arg-type]
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
        else:
            parts.append(f"until {day(end_ms)}")  # type: ignore[arg-type]
    return " · ".join(parts)


def _nav_button(text: str, action_id: str, query: TimelineQuery) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": query.to_value(),
    }


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
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(f"🕑 Timeline: {name}", 150), "emoji": True},
        }
    ]
    context = [f"Lead id `{mrkdwn_escape(query.lead_id)}`"]
    if link:
        context.append(mrkdwn_link(link, "Open in TeleCRM"))
    if filters:
        context.append(mrkdwn_escape(filters))
    if rows:
        context.append(f"{first}–{last} of {total}, newest first")
    context.append(f"times in {mrkdwn_escape(zone(tz).key)}")
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(" · ".join(context), 3000)}]}
    )
    if not rows:
        if query.skip:
            empty = "No older activities."
        elif filters:
            empty = f"No activities match ({mrkdwn_escape(filters)})."
        else:
            empty = "No activities recorded for this lead yet."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": empty}})
    for row in rows:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": render_action(schema, row, tz)}})
    buttons = []
    named = replace(query, name=name)
    if query.skip > 0:
        buttons.append(_nav_button("Newer", ids.ACT_TIMELINE_NEWER, named.at(query.skip - PAGE_SIZE)))
    if last < total:
        buttons.append(_nav_button("Older", ids.ACT_TIMELINE_OLDER, named.at(query.skip + PAGE_SIZE)))
    if buttons:
        blocks.append({"type": "actions", "block_id": "timeline_paging", "elements": buttons})
    summary = f"Timeline of {mrkdwn_escape(name)}" + (f" ({mrkdwn_escape(filters)})" if filters else "")
    summary += f": {first}–{last} of {total} activities" if rows else ": no activities"
    lines = [summary]
    for row in rows:
        icon, type_name = type_label(schema, row.get("type"))
        when = row.get("created_on")
        shown = f"{icon} {type_name}" + (f", {format_when(when, tz)}" if when else "")
        lines.append(mrkdwn_escape(shown))
    return truncate("\n".join(lines), MAX_FALLBACK_TEXT), blocks


def usage_text(schema: WorkspaceSchema | None) -> str:
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


# --- the /timeline modal (pure) ------------------------------------------------------------------------


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": truncate(text, 75), "emoji": True}, "value": value[:150]}


def type_choices(schema: WorkspaceSchema | None) -> list[tuple[str, str, str]]:
    """(group, label, value) of every type one can filter on: built-in types, then custom actions."""
    out = [("Built-in", f"{icon} {name}", code) for code, (icon, name) in BUILTIN_ACTION_TYPES.items()]
    if schema is not None:
        out.extend(
            ("Custom activities", f"{CUSTOM_ICON} {a.display_name}", a.numeric_code)
            for a in schema.custom_actions
        )
    return out


def type_options_for_query(schema: WorkspaceSchema | None, query: str) -> list[dict[str, Any]]:
    """Type-ahead for the type select when there are more than 100 types to choose from."""
    wanted = " ".join((query or "").split()).casefold()
    hits = [
        (label, value)
        for _, label, value in type_choices(schema)
        if wanted in label.casefold() or wanted in value.casefold()
    ]
    return [_option(label, value) for label, value in hits[:100]]


def _type_element(schema: WorkspaceSchema | None) -> dict[str, Any]:
    choices = type_choices(schema)
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


def timeline_modal(schema: WorkspaceSchema | None, *, channel: str | None, lead: str = "") -> dict[str, Any]:
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
                "element": _type_element(schema),
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


# --- talking to TeleCRM and Slack ------------------------------------------------------------------------


def find_lead(services: Services, schema: WorkspaceSchema, ref: LeadRef) -> tuple[str, dict[str, Any]]:
    """(lead id, fields) of the lead the user named; :class:`LeadNotFound` when TeleCRM has no such lead."""
    ident = schema.identifier
    if ref.kind == "id":
        try:
            lead = services.telecrm.get_lead(ref.value)
            return lead.id or ref.value, dict(lead.fields)
        except TeleCRMNotFound:
            if ident.type is not FieldType.TEXT:
                raise LeadNotFound(
                    f"TeleCRM has no lead with id `{mrkdwn_escape(ref.typed)}`. Check the id, or use the lead's "
                    f"{mrkdwn_escape(ident.label.lower())}."
                ) from None
    found = services.telecrm.find_lead_by_identifier(ident.api_name, ref.value)
    if found is None or not found.id:
        raise LeadNotFound(
            f"TeleCRM has no lead with {mrkdwn_escape(ident.label.lower())} {mrkdwn_escape(ref.value)}. "
            "Check it, or look the lead up with `/lead find`."
        )
    return found.id, dict(found.fields)


def _lead_display(
    services: Services, schema: WorkspaceSchema, lead_id: str, fields: Mapping[str, Any] | None
) -> str:
    if fields:
        return lead_name(schema, fields)
    thread = thread_for(services, lead_id)
    if thread is not None and (thread.name or thread.identifier):
        return thread.name or thread.identifier or lead_id
    return lead_id


def _schema(services: Services) -> WorkspaceSchema:
    return services.cache.cached() or services.schema()


def fetch_page(services: Services, query: TimelineQuery) -> Page[dict[str, Any]]:
    created_on = (
        (query.start_ms, query.end_ms) if query.start_ms is not None or query.end_ms is not None else None
    )
    return services.telecrm.search_actions(
        query.lead_id, type=query.type, created_on=created_on, skip=query.skip, limit=PAGE_SIZE
    )


#: shows a message to the caller only: ``tell(text)`` or ``tell(text, blocks)``
Tell = Callable[..., None]


def show_timeline(
    services: Services,
    *,
    query: TimelineQuery,
    user: str,
    tell: Tell,
    lead_fields: Mapping[str, Any] | None = None,
    announce: bool = True,
) -> None:
    """First page of a timeline: into the lead's thread when the bot knows it, else to the caller only."""
    schema = _schema(services)
    try:
        page = fetch_page(services, query)
    except TeleCRMNotFound:
        tell(f":mag: TeleCRM has no lead with id `{mrkdwn_escape(query.lead_id)}`.")
        return
    except TeleCRMError as exc:
        tell(explain_error(exc, what="the timeline request"))
        return
    tz = services.user_tz(user)
    name = _lead_display(services, schema, query.lead_id, lead_fields)
    text, blocks = render_timeline(
        schema, query=query, page=page, name=name, tz=tz, link=services.settings.lead_url(query.lead_id)
    )
    thread = thread_for(services, query.lead_id)
    if thread is not None:
        try:
            services.slack.chat_postMessage(
                channel=thread.channel, thread_ts=thread.ts, text=text, blocks=blocks, unfurl_links=False
            )
            if announce:
                link = thread_permalink(services, thread)
                where = mrkdwn_link(link, "its thread") if link else "its thread"
                tell(f":white_check_mark: Posted the timeline of {mrkdwn_escape(name)} in {where}.")
            return
        except SlackApiError as exc:
            log.warning(
                "could not post a timeline in the lead's thread (%s); showing it to the caller",
                exc.response.get("error"),
            )
    tell(text, blocks)


def run_query_text(services: Services, *, text: str, user: str, tell: Tell) -> None:
    """Everything `/timeline <text>` does after the ack, in order: parse, check, find the lead, show."""
    schema = _schema(services)
    command = parse_timeline(text, custom_actions=schema.custom_actions)
    if command.action == "help":
        problems = "\n".join(f"• {mrkdwn_escape(e)}" for e in command.errors)
        tell((f":warning: {problems}\n\n" if problems else "") + usage_text(schema))
        return
    ref = lead_reference(schema, command.lead, default_country_code=services.settings.default_country_code)
    problems = list(command.errors)
    if isinstance(ref, str):
        problems.insert(0, ref)
    if problems:
        lines = "\n".join(f"• {mrkdwn_escape(p)}" for p in problems)
        tell(
            f":warning: Nothing was looked up:\n{lines}\n\nUsage: `/timeline <lead id or "
            f"{mrkdwn_escape(schema.identifier.label.lower())}> [type] [DD/MM/YYYY..DD/MM/YYYY]`"
        )
        return
    assert not isinstance(ref, str)
    tz = services.user_tz(user)
    start_ms, end_ms = day_bounds_ms(command.date_from, command.date_to, tz)
    lookup(
        services,
        schema,
        ref,
        TimelineQuery("", command.type, start_ms, end_ms),
        user=user,
        tell=tell,
    )


def lookup(
    services: Services,
    schema: WorkspaceSchema,
    ref: LeadRef,
    query: TimelineQuery,
    *,
    user: str,
    tell: Tell,
) -> None:
    try:
        lead_id, fields = find_lead(services, schema, ref)
    except LeadNotFound as exc:
        tell(f":mag: {exc}")
        return
    except TeleCRMError as exc:
        tell(explain_error(exc, what="the lead search"))
        return
    query = TimelineQuery(lead_id, query.type, query.start_ms, query.end_ms)
    show_timeline(services, query=query, user=user, tell=tell, lead_fields=fields)


def turn_page(services: Services, *, query: TimelineQuery, body: Mapping[str, Any], respond: Respond) -> None:
    """*Older* / *Newer*: the clicked message is replaced by the requested page (in the clicker's time zone)."""
    user = (body.get("user") or {}).get("id") or ""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    schema = _schema(services)
    try:
        page = fetch_page(services, query)
    except TeleCRMError as exc:
        services.ephemeral(channel, user, explain_error(exc, what="the timeline request"))
        return
    name = query.name or _lead_display(services, schema, query.lead_id, None)
    tz = services.user_tz(user)
    text, blocks = render_timeline(
        schema, query=query, page=page, name=name, tz=tz, link=services.settings.lead_url(query.lead_id)
    )
    if container.get("is_ephemeral"):
        respond(text=text, blocks=blocks, replace_original=True, response_type="ephemeral")
        return
    try:
        services.slack.chat_update(channel=channel, ts=container.get("message_ts"), text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("could not replace a timeline page (%s)", exc.response.get("error"))
        services.ephemeral(channel, user, text, blocks)


# --- listeners --------------------------------------------------------------------------------------------


def _responder(respond: Respond) -> Tell:
    """Caller-only answers of a slash command go through its response_url: they work in any channel."""

    def tell(text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    return tell


def _ephemeral(services: Services, channel: str | None, user: str) -> Tell:
    def tell(text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        services.ephemeral(channel, user, text, blocks)

    return tell


def register(app: App, services: Services) -> None:
    @app.command(ids.CMD_TIMELINE)
    def on_command(ack: Ack, respond: Respond, command: dict[str, Any], client: Any) -> None:
        ack()
        text = command.get("text") or ""
        user, channel = command.get("user_id") or "", command.get("channel_id")
        if not text.strip():
            schema = services.cache.cached()
            if schema is None:
                respond(
                    response_type="ephemeral",
                    text=":hourglass: The TeleCRM workspace is still being read; try again in a moment, "
                    "or type `/timeline <lead id or phone>`.",
                )
                services.worker.background(services.schema)
                return
            view = services.view_seal.seal(timeline_modal(schema, channel=channel), user=user)
            services.slack.views_open(trigger_id=command["trigger_id"], view=view)
            return
        log.info("/timeline by %s: %s", user, mask(truncate(text, 120)))
        services.worker.background(run_query_text, services, text=text, user=user, tell=_responder(respond))

    @app.view(ids.VIEW_TIMELINE)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        from kit.fields import form_values

        user = (body.get("user") or {}).get("id") or ""
        context = services.view_seal.open(view, user=user)
        if context is None:  # not a form the bot opened for this person: its channel is made up
            ack(response_action="update", view=refused_view())
            return
        schema = services.cache.cached()
        if schema is None:
            ack(
                response_action="errors",
                errors={BLOCK_LEAD: "The TeleCRM workspace is still being read; try again."},
            )
            return
        values = form_values((view.get("state") or {}).get("values") or {})
        form, errors = read_timeline_form(
            schema, values, default_country_code=services.settings.default_country_code
        )
        if form is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        if not services.deliveries.first_time(f"view:{view.get('id')}"):
            return
        tell = _ephemeral(services, context.channel, user)

        def run() -> None:
            query = form.query("", services.user_tz(user))
            lookup(services, schema, form.lead, query, user=user, tell=tell)

        services.worker.background(run)

    @app.options(ids.ACT_TIMELINE_TYPE)
    def on_type_options(ack: Ack, body: dict[str, Any]) -> None:
        ack(options=type_options_for_query(services.cache.cached(), str(body.get("value") or "")))

    @app.action(ids.ACT_CARD_TIMELINE)
    def on_card_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = (body.get("user") or {}).get("id") or ""
        channel = (body.get("channel") or {}).get("id")
        lead_id = str(action.get("value") or "").strip()

        tell = _ephemeral(services, channel, user)
        if not _LEAD_ID.match(lead_id):
            tell(":warning: This card does not carry a TeleCRM lead id; use `/timeline <lead id or phone>`.")
            return
        services.worker.background(
            show_timeline,
            services,
            query=TimelineQuery(lead_id.lower()),
            user=user,
            tell=tell,
            announce=False,
        )

    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        query = TimelineQuery.from_value(str(action.get("value") or ""))
        if query is None:
            user = (body.get("user") or {}).get("id") or ""
            services.ephemeral(
                (body.get("channel") or {}).get("id"),
                user,
                ":warning: That button is out of date; run `/timeline` again.",
            )
            return
        services.worker.background(turn_page, services, query=query, body=body, respond=respond)

    app.action(ids.ACT_TIMELINE_OLDER)(on_page)
    app.action(ids.ACT_TIMELINE_NEWER)(on_page)
