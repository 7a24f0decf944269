"""Fields whose value is one of a list: dropdowns, tags, pipeline statuses, lost reasons, team members.

The list comes from the cached workspace schema. A value is matched to a choice ignoring case and
extra spaces and is given the choice's own spelling; a near miss is answered with "did you mean".
When no choices are cached, any non-empty value of the right syntax is accepted (see the package
docstring in kit/fields/__init__.py for why).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kit.fields.base import MAX_OPTION_VALUE, ConvertCtx, fail, scalar_text, shown
from kit.fields.values import convert_email, strip_mailto
from telecrm.schema import FieldDef, FieldType, StatusDef, TeamMember, WorkspaceSchema


@dataclass(frozen=True)
class Choice:
    """One choice of a field: the label TeleCRM stores, the text Slack shows, its option group."""

    label: str  # what TeleCRM stores
    text: str  # what Slack shows
    group: str = ""


def option_value(label: str) -> str:
    """The Slack option value for a label: the label itself, or a stable key when it is too long."""
    if len(label) <= MAX_OPTION_VALUE:
        return label
    return "~" + hashlib.sha1(label.encode()).hexdigest()[:24]


def choices_of(field: FieldDef, schema: WorkspaceSchema) -> list[Choice]:
    """The field's choices in the workspace's order (statuses grouped by stage), without repeats."""
    if field.type is FieldType.STATUS:
        return [Choice(s.label, s.label, _stage_label(s)) for s in schema.active_statuses if s.label]
    if field.type is FieldType.ACTIVE_USERS:
        return [Choice(m.email, member_text(m)) for m in schema.active_members if m.email]
    if field.type is FieldType.RATING:
        return [Choice(str(n), f"{'★' * n}{'☆' * (5 - n)}  {n}") for n in range(1, 6)]
    seen: set[str] = set()
    out = []
    for label in schema.choices_for(field):
        if label.strip() and label not in seen:
            seen.add(label)
            out.append(Choice(label, label))
    return out


def option_value_to_label(field: FieldDef, schema: WorkspaceSchema, value: str) -> str:
    """Undo :func:`option_value` for this field's choices; any other value is returned unchanged."""
    if not value.startswith("~"):
        return value
    for choice in choices_of(field, schema):
        if option_value(choice.label) == value:
            return choice.label
    return value


def member_text(m: TeamMember) -> str:
    """A team member as people recognise them: name and email (just the email when that is the name)."""
    return f"{m.name} ({m.email})" if m.name and m.name != m.email else m.email


def _stage_label(s: StatusDef) -> str:
    return {"OPEN": "Open", "WON": "Won", "LOST": "Lost"}.get(s.stage_type.upper(), s.stage_type.title())


def _few(labels: Sequence[str], near: str, noun: str) -> str:
    """ "did you mean X? one of: A, B" or "130 options; e.g. A, B, C" — enough to fix the value."""
    lowered = {label.lower(): label for label in labels}
    close = [lowered[c] for c in difflib.get_close_matches(near.lower(), list(lowered), n=3, cutoff=0.6)]
    parts = []
    if close:
        parts.append("did you mean " + " or ".join(close) + "?")
    if len(labels) <= 8:
        parts.append("choose one of: " + ", ".join(labels))
    else:
        examples = [label for label in labels if label not in close][:5]
        parts.append(f"{len(labels)} {noun}; e.g. " + ", ".join(examples))
    return " ".join(parts)


def _match_choice(field: FieldDef, raw: object, labels: Sequence[str]) -> str | None:
    text = " ".join(scalar_text(field, raw).split())
    for label in labels:
        if label == text:
            return label
    wanted = text.casefold()
    for label in labels:
        if " ".join(label.split()).casefold() == wanted:
            return label
    return None


def _text_of(field: FieldDef, raw: object, schema: WorkspaceSchema) -> str:
    text = scalar_text(field, raw)
    if not text:
        raise fail(field, "a value is required")
    return option_value_to_label(field, schema, text)


