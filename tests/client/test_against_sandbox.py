"""The client against the TeleCRM sandbox over real HTTP: happy paths, documented errors and faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from telecrm.client import TeleCRMClient
from telecrm.errors import (
    TeleCRMAuthError,
    TeleCRMBadRequest,
    TeleCRMConflict,
    TeleCRMForbidden,
    TeleCRMNotFound,
    TeleCRMRateLimited,
    TeleCRMUnavailable,
)
from telecrm.schema import FieldType, WorkspaceSchema

sandbox_pkg = pytest.importorskip("telecrm.sandbox")
if not hasattr(sandbox_pkg, "serve_in_thread"):
    pytest.skip("the TeleCRM sandbox is not available", allow_module_level=True)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Any, str]]:
    sandbox = sandbox_pkg.Sandbox()
    running = sandbox_pkg.serve_in_thread(sandbox)
    try:
        yield sandbox, running.url
    finally:
        running.stop()
        close = getattr(sandbox, "close", None)
        if callable(close):
            close()


@pytest.fixture
def sandbox(server: tuple[Any, str]) -> Any:
    server[0].reset()
    return server[0]


def make_client(
    url: str, *, sync_token: str | None = None, timeout: float = 5.0, base: str | None = None
) -> TeleCRMClient:
    return TeleCRMClient(
        base_url=base if base is not None else url + "/autoupdate/v2",
        enterprise_id=sandbox_pkg.DEMO_ENTERPRISE_ID,
        sync_token=sync_token or sandbox_pkg.DEMO_SYNC_TOKEN,
        async_base_url=url,
        async_token=sandbox_pkg.DEMO_ASYNC_TOKEN,
        timeout=timeout,
    )


@pytest.fixture
def client(server: tuple[Any, str], sandbox: Any) -> Iterator[TeleCRMClient]:
    with make_client(server[1]) as c:
        yield c


@pytest.fixture
def schema(client: TeleCRMClient) -> WorkspaceSchema:
    return client.fetch_schema()


PHONE = "919812345678"


def new_lead(client: TeleCRMClient, schema: WorkspaceSchema, **extra: Any) -> str:
    fields = {schema.identifier.api_name: identifier_value(schema), "name": "Jane Doe", **extra}
    result = client.create_lead(fields)
    assert result.lead_id
    return result.lead_id


def identifier_value(schema: WorkspaceSchema, n: int = 0) -> str:
    ident = schema.identifier
    if ident.type is FieldType.EMAIL:
        return f"jane{n}@example.com"
    if ident.type is FieldType.PHONE:
        return str(int(PHONE) + n)
    return f"CUST-{n:05}"


# --- schema ----------------------------------------------------------------------------------------


def test_fetch_schema_reads_every_team_page(client: TeleCRMClient, sandbox: Any) -> None:
    schema = client.fetch_schema()
    listed = [m for m in sandbox.team_members() if m["status"] != "Deleted"]
    assert len(schema.team_members) == len(listed) > 10
    pages = [r for r in sandbox.request_log if r.path.endswith("/team-members")]
    assert len(pages) >= 2 and all(r.status == 200 for r in pages)
    assert schema.fields and schema.identifier.is_identifier
    assert schema.active_statuses and schema.custom_actions
    assert all(a.fields for a in schema.custom_actions if a.source == "USER")


def test_metadata_lookups(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    assert client.get_metadata()
    ident = client.get_custom_field(schema.identifier.api_name)
    assert ident.api_name == schema.identifier.api_name
    action = schema.custom_actions[0]
    assert client.get_custom_action(action.numeric_code).code == action.code  # bare code accepted
    assert client.get_custom_action(action.code).display_name == action.display_name
    assert len(client.list_custom_fields(detail=False)) == len(schema.fields)
    assert {a.code for a in client.list_custom_actions(detail=False)} == {
        a.code for a in schema.custom_actions
    }
    statuses, _ = client.get_pipeline()
    assert {s.label for s in statuses} == {s.label for s in schema.statuses}
    with pytest.raises(TeleCRMNotFound):
        client.get_custom_field("no_such_field")


# --- leads -----------------------------------------------------------------------------------------


def test_lead_lifecycle(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    lead_id = new_lead(client, schema)
    lead = client.get_lead(lead_id)
    assert (lead.id, lead.name) == (lead_id, "Jane Doe")

    status = schema.active_statuses[-1].label
    updated = client.update_lead(lead_id, {"status": status})
    assert updated.status == status

    page = client.search_leads({schema.identifier.api_name: identifier_value(schema)})
    assert [x.id for x in page.items] == [lead_id]
    assert page.items[0].status == status
    found = client.find_lead_by_identifier(schema.identifier.api_name, identifier_value(schema))
    assert found is not None and found.id == lead_id
    assert client.find_lead_by_identifier(schema.identifier.api_name, identifier_value(schema, 99)) is None


def test_search_pages(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    before = client.search_leads(limit=1).total_count
    for n in range(3):
        client.create_lead({schema.identifier.api_name: identifier_value(schema, n + 1)})
    page = client.search_leads(skip=1, limit=2)
    assert (page.total_count, page.skip, page.limit, len(page.items)) == (before + 3, 1, 2, 2)
    assert all(item.id for item in page.items)
    with pytest.raises(TeleCRMBadRequest, match="Limit"):
        client.search_leads(limit=500)


def test_duplicate_lead_is_a_conflict(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    new_lead(client, schema)
    with pytest.raises(TeleCRMConflict) as caught:
        new_lead(client, schema)
    assert caught.value.code == "LEAD_ALREADY_EXISTS" and not caught.value.transient


def test_identifier_cannot_change(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    lead_id = new_lead(client, schema)
    with pytest.raises(TeleCRMForbidden) as caught:
        client.update_lead(lead_id, {schema.identifier.api_name: identifier_value(schema, 5)})
    assert caught.value.code == "INVALID_LEAD"


def test_invalid_rating_comes_back_as_remark(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    result = client.create_lead({schema.identifier.api_name: identifier_value(schema), "rating": 9})
    assert result.lead_id
    assert [r.field for r in result.remarks] == ["fields.rating"]
    assert result.remarks[0].status == "IGNORED" and result.remarks[0].remark


def test_unknown_lead(client: TeleCRMClient) -> None:
    with pytest.raises(TeleCRMNotFound) as caught:
        client.get_lead("000000000000000000000000")
    assert caught.value.code == "LEAD_NOT_FOUND"


# --- actions ---------------------------------------------------------------------------------------


def test_payment_flow(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    lead_id = new_lead(client, schema)
    payment = {"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "5000"}
    action = schema.custom_actions[0]
    custom = {"type": action.code, "fields": {}}  # ACTION_ form is converted for Sync
    result = client.create_actions(lead_id, [payment, custom])
    assert [a.created for a in result.actions] == [True, True], result.remarks
    action_id = result.actions[0].action_id
    assert action_id

    assert client.get_action(lead_id, action_id)["status"] == "PENDING"
    done = client.update_action(lead_id, action_id, {"type": "PAYMENT", "status": "COMPLETED"})
    assert done["status"] == "COMPLETED" and str(done["amount"]) == "5000"
    with pytest.raises(TeleCRMBadRequest, match="Cannot update amount"):
        client.update_action(lead_id, action_id, {"type": "PAYMENT", "amount": "1"})

    timeline = client.search_actions(lead_id)
    assert {a["type"] for a in timeline.items} >= {"PAYMENT", action.numeric_code}
    now_ms = int(time.time() * 1000)
    payments = client.search_actions(
        lead_id, type="PAYMENT", created_on=(now_ms - 3_600_000, now_ms + 60_000)
    )
    assert [a["type"] for a in payments.items] == ["PAYMENT"]

    with_actions = client.get_lead(lead_id, include_actions=True, limit=1)
    assert len(with_actions.actions) == 1 and with_actions.actions_limit == 1


def test_builtin_action_type_cannot_be_written(client: TeleCRMClient, schema: WorkspaceSchema) -> None:
    lead_id = new_lead(client, schema)
    with pytest.raises(TeleCRMBadRequest):
        client.create_actions(lead_id, [{"type": "OUTGOING_CALL"}])


# --- team ------------------------------------------------------------------------------------------


def test_team_member_routes(client: TeleCRMClient, sandbox: Any) -> None:
    someone = client.list_team_members(limit=1).items[0]
    assert client.get_team_member(someone.email.upper()).email.lower() == someone.email.lower()
    answer = client.change_member_state(someone.email, "On Leave")
    assert answer["status"] == "On Leave"
    with pytest.raises(TeleCRMNotFound):
        client.get_team_member("nobody@example.com")
    with pytest.raises(TeleCRMBadRequest):
        client.list_team_members(limit=11)


# --- async -----------------------------------------------------------------------------------------


def test_async_upsert_creates_the_lead(client: TeleCRMClient, schema: WorkspaceSchema, sandbox: Any) -> None:
    action = schema.custom_actions[0]
    value = identifier_value(schema, 7)
    answer = client.async_upsert(
        {schema.identifier.api_name: value, "name": "Async Jane"},
        [{"type": action.numeric_code, "fields": {}}],
    )
    assert answer == {"status": "QUEUED"}
    assert sandbox.drain_async()
    lead = client.find_lead_by_identifier(schema.identifier.api_name, value)
    assert lead is not None and lead.name == "Async Jane"
    assert [a["type"] for a in client.search_actions(lead.id or "").items] == [action.numeric_code]


# --- failures over the wire ------------------------------------------------------------------------


def test_rejected_token(server: tuple[Any, str], sandbox: Any) -> None:
    with (
        make_client(server[1], sync_token="wrong-token-xyz") as bad,
        pytest.raises(TeleCRMAuthError) as caught,
    ):
        bad.get_metadata()
    assert caught.value.status == 401 and caught.value.code == "NOT_AUTHORIZED"
    assert "token was rejected" in str(caught.value) and "wrong-token-xyz" not in str(caught.value)


def test_sync_token_on_async_route_is_rejected(server: tuple[Any, str], sandbox: Any) -> None:
    with (
        TeleCRMClient(
            base_url=server[1] + "/autoupdate/v2",
            enterprise_id=sandbox_pkg.DEMO_ENTERPRISE_ID,
            sync_token=sandbox_pkg.DEMO_SYNC_TOKEN,
            async_base_url=server[1],
            async_token=sandbox_pkg.DEMO_SYNC_TOKEN,
        ) as mixed,
        pytest.raises(TeleCRMAuthError),
    ):
        mixed.async_upsert({"phone": PHONE})


def test_rate_limited_with_retry_after(client: TeleCRMClient, sandbox: Any) -> None:
    sandbox.faults.fail_next(1, status=429, retry_after=3)
    with pytest.raises(TeleCRMRateLimited) as caught:
        client.get_metadata()
    assert caught.value.retry_after == 3.0 and caught.value.transient
    assert client.get_metadata()


def test_server_error_is_transient(client: TeleCRMClient, sandbox: Any) -> None:
    sandbox.faults.fail_next(1, status=503)
    with pytest.raises(TeleCRMUnavailable) as caught:
        client.get_metadata()
    assert caught.value.status == 503 and caught.value.transient


def test_connection_reset(client: TeleCRMClient, sandbox: Any) -> None:
    client.get_metadata()  # a pooled keep-alive connection exists now
    sandbox.faults.reset_next(1)
    with pytest.raises(TeleCRMUnavailable) as caught:
        client.get_metadata()
    assert caught.value.status is None and caught.value.transient
    assert client.get_metadata()  # the pool recovers


def test_timeout(server: tuple[Any, str], sandbox: Any) -> None:
    sandbox.faults.latency = 1.0
    with (
        make_client(server[1], timeout=0.2) as impatient,
        pytest.raises(TeleCRMUnavailable, match="in time") as caught,
    ):
        impatient.get_metadata()
    assert caught.value.transient


def test_wrong_base_url_gives_html_404(server: tuple[Any, str], sandbox: Any) -> None:
    with (
        make_client(server[1], base=server[1] + "/api/v2") as misconfigured,
        pytest.raises(TeleCRMUnavailable, match="base URL") as caught,
    ):
        misconfigured.get_metadata()
    assert caught.value.status == 404 and not caught.value.transient


def test_nothing_listening(server: tuple[Any, str]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        make_client(f"http://127.0.0.1:{port}", timeout=2) as nowhere,
        pytest.raises(TeleCRMUnavailable) as caught,
    ):
        nowhere.get_metadata()
    assert caught.value.transient
