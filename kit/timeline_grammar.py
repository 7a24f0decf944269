"""The text grammar of ``/timeline`` (README.md, *Using it*): a lead, optionally an activity type and
a date range; and the built-in activity types TeleCRM's timelines show.

Like :mod:`kit.grammar`'s parsers, :func:`parse_timeline` never raises: its command's ``errors`` say
what could not be understood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kit.format import truncate
from kit.grammar import HELP_WORDS, slack_unescape, split_words
from telecrm.schema import CustomActionDef

BUILTIN_ACTION_TYPES: dict[str, tuple[str, str]] = {
    "PAYMENT": ("💰", "Payment"),
    "INCOMING_CALL": ("📞", "Incoming call"),
    "OUTGOING_CALL": ("📲", "Outgoing call"),
    "MISSED_CALL": ("📵", "Missed call"),
    "REJECTED_CALL": ("🚫", "Rejected call"),
    "CALL_ACTION": ("☎️", "Call"),
    "MAQSAM_INCOMING_CALL": ("📞", "Incoming call (Maqsam)"),
    "MAQSAM_OUTGOING_CALL": ("📲", "Outgoing call (Maqsam)"),
    "IVR_INCOMING_CALL": ("📞", "Incoming call (IVR)"),
    "IVR_OUTGOING_CALL": ("📲", "Outgoing call (IVR)"),
    "MCUBE_INCOMING_CALL": ("📞", "Incoming call (MCube)"),
    "MCUBE_OUTGOING_CALL": ("📲", "Outgoing call (MCube)"),
    "KNOWLARITY_INCOMING_CALL": ("📞", "Incoming call (Knowlarity)"),
    "KNOWLARITY_OUTGOING_CALL": ("📲", "Outgoing call (Knowlarity)"),
    "CALLER_DESK_INCOMING_CALL": ("📞", "Incoming call (Caller Desk)"),
    "CALLER_DESK_OUTGOING_CALL": ("📲", "Outgoing call (Caller Desk)"),
    "INCOMING_WHATSAPP_MSG": ("💬", "Incoming WhatsApp message"),
    "OUTGOING_WHATSAPP_MSG": ("💬", "Outgoing WhatsApp message"),
    "WHATSAPP_ACTION": ("💬", "WhatsApp"),
    "OUTGOING_SMS": ("✉️", "SMS sent"),
    "OUTGOING_EMAIL": ("📧", "Email sent"),
    "LEAD_ASSIGNMENT": ("👤", "Lead assigned"),
    "SYSTEM_NOTE": ("📝", "Note"),
    "CALL_FOLLOWUP_COMPLETION_ACTION": ("✅", "Call follow-up done"),
    "TODO_TASK_COMPLETION_ACTION": ("✅", "Task done"),
    "GOOGLE_MEET_COMPLETION_ACTION": ("🎥", "Google Meet done"),
}


@dataclass
class TimelineCommand:
    action: Literal["modal", "show", "help"]
    lead: str = ""
    type: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    errors: list[str] = field(default_factory=list)


_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{1,2})-(\d{1,2})")


def _parse_day(text: str) -> datetime | None:
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None
    if match.group(1):
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    else:
        year, month, day = int(match.group(4)), int(match.group(5)), int(match.group(6))
    try:
        return datetime(year, month, day)
    except ValueError:
        return None


def _parse_range(text: str) -> tuple[str | None, str | None, list[str]]:
    start_text, _, end_text = text.partition("..")
    bounds: list[datetime | None] = []
    errors: list[str] = []
    for part in (start_text, end_text):
        if not part.strip():
            bounds.append(None)
            continue
        day = _parse_day(part)
        if day is None:
            errors.append(f"“{truncate(part.strip(), 20)}” is not a date — use DD/MM/YYYY, e.g. 01/04/2026")
        bounds.append(day)
    if errors:
        return None, None, list(dict.fromkeys(errors))
    start, end = bounds
    if start is None and end is None:
        return None, None, ["the date range is empty — use from..to, e.g. 01/04/2026..30/04/2026"]
    if start and end and end < start:
        return None, None, [f"the range ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y})"]
    date_from = start.strftime("%d/%m/%Y 00:00:00") if start else None
    date_to = end.strftime("%d/%m/%Y 23:59:59") if end else None
    return date_from, date_to, []


_DAY_TEXT = r"(\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2})"


def _join_range(text: str) -> str:
    """``01/04/2026 .. 30/04/2026`` → ``01/04/2026..30/04/2026`` so a range is one word."""
    text = re.sub(_DAY_TEXT + r"\s*\.\.\s*(?=\d)", r"\1..", text)
    text = re.sub(_DAY_TEXT + r"\s+\.\.(?=\s|$)", r"\1..", text)
    return re.sub(r"(^|\s)\.\.\s+(?=\d)", r"\1..", text)


def _type_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip()).upper()


def parse_timeline(
    text: str,
    *,
    known_types: Iterable[str] = tuple(BUILTIN_ACTION_TYPES),
    custom_actions: Iterable[CustomActionDef] = (),
) -> TimelineCommand:
    """``/timeline <lead> [type] [from..to]`` → what to show.

    A type is a built-in type (any case, ``outgoing-call`` too), a custom action's display name or code
    (sent as the bare numeric code, as Sync expects), or its human name. Dates are ``DD/MM/YYYY``; the
    end of a range is inclusive (``23:59:59``). A single date means that day.
    """
    try:
        return _parse_timeline(text or "", tuple(known_types), tuple(custom_actions))
    except Exception as exc:  # a grammar bug must still leave the user with an answer
        return TimelineCommand("help", errors=[f"could not read that command ({type(exc).__name__})"])


def _parse_timeline(
    text: str, known_types: tuple[str, ...], custom_actions: tuple[CustomActionDef, ...]
) -> TimelineCommand:
    plain = _join_range(slack_unescape(text).replace("…", ".."))
    words, errors = split_words(plain)
    if errors:
        return TimelineCommand("help", errors=errors)
    if not words:
        return TimelineCommand("modal")
    if words[0].lower() in HELP_WORDS:
        return TimelineCommand("help")
    lead, rest = words[0].strip(), words[1:]
    problems: list[str] = []
    date_from = date_to = None
    type_words: list[str] = []
    ranged = False
    for word in rest:
        if ".." in word or _parse_day(word) is not None or _DATE.fullmatch(word):
            if ranged:
                problems.append("more than one date range given — give one from..to")
                continue
            ranged = True
            date_from, date_to, range_errors = _parse_range(word if ".." in word else f"{word}..{word}")
            problems.extend(range_errors)
        else:
            type_words.append(word)
    action_type: str | None = None
    if type_words:
        action_type, type_error = _match_type(" ".join(type_words), known_types, custom_actions)
        if type_error:
            problems.append(type_error)
    return TimelineCommand(
        "show", lead=lead, type=action_type, date_from=date_from, date_to=date_to, errors=problems
    )


def _match_type(
    text: str, known_types: tuple[str, ...], custom_actions: tuple[CustomActionDef, ...]
) -> tuple[str | None, str | None]:
    key = _type_key(text)
    known = {_type_key(t): t for t in known_types}
    if key in known:
        return known[key], None
    wanted = " ".join(text.split()).casefold()
    for action in custom_actions:
        names = {
            action.code.casefold(),
            action.numeric_code.casefold(),
            " ".join(action.display_name.split()).casefold(),
        }
        if wanted in names:
            return action.numeric_code, None
    labels = {code: human for code, (_, human) in BUILTIN_ACTION_TYPES.items() if code in known.values()}
    labels.update({a.numeric_code: a.display_name for a in custom_actions})
    for code, human in labels.items():
        if human.casefold() == wanted:
            return code, None
    stem = wanted.removesuffix("s")  # "payments", "site visits"
    close = {code: human for code, human in labels.items() if stem and stem in human.casefold()}
    if len(close) == 1:
        return next(iter(close)), None
    if close:
        return (
            None,
            f"“{truncate(text, 30)}” could mean several types — give one: {', '.join(list(close.values())[:6])}",
        )
    return None, _unknown_type(text, labels, custom_actions)


def _unknown_type(text: str, labels: Mapping[str, str], custom_actions: tuple[CustomActionDef, ...]) -> str:
    """Why a type was not understood, naming types the way the form does (labels, not codes)."""
    common = [labels[c] for c in ("OUTGOING_CALL", "INCOMING_CALL", "PAYMENT") if c in labels]
    custom = [a.display_name for a in custom_actions][:5]
    hint = ", ".join(common or list(labels.values())[:3])
    hint += ", or a custom action: " + ", ".join(custom) if custom else ""
    return f"“{truncate(text, 30)}” is not an activity type — try {hint}"
