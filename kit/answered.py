"""Whether Slack has the HTTP answer to the request that started the work on this thread.

A listener that acknowledges a form with ``response_action: "update"`` (a "Checking…" view) and then
updates the same view from background work (``views.update``) must not let its update reach Slack
before the acknowledgement does: Slack would then apply the acknowledgement's view last, and the
person would be left looking at "Checking…". Bolt hands the acknowledgement to the HTTP server a
moment after ``ack()`` (its request thread polls for it), and a fast answer from TeleCRM — a local
one, or a cached refusal — can come back sooner. The HTTP layer (bot/server.py) marks the request
answered once Bolt has returned its response; work started for the request (the listener, and the
background tasks it starts, which inherit its context) waits for that mark before such an update.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# set for each HTTP request from Slack; None outside one (Socket Mode, periodic work, tests' direct calls)
_answered: ContextVar[threading.Event | None] = ContextVar("slack_request_answered", default=None)

# Slack gives up on an acknowledgement after 3 s: waiting longer cannot help
ANSWER_WAIT_SECONDS = 3.0


@contextmanager
def answering() -> Iterator[None]:
    """Around the handling of one HTTP request: marked answered when the block ends."""
    answered = threading.Event()
    token = _answered.set(answered)
    try:
        yield
    finally:
        answered.set()
        _answered.reset(token)


def wait_until_answered() -> None:
    """Return once Slack has the answer to the request this work was started for (at once when
    there is no such request, and after at most :data:`ANSWER_WAIT_SECONDS`)."""
    answered = _answered.get()
    if answered is not None:
        answered.wait(ANSWER_WAIT_SECONDS)
