"""Logging that never leaks secrets: tokens are removed, phone numbers and emails are masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

from telecrm.redact import RedactingFilter


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the one at set-up: a thread
    that logs after ``sys.stderr`` was swapped (and the old one closed, as test runners and daemons
    do) must not hit a closed file."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # StreamHandler.__init__ assigns it; the current sys.stderr is always used instead


def setup_logging(level: str | int = "INFO", secrets: Iterable[str] = ()) -> RedactingFilter:
    """One stderr handler for the whole process, with every record passed through the redactor."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    redactor = RedactingFilter(tuple(secrets))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "waitress.queue"):  # request URLs may carry emails
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redactor
