"""Leads: create/get/update/search, identifier matching, per-type validation and paging."""

from __future__ import annotations

from typing import Any

import pytest

from telecrm.sandbox import DEMO_ENTERPRISE_ID, email_identifier_workspace
from telecrm.sandbox.values import parse_date

from .conftest import Harness, error_of

RAJESH = "919812345670"  # the demo lead with the rich timeline
PRIYA = "priya.sharma@suryodayasolar.in"


def _create(h: Harness, fields: dict[str, Any]) -> dict[str, Any]:
    response = h.api.post("/lead", json={"fields": {"phone": "919811100099", **fields}})
    assert response.status_code == 201, response.text
    return response.json()


# -- identifier and duplicates -------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["+919812300001", "919812300001", "9812300001", " 919812300001 "])
def test_duplicate_phone_variants_conflict(h: Harness, variant: str) -> None:
    h.create_lead({"phone": "+919812300001", "name": "First"})
    response = h.api.post("/lead", json={"fields": {"phone": variant, "name": "Second"}})
    assert response.status_code == 409
    assert error_of(response) == {
        "code": "LEAD_ALREADY_EXISTS",
        "message": "Lead with phone 919812300001 already exists.",
    }


def test_ten_digit_phone_gets_default_country_code(h: Harness) -> None:
    lead_id = h.create_lead({"phone": "9812300002"})
    assert h.sandbox.lead(lead_id)["fields"]["phone"] == "919812300002"


def test_default_country_code_is_configurable(make_harness: Any) -> None:
    us = make_harness(default_country_code="1")
    lead_id = us.create_lead({"phone": "4155552671"})  # 10 digits → default code prepended
    assert us.sandbox.lead(lead_id)["fields"]["phone"] == "14155552671"


@pytest.mark.parametrize(
    ("default_code", "typed", "stored"),
    [
        pytest.param("65", "81234567", "6581234567", id="8-digit-singapore-number"),
        pytest.param("49", "30123456", "4930123456", id="8-digit-berlin-number"),
        pytest.param("44", "2071838750", "442071838750", id="10-digit-london-number"),
        pytest.param("1", "4155552671", "14155552671", id="10-digit-us-number"),
        pytest.param("65", "919812300002", "919812300002", id="country-code-given-without-plus"),
        pytest.param("1", "14155552671", "14155552671", id="own-country-code-given-without-plus"),
        pytest.param("91", "+6581234567", "6581234567", id="plus-is-always-a-country-code"),
    ],
)
def test_a_number_without_country_code_gets_the_default_whatever_its_length(
    make_harness: Any, default_code: str, typed: str, stored: str
) -> None:
    """ "If country code is not specified, enterprise's default country code will be used" (seed page
    "Telecrm Async APIs", PhoneField): any number valid for the default country, not just 10 digits."""
    h = make_harness(default_country_code=default_code)
    lead_id = h.create_lead({"phone": typed})
    assert h.sandbox.lead(lead_id)["fields"]["phone"] == stored
    again = h.api.post("/lead", json={"fields": {"phone": "+" + stored}})
    assert again.status_code == 409, "the same lead, however it was typed"
    rows = h.api.post("/lead/search", json={"fields": {"phone": typed}}).json()["data"]
    assert [r["id"] for r in rows] == [lead_id]


@pytest.mark.parametrize(
    ("default_code", "typed"),
    [("91", "81234567"), ("44", "07911123456"), ("1", "+114155552671"), ("91", "98123")],
)
def test_a_number_valid_neither_way_is_refused(make_harness: Any, default_code: str, typed: str) -> None:
    h = make_harness(default_country_code=default_code)
    response = h.api.post("/lead", json={"fields": {"phone": typed}})
    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_LEAD"


@pytest.mark.parametrize("phone", ["99999", "+91 98123 00003", "91-9812-3000-03", "phone", 919812300003])
def test_invalid_identifier_is_a_lead_level_400(h: Harness, phone: Any) -> None:
    response = h.api.post("/lead", json={"fields": {"phone": phone}})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_LEAD"
    assert "phone" in error["message"]


