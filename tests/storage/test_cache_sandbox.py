"""The cache filled by the real client from the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from storage.cache import SchemaCache
from storage.db import Store
from storage.repositories import CachedSchemas
from telecrm.client import TeleCRMClient

sandbox_pkg = pytest.importorskip("telecrm.sandbox")
if not hasattr(sandbox_pkg, "serve_in_thread"):
    pytest.skip("the TeleCRM sandbox is not available", allow_module_level=True)


@pytest.fixture
def served() -> Iterator[tuple[Any, TeleCRMClient]]:
    sandbox = sandbox_pkg.Sandbox()
    running = sandbox_pkg.serve_in_thread(sandbox)
    client = TeleCRMClient(
        base_url=running.url + "/autoupdate/v2",
        enterprise_id=sandbox_pkg.DEMO_ENTERPRISE_ID,
        sync_token=sandbox_pkg.DEMO_SYNC_TOKEN,
        timeout=5,
    )
    try:
        yield sandbox, client
    finally:
        client.close()
        running.stop()
        close = getattr(sandbox, "close", None)
        if callable(close):
            close()


def test_cache_holds_every_team_member_page(served: tuple[Any, TeleCRMClient], store: Store) -> None:
    sandbox, client = served
    cache = SchemaCache(store, client.fetch_schema, enterprise_id=sandbox_pkg.DEMO_ENTERPRISE_ID)
    schema = cache.get()
    listed = [m for m in sandbox.team_members() if m["status"] != "Deleted"]
    assert cache.status().team_member_count == len(listed) > 10
    assert CachedSchemas(store).load(sandbox_pkg.DEMO_ENTERPRISE_ID) == schema

    sandbox.faults.fail_next(50, status=503)  # TeleCRM goes down: the stored copy keeps serving
    again = SchemaCache(store, client.fetch_schema, enterprise_id=sandbox_pkg.DEMO_ENTERPRISE_ID)
    assert again.get() == schema
