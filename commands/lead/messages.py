"""What /lead says, as pure functions returning ``(fallback text, blocks)`` within Slack's limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from kit import ids
from kit.display import field_text
from kit.explain import explain_error
from kit.fields import Problem, describe_type
from kit.format import ago, mention, mrkdwn_escape, mrkdwn_link, truncate
from kit.packed import Packed, key
from kit.remarks import bold, quoted, remark_line
from telecrm.models import Remark, WriteResult
from telecrm.schema import WorkspaceSchema

MAX_MESSAGE_BLOCKS = 50
SECTION_TEXT = 3000
FIND_PAGE = 10

Message = tuple[str, list[dict[str, Any]]]

NOT_LOADED = (
    ":hourglass_flowing_sand: The TeleCRM workspace (its fields and statuses) is not loaded yet, so I can't "
    "check values. I've asked TeleCRM for it — try again in a minute. If this keeps happening, an admin "
    "should run `telecrm-bot cache refresh`."
)

LOADING_FIRST = (
    ":hourglass_flowing_sand: Loading your TeleCRM workspace's fields first (the bot has just started); "
    "I'll check what you typed against them and answer here in a moment. Nothing is lost."
)


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    """A mrkdwn section, cut to Slack's 3,000 characters."""
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT)},
    }
    if block_id:
        block["block_id"] = block_id
    return block


def _context(text: str) -> dict[str, Any]:
    """A small grey line under a message's main text."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]}


def _chunks(lines: Iterable[str], limit: int = SECTION_TEXT - 100) -> list[str]:
    """Lines packed into texts of at most ``limit`` characters (one over-long line is truncated)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


# --- help -------------------------------------------------------------------------------------------


def help_message(schema: WorkspaceSchema | None, errors: Sequence[str] = ()) -> Message:
    """Usage, with this workspace's real fields and what each expects."""
    blocks: list[dict[str, Any]] = []
    if errors:
        problems = "\n".join(f"• {mrkdwn_escape(e)}" for e in errors[:10])
        blocks.append(_section(f":warning: I couldn't read that:\n{problems}"))
    ident = schema.identifier if schema is not None else None
    ident_name = mrkdwn_escape(ident.api_name) if ident else "phone"
    usage = (
        "*`/lead`* — open the New lead form\n"
        f'*`/lead name="Jane Doe" {ident_name}=… key=value …`* — create a lead directly '
        "(double quotes for spaces, commas for several tags)\n"
        "*`/lead find <part of a name, phone, email or company>`* — search (a phone's last digits, "
        "a misspelt name and a full phone, email or lead id work too)\n"
        f"*`/lead update <lead id or {ident_name}> key=value …`* — change fields of a lead\n"
        "*`/lead import`* — import leads from a CSV or XLSX file (a preview first, nothing is sent "
        "until you confirm)\n"
        "*`/lead help`* — this message"
    )
    blocks.append(_section(usage))
    if schema is None:
        blocks.append(_context("The workspace's fields are not loaded yet; try again in a minute."))
        return "How to use /lead", blocks
    lines = []
    for f in schema.fields:
        marks = []
        if f.api_name == schema.identifier.api_name:
            marks.append("identifier, required, cannot change later")
        elif f.required:
            marks.append("required")
        tag = f" _({', '.join(marks)})_" if marks else ""
        lines.append(
            f"`{mrkdwn_escape(f.api_name)}` — {mrkdwn_escape(f.label)}: "
            f"{mrkdwn_escape(describe_type(f, schema))}{tag}"
        )
    room = MAX_MESSAGE_BLOCKS - len(blocks) - 2
    chunks = _chunks(lines)
    blocks.append(
        _section(f"*Fields of {mrkdwn_escape(schema.enterprise_name or 'this workspace')}* ({len(lines)})")
    )
    blocks.extend(_section(c) for c in chunks[:room])
    if len(chunks) > room:
        blocks.append(_context("…and more fields; `/lead` opens the form with all of them."))
    return "How to use /lead", blocks


# --- validation problems ----------------------------------------------------------------------------


def problems_message(problems: Sequence[Problem | str], *, action: str = "create the lead") -> Message:
    """One message naming every bad field and what it expects; says nothing was sent."""
    lines = []
    for p in problems[:40]:
        if isinstance(p, Problem):
            lines.append(f"• {mrkdwn_escape(p.message)}")
        else:
            lines.append(f"• {mrkdwn_escape(str(p))}")
    if len(problems) > 40:
        lines.append(f"• …and {len(problems) - 40} more")
    head = f":warning: I couldn't {action} — nothing was sent to TeleCRM. Please fix:"
    text = head + "\n" + "\n".join(lines)
    blocks = [_section(c) for c in _chunks([head, *lines])][: MAX_MESSAGE_BLOCKS - 1]
    blocks.append(_context("`/lead help` lists the fields and what each expects."))
    return truncate(text, 3000), blocks


