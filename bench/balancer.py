"""A loopback round-robin load balancer in front of several ``telecrm-bot serve`` replicas, as the
Request URL of a deployment with replicas points at one (README, "Running several replicas").

A request goes to the next backend in turn; when a backend does not answer, the next one gets it,
marked with Slack's retry header as Slack redelivers an unanswered request.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

# hop-by-hop headers and those the client recomputes: never forwarded
_HOP = {"host", "content-length", "connection", "transfer-encoding"}


class Balancer:
    """A WSGI app forwarding each POST to the next backend in turn, the next one on failure."""

    def __init__(self, backends: list[str] | None = None) -> None:
        self.backends: list[str] = list(backends or [])
        self._turn = itertools.count()
        self._http = httpx.Client(timeout=10.0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers = {k: v for k, v in headers.items() if k not in _HOP}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        start = next(self._turn)
        for attempt in range(len(self.backends) * 2):
            backend = self.backends[(start + attempt) % len(self.backends)]
            sent = headers if attempt == 0 else {**headers, "x-slack-retry-num": str(attempt)}
            try:
                r = self._http.post(backend + environ["PATH_INFO"], content=body, headers=sent)
            except httpx.HTTPError:
                continue
            start_response(
                f"{r.status_code} X", [("Content-Type", r.headers.get("content-type", "text/plain"))]
            )
            return [r.content]
        start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
        return [b"no backend answered"]

    def close(self) -> None:
        self._http.close()