def convert_dropdown(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    text = _text_of(field, raw, ctx.schema)
    labels = [c.label for c in choices_of(field, ctx.schema)]
    if not labels:
        return text
    found = _match_choice(field, text, labels)
    if found is None:
        raise fail(field, f"{shown(text)} is not an option — {_few(labels, text, 'options')}")
    return found


def _convert_pipeline_label(
    field: FieldDef, raw: object, ctx: ConvertCtx, labels: list[tuple[str, bool]], one: str, many: str
) -> str:
    """Statuses and lost reasons: only active labels are valid; an archived one gets its own message."""
    text = _text_of(field, raw, ctx.schema)
    if not labels:
        return text
    active = [label for label, is_active in labels if is_active]
    found = _match_choice(field, text, active)
    if found is not None:
        return found
    archived = _match_choice(field, text, [label for label, is_active in labels if not is_active])
    if archived is not None:
        raise fail(field, f"“{archived}” is archived in TeleCRM; {_few(active, text, many)}")
    raise fail(field, f"{shown(text)} is not {one} — {_few(active, text, many)}")


def convert_status(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    labels = [(s.label, s.active) for s in ctx.schema.statuses]
    return _convert_pipeline_label(field, raw, ctx, labels, "a status", "active statuses")


def convert_lost_reason(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    labels = [(r.label, r.active) for r in ctx.schema.lost_reasons]
    return _convert_pipeline_label(field, raw, ctx, labels, "a lost reason", "lost reasons")


def convert_member(field: FieldDef, raw: object, ctx: ConvertCtx) -> str:
    text = strip_mailto(_text_of(field, raw, ctx.schema))
    in_parens = re.fullmatch(r".*\(\s*(\S+@\S+?)\s*\)", text)
    if in_parens:
        text = in_parens.group(1)
    members = ctx.schema.team_members
    active_emails = [m.email for m in ctx.schema.active_members]
    if "@" in text:
        member = ctx.schema.member_by_email(text)
        if member is not None:
            if member.is_active:
                return member.email
            raise fail(field, f"{member_text(member)} is not an active team member in TeleCRM")
        if not members:
            return convert_email(field, text, ctx)
        raise fail(
            field, f"{shown(text)} is not a team member — {_few(active_emails, text, 'active members')}"
        )
    wanted = " ".join(text.split()).casefold()
    named = [m for m in ctx.schema.active_members if " ".join(m.name.split()).casefold() == wanted]
    if len(named) == 1:
        return named[0].email
    if len(named) > 1:
        emails = ", ".join(m.email for m in named)
        raise fail(field, f"more than one team member is called {shown(text)} — use an email: {emails}")
    if not members:
        raise fail(field, f"{shown(text)} is not an email address — use a team member's email")
    names = [m.name for m in ctx.schema.active_members]
    raise fail(
        field,
        f"{shown(text)} is not a team member — use their email; {_few(names, text, 'active members')}",
    )


def _split_tags(raw: object) -> list[str]:
    items: Iterable[object]
    if isinstance(raw, str):
        items = re.split(r"[,\n]", raw)
    elif isinstance(raw, list | tuple | set | frozenset):
        items = raw
    else:
        items = [raw]
    out = []
    for item in items:
        if isinstance(item, list | tuple | set | Mapping) or item is None or isinstance(item, bool):
            continue
        text = " ".join(str(item).split())
        if text:
            out.append(text)
    return out


def convert_tags(field: FieldDef, raw: object, ctx: ConvertCtx) -> list[str]:
    tags = [option_value_to_label(field, ctx.schema, t) for t in _split_tags(raw)]
    if not tags:
        raise fail(field, f"{shown(raw)} has no tags — use a comma-separated list, e.g. VIP, Returning")
    labels = [c.label for c in choices_of(field, ctx.schema)]
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        canonical = _match_choice(field, tag, labels) or tag
        if canonical.casefold() not in seen:
            seen.add(canonical.casefold())
            out.append(canonical)
    return out


def _describe_choices(labels: Sequence[str], noun: str) -> str:
    if not labels:
        return "text"
    if len(labels) <= 6:
        return "one of: " + ", ".join(labels)
    return f"one of {len(labels)} {noun}, e.g. " + ", ".join(labels[:3])


def describe_dropdown(field: FieldDef, schema: WorkspaceSchema) -> str:
    return _describe_choices([c.label for c in choices_of(field, schema)], "options")


def describe_status(field: FieldDef, schema: WorkspaceSchema) -> str:
    return _describe_choices([c.label for c in choices_of(field, schema)], "statuses")


def describe_lost_reason(field: FieldDef, schema: WorkspaceSchema) -> str:
    return _describe_choices([c.label for c in choices_of(field, schema)], "lost reasons")


def describe_member(field: FieldDef, schema: WorkspaceSchema) -> str:
    emails = [m.email for m in schema.active_members]
    example = f", e.g. {emails[0]}" if emails else ""
    return f"a team member's email{example}"


def describe_tags(field: FieldDef, schema: WorkspaceSchema) -> str:
    labels = [c.label for c in choices_of(field, schema)]
    if not labels:
        return "tags, comma-separated, e.g. VIP, Returning"
    return "tags, comma-separated, e.g. " + ", ".join(labels[:3])
