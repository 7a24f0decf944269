"""Web API failures on demand, as Slack sends them, so the bot's retries can be exercised.

Slack answers a rate-limited call with HTTP 429, a ``Retry-After`` header (seconds) and
``{"ok": false, "error": "ratelimited"}``; a failure on its side with a 5xx and ``fatal_error`` or
``service_unavailable``. Rules are consumed first-in first-out, one per matching call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class WebApiFault:
    method: str | None  # None: any method
    remaining: int
    error: str
    status: int
    retry_after: int | None


class WebApiFaults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[WebApiFault] = []

    def fail_next(
        self,
        method: str | None = None,
        n: int = 1,
        *,
        error: str = "ratelimited",
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``n`` calls of ``method`` (any method when None) fail with ``error``.

        ``ratelimited`` defaults to HTTP 429 with ``Retry-After: 1``; any other error to HTTP 500.
        """
        if status is None:
            status = 429 if error == "ratelimited" else 500
        if error == "ratelimited" and retry_after is None:
            retry_after = 1
        with self._lock:
            self._rules.append(WebApiFault(method, n, error, status, retry_after))

    def take(self, method: str) -> WebApiFault | None:
        with self._lock:
            for rule in self._rules:
                if rule.method is None or rule.method == method:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
