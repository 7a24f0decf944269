"""Masking of personal data and secrets before anything reaches a log.

Leads are people: their phone numbers and emails must not end up in log files, yet a log line still
has to be useful when debugging ("which lead was it?"). So values are masked, not dropped:
``jane.doe@example.com`` → ``j***@example.com``, ``919999999999`` → ``91******9999``.
"""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(
    r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})"
)
# A phone number: 7+ digits, optionally with a leading + and single spaces, dashes or dots inside.
# Slack message timestamps ("1763700000.123456") are not phone numbers.
# Also after an escaped newline/tab in a repr ("\\n919…") and after URL-encoded "=" or "+" ("%3D919…").
_PHONE = re.compile(
    r"(?:(?<![\w*])|(?<=\\n)|(?<=\\t)|(?<=%3D)|(?<=%2B))(?!\d{10}\.\d{6}(?!\d))\+?\d(?:[ \-.]?\d){6,}(?!\w)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_SLACK_TOKEN = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
_MIN_PHONE_DIGITS = 7


def _mask_email(match: re.Match[str]) -> str:
    return f"{match.group(1)}***@{match.group(2)}"


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if len(digits) < _MIN_PHONE_DIGITS:
        return text
    plus = "+" if text.startswith("+") else ""
    return f"{plus}{digits[:2]}{'*' * (len(digits) - 6)}{digits[-4:]}"


def mask(text: object) -> str:
    """Mask emails, phone-like digit runs and bearer tokens in ``text`` (any object, via ``str``)."""
    out = str(text)
    out = _BEARER.sub(r"\1 ***", out)
    out = _SLACK_TOKEN.sub(r"\1-***", out)
    out = _EMAIL.sub(_mask_email, out)
    return _PHONE.sub(_mask_phone, out)


class RedactingFilter(logging.Filter):
    """A logging filter that masks the fully formatted message of every record it sees.

    Attach it to a handler (``handler.addFilter(RedactingFilter(secrets=[token]))``) so that no module
    has to remember to mask. ``secrets`` are exact strings (tokens) replaced by ``***``.
    """

    def __init__(self, secrets: list[str] | tuple[str, ...] = (), name: str = "") -> None:
        super().__init__(name)
        # longest first, so a secret that contains another is replaced whole
        self._secrets = tuple(sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True))

    def redact(self, text: str) -> str:
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
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True
