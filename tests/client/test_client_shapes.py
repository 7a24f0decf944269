"""Requests the client sends and the answer shapes it tolerates (scripted transport, no network)."""

from __future__ import annotations

import json
import logging

import pytest

from telecrm.client import TeleCRMClient
from telecrm.errors import (
    TeleCRMAuthError,
    TeleCRMBadRequest,
    TeleCRMConflict,
    TeleCRMError,
    TeleCRMForbidden,
    TeleCRMNotFound,
    TeleCRMRateLimited,
    TeleCRMUnavailable,
)
from telecrm.models import Page
from telecrm.schema import FieldType
from telecrm.transport import parse_retry_after

from .conftest import ASYNC_TOKEN, ENTERPRISE, SYNC_TOKEN, Script, sync_path


def test_requests_carry_bearer_json_and_explicit_timeouts(client: TeleCRMClient, script: Script) -> None:
    script.on("POST", sync_path("lead"), 201, {"lead_id": "L1", "actions": [], "remarks": []})
    client.create_lead({"phone": "919999999999"})
    request = script.requests[-1]
    assert request.headers["Authorization"] == f"Bearer {SYNC_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    timeout = request.extensions["timeout"]
    assert all(timeout[k] is not None for k in ("connect", "read", "write", "pool"))


def test_create_lead_reports_actions_and_remarks(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "POST",
        sync_path("lead"),
        201,
        {
            "lead_id": "603d2b2f9b1e8a001c8e4f5c",
            "actions": [{"action_id": "A1", "status": "CREATED"}, {"action_id": None, "status": "IGNORED"}],
            "remarks": [
                {"field": "fields.rating", "status": "IGNORED", "remark": "Rating must be between 1 and 5"}
            ],
        },
    )
    result = client.create_lead(
        {"phone": "919999999999", "rating": 9},
        [{"type": "ACTION_1001", "fields": {"note": "hi"}}, {"type": 1002}],
    )
    assert script.last_json()["actions"] == [{"type": "1001", "fields": {"note": "hi"}}, {"type": "1002"}]
    assert result.lead_id == "603d2b2f9b1e8a001c8e4f5c"
    assert [a.created for a in result.actions] == [True, False]
    assert result.ignored_actions == [1]
    assert result.remarks[0].field == "fields.rating"
    assert result.remarks[0].remark == "Rating must be between 1 and 5"


def test_create_lead_without_optional_keys(client: TeleCRMClient, script: Script) -> None:
    script.on("POST", sync_path("lead"), 201, {"lead_id": "L1"})
    result = client.create_lead({"phone": "1"})
    assert (result.lead_id, result.actions, result.remarks) == ("L1", [], [])
    assert "actions" not in script.last_json()


def test_get_lead_with_actions_sends_paging(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET",
        sync_path("lead/L1"),
        200,
        {
            "fields": {"name": "Jane", "status": "Fresh"},
            "actions": [{"type": "1001"}],
            "actions_skip": 0,
            "actions_limit": 5,
        },
    )
    lead = client.get_lead("L1", include_actions=True, limit=5)
    params = dict(script.requests[-1].url.params)
    assert params == {"includeActions": "true", "skip": "0", "limit": "5"}
    assert (lead.id, lead.name, lead.status, lead.actions_limit) == ("L1", "Jane", "Fresh", 5)
    assert lead.actions == [{"type": "1001"}]


def test_get_lead_without_actions_sends_no_query(client: TeleCRMClient, script: Script) -> None:
    script.on("GET", sync_path("lead/L1"), 200, {"fields": {"name": "Jane"}})
    lead = client.get_lead("L1")
    assert not script.requests[-1].url.params
    assert lead.actions == [] and lead.actions_skip is None


@pytest.mark.parametrize("id_key", ["id", "_id", "leadId", "lead_id"])
def test_search_rows_id_under_any_key(client: TeleCRMClient, script: Script, id_key: str) -> None:
    script.on(
        "POST",
        sync_path("lead/search"),
        200,
        {"data": [{id_key: "L9", "fields": {"phone": "91"}}], "total_count": 1},
    )
    page = client.search_leads({"phone": "91"})
    assert page.items[0].id == "L9"