def identifier_refusal(schema: WorkspaceSchema) -> str:
    """Why the identifier cannot be changed (TeleCRM refuses it on update)."""
    label = schema.identifier.label
    return (
        f"{label} is the lead's identifier and cannot be changed (TeleCRM refuses it). "
        "Leave it out, or correct it by hand in the TeleCRM dashboard."
    )


# --- remarks ------------------------------------------------------------------------------------------


def _label_for(schema: WorkspaceSchema, api: str) -> str:
    """A field's label, or its API name when the schema no longer has it."""
    f = schema.field(api)
    return f.label if f else api


def _action_for(actions: Sequence[Mapping[str, Any]], index: int) -> Mapping[str, Any] | None:
    """The sent action TeleCRM's ``actions[i]`` refers to, if ``i`` is in range."""
    return actions[index] if 0 <= index < len(actions) else None


def _action_name(schema: WorkspaceSchema, action: Mapping[str, Any] | None) -> str:
    """An activity's name for people (its display name when the schema still knows it)."""
    if action is None:
        return "the activity"
    action_type = str(action.get("type", ""))
    if action_type.upper() == "PAYMENT":
        return "Payment"
    found = schema.custom_action(action_type)
    return found.display_name if found else action_type or "activity"


def remark_lines(
    schema: WorkspaceSchema,
    result: WriteResult,
    sent_fields: Mapping[str, object],
    sent_actions: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """Each ignored value in words: which field, what was sent, TeleCRM's reason.

    An activity TeleCRM ignored (``IGNORED`` in the answer's ``actions``) is named as not saved on
    each of its remarks, so the person knows it is not in TeleCRM and why.
    """
    lines: list[str] = []
    explained_actions: set[int] = set()
    ignored = set(result.ignored_actions)
    for remark in result.remarks:
        lines.append(_remark_line(schema, remark, sent_fields, sent_actions, explained_actions, ignored))
    for index in result.ignored_actions:
        if index not in explained_actions:
            name = _action_name(schema, _action_for(sent_actions, index))
            lines.append(f"• The activity *{mrkdwn_escape(name)}* was not saved (TeleCRM gave no reason).")
    return lines


def _remark_line(
    schema: WorkspaceSchema,
    remark: Remark,
    sent_fields: Mapping[str, object],
    sent_actions: Sequence[Mapping[str, Any]],
    explained_actions: set[int],
    ignored: frozenset[int] | set[int] = frozenset(),
) -> str:
    """One TeleCRM remark in words; notes in ``explained_actions`` which activities it explained."""
    path = remark.field or ""
    if path.startswith("fields."):
        api = path[len("fields.") :]
        sent = sent_fields.get(api)
        shown = field_text(schema.field(api), sent) if sent is not None else None
        return remark_line(bold(_label_for(schema, api)), remark.remark, sent=shown, not_saved=True)
    if path.startswith("actions["):
        head, _, rest = path.partition("]")
        try:
            index = int(head[len("actions[") :])
        except ValueError:
            index = -1
        explained_actions.add(index)
        action = _action_for(sent_actions, index)
        name = _action_name(schema, action)
        if rest.startswith(".fields."):
            key = rest[len(".fields.") :]
            definition = schema.custom_action(str(action.get("type", ""))) if action else None
            label = key
            if definition is not None:
                label = next((f.label for f in definition.fields if f.api_name == key), key)
            fields = action.get("fields") if isinstance(action, Mapping) else None
            sent = fields.get(key) if isinstance(fields, Mapping) else None
            if sent is None and isinstance(action, Mapping) and key in action:
                sent = action.get(key)  # a PAYMENT's own properties are remarked at actions[i].fields.<key>
            if index in ignored:
                subject = f"The activity {bold(name)} was not saved — {bold(label)}"
                return remark_line(subject, remark.remark, sent=sent)
            return remark_line(f"Activity {bold(name)}, {bold(label)}", remark.remark, sent=sent)
        return remark_line(f"The activity {bold(name)}", remark.remark, not_saved=True)
    return remark_line(mrkdwn_escape(path or "Something"), remark.remark, not_saved=True)


def remarks_message(lines: Sequence[str]) -> Message:
    """What TeleCRM ignored on create, posted in the new lead's thread."""
    head = ":information_source: TeleCRM created the lead but did not keep everything:"
    text = head + "\n" + "\n".join(lines)
    blocks = [_section(c) for c in _chunks([head, *lines])][:MAX_MESSAGE_BLOCKS]
    return truncate(text, 3000), blocks


# --- duplicates -----------------------------------------------------------------------------------------


def duplicate_message(
    schema: WorkspaceSchema,
    *,
    identifier_value: object,
    lead_id: str | None,
    lead_name: str | None,
    link: str | None,
    permalink: str | None,
    token: str | None,
    changes: Sequence[str],
    dropped_activity: bool = False,
) -> Message:
    """The 409 answer: which lead exists, where to see it, and a button to update it instead."""
    label = schema.identifier.label
    who = f"*{mrkdwn_escape(lead_name)}*" if lead_name else "a lead"
    text = (
        f":busts_in_silhouette: {who} with {mrkdwn_escape(label)} {quoted(identifier_value)} already exists in "
        "TeleCRM, so no new lead was created."
    )
    where = []
    if link:
        where.append(mrkdwn_link(link, "Open in TeleCRM"))
    if permalink:
        where.append(mrkdwn_link(permalink, "Open its thread"))
    if lead_id:
        where.append(f"lead id `{mrkdwn_escape(lead_id)}`")
    blocks: list[dict[str, Any]] = [_section(text)]
    if where:
        blocks.append(_context(" · ".join(where)))
    if token and changes:
        shown = "\n".join(f"• {c}" for c in changes[:15])
        more = f"\n• …and {len(changes) - 15} more" if len(changes) > 15 else ""
        blocks.append(_section(f"Your other values:\n{shown}{more}"))
        blocks.append(
            {
                "type": "actions",
                "block_id": "lead_duplicate_actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ACT_UPDATE_EXISTING,
                        "text": {"type": "plain_text", "text": "Update existing lead with these values"},
                        "style": "primary",
                        "value": token,
                    }
                ],
            }
        )
    elif not changes:
        blocks.append(_context("You gave no other values, so there is nothing to update."))
    if dropped_activity:
        blocks.append(_context("The activity in your form was not logged; log it on the existing lead."))
    return truncate(text, 3000), blocks


