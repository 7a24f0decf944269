"""Masking of personal data and secrets before anything reaches a log.

Leads are people: their phone numbers and emails must not end up in log files, yet a log line still
has to be useful when debugging ("which lead was it?"). So values are masked, not dropped:
``jane.doe@example.com`` → ``j***@example.com``, ``919999999999`` → ``91******9999``.

Logs also carry text that strangers sent us, so the redactor must be safe on hostile input:

* every pattern runs in linear time: a match may only *start* where the kind of value it looks for
  starts (the character before it cannot belong to the same value), so a long run of letters or
  digits is scanned once rather than once per position, as a naive pattern would (quadratic: 10 MB
  of letters in a request body used to hang the process);
* input is capped (:data:`MAX_CHARS`) before masking, with a marker saying how much was left out;
* control characters are escaped in log messages, so a value containing a newline cannot forge a
  log line.
"""

from __future__ import annotations

import logging
import re

# Long enough for any real log line or traceback; bounds the work (and the log) per record.
MAX_CHARS = 20_000
# A value cut in half by the cap ("jane@exa") no longer looks like an email: drop the cut value.
_CUT_VALUE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-@")
_CUT_LOOKBACK = 256

_LOCAL = r"[A-Za-z0-9._%+\-]"
# A local part starts only where the previous character cannot be part of one, so each run of
# local-part characters is tried once. "@" may be URL-encoded ("%40") in request bodies and URLs.
# Domain labels cannot contain dots, so the label loop has one way to split a domain: linear too.
_EMAIL = re.compile(rf"(?<!{_LOCAL})({_LOCAL}){_LOCAL}*(@|%40)((?:[A-Za-z0-9\-]+\.)+[A-Za-z]{{2,}})")
# A phone number: 7+ digits, optionally with a leading + and single spaces, dashes or dots inside.
# Slack message timestamps ("1763700000.123456") are not phone numbers.
# Also after an escaped newline/tab in a repr ("\\n919…") and after URL-encoded "=" or "+" ("%3D919…").
# Linear: inside a run of digits the lookbehinds fail at once, so a run is scanned from its start only.
_PHONE = re.compile(
    r"(?:(?<![\w*])|(?<=\\n)|(?<=\\t)|(?<=%3D)|(?<=%2B))(?!\d{10}\.\d{6}(?!\d))\+?\d(?:[ \-.]?\d){6,}(?!\w)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_SLACK_TOKEN = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]+")  # xoxe-: refresh tokens
_NOT_DIGIT = re.compile(r"\D")
_MIN_PHONE_DIGITS = 7
# C0 and C1 control characters and Unicode line/paragraph separators: anything a log reader might
# take as the end of a line or a terminal might interpret.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_NAMES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _mask_email(match: re.Match[str]) -> str:
    return f"{match.group(1)}***{match.group(2)}{match.group(3)}"


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) < _MIN_PHONE_DIGITS:
        return text
    plus = "+" if text.startswith("+") else ""
    return f"{plus}{digits[:2]}{'*' * (len(digits) - 6)}{digits[-4:]}"


def cap(text: str, limit: int | None = MAX_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how many were left out."""
    if limit is None or len(text) <= limit:
        return text
    keep, floor = limit, max(0, limit - _CUT_LOOKBACK)
    while keep > floor and text[keep - 1] in _CUT_VALUE_CHARS:
        keep -= 1
    return f"{text[:keep]}…[{len(text) - keep} more characters not shown]"


def escape_controls(text: str) -> str:
    """Control characters written as escapes (``\\n``, ``\\x1b``), so ``text`` stays on one line."""
    return _CONTROL.sub(_escape_control, text)


def _escape_control(match: re.Match[str]) -> str:
    char = match.group(0)
    named = _CONTROL_NAMES.get(char)
    if named:
        return named
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def mask(text: object, *, limit: int | None = MAX_CHARS) -> str:
    """Mask emails, phone-like digit runs and bearer tokens in ``text`` (any object, via ``str``).

    The text is first capped to ``limit`` characters (``None``: no cap; masking is linear anyway).
    """
    out = cap(str(text), limit)
    out = _BEARER.sub(r"\1 ***", out)
    out = _SLACK_TOKEN.sub(r"\1-***", out)
    out = _EMAIL.sub(_mask_email, out)
    return _PHONE.sub(_mask_phone, out)


def excerpt(data: bytes | str, size: int = 200) -> str:
    """A short, escaped, masked excerpt of untrusted data for a log line: at most ``size`` characters
    of it, written as a Python literal (so control characters and non-UTF-8 bytes are visible)."""
    head = data[:size]
    shown = repr(head.decode("utf-8", "replace") if isinstance(head, bytes) else head)
    more = len(data) - len(head)
    return mask(shown) + (f"…(+{more})" if more > 0 else "")


class RedactingFilter(logging.Filter):
    """A logging filter that masks the fully formatted message of every record it sees.

    Attach it to a handler (``handler.addFilter(RedactingFilter(secrets=[token]))``) so that no module
    has to remember to mask. ``secrets`` are exact strings (tokens) replaced by ``***``. Messages are
    capped, masked and kept on one line; tracebacks keep their line breaks.
    """

    def __init__(self, secrets: list[str] | tuple[str, ...] = (), name: str = "") -> None:
        super().__init__(name)
        # longest first, so a secret that contains another is replaced whole
        self._secrets = tuple(sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        # secrets go before the cap, which could otherwise cut one in half and leave a prefix behind
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return mask(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not stop logging
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = escape_controls(self.redact(message))
        record.args = None
        if record.exc_text:
            lines = self.redact(record.exc_text).split("\n")
            record.exc_text = "\n".join(escape_controls(line) for line in lines)
        return True
