"""The Async route: QUEUED answers, background upsert, silent drops and the per-token rate limit."""

from __future__ import annotations

from typing import Any

from telecrm.sandbox import DEMO_ENTERPRISE_ID

from .conftest import Harness, error_of

RAJESH = "919812345670"


def test_upsert_creates_then_updates(h: Harness) -> None:
    writes = h.sandbox.write_count()
    assert h.upsert({"fields": {"phone": "9811100201", "name": "Async Lead", "rating": 2}}).json() == {
        "status": "QUEUED"
    }
    assert h.sandbox.drain_async()
    lead = h.sandbox.find_lead("919811100201")
    assert lead is not None
    assert lead["fields"] == {"phone": "919811100201", "name": "Async Lead", "rating": 2, "status": "Fresh"}
    h.upsert({"fields": {"phone": "+919811100201", "rating": 4, "city": "Nagpur"}})
    assert h.sandbox.drain_async()
    updated = h.sandbox.lead(lead["id"])["fields"]
    assert (updated["name"], updated["rating"], updated["city"]) == ("Async Lead", 4, "Nagpur")
    assert h.sandbox.write_count() == writes + 2


def test_upsert_silent_drops(h: Harness) -> None:
    before = len(h.sandbox.leads())
    bodies: list[Any] = [
        {"fields": {"name": "No identifier"}},
        {"fields": {"phone": "99999", "name": "Short phone"}},
        {"name": "no fields object"},
        ["not", "an", "object"],
        {
            "fields": {
                "phone": "919811100202",
                "rating": "3",
                "interests": "VIP, Returning",
                "status": "Hot Lead",
                "nonsense": 1,
            }
        },
    ]
    for body in bodies:
        assert h.upsert(body).json() == {"status": "QUEUED"}
    assert h.sandbox.drain_async()
    assert len(h.sandbox.leads()) == before + 1
    lead = h.sandbox.find_lead("919811100202")
    assert lead["fields"] == {"phone": "919811100202", "status": "Fresh"}


def test_upsert_action_prefix_rules(h: Harness) -> None:
    h.upsert(
        {
            "fields": {"phone": "919811100203"},
            "actions": [
                {"type": "1001", "fields": {"note": "bare code is dropped"}},
                {"type": "ACTION_1001", "fields": {"note": "kept", "outcome": "Interested"}},
                {"type": "ACTION_1001", "fields": {"outcome": "Maybe"}},
                {"type": "OUTGOING_CALL"},
                {"type": "SYSTEM_NOTE", "fields": {"note": "x"}},
                {"type": "ACTION_1001", "fields": {"note": "predated"}, "created_on": "01/01/2026 11:30:00"},
                {"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "0"},
                {"type": "PAYMENT", "status": "COMPLETED", "currency": "INR", "amount": "5000"},
            ],
        }
    )
    assert h.sandbox.drain_async()
    lead = h.sandbox.find_lead("919811100203")
    rows = h.sandbox.actions(lead["id"])
    assert [(r["type"], r.get("fields", {}).get("note")) for r in rows] == [
        ("1001", "predated"),
        ("1001", "kept"),
        ("PAYMENT", None),
    ]


def test_async_auth_and_body_errors(h: Harness) -> None:
    path = f"/enterprise/{DEMO_ENTERPRISE_ID}/autoupdatelead"
    assert error_of(h.raw.post(path, json={"fields": {}}))["code"] == "NOT_AUTHORIZED"
    unknown = h.async_api.post(
        "/enterprise/62ab16e/autoupdatelead", json={"fields": {"phone": "919811100204"}}
    )
    assert unknown.status_code == 401
    assert "enterprise with id 62ab16e" in error_of(unknown)["message"]
    broken = h.async_api.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert h.async_api.get(path).status_code == 404
    assert h.sandbox.drain_async()
    assert h.sandbox.find_lead("919811100204") is None


def test_async_rate_limit_per_token(h: Harness) -> None:
    h.sandbox.faults.async_rate_limit_per_hour = 3
    answers = [h.upsert({"fields": {"phone": f"91981110030{i}"}}) for i in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    limited = answers[3]
    # TeleCRM documents no Retry-After for the Async limit (docs/API.md §11): the client paces itself
    assert "Retry-After" not in limited.headers
    error = error_of(limited)
    assert error["code"] == "TOO_MANY_REQUESTS"
    assert "3 requests per hour" in error["message"]
    assert h.sandbox.drain_async()
    assert h.sandbox.find_lead("919811100303") is None
    # the Sync API is not affected by the Async limiter
    assert h.api.get("/metadata").status_code == 200


def test_async_delay_and_drain(h: Harness) -> None:
    h.sandbox.faults.async_delay = 0.05
    h.upsert({"fields": {"phone": "919811100205"}})
    assert h.sandbox.find_lead("919811100205") is None  # not applied yet
    assert h.sandbox.drain_async(timeout=5)
    assert h.sandbox.find_lead("919811100205") is not None


def test_drain_times_out_when_work_is_stuck(h: Harness) -> None:
    h.sandbox.faults.async_delay = 0.2
    h.upsert({"fields": {"phone": "919811100206"}})
    assert h.sandbox.drain_async(timeout=0.01) is False
    assert h.sandbox.drain_async(timeout=5) is True


def test_upsert_on_seeded_lead_keeps_history(h: Harness) -> None:
    lead = h.sandbox.find_lead(RAJESH)
    before = len(h.sandbox.actions(lead["id"]))
    h.upsert(
        {
            "fields": {"phone": "9812345670", "rating": 1},
            "actions": [{"type": "ACTION_1002", "fields": {"attendees": 2}}],
        }
    )
    assert h.sandbox.drain_async()
    assert h.sandbox.lead(lead["id"])["fields"]["rating"] == 1
    assert len(h.sandbox.actions(lead["id"])) == before + 1
