"""A request budget: at most ``per_minute`` requests in any 60 seconds (a sliding window).

Background readers of TeleCRM (the lead watcher, ``commands/lead/watch.py``) ask before every request
(:meth:`RequestBudget.take`); what a minute allows is ``TELECRM_WATCH_BUDGET_PER_MINUTE``. The window
slides, so the promise holds for every 60-second span, not only for clock minutes; the times of the
requests of the last minute can be saved and loaded (:meth:`spent`, :meth:`load`), so a process taking
over from another keeps within the same budget.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable

WINDOW_SECONDS = 60.0


class RequestBudget:
    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.time, window: float = WINDOW_SECONDS
    ) -> None:
        if per_minute < 0:
            raise ValueError("a request budget cannot be negative")
        self.per_minute = int(per_minute)
        self._clock = clock
        self._window = window
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self._window:
            self._sent.popleft()

    def available(self) -> int:
        """How many requests may be sent now."""
        with self._lock:
            self._forget_old(self._clock())
            return max(0, self.per_minute - len(self._sent))

    def take(self) -> bool:
        """Spend one request if the window allows it; False (nothing spent) when it does not."""
        with self._lock:
            now = self._clock()
            self._forget_old(now)
            if len(self._sent) >= self.per_minute:
                return False
            self._sent.append(now)
            return True

    def next_free_at(self) -> float:
        """When the next request may be sent (now, when one may be sent now)."""
        with self._lock:
            now = self._clock()
            self._forget_old(now)
            if len(self._sent) < self.per_minute or not self._sent:
                return now
            return self._sent[len(self._sent) - self.per_minute] + self._window

    def spent(self) -> list[float]:
        """The times of the requests sent within the last window, oldest first."""
        with self._lock:
            self._forget_old(self._clock())
            return list(self._sent)

    def load(self, times: Iterable[float]) -> None:
        """Count requests another process (or an earlier run) sent within the window.

        Loading what this budget saved itself counts nothing twice: each moment counts as often as
        the larger of the two lists has it.
        """
        with self._lock:
            merged = Counter(self._sent) | Counter(float(t) for t in times)
            self._sent = deque(sorted(merged.elements()))
            self._forget_old(self._clock())
