"""Workspace files: the shipped demo workspaces, `load_workspace` errors, and the value checkers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telecrm.sandbox import (
    Sandbox,
    WorkspaceError,
    demo_workspace,
    email_identifier_workspace,
    load_workspace,
)
from telecrm.sandbox.values import (
    FIELD_TYPES,
    InvalidValue,
    check_phone,
    format_date,
    parse_date,
    parse_relative_or_date,
    phone_match_key,
)

PACKAGE = Path(__file__).resolve().parents[2] / "telecrm" / "sandbox"


def test_shipped_files_load() -> None:
    demo = load_workspace(PACKAGE / "demo_workspace.json")
    assert demo == demo_workspace()
    assert load_workspace(PACKAGE / "email_identifier_workspace.json")["lead_identifier"] == "email"


def test_demo_workspace_covers_the_brief() -> None:
    ws = demo_workspace()
    assert {f["type"] for f in ws["fields"]} == set(FIELD_TYPES)
    assert all(f.get("description") for f in ws["fields"])
    city = next(f for f in ws["fields"] if f["apiName"] == "city")
    assert city["type"] == "DROPDOWN" and len(city["options"]) > 100
    assert len(ws["custom_actions"]) >= 2 and all(a["fieldSchema"] for a in ws["custom_actions"])
    stages = ws["pipeline"]["leadStages"]
    assert {s["stageType"] for s in stages} == {"OPEN", "WON", "LOST"}
    assert any(s["archivedStatuses"] for s in stages) and ws["pipeline"]["archivedLeadLostReasons"]
    members = ws["team_members"]
    assert len(members) > 10 and ws["seats"] >= len(members) - 1
    assert {"Deleted", "Invited"} <= {m["status"] for m in members}
    rich = max(ws["leads"], key=lambda lead: len(lead.get("actions", [])))
    kinds = {a["type"] for a in rich["actions"]}
    assert {
        "INCOMING_CALL",
        "OUTGOING_CALL",
        "MISSED_CALL",
        "INCOMING_WHATSAPP_MSG",
        "OUTGOING_WHATSAPP_MSG",
        "PAYMENT",
        "1001",
    } <= kinds


def test_seeded_ids_are_stable_across_restarts() -> None:
    first, second = Sandbox(), Sandbox()
    assert [lead["id"] for lead in first.leads()] == [lead["id"] for lead in second.leads()]
    rich = first.find_lead("919812345670")
    assert [a["action_id"] for a in first.actions(rich["id"])] == [
        a["action_id"] for a in second.actions(rich["id"])
    ]


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "ws.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _broken(mutate: Any) -> dict[str, Any]:
    ws = email_identifier_workspace()
    mutate(ws)
    return ws


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not valid JSON (line 1"),
        ("[]", "expected a JSON object"),
        (_broken(lambda ws: ws.pop("fields")), "missing required key 'fields'"),
        (
            _broken(lambda ws: ws["fields"][1].update(type="STRING")),
            "fields[1].type: unknown field type 'STRING'",
        ),
        (_broken(lambda ws: ws["fields"].append(dict(ws["fields"][0]))), "duplicate API name 'email'"),
        (_broken(lambda ws: ws["fields"][1].update(apiName="created_on")), "reserved"),
        (_broken(lambda ws: ws.update(lead_identifier="course")), "lead_identifier"),
        (_broken(lambda ws: ws.update(lead_identifier="nope")), "lead_identifier"),
        (_broken(lambda ws: ws["custom_actions"][0].update(code="2001")), "custom_actions[0].code"),
        (
            _broken(lambda ws: ws["custom_actions"][0]["fieldSchema"].update(x={"type": "BLOB"})),
            "fieldSchema.x",
        ),
        (
            _broken(lambda ws: ws["pipeline"]["leadStages"][0].update(stageType="PENDING")),
            "leadStages[0].stageType",
        ),
        (_broken(lambda ws: ws["team_members"][1].update(role="BOSS")), "team_members[1].role"),
        (_broken(lambda ws: ws["team_members"][1].update(manager_email="x@y.com")), "manager_email"),
        (
            _broken(lambda ws: ws["leads"][0]["fields"].update(rating=9)),
            "leads[0].fields.rating: Rating must be between 1 and 5",
        ),
        (
            _broken(lambda ws: ws["leads"][1]["fields"].update(email="ADITI.RAO@gmail.com")),
            "leads[1]: duplicate identifier",
        ),
        (_broken(lambda ws: ws["leads"][0]["fields"].pop("email")), "identifier field 'email' is required"),
        (_broken(lambda ws: ws["leads"][0]["actions"][0].update(performed_by="ghost@x.com")), "performed_by"),
        (
            _broken(lambda ws: ws["leads"][0]["actions"].append({"type": "PAYMENT", "amount": "5"})),
            "actions[1]",
        ),
        (_broken(lambda ws: ws["leads"][0].update(created_on="yesterday")), "leads[0].created_on"),
        (_broken(lambda ws: ws.update(seats=-1)), "seats"),
    ],
)
def test_load_workspace_names_the_problem(tmp_path: Path, data: Any, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(WorkspaceError) as excinfo:
        load_workspace(path)
    assert str(path) in str(excinfo.value)
    assert message in str(excinfo.value)


def test_load_workspace_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="cannot read workspace file"):
        load_workspace(tmp_path / "missing.json")


def test_sandbox_rejects_a_bad_workspace_dict() -> None:
    with pytest.raises(WorkspaceError):
        Sandbox({"fields": []})


# -- value checkers --------------------------------------------------------------------------------


def test_dates() -> None:
    assert parse_date("01/01/2023 11:30:00") == 1672552800000  # IST
    assert parse_date("01/01/2023") == parse_date("01/01/2023 00:00:00")
    assert parse_date("01/01/2023", end_of_day=True) == parse_date("01/01/2023 23:59:59") + 999
    assert format_date(1672552800000) == "01/01/2023 11:30:00"
    assert parse_relative_or_date("-1d", 1_700_000_000_000) == 1_700_000_000_000 - 86_400_000
    assert parse_relative_or_date("+2h30m", 1_700_000_000_000) == 1_700_000_000_000 + 150 * 60_000
    for bad in ("2023-01-01", "1/1/2023", "01/01/2023 25:00:00", "01/01/2023 11:30", True, 1.5e12, None):
        with pytest.raises(InvalidValue):
            parse_date(bad)


@given(
    st.sampled_from(["98", "97", "91", "88", "79", "70", "63"]),
    st.integers(min_value=0, max_value=99_999_999),
)
def test_phone_forms_normalise_alike(prefix: str, rest: int) -> None:
    national = f"{prefix}{rest:08d}"
    try:
        stored = check_phone("+91" + national, "91")
    except InvalidValue:
        return
    assert stored == "91" + national
    for form in ("91" + national, national, " +91" + national + " "):
        assert check_phone(form, "91") == stored
        assert phone_match_key(form, "91") == stored
    assert phone_match_key("+91 " + national[:5] + " " + national[5:], "91") == stored


DOCUMENTED_ACTION_FIELD_TYPES = {
    "TEXT": "Site visit completed",
    "DATE": "01/06/2026 10:30:00",
    "DROPDOWN": "Interested",
    "NUMBER": 4,
    "ACTIVE_USERS": "aditi.rao@gmail.com",
    "MEDIALINK": "https://cdn.example.com/file.pdf",
}


def _action_with(field_type: str) -> dict[str, Any]:
    ws = email_identifier_workspace()
    spec: dict[str, Any] = {"type": field_type}
    if field_type in ("DROPDOWN", "TAGS"):
        spec["options"] = ["Interested", "Not Interested"]
    ws["custom_actions"][0]["fieldSchema"]["value"] = spec
    return ws


@pytest.mark.parametrize("field_type", sorted(set(FIELD_TYPES) - set(DOCUMENTED_ACTION_FIELD_TYPES)))
def test_custom_action_fields_of_undocumented_types_are_refused(tmp_path: Path, field_type: str) -> None:
    """A custom action's fields are TextField, DateField, DropdownField, NumberField,
    ActiveUsersField or MedialinkField (seed page "Telecrm Async APIs"): no other type."""
    with pytest.raises(WorkspaceError, match=r"fieldSchema\.value"):
        load_workspace(_write(tmp_path, _action_with(field_type)))


@pytest.mark.parametrize(("field_type", "value"), sorted(DOCUMENTED_ACTION_FIELD_TYPES.items()))
def test_custom_action_fields_of_every_documented_type_are_stored(field_type: str, value: Any) -> None:
    ws = _action_with(field_type)
    members = [m["email"] for m in ws["team_members"] if m["status"] != "Deleted"]
    value = members[0] if field_type == "ACTIVE_USERS" else value
    sandbox = Sandbox(ws)
    try:
        state = sandbox._state
        lead = next(iter(state.leads.values()))
        code = ws["custom_actions"][0]["code"][len("ACTION_") :]
        answer = state.create_actions(lead["id"], {"actions": [{"type": code, "fields": {"value": value}}]})
        assert answer["actions"][0]["status"] == "CREATED", answer
    finally:
        sandbox.close()
