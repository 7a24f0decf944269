"""Every example request of TeleCRM's API documentation, replayed against the sandbox (docs/TELECRM.md)."""

from __future__ import annotations

import re

from telecrm.sandbox.values import parse_date

from .conftest import Harness, error_of

HEX24 = re.compile(r"^[0-9a-f]{24}$")
APRIL_15_2026 = parse_date("15/04/2026 11:00:00")

JANE = {"name": "Jane Doe", "phone": "919999999999", "email": "jane.doe@example.com"}


def test_create_lead_example(h: Harness) -> None:
    response = h.api.post(
        "/lead",
        json={"fields": JANE, "actions": [{"type": "1001", "fields": {"note": "Site visit completed"}}]},
    )
    assert response.status_code == 201
    body = response.json()
    assert HEX24.match(body["lead_id"])
    assert len(body["actions"]) == 1
    assert HEX24.match(body["actions"][0]["action_id"])
    assert body["actions"][0]["status"] == "CREATED"
    assert body["remarks"] == []


def test_create_lead_example_with_rating_remark(h: Harness) -> None:
    response = h.api.post("/lead", json={"fields": {**JANE, "rating": 9}})
    assert response.status_code == 201
    assert response.json()["remarks"] == [
        {"field": "fields.rating", "status": "IGNORED", "remark": "Rating must be between 1 and 5"}
    ]
    assert "rating" not in h.sandbox.lead(response.json()["lead_id"])["fields"]


def test_create_lead_richer_example(h: Harness) -> None:
    body = {
        "fields": {**JANE, "contact_source": "Website", "interests": ["VIP", "Returning"], "deal_size": 1000},
        "actions": [{"type": "1001", "fields": {"note": "Site visit completed", "outcome": "Interested"}}],
    }
    response = h.api.post("/lead", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["remarks"] == []
    fields = h.sandbox.lead(response.json()["lead_id"])["fields"]
    assert fields["contact_source"] == "Website"
    assert fields["interests"] == ["VIP", "Returning"]
    assert fields["deal_size"] == 1000


def test_create_lead_400_and_409_pages(h: Harness) -> None:
    missing = h.api.post("/lead", json={"fields": {"name": "Jane Doe"}})
    assert missing.status_code == 400
    assert error_of(missing) == {
        "code": "INVALID_LEAD",
        "message": "Lead identifier field 'phone' not found in request body.",
    }
    h.create_lead(JANE)
    duplicate = h.api.post("/lead", json={"fields": JANE})
    assert duplicate.status_code == 409
    assert error_of(duplicate) == {
        "code": "LEAD_ALREADY_EXISTS",
        "message": "Lead with phone 919999999999 already exists.",
    }


def test_get_lead_example(h: Harness) -> None:
    lead_id = h.create_lead(
        {**JANE, "rating": 4}, actions=[{"type": "1001", "fields": {"note": "Site visit completed"}}]
    )
    response = h.api.get(f"/lead/{lead_id}", params={"includeActions": "true", "limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"fields", "actions", "actions_skip", "actions_limit"}
    assert {k: body["fields"][k] for k in ("name", "phone", "email", "status", "rating")} == {
        "name": "Jane Doe",
        "phone": "919999999999",
        "email": "jane.doe@example.com",
        "status": "Fresh",
        "rating": 4,
    }
    assert body["actions"][0]["type"] == "1001"
    assert body["actions"][0]["fields"] == {"note": "Site visit completed"}
    assert (body["actions_skip"], body["actions_limit"]) == (0, 5)
    plain = h.api.get(f"/lead/{lead_id}").json()
    assert set(plain) == {"fields"}


def test_get_lead_404_message(h: Harness) -> None:
    response = h.api.get("/lead/62ab16e")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "LEAD_NOT_FOUND",
        "message": "The lead with ID 62ab16e was not found.",
    }


def test_update_lead_example(h: Harness) -> None:
    lead_id = h.create_lead(JANE)
    response = h.api.post(f"/lead/{lead_id}", json={"fields": {"status": "Qualified", "rating": 4}})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"fields"}
    assert body["fields"]["status"] == "Qualified"
    assert body["fields"]["rating"] == 4
    assert body["fields"]["name"] == "Jane Doe"
    assert body["fields"]["phone"] == "919999999999"
    missing = h.api.post("/lead/62ab16e", json={"fields": {"rating": 4}})
    assert missing.status_code == 404
    assert error_of(missing) == {"code": "LEAD_NOT_FOUND", "message": "Lead with ID 62ab16e was not found."}


def test_search_examples(h: Harness) -> None:
    jane = h.create_lead(JANE)
    response = h.api.post("/lead/search", json={"fields": {"phone": "919999999999"}})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "total_count", "skip", "limit"}
    assert body["total_count"] == 1
    assert body["data"][0]["id"] == jane
    assert body["data"][0]["fields"]["name"] == "Jane Doe"

    won = h.create_lead({"name": "Won Lead", "phone": "919811122233", "status": "Won"})
    h.sandbox.add_builtin_action(
        won, "OUTGOING_CALL", created_on_ms=APRIL_15_2026, performed_by="agent@company.com"
    )
    h.sandbox.add_builtin_action(
        jane, "OUTGOING_CALL", created_on_ms=APRIL_15_2026, performed_by="agent@company.com"
    )
    second = {
        "fields": {"status": ["Won"]},
        "actions": {
            "type": ["OUTGOING_CALL"],
            "performed_by": "agent@company.com",
            "performed_at": {"from": "01/04/2026 00:00:00", "to": "30/04/2026 23:59:59"},
        },
    }
    response = h.api.post("/lead/search", params={"limit": 50}, json=second)
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["data"]] == [won]
    assert (body["total_count"], body["skip"], body["limit"]) == (1, 0, 50)