def test_search_reads_status_from_row_top_level_and_mongo_ids(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "POST",
        sync_path("lead/search"),
        200,
        {
            "data": [{"_id": {"$oid": "abc"}, "status": "Won", "rating": 4, "fields": {"name": "A"}}],
            "total_count": 7,
        },
    )
    page = client.search_leads(
        {"status": ["Won"]}, {"type": ["ACTION_1001"], "performed_by": "a@b.co"}, skip=5, limit=2
    )
    assert script.last_json() == {
        "fields": {"status": ["Won"]},
        "actions": {"type": ["1001"], "performed_by": "a@b.co"},
    }
    assert dict(script.requests[-1].url.params) == {"skip": "5", "limit": "2"}
    lead = page.items[0]
    assert (lead.id, lead.status, lead.fields["rating"]) == ("abc", "Won", 4)
    assert (page.total_count, page.skip, page.limit) == (7, 5, 2)
    assert page.has_more


def test_search_empty_body_means_all_leads_and_missing_total(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "POST", sync_path("lead/search"), 200, {"data": [{"id": "L1"}, "junk", {"id": "L2", "fields": None}]}
    )
    page = client.search_leads()
    assert script.last_json() == {}
    assert [lead.id for lead in page.items] == ["L1", "L2"]
    assert page.total_count == 2 and not page.has_more


def test_find_lead_by_identifier(client: TeleCRMClient, script: Script) -> None:
    script.on("POST", sync_path("lead/search"), 200, {"data": [], "total_count": 0})
    assert client.find_lead_by_identifier("phone", "919999999999") is None
    assert script.last_json() == {"fields": {"phone": "919999999999"}}