def test_email_identifier_workspace_matching(make_harness: Any) -> None:
    eh = make_harness(email_identifier_workspace())
    meta = eh.api.get("/metadata").json()
    detail = eh.api.get("/custom-fields", params={"detail": "true"}).json()["customFields"]
    identifier = next(f for f in detail if f["id"] == meta["leadIdentifierFieldId"])
    assert identifier["apiName"] == "email"
    missing = eh.api.post("/lead", json={"fields": {"name": "No Email", "phone": "919811100001"}})
    assert missing.status_code == 400
    assert error_of(missing)["message"] == "Lead identifier field 'email' not found in request body."
    dup = eh.api.post("/lead", json={"fields": {"email": "  Aditi.Rao@GMAIL.com "}})
    assert dup.status_code == 409
    lead_id = eh.create_lead({"email": "new.learner@example.com", "name": "New Learner"})
    assert "phone" not in eh.sandbox.lead(lead_id)["fields"]
    forbidden = eh.api.post(f"/lead/{lead_id}", json={"fields": {"email": "other@example.com"}})
    assert forbidden.status_code == 403
    allowed = eh.api.post(f"/lead/{lead_id}", json={"fields": {"phone": "919811100055"}})
    assert allowed.status_code == 200
    eh.upsert({"fields": {"email": "NEW.LEARNER@example.com", "course": "Data Analytics"}})
    eh.upsert({"fields": {"phone": "919811100077", "name": "No identifier"}})
    assert eh.sandbox.drain_async()
    assert eh.sandbox.lead(lead_id)["fields"]["course"] == "Data Analytics"
    assert len(eh.sandbox.leads()) == 3


def test_text_identifier_matching_is_case_insensitive(make_harness: Any) -> None:
    ws = email_identifier_workspace()
    ws["fields"].append(
        {"apiName": "customer_code", "type": "TEXT", "name": "Customer code", "description": "ERP code"}
    )
    ws["lead_identifier"] = "customer_code"
    ws["leads"] = []
    th = make_harness(ws)
    th.create_lead({"customer_code": "CUST-04821"})
    response = th.api.post("/lead", json={"fields": {"customer_code": "cust-04821"}})
    assert response.status_code == 409
    assert th.api.post("/lead", json={"fields": {"customer_code": " CUST-04821"}}).status_code == 201
    blank = th.api.post("/lead", json={"fields": {"customer_code": "  "}})
    assert blank.status_code == 400
    assert error_of(blank)["code"] == "INVALID_LEAD"


# -- per-type validation on create ---------------------------------------------------------------

ACCEPTED: list[tuple[str, Any, Any]] = [
    ("rating", 3, 3),
    ("email", " jane@example.com ", "jane@example.com"),
    ("alternate_phone", "9820011001", "919820011001"),
    ("alternate_phone", "+14155552671", "14155552671"),
    ("deal_size", 12.5, 12.5),
    ("budget", "1000", "1000"),
    ("budget", "-50.75", "-50.75"),
    ("follow_up_date", "01/06/2026", parse_date("01/06/2026")),
    ("follow_up_date", "01/06/2026 10:30:00", parse_date("01/06/2026 10:30:00")),
    ("follow_up_date", 1672561800000, 1672561800000),
    ("follow_up_date", "1672561800000", 1672561800000),
    ("interests", ["VIP", "Returning"], ["VIP", "Returning"]),
    ("interests", [], []),
    ("website", "https://example.com", "https://example.com"),
    ("brochure", "https://cdn.example.com/file.pdf", "https://cdn.example.com/file.pdf"),
    ("assignee", "PRIYA.SHARMA@suryodayasolar.in", PRIYA),
    ("assignee", "neha.kulkarni@suryodayasolar.in", "neha.kulkarni@suryodayasolar.in"),
    ("status", "Qualified", "Qualified"),
    ("lost_reason", "Price too high", "Price too high"),
    ("name", "  Jane  ", "  Jane  "),
    ("gst_number", "24AABCG1234F1Z5", "24AABCG1234F1Z5"),
]


@pytest.mark.parametrize(("api", "value", "stored"), ACCEPTED)
def test_valid_values_are_stored_normalised(h: Harness, api: str, value: Any, stored: Any) -> None:
    body = _create(h, {api: value})
    assert body["remarks"] == []
    assert h.sandbox.lead(body["lead_id"])["fields"][api] == stored


