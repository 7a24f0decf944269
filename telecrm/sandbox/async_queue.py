"""The Async API's queue: upserts accepted with `QUEUED` and applied later, one at a time, in order.

A daemon thread, started with the first request, applies each body; `drain` waits until nothing is
queued or running, `close` stops the thread and discards what is still queued.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

# one logger name for the sandbox app's log lines, as when the queue was part of telecrm/sandbox/app.py
log = logging.getLogger("telecrm.sandbox.app")


class AsyncQueue:
    """Bodies handed to `apply` on a background thread after `delay()` seconds each."""

    def __init__(self, apply: Callable[[Any], str], delay: Callable[[], float]) -> None:
        self._apply = apply
        self._delay = delay
        self._cv = threading.Condition()
        self._queue: deque[Any] = deque()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def put(self, body: Any) -> None:
        with self._cv:
            self._queue.append(body)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._worker, name="telecrm-sandbox-async", daemon=True
                )
                self._thread.start()
            self._cv.notify_all()

    def _worker(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._queue or self._closed.is_set())
                if self._closed.is_set():
                    self._queue.clear()
                    self._cv.notify_all()
                    return
                body = self._queue.popleft()
                self._busy = True
            try:
                delay = self._delay()
                if delay:
                    self._closed.wait(delay)
                outcome = self._apply(body)
                log.info("async upsert: %s", outcome)
            except Exception:
                log.exception("async upsert failed")
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def pending(self) -> int:
        """Bodies queued or being applied."""
        with self._cv:
            return len(self._queue) + int(self._busy)

    def discard_queued(self) -> None:
        with self._cv:
            self._queue.clear()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued body has been applied; False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self) -> None:
        """Stop the worker (queued bodies are discarded)."""
        self._closed.set()
        with self._cv:
            self._cv.notify_all()
