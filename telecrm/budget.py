"""A per-minute budget of TeleCRM requests, shared by everything that reads TeleCRM in the background.

TeleCRM publishes no Sync rate limit (docs/TELECRM.md), so the bot sets its own for the requests nobody
is waiting for: the lead index's mirror of recent leads (:mod:`kit.lead_index`) and any later watcher
take their requests from one :class:`RequestBudget` (``TELECRM_WATCH_BUDGET_PER_MINUTE``), so together
they never send more than that in any minute. Requests a person waits for (a search, a write) are not
counted here.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RequestBudget:
    """At most ``per_minute`` requests in any ``window`` seconds (a sliding window, thread-safe).

    Callers ask before each request with :meth:`try_take`; a refusal means "stop for now and carry on
    at your next run", never "wait here", so a background task never holds a thread to sleep.
    """

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, window: float = 60.0
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"a request budget needs at least 1 request per minute, got {per_minute}")
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._taken: deque[float] = deque()
        self._lock = threading.Lock()

    def _forget_old(self, now: float) -> None:
        while self._taken and now - self._taken[0] >= self.window:
            self._taken.popleft()

    def try_take(self) -> bool:
        """Count one request if the last ``window`` seconds leave room for it; ``False`` otherwise."""
        with self._lock:
            now = self._clock()
            self._forget_old(now)
            if len(self._taken) >= self.per_minute:
                return False
            self._taken.append(now)
            return True

    def available(self) -> int:
        """How many requests may be sent right now."""
        with self._lock:
            self._forget_old(self._clock())
            return self.per_minute - len(self._taken)

    def seconds_until_free(self) -> float:
        """How long until one more request may be sent (0 when one may be sent now)."""
        with self._lock:
            now = self._clock()
            self._forget_old(now)
            if len(self._taken) < self.per_minute:
                return 0.0
            return max(0.0, self._taken[0] + self.window - now)