def duplicate_done_message(lead_name: str | None, user: str, *, again: bool = False) -> Message:
    """The answer to *Update existing lead* (``again``: the offer was already taken)."""
    who = f"*{mrkdwn_escape(lead_name)}*" if lead_name else "the existing lead"
    if again:
        text = f":ok_hand: Already done — {who} is updated once with these values; see its thread."
    else:
        text = (
            f":arrows_counterclockwise: Updating {who} with these values; the changes follow in its thread."
        )
    return text, [_section(text)]


# --- find ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundLead:
    """One search match as shown: its fields, TeleCRM link and, when known, its thread."""

    lead_id: str | None
    fields: Mapping[str, object]
    link: str | None
    permalink: str | None


@dataclass(frozen=True)
class FindMore(Packed):
    """The *More* button's value: what to search and where the next page starts."""

    field: str = dc_field(default="", metadata=key("f"))
    value: str = dc_field(default="", metadata=key("v", max_len=300))
    skip: int = dc_field(default=0, metadata=key("s"))
    query: str = dc_field(default="", metadata=key("q", max_len=200))

    def __post_init__(self) -> None:
        object.__setattr__(self, "skip", max(0, self.skip))  # a forged negative page is the first


def find_more_value(field: str, value: str, skip: int, query: str) -> str:
    """The *More* button's value (≤ 2,000 characters)."""
    return FindMore(field, value, skip, query).to_value()


SHORT_QUERY = (
    ":mag: Type at least 2 characters of a name, phone, email or company — e.g. `/lead find jan`, "
    "`/lead find 3210` or `/lead find suryoday`."
)
FROM_TELECRM = "From TeleCRM: an exact match of the phone, email, name or lead id."


def short_query_message() -> Message:
    return SHORT_QUERY, [_section(SHORT_QUERY)]


def index_name(leads: int, age_seconds: float | None) -> str:
    """``the bot's index of 1,204 leads, updated 2 min ago``."""
    return f"the bot's index of {leads:,} lead{'' if leads == 1 else 's'}, updated {ago(age_seconds)}"


def index_note(found: int, index: str, *, close: int = 0, capped: bool = False) -> str:
    """Where index matches came from: ``3 from the bot's index of 1,204 leads, updated 2 min ago``."""
    note = f"{found:,}{'+' if capped else ''} from {index}"
    if close:
        last = "the last one is a close spelling" if close == 1 else f"the last {close} are close spellings"
        note += f"; {last} of what you typed"
    return note + "."


def no_match_note(index: str) -> str:
    return (
        "I looked in TeleCRM for that exact phone, email, name or lead id, and in "
        f"{index} for part of a name, phone, email or company."
    )


