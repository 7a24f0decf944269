"""Listeners that answer Slack on the request's own thread.

Bolt runs a listener on a pool thread while the request's thread looks for the acknowledgement
every 10 ms: a hand-off between threads, and a wake-up every 10 ms, for every request, however
fast the listener. A listener whose acknowledgement is the last thing it waits for — what it
writes is stored before ``ack()``, and anything slow after it is handed on (:func:`after_ack`) —
can run on the request's thread instead: the answer is ready when the listener returns
(bot/listener_calls.py runs the listeners marked with :func:`acks_on_request_thread` that way
while few requests are being answered at once; docs/PERFORMANCE.md has what it saves).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from kit.services import Services

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "_acks_on_request_thread"


def acks_on_request_thread(listener: F) -> F:
    """Mark a listener that never waits on Slack or TeleCRM after its ``ack()``."""
    setattr(listener, _MARK, True)
    return listener


def runs_on_request_thread(listener: Callable[..., Any]) -> bool:
    return bool(getattr(listener, _MARK, False))


def after_ack(services: Services, work: Callable[[], Any], *, user: str, channel: str | None) -> None:
    """Run ``work`` on a listener thread, as Bolt would have run the whole listener: a listener on
    the request's thread hands on what waits for Slack (opening a form) so its answer does not
    wait. An error is logged and ``user`` told, as Bolt's error handler would."""

    def run() -> None:
        try:
            work()
        except Exception as exc:
            log.exception("work after a Slack request's acknowledgement failed: %s", exc.__class__.__name__)
            services.tell_user_about_error(user, channel)

    services.listeners.submit(run)
