"""Changing or deleting a lead "from TeleCRM's side" (the web app, not the API): what the lead
watcher reads afterwards through the API."""

from __future__ import annotations

from tests.sandbox.conftest import Harness

PRIYA = "priya.sharma@suryodayasolar.in"
AARAV = "aarav.mehta@suryodayasolar.in"


def test_a_change_moves_modified_on_and_records_who_reassigned_the_lead(h: Harness) -> None:
    lead_id = h.create_lead({"phone": "919811100501", "name": "Web App", "status": "Fresh"})
    before = h.api.get(f"/lead/{lead_id}").json()["fields"]
    writes = h.sandbox.write_count()
    changed = h.raw.post(
        f"/_sandbox/leads/{lead_id}/change",
        json={"fields": {"status": "Won", "assignee": PRIYA}, "by": AARAV},
    )
    assert changed.status_code == 200
    after = h.api.get(f"/lead/{lead_id}").json()["fields"]
    assert after["status"] == "Won" and after["assignee"] == PRIYA
    assert after["modified_on"] > before["modified_on"]
    assert after["last_activity_type"] == "LEAD_ASSIGNMENT"
    rows = h.api.post(f"/lead/{lead_id}/action/search", json={}).json()["data"]
    assert rows[0]["type"] == "LEAD_ASSIGNMENT" and rows[0]["performed_by"] == AARAV
    assert rows[0]["assigned_to"] == PRIYA
    assert h.sandbox.write_count() == writes  # not an API write


def test_a_change_is_checked_like_api_input(h: Harness) -> None:
    lead_id = h.create_lead({"phone": "919811100502"})
    url = f"/_sandbox/leads/{lead_id}/change"
    assert h.raw.post(url, json={"fields": {"rating": 9}}).status_code == 400
    assert h.raw.post(url, json={"fields": {"phone": "919811100503"}}).status_code == 400  # the identifier
    assert h.raw.post(url, json={"fields": {"status": "Won"}, "by": "nobody@example.com"}).status_code == 400
    assert h.raw.post(url, json={"fields": {}}).status_code == 400
    assert h.raw.post("/_sandbox/leads/62ab16e/change", json={"fields": {"status": "Won"}}).status_code == 404


def test_the_lead_page_form_changes_one_field(h: Harness) -> None:
    lead_id = h.create_lead({"phone": "919811100504", "name": "Form"})
    page = h.raw.get(f"/_sandbox/leads/{lead_id}", headers={"Accept": "text/html"})
    assert f"action='/_sandbox/leads/{lead_id}/change'" in page.text
    answer = h.raw.post(f"/_sandbox/leads/{lead_id}/change", data={"field": "rating", "value": "4", "by": ""})
    assert answer.status_code == 303 and answer.headers["location"] == f"/_sandbox/leads/{lead_id}"
    assert h.sandbox.lead(lead_id)["fields"]["rating"] == 4


def test_a_deleted_lead_is_gone_from_the_api(h: Harness) -> None:
    lead_id = h.create_lead({"phone": "919811100505"})
    assert h.raw.delete(f"/_sandbox/leads/{lead_id}").json() == {"deleted": lead_id}
    assert h.api.get(f"/lead/{lead_id}").status_code == 404
    assert h.api.post("/lead/search", json={"fields": {"phone": "919811100505"}}).json()["data"] == []
    assert h.raw.delete(f"/_sandbox/leads/{lead_id}").status_code == 404
    assert h.create_lead({"phone": "919811100505"})  # the identifier is free again
