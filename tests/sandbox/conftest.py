"""Fixtures: one sandbox server per test module (reset between tests) and httpx clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from telecrm.sandbox import (
    DEMO_ASYNC_TOKEN,
    DEMO_ENTERPRISE_ID,
    DEMO_SYNC_TOKEN,
    RunningServer,
    Sandbox,
    serve_in_thread,
)

SYNC_PREFIX = f"/autoupdate/v2/enterprise/{DEMO_ENTERPRISE_ID}"


class Harness:
    """A running sandbox plus clients speaking to it over real HTTP."""

    def __init__(self, sandbox: Sandbox, server: RunningServer) -> None:
        self.sandbox = sandbox
        self.server = server
        self.url = server.url
        self.api = httpx.Client(
            base_url=server.url + f"/autoupdate/v2/enterprise/{sandbox.enterprise_id}",
            headers={"Authorization": f"Bearer {sandbox.sync_token}"},
            timeout=10,
            verify=False,
        )
        self.async_api = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {sandbox.async_token}"},
            timeout=10,
            verify=False,
        )
        self.raw = httpx.Client(base_url=server.url, timeout=10, verify=False)

    def upsert(self, body: Any) -> httpx.Response:
        return self.async_api.post(f"/enterprise/{self.sandbox.enterprise_id}/autoupdatelead", json=body)

    def create_lead(self, fields: dict[str, Any], **extra: Any) -> str:
        response = self.api.post("/lead", json={"fields": fields, **extra})
        assert response.status_code == 201, response.text
        return response.json()["lead_id"]

    def close(self) -> None:
        for client in (self.api, self.async_api, self.raw):
            client.close()
        self.server.stop()
        self.sandbox.close()


@pytest.fixture(scope="module")
def _shared() -> Iterator[Harness]:
    sandbox = Sandbox()
    harness = Harness(sandbox, serve_in_thread(sandbox, threads=8))
    yield harness
    harness.close()


@pytest.fixture
def h(_shared: Harness) -> Harness:
    """The demo workspace, freshly reset for each test."""
    _shared.sandbox.reset()
    return _shared


@pytest.fixture
def make_harness() -> Iterator[Callable[..., Harness]]:
    """Build a dedicated sandbox (other workspace, tokens…) served for the duration of one test."""
    made: list[Harness] = []

    def make(workspace: dict[str, Any] | None = None, **kwargs: Any) -> Harness:
        sandbox = Sandbox(workspace, **kwargs)
        harness = Harness(sandbox, serve_in_thread(sandbox, threads=8))
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


def error_of(response: httpx.Response) -> dict[str, Any]:
    """TeleCRM's success envelope's inner object, asserting the envelope shape on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]


__all__ = ["DEMO_ASYNC_TOKEN", "DEMO_ENTERPRISE_ID", "DEMO_SYNC_TOKEN", "SYNC_PREFIX", "Harness", "error_of"]