def test_actions_routes(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "POST", sync_path("lead/L1/action"), 200, {"actions": [{"action_id": "A1", "status": "CREATED"}]}
    )
    script.on(
        "GET", sync_path("lead/L1/action/A1"), 200, {"type": "PAYMENT", "status": "PENDING", "amount": "10"}
    )
    script.on(
        "POST",
        sync_path("lead/L1/action/A1"),
        200,
        {"type": "PAYMENT", "status": "COMPLETED", "amount": "10"},
    )
    script.on(
        "POST",
        sync_path("lead/L1/action/search"),
        200,
        {"data": [{"type": "OUTGOING_CALL"}], "total_count": 1},
    )

    result = client.create_actions(
        "L1", [{"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "10"}]
    )
    assert result.lead_id == "L1" and result.actions[0].action_id == "A1"
    assert client.get_action("L1", "A1")["status"] == "PENDING"
    assert (
        client.update_action("L1", "A1", {"type": "PAYMENT", "status": "COMPLETED"})["status"] == "COMPLETED"
    )
    assert script.last_json() == {"type": "PAYMENT", "status": "COMPLETED"}

    page = client.search_actions("L1", type="ACTION_1001", created_on=(1, None), performed_by=["m1"], limit=3)
    assert script.last_json() == {"type": "1001", "created_on": {"from": 1}, "performed_by": ["m1"]}
    assert page.items == [{"type": "OUTGOING_CALL"}]
    client.search_actions("L1", created_on={"from": "01/04/2026 00:00:00", "to": "30/04/2026 23:59:59"})
    assert script.last_json()["created_on"]["to"] == "30/04/2026 23:59:59"


def test_path_segments_are_quoted(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET", sync_path("team-members/a+b@example.com"), 200, {"email": "a+b@example.com", "name": "A"}
    )
    with pytest.raises(TeleCRMNotFound):
        client.get_lead("../metadata")
    assert b"..%2Fmetadata" in script.requests[-1].url.raw_path
    member = client.get_team_member(" a+b@example.com ")
    assert member.email == "a+b@example.com"


def test_team_members_pages_of_ten(client: TeleCRMClient, script: Script) -> None:
    everyone = [{"name": f"M{i:02}", "email": f"m{i}@x.co", "status": "Active"} for i in range(23)]

    def page(request):
        import httpx

        skip = int(request.url.params["skip"])
        limit = int(request.url.params["limit"])
        assert limit <= 10
        return httpx.Response(
            200, json={"data": everyone[skip : skip + limit], "total_count": 23, "skip": skip, "limit": limit}
        )

    script.routes[("GET", sync_path("team-members"))] = page
    members = client.all_team_members()
    assert [m.name for m in members] == [f"M{i:02}" for i in range(23)]
    assert len(script.requests) == 3


def test_team_members_stop_on_empty_page_without_total(client: TeleCRMClient, script: Script) -> None:
    script.on("GET", sync_path("team-members"), 200, {"data": []})
    assert client.all_team_members(include_deleted=True) == []
    assert script.requests[-1].url.params["includeDeleted"] == "true"


def test_team_member_writes(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "POST",
        sync_path("team-members"),
        201,
        {"name": "J", "email": "j@x.co", "role": "CALLER", "status": "INVITED"},
    )
    script.on("POST", sync_path("teammember/state_change"), 200, {"email": "j@x.co", "status": "Working"})
    member = client.create_team_member(name="J", email="j@x.co", phone_number="919876543210", role="CALLER")
    assert (member.role, member.status) == ("CALLER", "INVITED")
    assert "password" not in script.last_json()
    assert client.change_member_state("j@x.co", "Working") == {"email": "j@x.co", "status": "Working"}
    assert script.last_json() == {"email": "j@x.co", "state": "Working"}


def test_metadata_routes(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET",
        sync_path("custom-fields"),
        200,
        {
            "customFields": [
                {"type": "activeUsers", "apiName": "owner"},
                {"type": "SOMETHING_NEW", "apiName": "x"},
            ]
        },
    )
    script.on("GET", sync_path("custom-fields/owner"), 200, {"type": "ACTIVE_USERS", "apiName": "owner"})
    script.on(
        "GET", sync_path("custom-actions/ACTION_1001"), 200, {"code": "ACTION_1001", "displayName": "Visit"}
    )
    script.on(
        "GET",
        sync_path("custom-actions"),
        200,
        {"customActions": [{"code": "ACTION_1001", "displayName": "Visit"}]},
    )
    fields = client.list_custom_fields(detail=False)
    assert script.requests[-1].url.params["detail"] == "false"
    assert [f.type for f in fields] == [FieldType.ACTIVE_USERS, FieldType.TEXT]
    assert client.get_custom_field("owner").type is FieldType.ACTIVE_USERS
    assert client.get_custom_action("1001").display_name == "Visit"
    assert client.get_custom_action("ACTION_1001").numeric_code == "1001"
    assert [a.code for a in client.list_custom_actions()] == ["ACTION_1001"]


def test_pipeline_top_level_variant(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET",
        sync_path("lead-stage-pipeline"),
        200,
        {"statuses": [{"label": "Fresh"}, {"label": "Old", "archived": True}], "lostReasons": ["No Need"]},
    )
    statuses, reasons = client.get_pipeline()
    assert [(s.label, s.active) for s in statuses] == [("Fresh", True), ("Old", False)]
    assert [r.label for r in reasons] == ["No Need"]


def test_async_upsert_uses_async_host_token_and_prefix(client: TeleCRMClient, script: Script) -> None:
    script.on("POST", f"/enterprise/{ENTERPRISE}/autoupdatelead", 200, {"status": "QUEUED"})
    answer = client.async_upsert(
        {"phone": "919999999999"},
        [
            {"type": "1001", "fields": {}},
            {"type": 1002},
            {"type": "ACTION_1003"},
            {"type": "PAYMENT", "amount": "1"},
        ],
    )
    assert answer == {"status": "QUEUED"}
    request = script.requests[-1]
    assert request.url.host == "async.test"
    assert request.headers["Authorization"] == f"Bearer {ASYNC_TOKEN}"
    assert [a["type"] for a in script.last_json()["actions"]] == [
        "ACTION_1001",
        "ACTION_1002",
        "ACTION_1003",
        "PAYMENT",
    ]


def test_async_upsert_without_token_is_refused_locally(script: Script) -> None:
    import httpx

    with (
        TeleCRMClient(
            base_url="https://x.test",
            enterprise_id="e",
            sync_token="s",
            transport=httpx.MockTransport(script.handler),
        ) as c,
        pytest.raises(TeleCRMAuthError, match="Async token"),
    ):
        c.async_upsert({"phone": "1"})
    assert script.requests == []


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "transient"),
    [
        (400, TeleCRMBadRequest, False),
        (401, TeleCRMAuthError, False),
        (402, TeleCRMError, False),
        (403, TeleCRMForbidden, False),
        (404, TeleCRMNotFound, False),
        (409, TeleCRMConflict, False),
        (429, TeleCRMRateLimited, True),
        (500, TeleCRMUnavailable, True),
        (503, TeleCRMUnavailable, True),
    ],
)
def test_status_maps_to_error_class(
    client: TeleCRMClient, script: Script, status: int, cls: type, transient: bool
) -> None:
    script.on("GET", sync_path("metadata"), status, {"error": {"code": "SOME_CODE", "message": "went wrong"}})
    with pytest.raises(cls) as caught:
        client.get_metadata()
    err = caught.value
    assert type(err) is cls
    assert (err.status, err.code, err.transient) == (status, "SOME_CODE", transient)
    assert SYNC_TOKEN not in str(err)


