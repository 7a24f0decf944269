"""The process's log handler follows ``sys.stderr``: a thread that logs after the stream it started
with was closed (a test runner's capture, a daemon's redirected stderr) still logs, with no
"--- Logging error ---" noise."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import setup_logging


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield
    root.handlers[:] = saved
    root.setLevel(level)


def test_a_line_logged_after_the_first_stderr_was_closed_goes_to_the_current_one(
    root_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    setup_logging()
    first.close()
    current = io.StringIO()
    monkeypatch.setattr("sys.stderr", current)
    logging.getLogger("bot.test").warning("still heard")
    assert "still heard" in current.getvalue()
    assert "Logging error" not in current.getvalue()
