"""The text grammars of ``/lead``, ``/payment`` and ``/timeline`` (README.md, *Using it*).

Parsers never raise: whatever was typed, they return a command whose ``errors`` say what could not be
understood, so the handler can always answer.  A command with errors must not be sent to TeleCRM.
Values stay as typed here; converting them to TeleCRM's types is :mod:`kit.fields`' job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kit.fields import FieldError, normalize_amount
from kit.format import mrkdwn_escape, truncate
from telecrm.schema import PAYMENT_CURRENCIES, PAYMENT_STATUSES, CustomActionDef

__all__ = [
    "BUILTIN_ACTION_TYPES",
    "LeadCommand",
    "PaymentCommand",
    "TimelineCommand",
    "format_kv",
    "normalize_amount",
    "parse_lead",
    "parse_payment",
    "parse_timeline",
    "slack_escape",
    "slack_unescape",
    "split_currency",
    "split_words",
    "tokenize_kv",
]

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

_OPEN_QUOTES = '"“”'
_SPACE = re.compile(r"\s")

# --- Slack text escapes ------------------------------------------------------------------------------

_LINK = re.compile(r"<((?:mailto|tel|https?):[^<>|]*)(?:\|([^<>]*))?>", re.IGNORECASE)


def _link_text(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if label and not _SPACE.search(label):
        return label
    lowered = target.lower()
    for prefix in ("mailto:", "tel:"):
        if lowered.startswith(prefix):
            return target[len(prefix) :]
    return target


def slack_unescape(text: str) -> str:
    """Slack's slash-command text → what the person typed: links unwrapped, ``&amp;`` etc. decoded."""
    text = _LINK.sub(_link_text, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_escape(text: str) -> str:
    """What Slack does to typed text before sending it (the inverse of :func:`slack_unescape`)."""
    return mrkdwn_escape(text)


# --- words and key=value -----------------------------------------------------------------------------


@dataclass
class _Word:
    chars: list[tuple[str, bool]] = field(default_factory=list)  # (char, came from inside quotes)
    raw_start: int = 0
    raw_end: int = 0
    unclosed: bool = False

    @property
    def text(self) -> str:
        return "".join(ch for ch, _ in self.chars)


def _words(text: str) -> list[_Word]:
    """Shell-like words: whitespace separates, double (or smart) quotes group, ``\\"`` is a quote."""
    words: list[_Word] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        word = _Word(raw_start=i)
        quote: str | None = None
        while i < n:
            ch = text[i]
            if ch == "\\" and i + 1 < n and (text[i + 1] in _OPEN_QUOTES or text[i + 1] == "\\"):
                word.chars.append((text[i + 1], quote is not None))
                i += 2
                continue
            if quote is None:
                if ch.isspace():
                    break
                if ch in _OPEN_QUOTES:
                    quote = ch
                    i += 1
                    continue
                word.chars.append((ch, False))
            else:
                if ch in _OPEN_QUOTES and _closes(quote, ch):
                    quote = None
                    i += 1
                    continue
                word.chars.append((ch, True))
            i += 1
        word.unclosed = quote is not None
        word.raw_end = i
        words.append(word)
    return words


def _closes(opening: str, ch: str) -> bool:
    """A straight quote closes a straight one; either curly quote closes a curly one (clients mix “ and ”)."""
    return (ch == '"') == (opening == '"')


def split_words(text: str) -> tuple[list[str], list[str]]:
    """Quote-aware split of (Slack-unescaped) text into words; errors name an unclosed quote."""
    words = _words(text)
    errors = [f"unclosed quote in “{truncate(text[w.raw_start :], 30)}”" for w in words if w.unclosed]
    return [w.text for w in words], errors


def tokenize_kv(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``name="Jane Doe" phone=919999999999`` → pairs; errors say which word is not ``key=value``.

    Commas stay inside values (splitting tags is the converter's job).  Slack's escapes and smart quotes
    are understood, so text can be passed straight from the slash-command payload.
    """
    return _tokenize_plain(slack_unescape(text))


def _tokenize_plain(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    pairs: list[tuple[str, str]] = []
    errors: list[str] = []
    for word in _words(text):
        raw = text[word.raw_start : word.raw_end]
        split_at = next((i for i, (ch, quoted) in enumerate(word.chars) if ch == "=" and not quoted), None)
        if split_at is None:
            if word.unclosed:
                errors.append(f"unclosed quote in “{truncate(raw, 30)}”")
            else:
                errors.append(f"expected key=value, got “{truncate(raw, 30)}”")
            continue
        key = "".join(ch for ch, _ in word.chars[:split_at]).strip()
        value = "".join(ch for ch, _ in word.chars[split_at + 1 :])
        if word.unclosed:
            errors.append(f"unclosed quote after {truncate(key, 30)}=")
            continue
        if not key:
            errors.append(f"missing field name before “{truncate(raw, 30)}”")
            continue
        pairs.append((key, value))
    return pairs, errors


def _needs_quotes(text: str) -> bool:
    return not text or any(ch.isspace() or ch in _OPEN_QUOTES or ch in "=\\" for ch in text)


def _quote(text: str) -> str:
    if not _needs_quotes(text):
        return text
    escaped = "".join("\\" + ch if ch in _OPEN_QUOTES or ch == "\\" else ch for ch in text)
    return f'"{escaped}"'


def format_kv(pairs: Iterable[tuple[str, str]]) -> str:
    """The inverse of :func:`tokenize_kv` (before Slack escaping): used for help examples and buttons."""
    return " ".join(f"{_quote(k)}={_quote(v)}" for k, v in pairs)


# --- /lead -------------------------------------------------------------------------------------------


@dataclass
class LeadCommand:
    action: Literal["modal", "create", "find", "update", "help", "import"]
    pairs: list[tuple[str, str]] = field(default_factory=list)
    query: str = ""
    target: str = ""
    errors: list[str] = field(default_factory=list)


_HELP_WORDS = {"help", "?", "-h", "--help", "usage"}


def parse_lead(text: str) -> LeadCommand:
    """``/lead`` text → what to do: modal, create (``k=v …``), find, update, or help."""
    try:
        return _parse_lead(text or "")
    except Exception as exc:  # a grammar bug must still leave the user with an answer
        return LeadCommand("help", errors=[f"could not read that command ({type(exc).__name__})"])


def lead_action(text: str) -> str:
    """What a ``/lead`` line asks for, from its first word alone: ``modal``, ``help``, ``find``,
    ``update``, ``import`` or ``create``.

    The first step of :func:`parse_lead`, and all the acknowledgement needs to know: a ``create`` or
    ``update`` line is stored as typed and read in full after it (its pairs may still turn out
    malformed, which is answered then, like a wrong value)."""
    return _action(*_head(slack_unescape(text or "").strip()))


def _head(plain: str) -> tuple[str, str, str]:
    """The line, its first word and the rest."""
    first, *tail = re.split(r"\s+", plain, maxsplit=1)
    return plain, first, tail[0].strip() if tail else ""


def _action(plain: str, first: str, rest: str) -> str:
    head = first.lower()
    if not plain:
        return "modal"
    if head in _HELP_WORDS:
        return "help"
    if head in ("find", "search"):
        return "find"
    if head in ("update", "edit"):
        return "update"
    if head == "import":
        return "import"
    if head in ("new", "create", "add"):
        return "create" if rest else "modal"
    return "create" if "=" in plain else "help"


def _parse_lead(text: str) -> LeadCommand:
    plain, first, rest = _head(slack_unescape(text).strip())
    action = _action(plain, first, rest)
    head = first.lower()
    if action == "modal":
        return LeadCommand("modal")
    if action == "help" and head in _HELP_WORDS:
        return LeadCommand("help")
    if action == "find":
        words, errors = split_words(rest)
        query = " ".join(words).strip()  # too short (even empty) is answered by the find itself
        return LeadCommand("help" if errors else "find", query=query, errors=errors)
    if action == "update":
        return _parse_update(rest)
    if action == "import":
        return LeadCommand("import")
    if head in ("new", "create", "add"):
        plain = rest
    elif action == "help":
        return LeadCommand(
            "help",
            errors=[
                f"“{truncate(first, 30)}” is not a /lead command — to search, use /lead find "
                f"{truncate(plain, 40)}; to create, use key=value pairs"
            ],
        )
    pairs, errors = _tokenize_plain(plain)
    if not pairs:
        return LeadCommand("help", errors=errors or ["no key=value pairs found"])
    return LeadCommand("create", pairs=pairs, errors=errors)


def _parse_update(rest: str) -> LeadCommand:
    words = _words(rest)
    if not words:
        return LeadCommand(
            "help",
            errors=["say which lead and what to change: /lead update <lead id or identifier> key=value …"],
        )
    target_word = words[0]
    if any(ch == "=" and not quoted for ch, quoted in target_word.chars):
        return LeadCommand(
            "help",
            errors=["say which lead first: /lead update <lead id or identifier> key=value …"],
        )
    if target_word.unclosed:
        return LeadCommand("help", errors=[f"unclosed quote in “{truncate(rest, 30)}”"])
    target = target_word.text.strip()
    pairs, errors = _tokenize_plain(rest[target_word.raw_end :])
    if not pairs and not errors:
        errors = [f"say what to change on {truncate(target, 30)}: key=value …"]
    return LeadCommand("update", pairs=pairs, target=target, errors=errors)


# --- /payment ------------------------------------------------------------------------------------------


@dataclass
class PaymentCommand:
    action: Literal["modal", "record", "help"]
    lead: str = ""
    amount: str | None = None
    currency: str | None = None
    status: str | None = None
    errors: list[str] = field(default_factory=list)


_SYMBOL_CURRENCY = {"₹": "INR", "$": "USD", "rs": "INR", "rs.": "INR", "rupees": "INR", "dollars": "USD"}
_STATUS_ALIASES = {"PAID": "COMPLETED", "COMPLETE": "COMPLETED", "DONE": "COMPLETED", "CANCELED": "CANCELLED"}
_AMOUNT_AFFIX = re.compile(r"^(₹|\$|rs\.?)\s*(.*)$|^(.*?)\s*(₹|\$|rs\.?|/-)$", re.IGNORECASE)


def _currency_word(word: str) -> str | None:
    upper = word.upper()
    if upper in PAYMENT_CURRENCIES:
        return upper
    return _SYMBOL_CURRENCY.get(word.lower())


def _status_word(word: str) -> str | None:
    upper = word.upper()
    if upper in PAYMENT_STATUSES:
        return upper
    return _STATUS_ALIASES.get(upper)


def split_currency(text: str) -> tuple[str, str | None]:
    """``₹5,000`` → (``5,000``, ``INR``); ``50USD`` → (``50``, ``USD``); ``5000`` → (``5000``, None)."""
    text = text.strip()
    match = re.fullmatch(r"([A-Za-z]{3})\s*([\d.,]+)|([\d.,]+)\s*([A-Za-z]{3})", text)
    if match:
        code, number = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        )
        if code.upper() in PAYMENT_CURRENCIES:
            return number, code.upper()
    match = _AMOUNT_AFFIX.fullmatch(text)
    if match:
        symbol, number = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        )
        if symbol == "/-":
            return number, None
        return number, _SYMBOL_CURRENCY[symbol.lower()]
    return text, None


def parse_payment(text: str, *, default_currency: str = "INR") -> PaymentCommand:
    """``/payment <lead> <amount> [currency] [status]`` → a payment to record (or the modal / help)."""
    try:
        return _parse_payment(text or "", default_currency)
    except Exception as exc:  # a grammar bug must still leave the user with an answer
        return PaymentCommand("help", errors=[f"could not read that command ({type(exc).__name__})"])


def _lead_and_rest(words: list[str]) -> tuple[str, list[str]]:
    """The lead, and the words after it. An unquoted name of several words (``Jane Doe 5000``) runs
    up to the first word with a digit in it, less any currency or status words just before it
    (``Jane Doe INR 5000``); a lead that starts with a digit (a phone, an id) is one word."""
    if re.search(r"\d", words[0]):
        return words[0].strip(), words[1:]
    end = next((i for i, word in enumerate(words) if re.search(r"\d", word)), len(words))
    while end > 1 and (_currency_word(words[end - 1]) or _status_word(words[end - 1])):
        end -= 1
    return " ".join(word.strip() for word in words[:end]), words[end:]


def _parse_payment(text: str, default_currency: str) -> PaymentCommand:
    words, errors = split_words(slack_unescape(text))
    if errors:
        return PaymentCommand("help", errors=errors)
    if not words:
        return PaymentCommand("modal")
    if words[0].lower() in _HELP_WORDS:
        return PaymentCommand("help")
    lead, rest = _lead_and_rest(words)
    if not rest:
        return PaymentCommand("modal", lead=lead)
    amount_text: str | None = None
    currency: str | None = None
    status: str | None = None
    problems: list[str] = []

    def set_currency(code: str) -> None:
        nonlocal currency
        if currency and currency != code:
            problems.append(f"two currencies given ({currency} and {code}) — give one")
        currency = code

    for word in rest:
        if not word.strip():
            continue
        if (code := _currency_word(word)) is not None:
            set_currency(code)
        elif (found := _status_word(word)) is not None:
            if status and status != found:
                problems.append(f"two statuses given ({status} and {found}) — give one")
            status = found
        elif amount_text is None and (re.search(r"\d", word) or not any(re.search(r"\d", w) for w in rest)):
            amount_text, code = split_currency(word)
            if code:
                set_currency(code)
        elif re.search(r"\d", word):
            problems.append(
                f"two amounts given ({truncate(amount_text or '', 20)} and {truncate(word, 20)}) — give one"
            )
        elif re.fullmatch(r"[A-Za-z]{3}", word):
            problems.append(
                f"“{truncate(word, 20)}” is not a supported currency — use one of {', '.join(PAYMENT_CURRENCIES)}"
            )
        else:
            problems.append(
                f"“{truncate(word, 20)}” is not a currency or status — currency: {', '.join(PAYMENT_CURRENCIES)}; "
                f"status: {', '.join(PAYMENT_STATUSES)}"
            )
    currency = currency or (default_currency or "INR").strip().upper()
    if currency not in PAYMENT_CURRENCIES:
        problems.append(
            f"{currency} is not a supported currency — use one of {', '.join(PAYMENT_CURRENCIES)}"
        )
    amount: str | None = None
    if amount_text is None:
        problems.append("the amount is missing: /payment <lead> <amount> [currency] [status]")
    else:
        try:
            amount = normalize_amount(amount_text)
        except FieldError as exc:
            problems.append(exc.message)
    return PaymentCommand(
        "record", lead=lead, amount=amount, currency=currency, status=status or "PENDING", errors=problems
    )


# --- /timeline -------------------------------------------------------------------------------------------


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
    if words[0].lower() in _HELP_WORDS:
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
