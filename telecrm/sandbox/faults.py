"""Fault injection and rate limiting, so tests can exercise retries, lost answers and 429s."""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ASYNC_LIMIT = 18_000  # documented: 18,000 requests per hour per token
ASYNC_WINDOW_SECONDS = 3600.0


LIMIT_ENV = "SANDBOX_ASYNC_LIMIT"
WINDOW_ENV = "SANDBOX_ASYNC_WINDOW_SECONDS"


def async_limit_from_env(environ: Mapping[str, str] | None = None) -> tuple[int, float]:
    """(requests, window seconds) of the Async limiter from ``SANDBOX_ASYNC_LIMIT`` and
    ``SANDBOX_ASYNC_WINDOW_SECONDS``; the documented 18,000 an hour for what is unset."""
    env = environ if environ is not None else os.environ
    raw_limit, raw_window = env.get(LIMIT_ENV, "").strip(), env.get(WINDOW_ENV, "").strip()
    try:
        limit = _positive_int(raw_limit, "async_rate_limit") if raw_limit else ASYNC_LIMIT
    except ValueError:
        raise ValueError(
            f"{LIMIT_ENV} must be a whole number of requests of at least 1, not {raw_limit!r}"
        ) from None
    try:
        window = _window(raw_window) if raw_window else ASYNC_WINDOW_SECONDS
    except ValueError:
        raise ValueError(f"{WINDOW_ENV} must be a number of seconds above 0, not {raw_window!r}") from None
    return limit, window


def _positive_int(value: object, name: str) -> int:
    number = int(str(value))
    if number < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return number


def _window(value: object) -> float:
    seconds = float(str(value))
    if not seconds > 0:
        raise ValueError(f"async_rate_window_seconds must be a number of seconds above 0, not {value!r}")
    return seconds


@dataclass
class FaultRule:
    """One queued fault: `kind` is "fail" (answer without writing), "fail_after_write" or "reset"."""

    kind: str
    remaining: int
    status: int = 503
    retry_after: int | None = None
    path_contains: str | None = None
    body: str | None = None  # a raw answer instead of TeleCRM's JSON error (e.g. a proxy's HTML page)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "remaining": self.remaining,
            "status": self.status,
            "retry_after": self.retry_after,
            "path_contains": self.path_contains,
            "body": self.body,
        }


