"""Logging that never leaks secrets: tokens are removed, phone numbers and emails are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telecrm.redact import RedactingFilter


def setup_logging(level: str | int = "INFO", secrets: Iterable[str] = ()) -> RedactingFilter:
    """One stderr handler for the whole process, with every record passed through the redactor."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    redactor = RedactingFilter(tuple(secrets))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "waitress.queue"):  # request URLs may carry emails
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redactor
