"""Lead counts from TeleCRM: the ``total_count`` of a lead search asked for one row.

Every number of a pipeline report is such a count (per status, per day, per rep or source), so a
report is a few dozen cheap requests. :class:`LeadCounter` runs them a few at a time, keeps each
answer for ``COUNT_TTL_SECONDS`` (a second ``/pipeline`` or the Home tab a minute later costs nothing),
stays within its own per-minute budget of requests, and stops asking as soon as TeleCRM cannot be
reached: what it could not count is :data:`MISSING` with the reason, never an exception.

The budget is this feature's own (``REPORT_BUDGET_PER_MINUTE``): no shared request budget exists in
the bot yet, and reports must never crowd out lead writes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telecrm.client import TeleCRMClient
from telecrm.errors import TeleCRMError

log = logging.getLogger(__name__)

COUNT_TTL_SECONDS = 120.0
REPORT_BUDGET_PER_MINUTE = 300
PARALLEL_REQUESTS = 6

Filters = Mapping[str, Any]


@dataclass(frozen=True)
class Missing:
    """A count that could not be had, and why (said to people)."""

    reason: str


UNREACHABLE = "TeleCRM could not be reached"
OVER_BUDGET = "the bot's request budget for reports is used up for this minute"


@dataclass
class Counts:
    """The answers to one batch of searches, keyed like the question, and what they cost."""

    values: dict[str, int | Missing] = field(default_factory=dict)
    requests: int = 0
    cached: int = 0

    def get(self, key: str) -> int | None:
        value = self.values.get(key)
        return value if isinstance(value, int) else None

    def missing(self, keys: Sequence[str]) -> str | None:
        """Why some of ``keys`` could not be counted (the first reason), or None when all were."""
        for key in keys:
            value = self.values.get(key)
            if not isinstance(value, int):
                return value.reason if isinstance(value, Missing) else UNREACHABLE
        return None


class RequestBudget:
    """At most ``per_minute`` requests in any 60 seconds (a sliding window)."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> bool:
        now = self._clock()
        with self._lock:
            while self._sent and self._sent[0] <= now - 60:
                self._sent.popleft()
            if len(self._sent) >= self.per_minute:
                return False
            self._sent.append(now)
            return True


class LeadCounter:
    """``total_count`` of lead searches, cached, budgeted and a few at a time (see the module doc)."""

    def __init__(
        self,
        telecrm: TeleCRMClient,
        clock: Callable[[], float],
        *,
        per_minute: int = REPORT_BUDGET_PER_MINUTE,
        ttl: float = COUNT_TTL_SECONDS,
        parallel: int = PARALLEL_REQUESTS,
    ) -> None:
        self.telecrm = telecrm
        self.clock = clock
        self.ttl = ttl
        self.parallel = parallel
        self.budget = RequestBudget(per_minute, clock)
        self._cache: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(filters: Filters) -> str:
        return json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str)

    def count(self, questions: Mapping[str, Filters]) -> Counts:
        """The count of leads matching each question's field filters (``{}``: every lead)."""
        counts = Counts()
        todo: dict[str, Filters] = {}
        now = self.clock()
        with self._lock:
            for name, filters in questions.items():
                hit = self._cache.get(self.key(filters))
                if hit is not None and now - hit[0] < self.ttl:
                    counts.values[name] = hit[1]
                    counts.cached += 1
                else:
                    todo[name] = filters
        if not todo:
            return counts
        down = threading.Event()
        sent = [0]
        sent_lock = threading.Lock()

        def ask(filters: Filters) -> int | Missing:
            if down.is_set():
                return Missing(UNREACHABLE)
            if not self.budget.take():
                return Missing(OVER_BUDGET)
            with sent_lock:
                sent[0] += 1
            try:
                page = self.telecrm.search_leads(dict(filters), limit=1)
            except TeleCRMError as exc:
                if exc.transient:
                    down.set()
                    log.warning("a pipeline count stopped: TeleCRM could not be reached (%s)", exc)
                    return Missing(UNREACHABLE)
                log.warning("TeleCRM refused a pipeline count: %s", exc)
                return Missing(f"TeleCRM refused the search ({exc.message})")
            with self._lock:
                self._cache[self.key(filters)] = (self.clock(), page.total_count)
            return page.total_count

        names = list(todo)
        with ThreadPoolExecutor(
            max_workers=min(self.parallel, len(names)), thread_name_prefix="count"
        ) as pool:
            for name, value in zip(names, pool.map(ask, [todo[n] for n in names]), strict=True):
                counts.values[name] = value
        counts.requests = sent[0]
        return counts

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