def test_validation_details_are_kept(client: TeleCRMClient, script: Script) -> None:
    details = [
        {"field": "role", "message": "Invalid role. Allowed roles: ADMIN, MANAGER, CALLER, MARKETING_USER"}
    ]
    script.on(
        "POST",
        sync_path("team-members"),
        400,
        {"error": {"code": "BAD_REQUEST", "message": "Validation failed", "details": details}},
    )
    with pytest.raises(TeleCRMBadRequest) as caught:
        client.create_team_member(name="J", email="j@x.co", phone_number="1", role="BOSS")
    assert caught.value.message == "Validation failed"
    assert caught.value.details == details


def test_auth_error_message_never_contains_the_token(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET",
        sync_path("metadata"),
        401,
        {"error": {"code": "NOT_AUTHORIZED", "message": f"bad token {SYNC_TOKEN}"}},
    )
    with pytest.raises(TeleCRMAuthError) as caught:
        client.get_metadata()
    text = str(caught.value) + repr(caught.value) + caught.value.message
    assert "TeleCRM token was rejected" in text
    assert SYNC_TOKEN not in text


@pytest.mark.parametrize(
    "body",
    [{"error": "plain string"}, {"message": "top-level message", "code": "X"}, ["odd"], None],
)
def test_loose_error_bodies_do_not_crash(client: TeleCRMClient, script: Script, body: object) -> None:
    script.on("GET", sync_path("metadata"), 400, body)
    with pytest.raises(TeleCRMBadRequest) as caught:
        client.get_metadata()
    assert caught.value.status == 400


def test_html_answer_means_wrong_base_url(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET",
        sync_path("metadata"),
        404,
        b"<html><body>Not Found</body></html>",
        headers={"Content-Type": "text/html"},
    )
    with pytest.raises(TeleCRMUnavailable, match="base URL") as caught:
        client.get_metadata()
    assert caught.value.status == 404 and not caught.value.transient


def test_non_json_success_is_unavailable(client: TeleCRMClient, script: Script) -> None:
    script.on("GET", sync_path("metadata"), 200, b"<html>login</html>", headers={"Content-Type": "text/html"})
    with pytest.raises(TeleCRMUnavailable):
        client.get_metadata()


def test_rate_limit_retry_after_seconds(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET",
        sync_path("metadata"),
        429,
        {"error": {"code": "RATE_LIMITED", "message": "slow down"}},
        headers={"Retry-After": "3"},
    )
    with pytest.raises(TeleCRMRateLimited) as caught:
        client.get_metadata()
    assert caught.value.retry_after == 3.0


