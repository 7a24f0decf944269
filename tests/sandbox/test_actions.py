"""Actions: batch create with per-action status, get/update (payment immutability), timeline search."""

from __future__ import annotations

from typing import Any

import pytest

from telecrm.sandbox import CURRENCIES, PAYMENT_STATUSES

from .conftest import Harness, error_of

RAJESH = "919812345670"


@pytest.fixture
def lead_id(h: Harness) -> str:
    return h.create_lead({"name": "Action Target", "phone": "919811100123"})


def _post(h: Harness, lead_id: str, actions: list[Any]) -> Any:
    return h.api.post(f"/lead/{lead_id}/action", json={"actions": actions})


def test_custom_action_fields_are_validated_against_the_schema(h: Harness, lead_id: str) -> None:
    response = _post(
        h,
        lead_id,
        [
            {
                "type": "1002",
                "fields": {
                    "demo_date": "10/12/2026 15:00:00",
                    "attendees": 4,
                    "contact_email": "cfo@example.com",
                },
            },
            {"type": "1002", "fields": {"attendees": "four"}},
            {"type": "1001", "fields": {"note": "ok", "colour": "red"}},
            {"type": "1001", "fields": {"outcome": "Maybe"}},
            {"type": "1003", "fields": {"sent_by": "rahul.verma@suryodayasolar.in"}},
            {"type": "9999", "fields": {}},
            {"type": 1001, "fields": {"note": "numeric type"}},
            {"type": "1001", "fields": "note"},
            {"type": "1001", "status": "PENDING"},
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert [a["status"] for a in body["actions"]] == ["CREATED"] + ["IGNORED"] * 8
    assert all(a["action_id"] is None for a in body["actions"][1:])
    fields = {r["field"]: r["remark"] for r in body["remarks"]}
    assert fields["actions[1].fields.attendees"].startswith("Number must be a JSON number")
    assert "not defined for custom action 1001" in fields["actions[2].fields.colour"]
    assert "Interested, Not Interested, Follow-up Needed" in fields["actions[3].fields.outcome"]
    assert "team member" in fields["actions[4].fields.sent_by"]
    assert fields["actions[5].type"] == "Custom action 9999 is not defined in this workspace"
    assert "actions[6].type" in fields
    assert "actions[7].fields" in fields
    assert "actions[8].status" in fields
    assert all(r["status"] == "IGNORED" for r in body["remarks"])
    stored = h.sandbox.actions(lead_id)
    assert len(stored) == 1
    assert stored[0]["fields"]["attendees"] == 4


@pytest.mark.parametrize(
    "action_type", ["OUTGOING_CALL", "INCOMING_WHATSAPP_MSG", "LEAD_ASSIGNMENT", "payment"]
)
def test_builtin_types_are_refused_whole(h: Harness, lead_id: str, action_type: str) -> None:
    count = h.sandbox.write_count()
    response = _post(h, lead_id, [{"type": "1001", "fields": {"note": "fine"}}, {"type": action_type}])
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BAD_REQUEST",
        "message": "Only custom actions and payment actions can be created",
    }
    assert h.sandbox.actions(lead_id) == []
    assert h.sandbox.write_count() == count


def test_action_prefix_on_sync_is_400(h: Harness, lead_id: str) -> None:
    """On `POST /lead/{id}/action` (its pitfalls: "400 or silently dropped"); lead create differs."""
    response = _post(h, lead_id, [{"type": "ACTION_1001", "fields": {"note": "x"}}])
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BAD_REQUEST"
    assert '"1001"' in error["message"]


def test_lead_create_ignores_actions_that_fail_validation(h: Harness) -> None:
    """`POST /lead`: "fields and actions that fail validation are reported in a remarks array while
    the lead itself is still created" — never a 400 for an action (seed page "Create a lead"); the
    ignored entry and its remark as the seed page "Actions — Examples" shows them."""
    count = h.sandbox.write_count()
    response = h.api.post(
        "/lead",
        json={
            "fields": {"phone": "919811100124", "name": "Still Created"},
            "actions": [
                {"type": "ACTION_1001", "fields": {"note": "prefixed"}},
                {"type": "OUTGOING_CALL"},
                {"type": "9999", "fields": {}},
                {"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "0"},
                {"type": "PAYMENT", "status": "PAID", "currency": "EUR", "amount": "10"},
                {"type": "1001", "fields": {"note": "kept"}},
            ],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    lead = h.sandbox.find_lead("919811100124")
    assert lead is not None and lead["fields"]["name"] == "Still Created"
    assert body["lead_id"] == lead["id"]
    assert [a["status"] for a in body["actions"]] == ["IGNORED"] * 5 + ["CREATED"]
    assert body["actions"][0] == {"action_id": None, "status": "IGNORED"}
    remarks = {r["field"]: r["remark"] for r in body["remarks"]}
    assert '"1001"' in remarks["actions[0].type"] and "ACTION_1001" in remarks["actions[0].type"]
    assert remarks["actions[1].type"] == "Only custom actions and payment actions can be created"
    assert remarks["actions[2].type"] == "Custom action 9999 is not defined in this workspace"
    assert {
        "field": "actions[3].fields.amount",
        "status": "IGNORED",
        "remark": "Amount must be greater than 0",
    } in body["remarks"]
    assert "PENDING, COMPLETED" in remarks["actions[4].fields.status"]
    assert "INR, USD" in remarks["actions[4].fields.currency"]
    assert [a["fields"] for a in h.sandbox.actions(lead["id"])] == [{"note": "kept"}]
    assert h.sandbox.write_count() == count + 1


def test_lead_create_reports_action_remarks(h: Harness) -> None:
    response = h.api.post(
        "/lead",
        json={
            "fields": {"phone": "919811100126", "rating": 0},
            "actions": [
                {"type": "1001", "fields": {"note": "ok"}},
                {"type": "1002", "fields": {"attendees": "x"}},
            ],
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert [a["status"] for a in body["actions"]] == ["CREATED", "IGNORED"]
    assert [r["field"] for r in body["remarks"]] == ["fields.rating", "actions[1].fields.attendees"]


@pytest.mark.parametrize(
    ("payment", "field", "text"),
    [
        ({"status": "PENDING", "currency": "INR", "amount": "0"}, "amount", "Amount must be greater than 0"),
        ({"status": "PENDING", "currency": "INR", "amount": "-5"}, "amount", "Amount must be greater than 0"),
        ({"status": "PENDING", "currency": "INR", "amount": 5000}, "amount", "numeric string"),
        ({"status": "PENDING", "currency": "INR", "amount": "5,000"}, "amount", "numeric string"),
        ({"status": "PENDING", "currency": "INR"}, "amount", "required"),
        ({"status": "PAID", "currency": "INR", "amount": "10"}, "status", "PENDING, COMPLETED"),
        ({"currency": "INR", "amount": "10"}, "status", "required"),
        ({"status": "PENDING", "currency": "inr", "amount": "10"}, "currency", "INR, USD"),
        ({"status": "PENDING", "currency": "EUR", "amount": "10"}, "currency", "INR, USD"),
        ({"status": "PENDING", "amount": "10"}, "currency", "required"),
    ],
)
def test_payment_validation(h: Harness, lead_id: str, payment: dict[str, Any], field: str, text: str) -> None:
    body = _post(h, lead_id, [{"type": "PAYMENT", **payment}]).json()
    assert body["actions"] == [{"action_id": None, "status": "IGNORED"}]
    remark = next(r for r in body["remarks"] if r["field"] == f"actions[0].fields.{field}")
    assert text in remark["remark"]


@pytest.mark.parametrize("currency", CURRENCIES)
def test_every_documented_currency_is_accepted(h: Harness, lead_id: str, currency: str) -> None:
    body = _post(
        h, lead_id, [{"type": "PAYMENT", "status": "PENDING", "currency": currency, "amount": "12.50"}]
    ).json()
    assert body["actions"][0]["status"] == "CREATED"


def test_payment_lifecycle_and_immutability(h: Harness, lead_id: str) -> None:
    created = _post(
        h,
        lead_id,
        [
            {
                "type": "PAYMENT",
                "status": "PENDING",
                "currency": "INR",
                "amount": "10000",
                "paymentid": "pay_1",
            }
        ],
    )
    action_id = created.json()["actions"][0]["action_id"]
    url = f"/lead/{lead_id}/action/{action_id}"
    for locked in (
        {"amount": "20000"},
        {"currency": "USD"},
        {"paymentid": "pay_2"},
        {"amount": "10000", "status": "COMPLETED"},
    ):
        response = h.api.post(url, json={"type": "PAYMENT", **locked})
        assert response.status_code == 400
        assert error_of(response) == {
            "code": "BAD_REQUEST",
            "message": "Cannot update amount, currency, or paymentid fields for existing payment action.",
        }
    assert h.api.post(url, json={"type": "PAYMENT", "status": "DONE"}).status_code == 400
    assert h.api.post(url, json={"status": "COMPLETED"}).status_code == 400
    assert h.api.post(url, json={"type": "1001", "status": "COMPLETED"}).status_code == 400
    for status in PAYMENT_STATUSES:
        response = h.api.post(url, json={"type": "PAYMENT", "status": status})
        assert response.status_code == 200
        assert response.json() == {
            "type": "PAYMENT",
            "status": status,
            "currency": "INR",
            "amount": "10000",
            "paymentid": "pay_1",
        }
    assert h.api.get(url).json()["status"] == PAYMENT_STATUSES[-1]


def test_custom_action_update(h: Harness, lead_id: str) -> None:
    created = _post(h, lead_id, [{"type": "1001", "fields": {"note": "first", "outcome": "Interested"}}])
    url = f"/lead/{lead_id}/action/{created.json()['actions'][0]['action_id']}"
    response = h.api.post(url, json={"type": "1001", "fields": {"outcome": "Follow-up Needed"}})
    assert response.json() == {"type": "1001", "fields": {"note": "first", "outcome": "Follow-up Needed"}}
    bad = h.api.post(url, json={"type": "1001", "fields": {"outcome": "Maybe", "note": "changed"}})
    assert bad.status_code == 400
    assert "Invalid value for field 'outcome'" in error_of(bad)["message"]
    assert h.api.get(url).json()["fields"]["note"] == "first"
    assert h.api.post(url, json={"type": "1002", "fields": {}}).status_code == 400
    assert h.api.post(url, json={"type": "1001", "fields": {"colour": "red"}}).status_code == 400


def test_builtin_actions_cannot_be_read_or_updated(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    call = next(a for a in h.sandbox.actions(lead["id"]) if a["type"] == "INCOMING_CALL")
    url = f"/lead/{lead['id']}/action/{call['action_id']}"
    response = h.api.get(url)
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BAD_REQUEST",
        "message": "Only custom actions and payment actions can be retrieved",
    }
    assert h.api.post(url, json={"type": "INCOMING_CALL", "duration": 1}).status_code == 400


def test_action_routes_404(h: Harness, lead_id: str) -> None:
    other = h.create_lead(
        {"phone": "919811100127"}, actions=[{"type": "1001", "fields": {"note": "elsewhere"}}]
    )
    foreign = h.sandbox.actions(other)[0]["action_id"]
    assert error_of(h.api.get(f"/lead/{lead_id}/action/{foreign}"))["code"] == "ACTION_NOT_FOUND"
    assert (
        error_of(h.api.post(f"/lead/{lead_id}/action/{foreign}", json={"type": "1001"}))["code"]
        == "ACTION_NOT_FOUND"
    )
    missing_lead = _post(h, "62ab16e", [{"type": "1001"}])
    assert missing_lead.status_code == 404
    assert error_of(missing_lead) == {
        "code": "LEAD_NOT_FOUND",
        "message": "Lead with ID 62ab16e was not found.",
    }
    assert error_of(h.api.get(f"/lead/62ab16e/action/{foreign}"))["code"] == "LEAD_NOT_FOUND"
    search = h.api.post("/lead/62ab16e/action/search", json={})
    assert search.status_code == 404
    assert error_of(search) == {"code": "LEAD_NOT_FOUND", "message": "Lead with given ID was not found."}
    assert h.api.post(f"/lead/{lead_id}/action", json={"actions": []}).status_code == 400
    assert h.api.get(f"/lead/{lead_id}/action/search").status_code == 404


def test_predated_created_on(h: Harness, lead_id: str) -> None:
    body = _post(
        h,
        lead_id,
        [
            {"type": "1001", "fields": {"note": "predated"}, "created_on": "01/01/2026 11:30:00"},
            {"type": "1002", "fields": {"attendees": 1}, "created_on": "01/01/2026 11:30:00"},
            {"type": "1001", "fields": {"note": "bad"}, "created_on": "2026-01-01"},
            {"type": "1002", "fields": {"attendees": 2}, "created_on": "2026-01-01"},
        ],
    ).json()
    assert [a["status"] for a in body["actions"]] == ["CREATED", "CREATED", "IGNORED", "CREATED"]
    assert body["remarks"][0]["field"] == "actions[2].created_on"
    assert "Unix timestamp in seconds or milliseconds" in body["remarks"][0]["remark"]
    rows = {a["fields"].get("note", a["fields"].get("attendees")): a for a in h.sandbox.actions(lead_id)}
    from telecrm.sandbox.values import parse_date

    assert rows["predated"]["created_on"] == parse_date("01/01/2026 11:30:00")
    # 1002 does not allow predating: its created_on is ignored, even one that would not parse
    assert rows[1]["created_on"] > parse_date("01/01/2026 11:30:00")
    assert rows[2]["created_on"] > parse_date("01/01/2026 11:30:00")


@pytest.mark.parametrize(
    ("created_on", "expected"),
    [
        pytest.param(1767247200, 1767247200000, id="unix-seconds"),
        pytest.param(1767247200000, 1767247200000, id="unix-ms"),
        pytest.param("1767247200", 1767247200000, id="unix-seconds-string"),
        pytest.param("1767247200000", 1767247200000, id="unix-ms-string"),
        pytest.param(1767247200.5, 1767247200500, id="unix-seconds-fraction"),
        pytest.param("01/01/2026 11:30:00", 1767247200000, id="date-time"),
        pytest.param("01/01/2026", 1767205800000, id="date-only-is-midnight"),
        pytest.param("01/01/2099 00:00:00", 4070889000000, id="in-the-future"),
    ],
)
def test_created_on_takes_unix_seconds_ms_and_the_date_format(
    h: Harness, lead_id: str, created_on: Any, expected: int
) -> None:
    """`created_on`: "Unix timestamp or date-time in DD/MM/YYYY HH:mm:ss format. Time component
    defaults to 00:00:00 if omitted" (seed page "Telecrm Async APIs"), on Sync and Async alike."""
    body = _post(h, lead_id, [{"type": "1001", "fields": {"note": "when"}, "created_on": created_on}]).json()
    assert body["actions"][0]["status"] == "CREATED", body
    assert body["remarks"] == []
    [stored] = [a for a in h.sandbox.actions(lead_id) if a["fields"].get("note") == "when"]
    assert stored["created_on"] == expected


@pytest.mark.parametrize(
    "created_on",
    ["2026-01-01T10:30:00Z", "1/1/2026", "01/01/2026 11:30", "32/01/2026", "yesterday", -5, True, None],
)
def test_an_unparseable_created_on_drops_the_action_with_a_remark(
    h: Harness, lead_id: str, created_on: Any
) -> None:
    body = _post(
        h,
        lead_id,
        [
            {"type": "1001", "fields": {"note": "bad"}, "created_on": created_on},
            {"type": "1001", "fields": {"note": "ok"}},
        ],
    ).json()
    assert [a["status"] for a in body["actions"]] == ["IGNORED", "CREATED"]
    assert [r["field"] for r in body["remarks"]] == ["actions[0].created_on"]
    assert [a["fields"]["note"] for a in h.sandbox.actions(lead_id)] == ["ok"]


def test_created_on_in_seconds_reaches_the_lead_through_the_async_api(h: Harness) -> None:
    assert h.upsert(
        {
            "fields": {"phone": "919811100127"},
            "actions": [{"type": "ACTION_1001", "fields": {"note": "async"}, "created_on": 1767247200}],
        }
    ).json() == {"status": "QUEUED"}
    assert h.sandbox.drain_async()
    lead = h.sandbox.find_lead("919811100127")
    assert [a["created_on"] for a in h.sandbox.actions(lead["id"])] == [1767247200000]


def test_action_search(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    url = f"/lead/{lead['id']}/action/search"
    everything = h.api.post(url, params={"limit": 100}).json()
    assert everything["total_count"] == 14
    rows = everything["data"]
    assert [r["created_on"] for r in rows] == sorted((r["created_on"] for r in rows), reverse=True)
    assert all({"type", "action_id", "created_on", "performed_by"} <= set(r) for r in rows)
    payment = next(r for r in rows if r["type"] == "PAYMENT")
    assert {"status", "currency", "amount"} <= set(payment)
    custom = next(r for r in rows if r["type"] == "1001")
    assert custom["fields"]["outcome"] == "Interested"
    calls = h.api.post(url, json={"type": "outgoing_call"}).json()
    assert calls["total_count"] == 2 and {r["type"] for r in calls["data"]} == {"OUTGOING_CALL"}
    by_ananya = h.api.post(url, json={"performed_by": ["ANANYA.REDDY@suryodayasolar.in"]}).json()
    assert {r["type"] for r in by_ananya["data"]} == {"1001", "INCOMING_CALL"}
    newest = rows[0]["created_on"]
    recent = h.api.post(url, json={"created_on": {"from": newest}}).json()
    assert recent["total_count"] == 1
    page = h.api.post(url, params={"skip": 2, "limit": 3}, json={}).json()
    assert page["data"] == rows[2:5]
    assert (page["skip"], page["limit"], page["total_count"]) == (2, 3, 14)


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "OUTGOING_CALL"},
        {"type": ["OUTGOING_CALL"]},
        {"type": 1001},
        {"created_on": {"from": "yesterday"}},
        {"created_on": {"from": 1795238162399, "to": 1695238162399}},
        {"performed_by": 5},
    ],
)
def test_action_search_invalid_filter(h: Harness, body: dict[str, Any]) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    response = h.api.post(f"/lead/{lead['id']}/action/search", json=body)
    assert response.status_code == 400
    assert error_of(response)["message"] == "Invalid filter"


@pytest.mark.parametrize("limit", ["0", "101"])
def test_action_search_limit(h: Harness, limit: str) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    response = h.api.post(f"/lead/{lead['id']}/action/search", params={"limit": limit}, json={})
    assert error_of(response)["message"] == "Limit should be between 1 and 100"


def test_add_builtin_action_helper(h: Harness, lead_id: str) -> None:
    action_id = h.sandbox.add_builtin_action(
        lead_id,
        "OUTGOING_CALL",
        created_on_ms=1767225600000,
        performed_by="Priya.Sharma@suryodayasolar.in",
        duration=42,
    )
    (row,) = h.sandbox.actions(lead_id)
    assert row == {
        "type": "OUTGOING_CALL",
        "duration": 42,
        "action_id": action_id,
        "created_on": 1767225600000,
        "performed_by": "priya.sharma@suryodayasolar.in",
    }
    with pytest.raises(KeyError):
        h.sandbox.add_builtin_action("62ab16e", "OUTGOING_CALL")
    assert h.sandbox.write_count() == 1  # only the lead create
