"""Team members (list/create/get/state change) and the enterprise metadata routes."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Harness, error_of

D = "suryodayasolar.in"


# -- team members --------------------------------------------------------------------------------


def _all_members(h: Harness, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    skip = 0
    while True:
        page = h.api.get("/team-members", params={"skip": skip, "limit": 10, **params}).json()
        rows += page["data"]
        skip += 10
        if skip >= page["total_count"]:
            return rows


def test_list_members_paging_sorting_and_deleted(h: Harness) -> None:
    first = h.api.get("/team-members").json()
    assert (first["total_count"], first["skip"], first["limit"], len(first["data"])) == (12, 0, 10, 10)
    members = _all_members(h)
    names = [m["name"] for m in members]
    assert names == sorted(names, key=str.casefold)
    assert "Rahul Verma" not in names
    with_deleted = _all_members(h, includeDeleted="true")
    assert len(with_deleted) == 13
    rahul = next(m for m in with_deleted if m["name"] == "Rahul Verma")
    assert rahul["status"] == "Deleted" and rahul["license"] is None
    statuses = {m["status"] for m in with_deleted}
    assert statuses == {"Active", "Inactive", "On Leave", "Working", "Invited", "Deleted"}
    ananya = next(m for m in members if m["name"] == "Ananya Reddy")
    assert (ananya["manager_name"], ananya["manager_email"]) == ("Priya Sharma", f"priya.sharma@{D}")
    assert set(ananya["license"]) == {"status", "type", "start_date", "end_date"}


@pytest.mark.parametrize("limit", ["0", "11", "100", "x"])
def test_list_members_limit(h: Harness, limit: str) -> None:
    response = h.api.get("/team-members", params={"limit": limit})
    assert response.status_code == 400
    assert error_of(response) == {"code": "BAD_REQUEST", "message": "Limit should be between 1 and 10"}


def test_get_member(h: Harness) -> None:
    got = h.api.get(f"/team-members/PRIYA.Sharma@{D}")
    assert got.status_code == 200
    assert got.json()["name"] == "Priya Sharma"
    assert error_of(h.api.get("/team-members/not-an-email")) == {
        "code": "BAD_REQUEST",
        "message": "Invalid email format",
    }
    for missing in (f"nobody@{D}", f"rahul.verma@{D}", f"%20priya.sharma@{D}"):
        response = h.api.get(f"/team-members/{missing}")
        assert response.status_code == 404
        assert error_of(response) == {"code": "TEAM_MEMBER_NOT_FOUND", "message": "Team member not found"}
    deleted = h.api.get(f"/team-members/rahul.verma@{D}", params={"includeDeleted": "true"})
    assert deleted.status_code == 200 and deleted.json()["status"] == "Deleted"


def test_create_member_validation(h: Harness) -> None:
    response = h.api.post(
        "/team-members",
        json={
            "name": "",
            "email": "x@",
            "phone_number": "+91 98765 43210",
            "role": "SUPERVISOR",
            "team": "North",
        },
    )
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"]) == ("BAD_REQUEST", "Validation failed")
    details = {d["field"]: d["message"] for d in error["details"]}
    assert details == {
        "team": details["team"],
        "name": "name is required",
        "email": "Invalid email format",
        "phone_number": "Invalid phone_number format",
        "role": "Invalid role. Allowed roles: ADMIN, MANAGER, CALLER, MARKETING_USER",
    }
    assert h.api.post("/team-members", json={}).json()["error"]["details"]


@pytest.mark.parametrize(
    "phone", ["+91 98765 43210", "91-9876-5432-10", "+919876543210", "9876543210", "12345"]
)
def test_create_member_phone_format(h: Harness, phone: str) -> None:
    response = h.api.post(
        "/team-members", json={"name": "P", "email": "p@example.com", "phone_number": phone, "role": "CALLER"}
    )
    assert response.status_code == 400
    assert error_of(response)["details"] == [
        {"field": "phone_number", "message": "Invalid phone_number format"}
    ]


def test_create_member_seats_and_duplicates(h: Harness) -> None:
    def create(i: int, **extra: Any) -> Any:
        body = {
            "name": f"New Rep {i}",
            "email": f"rep{i}@{D}",
            "phone_number": f"9198200220{i:02d}",
            "role": "CALLER",
            **extra,
        }
        return h.api.post("/team-members", json=body)

    assert create(1).status_code == 201
    assert create(2, password="longenough").json()["status"] == "Active"
    dup = h.api.post(
        "/team-members",
        json={
            "name": "Priya",
            "email": f"Priya.Sharma@{D}",
            "phone_number": "919820011002",
            "role": "CALLER",
        },
    )
    assert dup.status_code == 409
    assert error_of(dup)["code"] == "TEAM_MEMBER_ALREADY_EXISTS"
    assert create(3).status_code == 201  # 15 of 15 seats now taken
    full = create(4)
    assert full.status_code == 402
    assert error_of(full)["code"] == "BUY_LICENSE"
    assert create(5, password="short").status_code == 400
    listed = h.api.get(f"/team-members/rep1@{D}").json()
    assert listed["status"] == "Invited"
    assert listed["license"]["status"] == "ACTIVE"


def test_state_change(h: Harness) -> None:
    url = "/teammember/state_change"
    for state in ("Active", "Inactive", "On Leave", "Working"):
        response = h.api.post(url, json={"state": state, "email": f"sneha.patil@{D}"})
        assert response.json() == {"email": f"sneha.patil@{D}", "status": state}
    assert h.api.get(f"/team-members/sneha.patil@{D}").json()["status"] == "Working"
    assert (
        error_of(h.api.post(url, json={"state": "Busy", "email": f"sneha.patil@{D}"}))["code"]
        == "BAD_REQUEST"
    )
    assert (
        error_of(h.api.post(url, json={"state": "Active", "email": "sneha"}))["message"]
        == "Invalid email format"
    )
    assert h.api.post(url, json={"state": "Active"}).status_code == 400
    assert h.api.post(url, json={"state": "Active", "email": f"ghost@{D}"}).status_code == 404
    assert h.api.post(url, json={"state": "Active", "email": f"rahul.verma@{D}"}).status_code == 404
    assert h.api.post(url, json={"state": "Active", "email": f"neha.kulkarni@{D}"}).status_code == 400
    wrong = h.api.post("/team-members/state_change", json={"state": "Active", "email": f"sneha.patil@{D}"})
    assert wrong.status_code == 404


# -- metadata ------------------------------------------------------------------------------------


def test_metadata_identifier_discovery(h: Harness) -> None:
    meta = h.api.get("/metadata").json()
    assert meta["id"] == h.sandbox.enterprise_id
    detail = h.api.get("/custom-fields", params={"detail": "true"}).json()["customFields"]
    assert [f["apiName"] for f in detail if f["id"] == meta["leadIdentifierFieldId"]] == ["phone"]


def test_custom_fields_two_shapes(h: Harness) -> None:
    summary = h.api.get("/custom-fields").json()["customFields"]
    detail = h.api.get("/custom-fields", params={"detail": "true"}).json()["customFields"]
    assert [f["apiName"] for f in summary] == [f["apiName"] for f in detail]
    assert all("id" not in f for f in summary)
    assert all(
        {"id", "type", "apiName", "name", "description", "lockAfterCreate", "isLeadid"} <= set(f)
        for f in detail
    )
    assert all(f["description"] for f in detail)
    types = {f["type"] for f in summary}
    assert types == {
        "TEXT", "NUMBER", "EMAIL", "PHONE", "DATE", "DROPDOWN", "TAGS", "MONEY",
        "WEBSITE", "MEDIALINK", "ACTIVE_USERS", "RATING", "STATUS", "LOST_REASON",
    }  # fmt: skip
    assert {"name", "phone", "email", "rating", "status", "assignee"} <= {f["apiName"] for f in summary}
    city = next(f for f in detail if f["apiName"] == "city")
    assert len(city["options"]) > 100
    assert all(set(o) == {"id", "label"} for o in city["options"])
    assert next(f for f in detail if f["apiName"] == "follow_up_date")["dateFormat"] == "DD/MM/YYYY HH:mm:ss"
    assert [f["isLeadid"] for f in summary].count(True) == 1
    assert h.api.get("/custom-fields", params={"detail": "maybe"}).status_code == 400


def test_custom_field_lookup_is_case_sensitive(h: Harness) -> None:
    assert h.api.get("/custom-fields/contact_source").json()["apiName"] == "contact_source"
    response = h.api.get("/custom-fields/Contact_Source")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "NOT_FOUND",
        "message": "Could not find custom field with apiName Contact_Source",
    }


def test_custom_actions_two_shapes(h: Harness) -> None:
    summary = h.api.get("/custom-actions").json()["customActions"]
    assert all(set(a) == {"code", "displayName", "score", "source"} for a in summary)
    detail = h.api.get("/custom-actions", params={"detail": "true"}).json()["customActions"]
    keys = {
        "id", "code", "displayName", "icon", "description", "score", "fieldSchema", "displaySchema",
        "allowPredatedActivity", "quickAdd", "definitionType", "createdOn", "createdBy", "modifiedOn", "modifiedBy", "source",
    }  # fmt: skip
    assert all(set(a) == keys for a in detail)
    demo = next(a for a in detail if a["code"] == "ACTION_1002")
    assert {k: v["type"] for k, v in demo["fieldSchema"].items()} == {
        "demo_date": "DATE",
        "attendees": "NUMBER",
        "contact_email": "TEXT",
    }


@pytest.mark.parametrize("code", ["1001", "action_1001", "ACTION_9999"])
def test_custom_action_needs_full_code(h: Harness, code: str) -> None:
    response = h.api.get(f"/custom-actions/{code}")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "NOT_FOUND",
        "message": f"Custom action with code {code} was not found.",
    }


def test_pipeline_shape(h: Harness) -> None:
    pipeline = h.api.get("/lead-stage-pipeline").json()
    for stage in pipeline["leadStages"]:
        assert {"stageid", "stageType", "visibility", "activeStatuses", "archivedStatuses"} <= set(stage)
        assert all(
            set(s) == {"statusid", "label", "color"}
            for s in stage["activeStatuses"] + stage["archivedStatuses"]
        )
    assert all(stage["archivedStatuses"] for stage in pipeline["leadStages"])
    assert pipeline["archivedLeadLostReasons"] and pipeline["activeLeadLostReasons"]
    assert all(set(r) == {"reasonid", "reasonLabel", "isDefault"} for r in pipeline["activeLeadLostReasons"])
