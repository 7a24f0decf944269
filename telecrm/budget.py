"""A per-minute budget of TeleCRM requests, shared by everything that reads TeleCRM in the background.

TeleCRM publishes no Sync rate limit (docs/TELECRM.md), so the bot sets its own for its reading
requests: the lead index's mirror of recent leads (:mod:`kit.lead_index`), the lead watcher
(``commands/lead/watch.py``) and the pipeline reports' counts (``kit/pipeline/counting.py``: a report
is dozens of searches, so it counts here even when a person waits for it) take their requests from
one :class:`RequestBudget` (``TELECRM_WATCH_BUDGET_PER_MINUTE``), so together they never send more
than that in any 60 seconds (a sliding window, not clock minutes). A person's own search or write is
not counted here. The times of the last window's requests can be saved and loaded (:meth:`spent`,
:meth:`load`), so a process taking over from another keeps within the same budget.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable

WINDOW_SECONDS = 60.0


class RequestBudget:
    """At most ``per_minute`` requests in any ``window`` seconds (thread-safe).

    Callers ask before each request with :meth:`take`; a refusal means "stop for now and carry on at
    your next run", never "wait here", so a background task never holds a thread to sleep.
    """

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.time, window: float = WINDOW_SECONDS
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"a request budget needs at least 1 request per minute, got {per_minute}")
        self.per_minute = int(per_minute)
        self.window = window
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def _forget_old(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()

    def take(self) -> bool:
        """Count one request if the last ``window`` seconds leave room for it; ``False`` otherwise."""
        with self._lock:
            now = self._clock()
            self._forget_old(now)
            if len(self._sent) >= self.per_minute:
                return False
            self._sent.append(now)
            return True

    def available(self) -> int:
        """How many requests may be sent right now."""
        with self._lock:
            self._forget_old(self._clock())
            return max(0, self.per_minute - len(self._sent))

    def next_free_at(self) -> float:
        """When the next request may be sent (now, when one may be sent now)."""
        with self._lock:
            now = self._clock()
            self._forget_old(now)
            if len(self._sent) < self.per_minute:
                return now
            return self._sent[len(self._sent) - self.per_minute] + self.window

    def seconds_until_free(self) -> float:
        """How long until one more request may be sent (0 when one may be sent now)."""
        return max(0.0, self.next_free_at() - self._clock())

    def spent(self) -> list[float]:
        """The times of the requests sent within the last window, oldest first."""
        with self._lock:
            self._forget_old(self._clock())
            return list(self._sent)

    def load(self, times: Iterable[float]) -> None:
        """Count requests another process (or an earlier run) sent within the window; loading what
        this budget saved itself counts nothing twice (each moment counts as often as the larger of
        the two lists has it)."""
        with self._lock:
            merged = Counter(self._sent) | Counter(float(t) for t in times)
            self._sent = deque(sorted(merged.elements()))