REJECTED: list[tuple[str, Any, str]] = [
    ("rating", "3", 'not "3"'),
    ("rating", 0, "Rating must be between 1 and 5"),
    ("rating", 6, "Rating must be between 1 and 5"),
    ("rating", 3.0, "integer"),
    ("rating", True, "integer"),
    ("email", "jane.doe@", "Email is invalid"),
    ("email", 42, "Email is invalid"),
    ("alternate_phone", "99999", "country code"),
    ("alternate_phone", "+91 98200 11001", "digits only"),
    ("deal_size", "1000", "JSON number"),
    ("deal_size", True, "JSON number"),
    ("budget", 1000, "numeric string"),
    ("budget", "1,000", "numeric string"),
    ("follow_up_date", "2026-01-01T10:30:00Z", "DD/MM/YYYY"),
    ("follow_up_date", "31/02/2026", "DD/MM/YYYY"),
    ("follow_up_date", 1672561800, "epoch milliseconds"),
    ("contact_source", 5, "option label"),
    ("contact_source", "", "option label"),
    ("interests", "VIP, Returning", "array of strings"),
    ("interests", ["VIP", 3], "array of strings"),
    ("website", "example.com", "http(s) URL"),
    ("website", "ftp://example.com", "http(s) URL"),
    ("brochure", "file.pdf", "http(s) URL"),
    ("assignee", "rahul.verma@suryodayasolar.in", "team member"),
    ("assignee", "nobody@example.com", "team member"),
    ("status", "fresh", "case-sensitive"),
    ("status", "Pending", "active status"),
    ("lost_reason", "price too high", "active lost reason"),
    ("name", 123, "string"),
    ("name", None, "must not be null"),
    ("gst_number", "24AABCG1234F1Z5X", "15 characters"),
]


@pytest.mark.parametrize(("api", "value", "text"), REJECTED)
def test_invalid_values_are_ignored_with_a_remark(h: Harness, api: str, value: Any, text: str) -> None:
    body = _create(h, {"name": "Typed", api: value} if api != "name" else {api: value})
    remarks = [r for r in body["remarks"] if r["field"] == f"fields.{api}"]
    assert len(remarks) == 1, body
    assert remarks[0]["status"] == "IGNORED"
    assert text in remarks[0]["remark"]
    stored = h.sandbox.lead(body["lead_id"])["fields"]
    if api == "status":
        assert stored["status"] == "Fresh"
    else:
        assert api not in stored


def test_unknown_and_read_only_fields_are_remarked(h: Harness) -> None:
    body = _create(h, {"Name": "Wrong case", "created_on": 1, "company": "Acme"})
    assert {r["field"] for r in body["remarks"]} == {"fields.Name", "fields.created_on"}
    assert "case-sensitive" in next(r["remark"] for r in body["remarks"] if r["field"] == "fields.Name")
    fields = h.sandbox.lead(body["lead_id"])["fields"]
    assert fields["company"] == "Acme"
    assert "Name" not in fields


def test_unknown_dropdown_and_tag_labels_create_options(h: Harness) -> None:
    body = _create(h, {"contact_source": "Podcast", "interests": ["VIP", "Solar Pumps"]})
    assert body["remarks"] == []
    source = h.api.get("/custom-fields/contact_source").json()
    assert source["options"][-1]["label"] == "Podcast"
    summary = h.api.get("/custom-fields").json()["customFields"]
    interests = next(f for f in summary if f["apiName"] == "interests")
    assert "Solar Pumps" in interests["options"]


def test_archived_status_and_lost_reason_are_accepted_but_not_stored(h: Harness) -> None:
    body = _create(h, {"status": "Hot Lead", "lost_reason": "Subsidy delayed"})
    assert body["remarks"] == []
    fields = h.sandbox.lead(body["lead_id"])["fields"]
    assert fields["status"] == "Fresh"
    assert "lost_reason" not in fields
    response = h.api.post(f"/lead/{body['lead_id']}", json={"fields": {"status": "Call Back Later"}})
    assert response.status_code == 200
    assert response.json()["fields"]["status"] == "Fresh"


def test_request_shape_errors(h: Harness) -> None:
    assert error_of(h.api.post("/lead", json={"phone": "919811100001"}))["code"] == "BAD_REQUEST"
    assert h.api.post("/lead", json=[{"fields": {}}]).status_code == 400
    no_type = h.api.post("/lead", content=b'{"fields": {"phone": "919811100001"}}')
    assert no_type.status_code == 400
    assert "Content-Type" in error_of(no_type)["message"]
    broken = h.api.post("/lead", content=b'{"fields": ', headers={"Content-Type": "application/json"})
    assert error_of(broken) == {"code": "BAD_REQUEST", "message": "Request body is not valid JSON."}
    assert h.api.post("/lead", json={"fields": {"phone": "919811100001"}, "actions": {}}).status_code == 400