def find_message(
    schema: WorkspaceSchema,
    query: str,
    leads: Sequence[FoundLead],
    *,
    total: int,
    skip: int = 0,
    more_value: str | None = None,
    note: str | None = None,
    capped: bool = False,
) -> Message:
    """Up to ten matches: name, identifier, status, link, and *Open thread* where the bot knows it;
    ``note`` says where they came from."""
    if not leads:
        text = f":mag: No lead matches {quoted(query)}. " + (
            note or "Search uses exact values: a full phone number, email, name or lead id."
        )
        return text, [_section(text)]
    first, last = skip + 1, skip + len(leads)
    noun = "lead matches" if total == 1 and not capped else "leads match"
    head = f":mag: {total:,}{'+' if capped else ''} {noun} {quoted(query)}" + (
        f" (showing {first}–{last})" if total > len(leads) else ""
    )
    blocks: list[dict[str, Any]] = [_section(head)]
    if note:
        blocks.append(_context(mrkdwn_escape(note)))
    ident = schema.identifier
    for lead in leads[:FIND_PAGE]:
        name = field_text(schema.field("name"), lead.fields.get("name"))
        if name == "—":
            name = "Unnamed lead"
        parts = [f"*{mrkdwn_escape(name)}*"]
        ident_value = lead.fields.get(ident.api_name)
        if ident_value:
            parts.append(mrkdwn_escape(field_text(ident, ident_value)))
        status = lead.fields.get("status")
        if status:
            parts.append(f"Status: {mrkdwn_escape(str(status))}")
        links = []
        if lead.link:
            links.append(mrkdwn_link(lead.link, "Open in TeleCRM"))
        if lead.permalink:
            links.append(mrkdwn_link(lead.permalink, "Open thread"))
        if lead.lead_id:
            links.append(f"`{mrkdwn_escape(lead.lead_id)}`")
        blocks.append(_section(" · ".join(parts) + ("\n" + " · ".join(links) if links else "")))
    if more_value:
        blocks.append(
            {
                "type": "actions",
                "block_id": "lead_find_actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.ACT_FIND_MORE,
                        "text": {
                            "type": "plain_text",
                            "text": f"More ({total - last:,}{'+' if capped else ''} left)",
                        },
                        "value": more_value,
                    }
                ],
            }
        )
    return head, blocks


# --- updates and other notices ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One changed field in an update summary: label, old and new value as people read them."""

    label: str
    old: str
    new: str


def update_summary(user: str, changes: Sequence[Change], dropped: Sequence[str] = ()) -> Message:
    """ "updated by @user: field old → new", one line per field, in the lead's thread."""
    lines = [
        f"• *{mrkdwn_escape(c.label)}*: {mrkdwn_escape(truncate(c.old, 200))} → "
        f"{mrkdwn_escape(truncate(c.new, 200))}"
        for c in changes
    ]
    head = f":pencil2: updated by {mention(user)}:"
    if len(changes) == 1:
        head = f":pencil2: updated by {mention(user)}: {lines[0][2:]}"
        lines = []
    for label in dropped:
        lines.append(f"• *{mrkdwn_escape(label)}* was not changed by TeleCRM (value not accepted)")
    text = "\n".join([head, *lines])
    blocks = [_section(c) for c in _chunks([head, *lines])][:MAX_MESSAGE_BLOCKS]
    return truncate(text, 3000), blocks


def updated_there_message(lead_name: str | None, count: int, permalink: str | None) -> str:
    """To the author of an update whose lead's thread is in another conversation: where to look."""
    who = f"*{mrkdwn_escape(lead_name)}*" if lead_name else "The lead"
    where = mrkdwn_link(permalink, "the lead's thread") if permalink else "the lead's thread"
    return f":white_check_mark: {who} updated ({count} field(s)) — the change is posted in {where}."


def nothing_changed_message(lead_name: str | None) -> str:
    """An update whose values the lead already has (nothing was sent)."""
    who = f"*{mrkdwn_escape(lead_name)}*" if lead_name else "The lead"
    return f":ok_hand: {who} already has these values — nothing was sent to TeleCRM."


def not_found_message(what: object, identifier_label: str) -> str:
    """``/lead update`` named no lead TeleCRM knows."""
    return (
        f":mag: No lead found for {quoted(what)} — give a lead id or its {mrkdwn_escape(identifier_label)} "
        "(`/lead find` helps). Nothing was changed."
    )


def refused_message(reasons: Sequence[str]) -> str:
    """Why some of the asked-for changes were not sent (the reasons are sentences with field labels)."""
    return ":no_entry: " + mrkdwn_escape(" ".join(dict.fromkeys(reasons)))


def created_without_card_message(lead_id: str) -> str:
    """The lead exists but Slack took no card: at least say its id."""
    return f":white_check_mark: Lead created (id `{mrkdwn_escape(lead_id)}`), but I could not post its card here."


def queued_message(error: BaseException, what: str) -> str:
    """TeleCRM is down or busy (``error`` says which): the write is kept and will be sent (see
    :mod:`kit.worker`)."""
    return explain_error(error, what=what, doing="queued") + " You'll see the result here when it lands."
