"""fetch_schema assembles every metadata answer into one WorkspaceSchema (scripted transport)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from telecrm.client import TeleCRMClient
from telecrm.errors import TeleCRMUnavailable
from telecrm.schema import FieldType

from .conftest import Script, sync_path


@pytest.fixture
def workspace(script: Script) -> Script:
    script.on("GET", sync_path("metadata"), 200, {"name": "Acme", "leadIdentifierFieldId": "f-email"})
    script.on(
        "GET",
        sync_path("custom-fields"),
        200,
        {
            "customFields": [
                {"id": "f-phone", "type": "PHONE", "apiName": "phone"},
                {"id": "f-email", "type": "EMAIL", "apiName": "email"},
                {
                    "id": "f-src",
                    "type": "DROPDOWN",
                    "apiName": "contact_source",
                    "options": [{"id": "o1", "label": "Website"}],
                },
            ]
        },
    )
    script.on(
        "GET",
        sync_path("custom-actions"),
        200,
        {
            "customActions": [
                {
                    "code": "ACTION_1001",
                    "displayName": "Site Visit",
                    "fieldSchema": {"note": {"type": "TEXT"}},
                },
                {"code": "ACTION_1002", "displayName": "Demo Booked"},  # summary only: detail fetched
            ]
        },
    )
    script.on(
        "GET",
        sync_path("custom-actions/ACTION_1002"),
        200,
        {"code": "ACTION_1002", "displayName": "Demo Booked", "fieldSchema": {"when": {"type": "DATE"}}},
    )
    script.on(
        "GET",
        sync_path("lead-stage-pipeline"),
        200,
        {
            "leadStages": [
                {"stageType": "OPEN", "activeStatuses": [{"label": "Fresh"}], "archivedStatuses": []}
            ],
            "activeLeadLostReasons": [{"reasonLabel": "No Need"}],
        },
    )
    members = [{"name": f"M{i:02}", "email": f"m{i}@acme.test"} for i in range(12)]

    def team(request: httpx.Request) -> httpx.Response:
        skip, limit = int(request.url.params["skip"]), int(request.url.params["limit"])
        return httpx.Response(200, json={"data": members[skip : skip + limit], "total_count": len(members)})

    script.routes[("GET", sync_path("team-members"))] = team
    return script


def test_fetch_schema_collects_everything(client: TeleCRMClient, workspace: Script) -> None:
    schema = client.fetch_schema()
    assert schema.enterprise_name == "Acme"
    assert schema.identifier_api_name == "email"  # leadIdentifierFieldId was a field id
    assert schema.field("contact_source").options == ("Website",)  # type: ignore[union-attr]
    visit, demo = schema.custom_actions
    assert [f.api_name for f in visit.fields] == ["note"]
    assert [(f.api_name, f.type) for f in demo.fields] == [("when", FieldType.DATE)]
    assert [s.label for s in schema.active_statuses] == ["Fresh"]
    assert [r.label for r in schema.lost_reasons] == ["No Need"]
    assert len(schema.team_members) == 12
    assert schema.fetched_at > 0
    details = [
        r.url.params.get("detail")
        for r in workspace.requests
        if r.url.path.endswith(("custom-fields", "custom-actions"))
    ]
    assert details == ["true", "true"]


def test_missing_action_detail_keeps_the_summary(client: TeleCRMClient, workspace: Script) -> None:
    del workspace.routes[("GET", sync_path("custom-actions/ACTION_1002"))]
    schema = client.fetch_schema()
    assert [a.code for a in schema.custom_actions] == ["ACTION_1001", "ACTION_1002"]
    assert schema.custom_actions[1].fields == ()


def test_transient_failure_fails_the_whole_fetch(client: TeleCRMClient, workspace: Script) -> None:
    workspace.on(
        "GET", sync_path("lead-stage-pipeline"), 503, {"error": {"code": "UNAVAILABLE", "message": "busy"}}
    )
    with pytest.raises(TeleCRMUnavailable):
        client.fetch_schema()


def test_the_five_reads_are_in_flight_at_once(client: TeleCRMClient, workspace: Script) -> None:
    """A first start waits for the slowest read, not their sum: each of the five first answers is held
    until all five requests have arrived (one after the other, the first would wait in vain)."""
    everyone = threading.Barrier(5, timeout=5)
    first_reads = ["metadata", "custom-fields", "custom-actions", "lead-stage-pipeline", "team-members"]
    for name in first_reads:
        answer = workspace.routes[("GET", sync_path(name))]

        def held(request: httpx.Request, answer: Callable[[httpx.Request], httpx.Response] = answer):
            if request.url.params.get("skip", "0") == "0":
                everyone.wait()
            return answer(request)

        workspace.routes[("GET", sync_path(name))] = held
    schema = client.fetch_schema()
    assert schema.enterprise_name == "Acme" and len(schema.team_members) == 12