# -- get -----------------------------------------------------------------------------------------


def test_get_lead_has_system_fields(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    fields = h.api.get(f"/lead/{lead['id']}").json()["fields"]
    assert fields["created_on"] == lead["created_on"]
    assert fields["modified_on"] >= fields["created_on"]
    assert fields["last_activity_type"] == "INCOMING_CALL"


def test_get_lead_action_paging(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    everything = h.api.get(f"/lead/{lead['id']}", params={"includeActions": "true", "limit": 100}).json()[
        "actions"
    ]
    assert len(everything) == 14
    times = [a["created_on"] for a in everything]
    assert times == sorted(times, reverse=True)
    page = h.api.get(f"/lead/{lead['id']}", params={"includeActions": "true", "skip": 3, "limit": 4}).json()
    assert page["actions"] == everything[3:7]
    assert (page["actions_skip"], page["actions_limit"]) == (3, 4)
    kinds = {a["type"] for a in everything}
    assert {
        "INCOMING_CALL",
        "OUTGOING_CALL",
        "MISSED_CALL",
        "INCOMING_WHATSAPP_MSG",
        "1001",
        "1002",
        "1003",
        "PAYMENT",
    } <= kinds


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1"])
def test_get_lead_limit_out_of_range(h: Harness, limit: str) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    response = h.api.get(f"/lead/{lead['id']}", params={"includeActions": "true", "limit": limit})
    assert response.status_code == 400
    assert error_of(response) == {"code": "BAD_REQUEST", "message": "Limit should be between 1 and 100"}


def test_get_lead_paging_ignored_without_actions(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    assert h.api.get(f"/lead/{lead['id']}", params={"limit": 500}).status_code == 200
    assert h.api.get(f"/lead/{lead['id']}", params={"includeActions": "yes"}).status_code == 400
    assert (
        h.api.get(f"/lead/{lead['id']}", params={"includeActions": "true", "skip": "-1"}).status_code == 400
    )


# -- update --------------------------------------------------------------------------------------


def test_update_changes_only_supplied_fields(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    before = h.api.get(f"/lead/{lead['id']}").json()["fields"]
    response = h.api.post(f"/lead/{lead['id']}", json={"fields": {"rating": 3, "notes": "Second site added"}})
    after = response.json()["fields"]
    assert after["rating"] == 3 and after["notes"] == "Second site added"
    assert {k: v for k, v in after.items() if k not in ("rating", "notes", "modified_on")} == {
        k: v for k, v in before.items() if k not in ("rating", "notes", "modified_on")
    }
    assert after["modified_on"] >= before["modified_on"]


@pytest.mark.parametrize("phone", ["919812345670", "919800000001"])
def test_update_with_identifier_is_403(h: Harness, phone: str) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    count = h.sandbox.write_count()
    response = h.api.post(f"/lead/{lead['id']}", json={"fields": {"phone": phone, "rating": 2}})
    assert response.status_code == 403
    assert error_of(response) == {"code": "INVALID_LEAD", "message": "Cannot modify lead identifier field"}
    assert h.sandbox.lead(lead["id"])["fields"]["rating"] == 5
    assert h.sandbox.write_count() == count


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"rating": 7}, "Invalid value for field 'rating': Rating must be between 1 and 5"),
        ({"email": "nope"}, "Invalid value for field 'email': Email is invalid"),
        ({"interests": "VIP, Returning"}, "Invalid value for field 'interests'"),
        ({"lost_reason": "Too far"}, "Invalid value for field 'lost_reason'"),
        ({"Rating": 3}, "Field 'Rating' is not defined"),
        ({"modified_on": 1}, "read-only"),
        ({"notes": None}, "must not be null"),
    ],
)
def test_update_invalid_value_is_400_and_atomic(h: Harness, fields: dict[str, Any], text: str) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    response = h.api.post(f"/lead/{lead['id']}", json={"fields": {"company": "Changed", **fields}})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BAD_REQUEST"
    assert text in error["message"]
    assert h.sandbox.lead(lead["id"])["fields"]["company"] == "Gupta Textiles Pvt. Ltd."


