"""Fixtures for client tests: a scripted in-process transport, and the sandbox over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from telecrm.client import TeleCRMClient

SYNC_TOKEN = "sync-secret-token-123"
ASYNC_TOKEN = "async-secret-token-456"
ENTERPRISE = "ent_test"
BASE = "https://crm.test/autoupdate/v2"
ASYNC_BASE = "https://async.test"


@dataclass
class Script:
    """Routes ``(METHOD, path)`` to canned answers and records every request it saw."""

    routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, status: int = 200, body: Any = None, **kwargs: Any) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            if isinstance(body, (dict, list)):
                return httpx.Response(status, json=body, **kwargs)
            return httpx.Response(status, content=body if body is not None else b"", **kwargs)

        self.routes[(method, path)] = answer

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no such route"}})
        return route(request)

    def last_json(self) -> Any:
        return json.loads(self.requests[-1].content)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def client(script: Script) -> Iterator[TeleCRMClient]:
    with TeleCRMClient(
        base_url=BASE,
        enterprise_id=ENTERPRISE,
        sync_token=SYNC_TOKEN,
        async_base_url=ASYNC_BASE,
        async_token=ASYNC_TOKEN,
        transport=httpx.MockTransport(script.handler),
    ) as c:
        yield c


def sync_path(rest: str) -> str:
    return f"/autoupdate/v2/enterprise/{ENTERPRISE}/{rest}"