@pytest.mark.parametrize(
    ("retry_after", "said"),
    [("30", "retry after 30 s"), ("2.5", "retry after 3 s"), (None, "retry later")],
)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"Too Many Requests"), ("text/html", b"<html><body>429 Too Many Requests</body></html>")],
)
@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_non_json_429_is_about_rate_limits_not_the_base_url(
    client: TeleCRMClient,
    script: Script,
    api: str,
    content_type: str,
    body: bytes,
    retry_after: str | None,
    said: str,
) -> None:
    headers = {"Content-Type": content_type, **({"Retry-After": retry_after} if retry_after else {})}
    if api == "sync":
        script.on("GET", sync_path("metadata"), 429, body, headers=headers)
        call = client.get_metadata
    else:
        script.on("POST", f"/enterprise/{ENTERPRISE}/autoupdatelead", 429, body, headers=headers)
        call = lambda: client.async_upsert({"phone": "919999999999"})  # noqa: E731
    with pytest.raises(TeleCRMRateLimited) as caught:
        call()
    error = caught.value
    assert error.status == 429 and error.transient
    assert error.message.startswith("TeleCRM is rate-limiting requests") and said in error.message
    assert "TELECRM_API_URL" not in str(error) and "base URL" not in str(error)
    assert error.retry_after == (None if retry_after is None else float(retry_after))


def test_a_json_429_without_a_message_is_about_rate_limits(client: TeleCRMClient, script: Script) -> None:
    script.on(
        "GET",
        sync_path("metadata"),
        429,
        {"error": {"code": "TOO_MANY_REQUESTS"}},
        headers={"Retry-After": "7"},
    )
    with pytest.raises(TeleCRMRateLimited, match="rate-limiting requests .*retry after 7 s"):
        client.get_metadata()


def test_a_non_json_error_from_the_async_api_names_its_base_url(
    client: TeleCRMClient, script: Script
) -> None:
    script.on("POST", f"/enterprise/{ENTERPRISE}/autoupdatelead", 502, b"<html>Bad gateway</html>")
    with pytest.raises(TeleCRMUnavailable, match="TELECRM_ASYNC_API_URL"):
        client.async_upsert({"phone": "919999999999"})


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "PROCESSED"},
        {"status": "queued"},
        {},
        {"lead_id": "L1"},
        ["QUEUED"],
        "QUEUED",
        None,
    ],
)
def test_an_async_answer_other_than_queued_is_a_failure(
    client: TeleCRMClient, script: Script, answer: object
) -> None:
    """The Async docs give one success answer, `{"status": "QUEUED"}`; anything else is not it."""
    content = json.dumps(answer).encode()
    script.on(
        "POST",
        f"/enterprise/{ENTERPRISE}/autoupdatelead",
        200,
        content,
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(TeleCRMError, match="QUEUED") as caught:
        client.async_upsert({"phone": "919999999999"})
    assert caught.value.transient and caught.value.may_have_landed


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412475.0) == pytest.approx(5.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_network_error_is_transient(script: Script) -> None:
    import httpx

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(boom)
    with (
        TeleCRMClient(base_url="https://x.test", enterprise_id="e", sync_token="s", transport=transport) as c,
        pytest.raises(TeleCRMUnavailable) as caught,
    ):
        c.get_metadata()
    assert caught.value.status is None and caught.value.transient


def test_debug_log_masks_emails_and_never_shows_tokens(
    client: TeleCRMClient, script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    script.on("GET", sync_path("team-members/jane.doe@example.com"), 200, {"email": "jane.doe@example.com"})
    with caplog.at_level(logging.DEBUG, logger="telecrm.client"):
        client.get_team_member("jane.doe@example.com")
    text = caplog.text
    assert "GET" in text and "-> 200" in text
    assert "jane.doe@example.com" not in text and "j***@example.com" in text
    assert SYNC_TOKEN not in text


def test_page_dataclass() -> None:
    assert Page(items=[1], total_count=3, skip=1, limit=1).has_more
    assert not Page(items=[1], total_count=2, skip=1, limit=1).has_more