def test_update_unknown_status_is_dropped(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    response = h.api.post(f"/lead/{lead['id']}", json={"fields": {"status": "negotiation", "rating": 4}})
    assert response.status_code == 200
    assert response.json()["fields"]["status"] == "Negotiation"
    assert response.json()["fields"]["rating"] == 4


def test_lock_after_create(make_harness: Any) -> None:
    ws = email_identifier_workspace()
    ws["fields"].append(
        {
            "apiName": "enrolment_id",
            "type": "TEXT",
            "name": "Enrolment id",
            "description": "x",
            "lockAfterCreate": True,
        }
    )
    lh = make_harness(ws)
    lead_id = lh.create_lead({"email": "locked@example.com"})
    assert lh.api.post(f"/lead/{lead_id}", json={"fields": {"enrolment_id": "E-1"}}).status_code == 200
    second = lh.api.post(f"/lead/{lead_id}", json={"fields": {"enrolment_id": "E-2"}})
    assert second.status_code == 400
    assert "locked" in error_of(second)["message"]


# -- search --------------------------------------------------------------------------------------


def _search(h: Harness, body: Any = None, **params: Any) -> dict[str, Any]:
    response = (
        h.api.post("/lead/search", params=params, json=body)
        if body is not None
        else h.api.post("/lead/search", params=params)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _names(result: dict[str, Any]) -> list[str]:
    return [row["fields"].get("name") for row in result["data"]]


def test_search_without_body_lists_newest_first(h: Harness) -> None:
    result = _search(h)
    assert result["total_count"] == 7
    assert (result["skip"], result["limit"]) == (0, 10)
    created = [row["fields"]["created_on"] for row in result["data"]]
    assert created == sorted(created, reverse=True)
    assert _names(result)[0] == "Lakshmi Narayanan"
    page = _search(h, {}, skip=2, limit=2)
    assert page["data"] == result["data"][2:4]
    assert page["total_count"] == 7


def test_search_matching_rules(h: Harness) -> None:
    assert _names(_search(h, {"fields": {"name": "rajesh GUPTA"}})) == ["Rajesh Gupta"]
    assert _search(h, {"fields": {"name": "Rajesh"}})["total_count"] == 0  # exact, no substring
    assert _names(_search(h, {"fields": {"phone": "9812345670"}})) == ["Rajesh Gupta"]
    assert _names(_search(h, {"fields": {"phone": "+919812345670"}})) == ["Rajesh Gupta"]
    assert _names(_search(h, {"fields": {"email": "RAJESH@guptatextiles.co.in"}})) == ["Rajesh Gupta"]
    assert set(_names(_search(h, {"fields": {"city": ["surat", "Pune"]}}))) == {"Rajesh Gupta", "Ayesha Khan"}
    assert _names(_search(h, {"fields": {"city": ["Surat", "Pune"], "rating": 5}})) == ["Rajesh Gupta"]
    assert _search(h, {"fields": {"status": "won"}})["total_count"] == 0  # status is case-sensitive
    assert _names(_search(h, {"fields": {"status": "Won"}})) == ["Simran Kaur"]
    assert set(_names(_search(h, {"fields": {"interests": "ev charging"}}))) == {"Ayesha Khan"}
    assert _names(_search(h, {"fields": {"assignee": PRIYA.upper()}})) == ["Rajesh Gupta"]
    assert _names(_search(h, {"fields": {"deal_size": "150"}})) == ["Rajesh Gupta"]
    assert _search(h, {"fields": {"city": []}})["total_count"] == 0


def test_search_created_on_range(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    exact = _search(h, {"fields": {"created_on": {"from": lead["created_on"], "to": lead["created_on"]}}})
    assert _names(exact) == ["Rajesh Gupta"]
    recent = _search(h, {"fields": {"created_on": {"from": lead["created_on"] + 1}}})
    assert "Rajesh Gupta" not in _names(recent)
    assert recent["total_count"] == 4


def test_search_actions_block(h: Harness) -> None:
    karthik = "karthik.nair@suryodayasolar.in"
    assert set(_names(_search(h, {"actions": {"type": "MISSED_CALL"}}))) == {"Rajesh Gupta", "Farhan Qureshi"}
    assert _names(_search(h, {"actions": {"type": ["missed_call"], "performed_by": [karthik]}})) == []
    assert _names(_search(h, {"actions": {"type": "OUTGOING_CALL", "performed_by": karthik.upper()}})) == [
        "Farhan Qureshi"
    ]
    assert set(_names(_search(h, {"actions": {"type": "PAYMENT"}}))) == {"Rajesh Gupta", "Simran Kaur"}
    assert _names(_search(h, {"actions": {"type": "1003"}})) == ["Rajesh Gupta"]
    future = _search(h, {"actions": {"performed_at": {"from": "01/01/2099"}}})
    assert future["total_count"] == 0


@pytest.mark.parametrize("limit", ["0", "101", "500", "x"])
def test_search_limit_out_of_range(h: Harness, limit: str) -> None:
    response = h.api.post("/lead/search", params={"limit": limit}, json={})
    assert response.status_code == 400
    assert error_of(response) == {"code": "BAD_REQUEST", "message": "Limit should be between 1 and 100"}


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "919812345670"},
        {"fields": {"Phone": "919812345670"}},
        {"fields": {"created_on": {"from": "2026-01-01"}}},
        {"fields": {"created_on": {"from": "02/01/2026", "to": "01/01/2026"}}},
        {"fields": {"created_on": "01/01/2026"}},
        {"fields": {"name": {"eq": "x"}}},
        {"fields": "phone"},
        {"actions": {"kind": "OUTGOING_CALL"}},
        {"actions": {"performed_at": {"since": 1}}},
    ],
)
def test_search_invalid_filter(h: Harness, body: dict[str, Any]) -> None:
    response = h.api.post("/lead/search", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"]) == ("BAD_REQUEST", "Invalid filter")
    assert error["details"]


def test_search_is_post_only(h: Harness) -> None:
    response = h.api.get("/lead/search", params={"phone": RAJESH})
    assert response.status_code in (404, 405)
    assert error_of(response)["code"] == "NOT_FOUND"


# -- auth and routing ----------------------------------------------------------------------------


def test_auth_failures(h: Harness) -> None:
    expected = {"code": "NOT_AUTHORIZED", "message": "Invalid or missing access token."}
    assert error_of(h.raw.get(f"/autoupdate/v2/enterprise/{DEMO_ENTERPRISE_ID}/metadata")) == expected
    wrong_type = h.api.get("/metadata", headers={"Authorization": f"Bearer {h.sandbox.async_token}"})
    assert wrong_type.status_code == 401 and error_of(wrong_type) == expected
    not_bearer = h.api.get("/metadata", headers={"Authorization": h.sandbox.sync_token})
    assert not_bearer.status_code == 401
    assert (
        h.api.get("/metadata", headers={"Authorization": f"bearer {h.sandbox.sync_token}"}).status_code == 200
    )
    assert (
        h.api.post(
            "/lead", json={"fields": {"phone": "919811100001"}}, headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    assert h.sandbox.leads()[-1]["fields"]["phone"] != "919811100001"


def test_unknown_enterprise(h: Harness) -> None:
    headers = {"Authorization": f"Bearer {h.sandbox.sync_token}"}
    for path in ("metadata", "lead-stage-pipeline", "team-members"):
        response = h.raw.get(f"/autoupdate/v2/enterprise/62ab16e/{path}", headers=headers)
        assert response.status_code == 404
        assert error_of(response) == {
            "code": "ENTERPRISE_NOT_FOUND",
            "message": "The enterprise with ID 62ab16e was not found.",
        }
    bad_token = h.raw.get("/autoupdate/v2/enterprise/62ab16e/metadata", headers={"Authorization": "Bearer x"})
    assert bad_token.status_code == 401


def test_unknown_routes(h: Harness) -> None:
    response = h.api.get("/leads")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "NOT_FOUND",
        "message": f"Cannot GET /autoupdate/v2/enterprise/{DEMO_ENTERPRISE_ID}/leads",
    }
    assert h.api.put("/lead", json={}).status_code == 404
    assert h.api.delete(f"/lead/{h.sandbox.find_lead(RAJESH)['id']}").status_code == 404
    outside = h.raw.get(f"/enterprise/{DEMO_ENTERPRISE_ID}/lead")
    assert outside.status_code == 404
    html = h.raw.post(f"/v2/enterprise/{DEMO_ENTERPRISE_ID}/lead", json={})
    assert html.status_code == 404
    assert html.headers["content-type"].startswith("text/html")
