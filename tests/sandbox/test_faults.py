"""Fault injection (latency, injected statuses, lost answers, resets), Sync rate limit, admin API."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import httpx
import pytest

from telecrm.sandbox import Faults

from .conftest import Harness, error_of


def test_latency(h: Harness) -> None:
    h.sandbox.faults.latency = 0.15
    started = time.perf_counter()
    assert h.api.get("/metadata").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_latency_beyond_the_client_timeout(make_harness: Any) -> None:
    slow = make_harness()  # its own server: the abandoned request finishes after this test
    slow.sandbox.faults.latency = 0.3
    with pytest.raises(httpx.ReadTimeout):
        slow.api.get("/metadata", timeout=0.05)


def test_a_stopping_server_answers_the_requests_its_latency_holds(make_harness: Any) -> None:
    slow = make_harness()
    slow.sandbox.faults.latency = 600
    faults, held = slow.sandbox.faults, threading.Event()
    hold = faults.hold

    def noted_hold(seconds: float) -> None:
        held.set()
        hold(seconds)

    def ask() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the connection closes with the server
            slow.api.get("/metadata")

    faults.hold = noted_hold  # type: ignore[method-assign]
    caller = threading.Thread(target=ask)
    caller.start()
    assert held.wait(10)
    slow.server.stop()  # waits for its request threads: not ten minutes for the held one
    assert [r.path for r in slow.sandbox.request_log][-1].endswith("/metadata")
    caller.join()
    faults.hold = hold  # type: ignore[method-assign]
    released = threading.Event()
    threading.Thread(target=lambda: (faults.hold(600), released.set()), daemon=True).start()
    assert not released.wait(0.2), "a hold that starts after the stop lasts its time again"
    faults.release()
    assert released.wait(10)


def test_fail_next_429_has_retry_after_and_does_not_write(h: Harness) -> None:
    h.sandbox.faults.fail_next(2, 429, retry_after=7)
    for _ in range(2):
        response = h.api.post("/lead", json={"fields": {"phone": "919811100401"}})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert error_of(response)["code"] == "TOO_MANY_REQUESTS"
    assert h.sandbox.find_lead("919811100401") is None
    assert h.api.post("/lead", json={"fields": {"phone": "919811100401"}}).status_code == 201
    assert [r.status for r in h.sandbox.request_log] == [429, 429, 201]


def test_fail_next_matches_path_and_defaults(h: Harness) -> None:
    h.sandbox.faults.fail_next(path_contains="/team-members")
    assert h.api.get("/metadata").status_code == 200
    response = h.api.get("/team-members")
    assert response.status_code == 503
    assert error_of(response)["code"] == "SERVICE_UNAVAILABLE"
    assert h.api.get("/team-members").status_code == 200
    h.sandbox.faults.fail_next(1, 429)
    assert h.api.get("/metadata").headers["Retry-After"] == "1"


def test_fail_after_write_applies_the_write(h: Harness) -> None:
    h.sandbox.faults.fail_after_write_next(1, 502, path_contains="/lead")
    writes = h.sandbox.write_count()
    response = h.api.post("/lead", json={"fields": {"phone": "919811100402"}})
    assert response.status_code == 502
    assert h.sandbox.find_lead("919811100402") is not None
    assert h.sandbox.write_count() == writes + 1
    retry = h.api.post("/lead", json={"fields": {"phone": "919811100402"}})
    assert retry.status_code == 409  # the retry discovers the lost answer


def test_reset_next_drops_the_connection(h: Harness) -> None:
    h.sandbox.faults.reset_next(1, path_contains="/lead")
    with pytest.raises(httpx.TransportError):
        h.api.post("/lead", json={"fields": {"phone": "919811100403"}})
    assert h.sandbox.find_lead("919811100403") is None
    assert h.api.post("/lead", json={"fields": {"phone": "919811100403"}}).status_code == 201
    assert [r.status for r in h.sandbox.request_log] == [0, 201]


def test_sync_rate_limit(h: Harness) -> None:
    h.sandbox.faults.rate_limit_per_hour = 2
    statuses = [h.api.get("/metadata").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = h.api.get("/metadata")
    assert int(limited.headers["Retry-After"]) > 0
    assert error_of(limited)["code"] == "TOO_MANY_REQUESTS"
    h.sandbox.faults.clear()
    assert h.api.get("/metadata").status_code == 200


def test_rate_window_slides() -> None:
    now = [1000.0]
    faults = Faults(clock=lambda: now[0])
    faults.rate_limit_per_hour = 1
    assert faults.check_rate("sync", "t") is None
    assert faults.check_rate("sync", "t") == 3600
    assert faults.check_rate("sync", "other-token") is None
    now[0] += 3599.5
    assert faults.check_rate("sync", "t") == 1
    now[0] += 1
    assert faults.check_rate("sync", "t") is None


def test_faults_validation() -> None:
    with pytest.raises(ValueError):
        Faults().fail_next(0)


def test_request_log_and_write_count(h: Harness) -> None:
    assert h.sandbox.request_log == []
    lead_id = h.create_lead({"phone": "919811100404"})
    h.api.post(f"/lead/{lead_id}", json={"fields": {"rating": 2}})
    h.api.post(
        f"/lead/{lead_id}/action",
        json={"actions": [{"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "0"}]},
    )
    h.api.post(f"/lead/{lead_id}/action", json={"actions": [{"type": "1001"}]})
    h.api.get(f"/lead/{lead_id}")
    h.api.post(
        "/team-members",
        json={"name": "T", "email": "t@example.com", "phone_number": "919811100404", "role": "CALLER"},
    )
    h.raw.get("/_sandbox/state")
    assert h.sandbox.write_count() == 3  # create, update, one action batch with a created action
    assert [(r.method, r.status) for r in h.sandbox.request_log] == [
        ("POST", 201),
        ("POST", 200),
        ("POST", 200),
        ("POST", 200),
        ("GET", 200),
        ("POST", 201),
    ]
    method, path, status = h.sandbox.request_log[0]
    assert path.endswith("/lead")


# -- admin API over HTTP ---------------------------------------------------------------------------


def test_admin_state_and_faults(h: Harness) -> None:
    state = h.raw.get("/_sandbox/state").json()
    assert state["leads"] == 7 and state["team_members"] == 13 and state["write_count"] == 0
    assert (
        h.raw.post(
            "/_sandbox/faults", json={"fail_next": {"n": 1, "status": 429, "retry_after": 3}, "latency": 0}
        ).status_code
        == 200
    )
    limited = h.api.get("/metadata")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    h.raw.post("/_sandbox/faults", json={"reset_next": {"n": 1}})
    with pytest.raises(httpx.TransportError):
        h.api.get("/metadata")
    h.raw.post(
        "/_sandbox/faults",
        json={"fail_after_write_next": {"n": 1, "status": 500}, "rate_limit_per_hour": 100},
    )
    assert h.raw.get("/_sandbox/faults").json()["rate_limit_per_hour"] == 100
    assert h.api.post("/lead", json={"fields": {"phone": "919811100405"}}).status_code == 500
    assert h.raw.delete("/_sandbox/faults").json()["queued"] == []
    bad = h.raw.post("/_sandbox/faults", json={"explode": True})
    assert bad.status_code == 400
    assert h.raw.post("/_sandbox/faults", json={"fail_next": {"n": 1, "color": "red"}}).status_code == 400
    assert h.raw.get("/_sandbox/state").json()["requests"] == 3, h.sandbox.request_log
    assert len(h.raw.get("/_sandbox/requests").json()["data"]) == 3
    assert h.raw.delete("/_sandbox/requests").json()["data"] == []


def test_admin_leads_builtin_actions_drain_and_reset(h: Harness) -> None:
    leads = h.raw.get("/_sandbox/leads").json()
    assert leads["total_count"] == 7
    lead_id = leads["data"][0]["id"]
    created = h.raw.post(
        f"/_sandbox/leads/{lead_id}/builtin-actions",
        json={
            "type": "INCOMING_CALL",
            "created_on_ms": 1767225600000,
            "performed_by": "sneha.patil@suryodayasolar.in",
            "duration": 30,
        },
    )
    assert created.status_code == 201
    action_id = created.json()["action_id"]
    rows = h.raw.get(f"/_sandbox/leads/{lead_id}/actions").json()["data"]
    assert any(r["action_id"] == action_id and r["duration"] == 30 for r in rows)
    detail = h.raw.get(f"/_sandbox/leads/{lead_id}").json()
    assert detail["id"] == lead_id and detail["actions"]
    page = h.raw.get(
        f"/_sandbox/leads/{lead_id}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert page.headers["content-type"].startswith("text/html")
    assert "Timeline" in page.text
    assert h.raw.get("/_sandbox/leads", headers={"Accept": "text/html"}).text.count("<tr>") == 8
    assert h.raw.get("/_sandbox/leads/62ab16e").status_code == 404
    assert h.raw.post("/_sandbox/leads/62ab16e/builtin-actions", json={"type": "X"}).status_code == 404
    assert h.raw.post(f"/_sandbox/leads/{lead_id}/builtin-actions", json={}).status_code == 400
    h.upsert({"fields": {"phone": "919811100406"}})
    assert h.raw.post("/_sandbox/drain-async").json() == {"drained": True}
    assert h.sandbox.find_lead("919811100406") is not None
    assert h.raw.post("/_sandbox/reset").json() == {"reset": True}
    assert h.sandbox.find_lead("919811100406") is None
    assert h.raw.get("/_sandbox/").json()["enterprise_id"] == h.sandbox.enterprise_id
    assert h.raw.get("/_sandbox/nothing").status_code == 404
    assert h.sandbox.request_log == []  # admin calls are not logged


def test_concurrent_duplicate_creates_yield_one_lead(h: Harness) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> int:
        with httpx.Client(base_url=str(h.api.base_url), headers=dict(h.api.headers), timeout=10) as client:
            phone = "919811100500" if i % 2 else "+919811100500"
            return client.post("/lead", json={"fields": {"phone": phone, "name": f"Racer {i}"}}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(16)))
    assert sorted(statuses) == [201] + [409] * 15
    assert h.sandbox.write_count() == 1


def test_wsgi_app_works_in_process() -> None:
    from werkzeug.test import Client

    from telecrm.sandbox import DEMO_ENTERPRISE_ID, Sandbox

    sandbox = Sandbox()
    client = Client(sandbox.wsgi_app)
    headers = {"Authorization": f"Bearer {sandbox.sync_token}"}
    assert (
        client.get(f"/autoupdate/v2/enterprise/{DEMO_ENTERPRISE_ID}/metadata", headers=headers).status_code
        == 200
    )
    sandbox.faults.reset_next()
    with pytest.raises(ConnectionAbortedError):
        client.get(f"/autoupdate/v2/enterprise/{DEMO_ENTERPRISE_ID}/metadata", headers=headers)
