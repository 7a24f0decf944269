"""The text grammars of ``/lead`` and ``/payment`` (README.md, *Using it*), and the word splitting and
Slack escapes every command's text goes through (``/timeline``'s grammar: :mod:`kit.timeline_grammar`).

Parsers never raise: whatever was typed, they return a command whose ``errors`` say what could not be
understood, so the handler can always answer.  A command with errors must not be sent to TeleCRM.
Values stay as typed here; converting them to TeleCRM's types is :mod:`kit.fields`' job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from kit.fields import FieldError, normalize_amount
from kit.format import mrkdwn_escape, truncate
from telecrm.schema import PAYMENT_CURRENCIES, PAYMENT_STATUSES

__all__ = [
    "LeadCommand",
    "PaymentCommand",
    "format_kv",
    "normalize_amount",
    "parse_lead",
    "parse_payment",
    "slack_escape",
    "slack_unescape",
    "split_currency",
    "split_words",
    "tokenize_kv",
]

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


HELP_WORDS = {"help", "?", "-h", "--help", "usage"}


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
    if head in HELP_WORDS:
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
    if action == "help" and head in HELP_WORDS:
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


UPDATE_NEEDS_LEAD = "say which lead first: /lead update <lead id or identifier> key=value …"


def _parse_update(rest: str) -> LeadCommand:
    words = _words(rest)
    if not words:
        return LeadCommand(
            "help",
            errors=["say which lead and what to change: /lead update <lead id or identifier> key=value …"],
        )
    target_word = words[0]
    if any(ch == "=" and not quoted for ch, quoted in target_word.chars):
        return LeadCommand("help", errors=[UPDATE_NEEDS_LEAD])
    if target_word.unclosed:
        return LeadCommand("help", errors=[f"unclosed quote in “{truncate(rest, 30)}”"])
    target = target_word.text.strip()
    if not target:  # an empty quoted word: ""
        return LeadCommand("help", errors=[UPDATE_NEEDS_LEAD])
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


PAYMENT_USAGE = "/payment <lead> <amount> [currency] [status]"


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
    if words[0].lower() in HELP_WORDS:
        return PaymentCommand("help")
    lead, rest = _lead_and_rest(words)
    if not rest:
        return PaymentCommand("modal", lead=lead)
    if not lead:  # an empty quoted word ("") where the lead goes
        return PaymentCommand("help", errors=[f"say which lead first: {PAYMENT_USAGE}"])
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
        problems.append(f"the amount is missing: {PAYMENT_USAGE}")
    else:
        try:
            amount = normalize_amount(amount_text)
        except FieldError as exc:
            problems.append(exc.message)
    return PaymentCommand(
        "record", lead=lead, amount=amount, currency=currency, status=status or "PENDING", errors=problems
    )
