"""Logging that never leaks secrets: tokens are removed, phone numbers and emails are masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_TOKEN = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")


def _mask_pii(text: str) -> str:
    try:
        from telecrm.redact import mask
    except ImportError:  # pragma: no cover - redact ships with the package
        return text
    return mask(text)


class RedactingFilter(logging.Filter):
    """Applied to every handler: rewrites the formatted message before it is emitted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        text = _TOKEN.sub(r"\1-[secret]", text)
        text = _BEARER.sub(r"\1[secret]", text)
        return _mask_pii(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def setup_logging(level: str | int = "INFO", secrets: Iterable[str] = ()) -> RedactingFilter:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    redactor = RedactingFilter(secrets)
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redactor