def test_create_actions_example(h: Harness) -> None:
    lead_id = h.create_lead(JANE)
    body = {
        "actions": [
            {"type": "1001", "fields": {"note": "Demo scheduled"}},
            {"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "10000"},
        ]
    }
    response = h.api.post(f"/lead/{lead_id}/action", json=body)
    assert response.status_code == 200
    out = response.json()
    assert out["lead_id"] == lead_id
    assert [a["status"] for a in out["actions"]] == ["CREATED", "CREATED"]
    assert all(HEX24.match(a["action_id"]) for a in out["actions"])
    assert out["remarks"] == []


def test_actions_examples_page(h: Harness) -> None:
    lead_id = h.create_lead(JANE)
    custom = h.api.post(
        f"/lead/{lead_id}/action",
        json={
            "actions": [{"type": "1001", "fields": {"note": "Site visit completed", "outcome": "Interested"}}]
        },
    )
    assert custom.json()["actions"][0]["status"] == "CREATED"

    step1 = h.api.post(
        f"/lead/{lead_id}/action",
        json={"actions": [{"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "10000"}]},
    )
    payment_id = step1.json()["actions"][0]["action_id"]
    step2 = h.api.post(
        f"/lead/{lead_id}/action/{payment_id}", json={"type": "PAYMENT", "status": "COMPLETED"}
    )
    assert step2.status_code == 200
    assert step2.json() == {"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "10000"}

    read = h.api.get(f"/lead/{lead_id}/action/{payment_id}")
    assert read.status_code == 200
    assert read.json() == {"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "10000"}

    h.sandbox.add_builtin_action(
        lead_id, "OUTGOING_CALL", created_on_ms=APRIL_15_2026, performed_by="ananya.reddy@suryodayasolar.in"
    )
    search = h.api.post(
        f"/lead/{lead_id}/action/search",
        json={
            "type": "OUTGOING_CALL",
            "created_on": {"from": "01/04/2026 00:00:00", "to": "30/04/2026 23:59:59"},
        },
    )
    assert search.status_code == 200
    body = search.json()
    assert body["total_count"] == 1
    assert body["data"][0]["type"] == "OUTGOING_CALL"
    assert (body["skip"], body["limit"]) == (0, 10)

    mixed = h.api.post(
        f"/lead/{lead_id}/action",
        json={
            "actions": [
                {"type": "1001", "fields": {"note": "Demo scheduled"}},
                {"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "0"},
            ]
        },
    )
    assert mixed.status_code == 200
    out = mixed.json()
    assert out["lead_id"] == lead_id
    assert out["actions"][0]["status"] == "CREATED"
    assert out["actions"][1] == {"action_id": None, "status": "IGNORED"}
    assert out["remarks"] == [
        {"field": "actions[1].fields.amount", "status": "IGNORED", "remark": "Amount must be greater than 0"}
    ]


def test_get_action_examples(h: Harness) -> None:
    lead_id = h.create_lead(
        JANE,
        actions=[
            {"type": "1001", "fields": {"note": "Site visit completed"}},
            {"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "5000"},
        ],
    )
    custom_id, payment_id = (a["action_id"] for a in h.sandbox.actions(lead_id))
    assert h.api.get(f"/lead/{lead_id}/action/{custom_id}").json() == {
        "type": "1001",
        "fields": {"note": "Site visit completed"},
    }
    assert h.api.get(f"/lead/{lead_id}/action/{payment_id}").json() == {
        "type": "PAYMENT",
        "status": "COMPLETED",
        "currency": "INR",
        "amount": "5000",
    }
    missing = h.api.get(f"/lead/{lead_id}/action/62ab16e")
    assert missing.status_code == 404
    assert error_of(missing) == {
        "code": "ACTION_NOT_FOUND",
        "message": "Action with ID 62ab16e was not found.",
    }


def test_update_action_examples(h: Harness) -> None:
    lead_id = h.create_lead(JANE, actions=[{"type": "1001", "fields": {"note": "Site visit completed"}}])
    action_id = h.sandbox.actions(lead_id)[0]["action_id"]
    response = h.api.post(
        f"/lead/{lead_id}/action/{action_id}",
        json={"type": "1001", "fields": {"note": "Follow-up completed"}},
    )
    assert response.status_code == 200
    assert response.json() == {"type": "1001", "fields": {"note": "Follow-up completed"}}


def test_team_member_examples(h: Harness) -> None:
    listed = h.api.get("/team-members")
    assert listed.status_code == 200
    body = listed.json()
    assert set(body) == {"data", "total_count", "skip", "limit"}
    assert set(body["data"][0]) == {
        "name",
        "email",
        "status",
        "phone_number",
        "manager_name",
        "manager_email",
        "permission_template_name",
        "license",
    }
    created = h.api.post(
        "/team-members",
        json={
            "name": "John Doe",
            "email": "john.doe@example.com",
            "phone_number": "919876543210",
            "role": "CALLER",
        },
    )
    assert created.status_code == 201
    assert created.json() == {
        "name": "John Doe",
        "email": "john.doe@example.com",
        "phone_number": "919876543210",
        "role": "CALLER",
        "status": "INVITED",
    }
    manager = h.api.post(
        "/team-members",
        json={
            "name": "Jane Doe",
            "email": "jane.doe@example.com",
            "phone_number": "919999999999",
            "role": "MANAGER",
            "password": "TempPass!Reset@FirstLogin",
        },
    )
    assert manager.status_code == 201
    assert manager.json()["status"] == "Active"
    got = h.api.get("/team-members/jane.doe@example.com")
    assert got.status_code == 200
    assert got.json()["email"] == "jane.doe@example.com"
    changed = h.api.post(
        "/teammember/state_change", json={"state": "Working", "email": "jane.doe@example.com"}
    )
    assert changed.status_code == 200
    assert changed.json() == {"email": "jane.doe@example.com", "status": "Working"}


def test_metadata_examples(h: Harness) -> None:
    meta = h.api.get("/metadata").json()
    assert set(meta) == {
        "name",
        "id",
        "creationTimeStamp",
        "teamSize",
        "industry",
        "website",
        "leadIdentifierFieldId",
        "integrations",
    }
    summary = h.api.get("/custom-fields", params={"detail": "false"}).json()["customFields"]
    source = next(f for f in summary if f["apiName"] == "contact_source")
    assert source["type"] == "DROPDOWN"
    assert source["options"][:3] == ["Website", "Referral", "Cold Call"]
    phone = next(f for f in summary if f["apiName"] == "phone")
    assert phone == {"type": "PHONE", "apiName": "phone", "lockAfterCreate": False, "isLeadid": True}
    one = h.api.get("/custom-fields/contact_source").json()
    assert one["description"] == "How the lead was sourced"
    assert [o["label"] for o in one["options"]][:3] == ["Website", "Referral", "Cold Call"]
    actions = h.api.get("/custom-actions").json()["customActions"]
    assert actions[:2] == [
        {"code": "ACTION_1001", "displayName": "Site Visit", "score": 10, "source": "USER"},
        {"code": "ACTION_1002", "displayName": "Demo Booked", "score": 20, "source": "USER"},
    ]
    site_visit = h.api.get("/custom-actions/ACTION_1001").json()
    assert site_visit["fieldSchema"]["outcome"]["type"] == "DROPDOWN"
    assert site_visit["allowPredatedActivity"] == {"enabled": True}
    pipeline = h.api.get("/lead-stage-pipeline").json()
    assert [s["stageType"] for s in pipeline["leadStages"]] == ["OPEN", "WON", "LOST"]
    assert {
        "activeLeadLostReasons",
        "archivedLeadLostReasons",
        "creationTimestamp",
        "modificationTimestamp",
        "lastModifiedBy",
        "version",
    } <= set(pipeline)


ASYNC_EXAMPLES = [
    {"fields": {"phone": "919999999999"}},
    {
        "fields": {
            "name": "Jane Doe",
            "phone": "919999999999",
            "email": "jane.doe@example.com",
            "status": "Fresh",
        }
    },
    {
        "fields": {
            "name": "Jane Doe",
            "phone": "919999999999",
            "contact_source": "Website",
            "interests": ["VIP", "Returning"],
            "deal_size": 1000,
            "follow_up_date": "01/06/2026 10:30:00",
        }
    },
    {
        "fields": {"name": "Jane Doe", "phone": "919999999999"},
        "actions": [
            {"type": "ACTION_1001", "fields": {"note": "Site visit completed", "outcome": "Interested"}}
        ],
    },
    {
        "fields": {"name": "Jane Doe", "phone": "919999999999"},
        "actions": [{"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "5000"}],
    },
    {
        "fields": {"name": "Jane Doe", "phone": "919999999999"},
        "actions": [
            {"type": "ACTION_1001", "fields": {"note": "Demo scheduled"}},
            {"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "10000"},
        ],
    },
    {
        "fields": {"name": "Jane Doe", "phone": "919999999999", "email": "jane.doe@example.com"},
        "actions": [{"type": "ACTION_1001", "fields": {"note": "Site visit completed"}}],
    },
    {
        "fields": {"phone": "919999999999"},
        "actions": [
            {"type": "ACTION_1001", "fields": {"note": "Site visit completed"}},
            {"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "5000"},
        ],
    },
]

REDOC_SAMPLE = {
    "fields": {
        "name": "John",
        "phone": "+91999999999",
        "email": "john.doe@example.com",
        "rating": 3,
        "status": "Fresh",
        "assignee": "john.doe@example.com",
        "property1": "+91999999999",
        "property2": "+91999999999",
    },
    "actions": [
        {
            "type": 1001,
            "fields": {"property1": "John", "property2": "John"},
            "created_on": "01/01/2023 11:30:00",
        }
    ],
}


def test_async_examples(h: Harness) -> None:
    before = len(h.sandbox.leads())
    for body in [*ASYNC_EXAMPLES, REDOC_SAMPLE]:
        response = h.upsert(body)
        assert response.status_code == 200
        assert response.json() == {"status": "QUEUED"}
    assert h.sandbox.drain_async()
    leads = h.sandbox.leads()
    assert (
        len(leads) == before + 1
    )  # all examples upsert one lead; the Redoc sample's 9-digit phone is dropped
    jane = leads[-1]
    assert jane["fields"]["phone"] == "919999999999"
    assert jane["fields"]["email"] == "jane.doe@example.com"
    assert jane["fields"]["status"] == "Fresh"
    assert jane["fields"]["interests"] == ["VIP", "Returning"]
    assert jane["fields"]["follow_up_date"] == parse_date("01/06/2026 10:30:00")
    types = [a["type"] for a in h.sandbox.actions(jane["id"])]
    assert types == ["1001", "PAYMENT", "1001", "PAYMENT", "1001", "1001", "PAYMENT"]


def test_async_401_page(h: Harness) -> None:
    response = h.async_api.post(
        f"/enterprise/{h.sandbox.enterprise_id}/autoupdatelead",
        json={"fields": {"phone": "919999999999"}},
        headers={"Authorization": f"Bearer {h.sandbox.sync_token}"},
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "NOT_AUTHORIZED", "message": "Invalid or missing access token."}
    }
