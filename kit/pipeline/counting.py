"""Lead counts from TeleCRM: the ``total_count`` of a lead search.

Every number of a pipeline report is such a count (per status, per day, per rep or source), so a
report is a few dozen cheap requests. :class:`LeadCounter` runs them a few at a time, keeps each
answer for ``COUNT_TTL_SECONDS`` (a second ``/pipeline`` or the Home tab a minute later costs nothing),
takes every request from the bot's one budget of background TeleCRM requests
(``TELECRM_WATCH_BUDGET_PER_MINUTE``, :class:`telecrm.budget.RequestBudget`, shared with the lead
watcher and the find index's mirror), and stops asking as soon as TeleCRM cannot be reached: what it
could not count is :data:`MISSING` with the reason, never an exception.

A question may also ask for the leads themselves (``page``): one search of up to 100 rows answers
both "how many" and, when they all fit, "whose and from where", which saves the report one request
per rep or source (kit/pipeline/numbers.py).
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telecrm.budget import RequestBudget
from telecrm.client import TeleCRMClient
from telecrm.errors import TeleCRMError
from telecrm.models import Lead, Page

log = logging.getLogger(__name__)

COUNT_TTL_SECONDS = 120.0
PARALLEL_REQUESTS = 6

Filters = Mapping[str, Any]


@dataclass(frozen=True)
class Missing:
    """A count that could not be had, and why (said to people)."""

    reason: str


UNREACHABLE = "TeleCRM could not be reached"
OVER_BUDGET = (
    "the bot's budget of TeleCRM requests (TELECRM_WATCH_BUDGET_PER_MINUTE) is used up for this minute"
)


@dataclass
class Counts:
    """The answers to one batch of searches, keyed like the question, and what they cost."""

    values: dict[str, int | Missing] = field(default_factory=dict)
    leads: dict[str, list[Lead]] = field(default_factory=dict)  # every matching lead, when they fit a page
    requests: int = 0
    cached: int = 0

    def get(self, key: str) -> int | None:
        value = self.values.get(key)
        return value if isinstance(value, int) else None

    @property
    def unreachable(self) -> bool:
        """Whether TeleCRM could not be reached while answering these."""
        return Missing(UNREACHABLE) in self.values.values()

    @classmethod
    def none(cls, keys: Sequence[str], reason: str) -> Counts:
        """Answers that were not asked for, each missing for ``reason``."""
        return cls(values={key: Missing(reason) for key in keys})

    def missing(self, keys: Sequence[str]) -> str | None:
        """Why some of ``keys`` could not be counted (the first reason), or None when all were."""
        for key in keys:
            value = self.values.get(key)
            if not isinstance(value, int):
                return value.reason if isinstance(value, Missing) else UNREACHABLE
        return None


class LeadCounter:
    """``total_count`` of lead searches, cached, budgeted and a few at a time (see the module doc)."""

    def __init__(
        self,
        telecrm: TeleCRMClient,
        budget: RequestBudget,
        clock: Callable[[], float],
        *,
        ttl: float = COUNT_TTL_SECONDS,
        parallel: int = PARALLEL_REQUESTS,
    ) -> None:
        self.telecrm = telecrm
        self.clock = clock
        self.ttl = ttl
        self.parallel = parallel
        self.budget = budget
        self._cache: dict[str, tuple[float, Page[Lead]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(filters: Filters, page: int = 1) -> str:
        return json.dumps([filters, page], sort_keys=True, separators=(",", ":"), default=str)

    def count(self, questions: Mapping[str, Filters], *, page: int = 1) -> Counts:
        """The count of leads matching each question's field filters (``{}``: every lead).

        With ``page`` > 1 each search also brings up to ``page`` leads, and :attr:`Counts.leads` holds
        them for the questions whose leads all fitted.
        """
        counts = Counts()
        todo: dict[str, Filters] = {}
        now = self.clock()
        with self._lock:
            for name, filters in questions.items():
                hit = self._cache.get(self.key(filters, page))
                if hit is not None and now - hit[0] < self.ttl:
                    _answer(counts, name, hit[1])
                    counts.cached += 1
                else:
                    todo[name] = filters
        if todo:
            self._ask(todo, page, counts)
        return counts

    def _ask(self, todo: dict[str, Filters], page: int, counts: Counts) -> None:
        down = threading.Event()
        sent: list[int] = []  # one entry per request sent (list.append is atomic)

        def ask(filters: Filters) -> Page[Lead] | Missing:
            if down.is_set():
                return Missing(UNREACHABLE)
            if not self.budget.take():
                return Missing(OVER_BUDGET)
            sent.append(1)
            try:
                found = self.telecrm.search_leads(dict(filters), limit=page)
            except TeleCRMError as exc:
                if exc.transient:
                    down.set()
                    log.warning("a pipeline count stopped: TeleCRM could not be reached (%s)", exc)
                    return Missing(UNREACHABLE)
                log.warning("TeleCRM refused a pipeline count: %s", exc)
                return Missing(f"TeleCRM refused the search ({exc.message})")
            with self._lock:
                self._cache[self.key(filters, page)] = (self.clock(), found)
            return found

        names = list(todo)
        # each search in the caller's context: in OAuth mode that says whose TeleCRM to ask
        context = contextvars.copy_context()
        with ThreadPoolExecutor(
            max_workers=min(self.parallel, len(names)), thread_name_prefix="count"
        ) as pool:
            asked = pool.map(lambda filters: context.copy().run(ask, filters), [todo[n] for n in names])
            for name, answer in zip(names, asked, strict=True):
                if isinstance(answer, Missing):
                    counts.values[name] = answer
                else:
                    _answer(counts, name, answer)
        counts.requests += len(sent)

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def _answer(counts: Counts, name: str, found: Page[Lead]) -> None:
    counts.values[name] = found.total_count
    if found.limit > 1 and len(found.items) >= found.total_count:
        counts.leads[name] = list(found.items)
