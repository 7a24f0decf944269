"""`SANDBOX_STRICT_DOCS`: every answer keeps only the keys TeleCRM's documents show."""

from __future__ import annotations

from typing import Any

import pytest

from telecrm.sandbox import Sandbox
from telecrm.sandbox.documented import strict_docs_from_env

from .conftest import Harness

RAJESH = "919812345670"  # a demo lead with calls, WhatsApp messages, a Site Visit and payments

PAYMENT_KEYS = {"type", "status", "currency", "amount"}
CUSTOM_KEYS = {"type", "fields"}
READ_ONLY_LEAD_KEYS = {"created_on", "modified_on", "last_activity_type", "last_activity_on"}


def _documented_action(row: dict[str, Any]) -> bool:
    if row["type"] == "PAYMENT":
        return set(row) == PAYMENT_KEYS
    if row["type"].isdigit():
        return set(row) == CUSTOM_KEYS
    return set(row) == {"type"}


@pytest.fixture
def strict(make_harness: Any) -> Harness:
    return make_harness(strict_docs=True)


def test_the_switch_is_the_environment_variable_or_the_constructor_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert [strict_docs_from_env({"SANDBOX_STRICT_DOCS": v}) for v in ("1", "true", "ON", "0", "", "no")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    monkeypatch.setenv("SANDBOX_STRICT_DOCS", "1")
    sandboxes = [Sandbox(), Sandbox(strict_docs=False)]
    monkeypatch.delenv("SANDBOX_STRICT_DOCS")
    sandboxes += [Sandbox(), Sandbox(strict_docs=True)]
    try:
        assert [s.strict_docs for s in sandboxes] == [True, False, False, True]
    finally:
        for s in sandboxes:
            s.close()


def test_timeline_rows_are_the_actions_themselves(strict: Harness, h: Harness) -> None:
    lead_id = strict.sandbox.find_lead(RAJESH)["id"]
    rows = strict.api.post(f"/lead/{lead_id}/action/search", params={"limit": 100}, json={}).json()
    assert set(rows) == {"data", "total_count", "skip", "limit"}
    assert {r["type"] for r in rows["data"]} >= {"PAYMENT", "1001", "OUTGOING_CALL"}
    assert all(_documented_action(r) for r in rows["data"]), rows["data"]
    lead = strict.api.get(f"/lead/{lead_id}", params={"includeActions": "true", "limit": 100}).json()
    assert set(lead) == {"fields", "actions", "actions_skip", "actions_limit"}
    assert all(_documented_action(r) for r in lead["actions"])
    assert not READ_ONLY_LEAD_KEYS & set(lead["fields"])
    # without the switch the same rows carry id, time and performer
    loose_id = h.sandbox.find_lead(RAJESH)["id"]
    loose = h.api.post(f"/lead/{loose_id}/action/search", json={}).json()["data"]
    assert all({"action_id", "created_on", "performed_by"} <= set(r) for r in loose)


def test_writes_answer_the_documented_keys(strict: Harness) -> None:
    created = strict.api.post(
        "/lead",
        json={
            "fields": {"phone": "919811100300", "rating": 9},
            "actions": [{"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "10"}],
        },
    ).json()
    assert set(created) == {"lead_id", "actions", "remarks"}
    lead_id = created["lead_id"]
    action_id = created["actions"][0]["action_id"]
    assert created["remarks"] == [
        {"field": "fields.rating", "status": "IGNORED", "remark": "Rating must be between 1 and 5"}
    ]
    updated = strict.api.post(f"/lead/{lead_id}", json={"fields": {"name": "Strict"}}).json()
    assert set(updated) == {"fields"} and not READ_ONLY_LEAD_KEYS & set(updated["fields"])
    batch = strict.api.post(
        f"/lead/{lead_id}/action", json={"actions": [{"type": "1001", "fields": {}}]}
    ).json()
    assert set(batch) == {"lead_id", "actions", "remarks"}
    got = strict.api.get(f"/lead/{lead_id}/action/{action_id}").json()
    assert got == {"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "10"}
    changed = strict.api.post(
        f"/lead/{lead_id}/action/{action_id}", json={"type": "PAYMENT", "status": "COMPLETED"}
    )
    assert set(changed.json()) == PAYMENT_KEYS
    found = strict.api.post("/lead/search", json={"fields": {"phone": "919811100300"}}).json()
    assert set(found) == {"data", "total_count"}
    assert [set(r) for r in found["data"]] == [{"id", "fields"}] and found["data"][0]["id"] == lead_id
    assert not READ_ONLY_LEAD_KEYS & set(found["data"][0]["fields"])
    assert strict.upsert({"fields": {"phone": "919811100301"}}).json() == {"status": "QUEUED"}


def test_schema_reads_answer_the_documented_keys(strict: Harness) -> None:
    detail = strict.api.get("/custom-fields", params={"detail": "true"}).json()["customFields"]
    assert all(
        set(f) <= {"id", "type", "apiName", "description", "lockAfterCreate", "isLeadid", "options"}
        for f in detail
    )
    assert not any({"name", "dateFormat", "maxLength"} & set(f) for f in detail)
    one = strict.api.get("/custom-fields/follow_up_date").json()
    assert "dateFormat" not in one and "name" not in one
    actions = strict.api.get("/custom-actions", params={"detail": "true"}).json()["customActions"]
    assert all(set(spec) <= {"type", "options"} for a in actions for spec in a["fieldSchema"].values())
    assert set(strict.api.get("/custom-actions").json()["customActions"][0]) == {
        "code",
        "displayName",
        "score",
        "source",
    }
    members = strict.api.get("/team-members").json()
    assert set(members) == {"data", "total_count", "skip", "limit"}
    assert set(strict.api.get("/metadata").json()) == {
        "name",
        "id",
        "creationTimeStamp",
        "teamSize",
        "industry",
        "website",
        "leadIdentifierFieldId",
        "integrations",
    }


def test_errors_keep_telecrms_envelope(strict: Harness) -> None:
    response = strict.api.post("/lead/search", json={"nope": 1})
    assert response.status_code == 400
    assert set(response.json()) == {"error"} and {"code", "message"} <= set(response.json()["error"])