class Faults:
    """Thread-safe fault switches. Rules are consumed first-in first-out, one per matching request."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        async_limit: int = ASYNC_LIMIT,
        async_window_seconds: float = ASYNC_WINDOW_SECONDS,
    ) -> None:
        self._lock = threading.Lock()
        # what `clear()` goes back to: the documented 18,000 an hour, or the sandbox's configured limit
        self._async_default = (_positive_int(async_limit, "async_limit"), _window(async_window_seconds))
        self._clock = clock
        self._rules: list[FaultRule] = []
        self._latency = 0.0
        self._write_latency = 0.0
        self._async_delay = 0.0
        self._rate_limit: int | None = None
        self._async_rate_limit, self._async_window = self._async_default
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._held = threading.Event()  # set by release(): the requests held now stop waiting

    # -- settable switches --------------------------------------------------------------------

    @property
    def latency(self) -> float:
        """Seconds added before every API answer."""
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = max(0.0, float(seconds))

    @property
    def write_latency(self) -> float:
        """Seconds added before a write is applied (on top of ``latency``): a slow write whose
        answer a client may give up on while TeleCRM is still working on it."""
        with self._lock:
            return self._write_latency

    @write_latency.setter
    def write_latency(self, seconds: float) -> None:
        with self._lock:
            self._write_latency = max(0.0, float(seconds))

    @property
    def async_delay(self) -> float:
        """Seconds the Async worker waits before applying each queued request."""
        with self._lock:
            return self._async_delay

    @async_delay.setter
    def async_delay(self, seconds: float) -> None:
        with self._lock:
            self._async_delay = max(0.0, float(seconds))

    @property
    def rate_limit_per_hour(self) -> int | None:
        """Sync requests per hour per token; None (the default) means unlimited."""
        with self._lock:
            return self._rate_limit

    @rate_limit_per_hour.setter
    def rate_limit_per_hour(self, value: int | None) -> None:
        with self._lock:
            self._rate_limit = None if value is None else int(value)

    @property
    def async_rate_limit(self) -> int:
        """Async requests per token allowed in any ``async_rate_window_seconds`` (documented: 18,000 an hour)."""
        with self._lock:
            return self._async_rate_limit

    @async_rate_limit.setter
    def async_rate_limit(self, value: int) -> None:
        with self._lock:
            self._async_rate_limit = _positive_int(value, "async_rate_limit")

    @property
    def async_rate_window_seconds(self) -> float:
        """Length of the Async limiter's sliding window (documented: an hour); shorter windows let tests
        and benchmarks show the pacing in minutes."""
        with self._lock:
            return self._async_window

    @async_rate_window_seconds.setter
    def async_rate_window_seconds(self, seconds: float) -> None:
        with self._lock:
            self._async_window = _window(seconds)

    @property
    def async_rate_limit_per_hour(self) -> int:
        """The older name of ``async_rate_limit`` (requests per window; the window is an hour unless changed)."""
        return self.async_rate_limit

    @async_rate_limit_per_hour.setter
    def async_rate_limit_per_hour(self, value: int) -> None:
        self.async_rate_limit = value

    # -- queued faults ------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        *,
        retry_after: int | None = None,
        path_contains: str | None = None,
        body: str | None = None,
    ) -> None:
        """The next `n` matching requests answer `status` without applying anything (with `body`
        as the raw answer when given, e.g. a 200 whose body is an HTML page)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._add(FaultRule("fail", n, status, retry_after, path_contains, body))

    def fail_after_write_next(
        self, n: int = 1, status: int = 503, path_contains: str | None = None, body: str | None = None
    ) -> None:
        """The next `n` matching requests are applied, then answered with `status` (a lost answer)."""
        self._add(FaultRule("fail_after_write", n, status, None, path_contains, body))

    def reset_next(self, n: int = 1, path_contains: str | None = None) -> None:
        """The next `n` matching requests get their connection closed without any HTTP answer."""
        self._add(FaultRule("reset", n, 0, None, path_contains))

    def _add(self, rule: FaultRule) -> None:
        if rule.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._rules.append(rule)

    def take(self, path: str) -> FaultRule | None:
        """Consume one use of the first rule matching `path` (returns a snapshot of it)."""
        with self._lock:
            for rule in self._rules:
                if rule.path_contains is None or rule.path_contains in path:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return FaultRule(
                        rule.kind, 1, rule.status, rule.retry_after, rule.path_contains, rule.body
                    )
        return None

    def clear(self) -> None:
        """Drop queued faults, latency, delays, rate limits and rate-limit windows."""
        with self._lock:
            self._rules.clear()
            self._latency = 0.0
            self._write_latency = 0.0
            self._async_delay = 0.0
            self._rate_limit = None
            self._async_rate_limit, self._async_window = self._async_default
            self._windows.clear()

    def hold(self, seconds: float) -> None:
        """Hold a request for the injected ``seconds``, or until :meth:`release`."""
        with self._lock:
            held = self._held
        held.wait(seconds)

    def release(self) -> None:
        """End every hold under way (its server is stopping: a request held for seconds would keep
        the stop waiting); holds that start afterwards last their full time again."""
        with self._lock:
            held, self._held = self._held, threading.Event()
        held.set()

    # -- rate limiting ------------------------------------------------------------------------

    def check_rate(self, kind: str, token: str) -> int | None:
        """Count one request for (`kind`, `token`) in its sliding window (Sync: an hour; Async:
        ``async_rate_window_seconds``); over the limit → seconds until a request would be allowed."""
        with self._lock:
            limit = self._rate_limit if kind == "sync" else self._async_rate_limit
            if limit is None:
                return None
            span = 3600.0 if kind == "sync" else self._async_window
            now = self._clock()
            window = self._windows.setdefault((kind, token), deque())
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                return max(1, math.ceil(window[0] + span - now)) if window else math.ceil(span)
            window.append(now)
            return None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": self._latency,
                "write_latency": self._write_latency,
                "async_delay": self._async_delay,
                "rate_limit_per_hour": self._rate_limit,
                "async_rate_limit": self._async_rate_limit,
                "async_rate_window_seconds": self._async_window,
                "queued": [r.describe() for r in self._rules],
            }
