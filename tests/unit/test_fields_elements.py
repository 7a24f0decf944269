"""Block Kit elements per type, within Slack's limits; reading modal state back; field ordering."""

from __future__ import annotations

from typing import Any

import pytest

from kit.fields import (
    convert,
    element_for,
    form_values,
    input_block,
    option_value,
    options_for_query,
    order_fields_for_modal,
    value_from_state,
)
from telecrm.schema import FieldDef, FieldType, StatusDef, TeamMember, WorkspaceSchema

from .conftest import LONG_OPTION, MEDIUM_OPTION, slack_valid

EXPECTED_ELEMENT = {
    "phone": "plain_text_input",
    "name": "plain_text_input",
    "email": "email_text_input",
    "alt_phone": "plain_text_input",
    "deal_size": "number_input",
    "budget": "number_input",
    "rating": "static_select",
    "status": "static_select",
    "lostReason": "static_select",
    "assignee": "static_select",
    "source": "static_select",
    "city": "external_select",
    "plan": "static_select",
    "interests": "multi_static_select",
    "keywords": "plain_text_input",
    "website": "url_text_input",
    "brochure": "url_text_input",
    "follow_up_date": "datepicker",
    "meeting_time": "datetimepicker",
    "notes": "plain_text_input",
}


def el(schema: WorkspaceSchema, name: str, **kw: Any) -> dict[str, Any]:
    field = schema.field(name)
    assert field is not None
    return element_for(field, schema, action_id="value", **kw)


def test_every_field_type_has_the_documented_element(schema: WorkspaceSchema) -> None:
    assert {f.type for f in schema.fields} == set(FieldType)
    for field in schema.fields:
        block = input_block(field, schema, optional=True)
        slack_valid(block)
        assert block["element"]["type"] == EXPECTED_ELEMENT[field.api_name], field.api_name
        assert block["block_id"] == field.api_name
        assert block["element"]["action_id"] == "value"


def test_input_block_label_hint_and_optional(schema: WorkspaceSchema) -> None:
    phone = input_block(schema.identifier, schema, optional=False)
    assert phone["optional"] is False and phone["label"]["text"] == "Phone"
    assert phone["hint"]["text"] == "Phone with country code, e.g. 919876543210"
    assert "919876543210" in phone["element"]["placeholder"]["text"]
    notes = schema.field("notes")
    assert notes is not None
    assert input_block(notes, schema, optional=True)["hint"]["text"] == "Anything the next caller should know"
    keywords = schema.field("keywords")
    assert keywords is not None
    assert "Comma-separated" in input_block(keywords, schema, optional=True)["hint"]["text"]
    custom = input_block(schema.identifier, schema, optional=True, block_id="lead_phone", action_id="x")
    assert custom["block_id"] == "lead_phone" and custom["element"]["action_id"] == "x"


def test_huge_label_and_description_are_truncated(schema: WorkspaceSchema) -> None:
    field = FieldDef("x", FieldType.TEXT, label="L" * 3000, description="D" * 3000)
    block = input_block(field, schema, optional=True)
    assert len(block["label"]["text"]) == 2000 and block["label"]["text"].endswith("…")
    assert len(block["hint"]["text"]) == 2000
    slack_valid(block)


def test_text_multiline_for_notes(schema: WorkspaceSchema) -> None:
    assert el(schema, "notes").get("multiline") is True
    assert "multiline" not in el(schema, "name")


def test_numbers_allow_decimals_and_money_is_positive(schema: WorkspaceSchema) -> None:
    assert el(schema, "deal_size")["is_decimal_allowed"] is True
    money = el(schema, "budget", initial="₹5,000")
    assert money["is_decimal_allowed"] is True and money["min_value"] == "0.01"
    assert money["initial_value"] == "5000"
    assert "initial_value" not in el(schema, "budget", initial="0")


def test_initial_values_for_text_like_elements(schema: WorkspaceSchema) -> None:
    assert el(schema, "name", initial="Jane")["initial_value"] == "Jane"
    assert el(schema, "email", initial="a@b.co")["initial_value"] == "a@b.co"
    assert el(schema, "website", initial="https://x.io")["initial_value"] == "https://x.io"
    assert el(schema, "keywords", initial=["a", "b"])["initial_value"] == "a, b"
    assert el(schema, "deal_size", initial=12.5)["initial_value"] == "12.5"
    assert "initial_value" not in el(schema, "deal_size", initial="lots")
    assert "initial_value" not in el(schema, "name", initial=None)


def test_date_pickers_and_their_initial_values(schema: WorkspaceSchema) -> None:
    day = el(schema, "follow_up_date", initial="25/12/2026 10:30:00")
    assert day["type"] == "datepicker" and day["initial_date"] == "2026-12-25"
    moment = el(schema, "meeting_time", initial="25/12/2026 10:30:00")
    assert moment["type"] == "datetimepicker" and moment["initial_date_time"] == 1798174800
    assert el(schema, "meeting_time", initial=1798174800000)["initial_date_time"] == 1798174800
    assert "initial_date" not in el(schema, "follow_up_date", initial="garbage")
    # what the picker sends back converts to TeleCRM's format
    meeting = schema.field("meeting_time")
    assert meeting is not None
    assert convert(meeting, moment["initial_date_time"], schema) == "25/12/2026 10:30:00"


def test_dropdown_static_up_to_100_options(schema: WorkspaceSchema) -> None:
    source = el(schema, "source", initial="referral")
    assert [o["value"] for o in source["options"]] == [
        "Website",
        "Referral",
        "Cold Call",
        "Walk-in",
        "Facebook Ads",
    ]
    assert source["initial_option"]["value"] == "Referral"
    assert "initial_option" not in el(schema, "source", initial="Nope")


def test_dropdown_exactly_100_static_101_external() -> None:
    for count, kind in ((100, "static_select"), (101, "external_select")):
        field = FieldDef("pick", FieldType.DROPDOWN, options=tuple(f"o{i}" for i in range(count)))
        schema = WorkspaceSchema(fields=(field,))
        block = input_block(field, schema, optional=True, initial="o7")
        slack_valid(block)
        assert block["element"]["type"] == kind
        assert block["element"]["initial_option"]["value"] == "o7"
        if kind == "external_select":
            assert block["element"]["min_query_length"] == 0 and "options" not in block["element"]


def test_option_text_truncated_and_long_values_keyed(schema: WorkspaceSchema) -> None:
    options = el(schema, "plan")["options"]
    medium, long = options[1], options[2]
    assert len(medium["text"]["text"]) == 75 and medium["text"]["text"].endswith("…")
    assert medium["value"] == MEDIUM_OPTION
    assert long["value"] == option_value(LONG_OPTION) and len(long["value"]) <= 150
    plan = schema.field("plan")
    assert plan is not None
    assert el(schema, "plan", initial=LONG_OPTION)["initial_option"]["value"] == long["value"]
    state = {"type": "static_select", "selected_option": long}
    assert convert(plan, value_from_state(state), schema) == LONG_OPTION


def test_dropdown_without_options_is_free_text() -> None:
    field = FieldDef("kind", FieldType.DROPDOWN)
    assert element_for(field, WorkspaceSchema(fields=(field,)), action_id="a")["type"] == "plain_text_input"


def test_status_grouped_by_stage_active_only(schema: WorkspaceSchema) -> None:
    status = el(schema, "status", initial="won")
    groups = status["option_groups"]
    assert [g["label"]["text"] for g in groups] == ["Open", "Won", "Lost"]
    assert [[o["value"] for o in g["options"]] for g in groups] == [
        ["Fresh", "Interested", "Follow up"],
        ["Won", "Deal Closed"],
        ["Lost", "Not Interested"],
    ]
    assert status["initial_option"]["value"] == "Won"
    assert "initial_option" not in el(schema, "status", initial="Old Lead")


def test_status_single_stage_is_a_flat_list_and_many_go_external() -> None:
    field = FieldDef("status", FieldType.STATUS)
    few = WorkspaceSchema(fields=(field,), statuses=(StatusDef("A"), StatusDef("B")))
    assert [o["value"] for o in element_for(field, few, action_id="a")["options"]] == ["A", "B"]
    many = WorkspaceSchema(
        fields=(field,),
        statuses=tuple(StatusDef(f"S{i}", "OPEN" if i % 2 else "WON") for i in range(120))
        + (StatusDef("Gone", active=False),),
    )
    element = element_for(field, many, action_id="a")
    assert element["type"] == "external_select"
    assert len(options_for_query(field, many, "")) == 100
    assert options_for_query(field, many, "gone") == []


def test_lost_reasons_active_only(schema: WorkspaceSchema) -> None:
    values = [o["value"] for o in el(schema, "lostReason")["options"]]
    assert values == ["No Need", "Too Expensive", "Went with competitor"]


def test_rating_stars(schema: WorkspaceSchema) -> None:
    rating = el(schema, "rating", initial=3)
    assert [o["value"] for o in rating["options"]] == ["1", "2", "3", "4", "5"]
    assert rating["options"][2]["text"]["text"].startswith("★★★☆☆")
    assert rating["initial_option"]["value"] == "3"


def test_assignee_active_members_and_preferred_initial(schema: WorkspaceSchema) -> None:
    element = el(schema, "assignee", preferred_member_email="ASHA@acme.in")
    labels = [o["text"]["text"] for o in element["options"]]
    assert labels[0] == "Asha Rao (asha@acme.in)" and len(labels) == 11
    assert not any("old@acme.in" in label or "leave@acme.in" in label for label in labels)
    assert element["initial_option"]["value"] == "asha@acme.in"
    assert "initial_option" not in el(schema, "assignee", preferred_member_email="old@acme.in")
    assert "initial_option" not in el(schema, "assignee", preferred_member_email="stranger@x.com")
    explicit = el(schema, "assignee", initial="john@acme.in", preferred_member_email="asha@acme.in")
    assert explicit["initial_option"]["value"] == "john@acme.in"


def test_assignee_many_members_external_and_none_cached_is_email() -> None:
    field = FieldDef("assignee", FieldType.ACTIVE_USERS)
    members = tuple(TeamMember(f"Agent {i}", f"agent{i}@x.com") for i in range(150))
    big = WorkspaceSchema(fields=(field,), team_members=members)
    element = element_for(field, big, action_id="a", preferred_member_email="agent120@x.com")
    assert element["type"] == "external_select"
    assert element["initial_option"]["value"] == "agent120@x.com"
    empty = WorkspaceSchema(fields=(field,))
    assert element_for(field, empty, action_id="a")["type"] == "email_text_input"


def test_tags_with_options_multi_select_and_many_external(schema: WorkspaceSchema) -> None:
    tags = el(schema, "interests", initial=["vip", "Wholesale", "custom"])
    assert [o["value"] for o in tags["initial_options"]] == ["VIP", "Wholesale"]
    field = FieldDef("tags", FieldType.TAGS, options=tuple(f"t{i}" for i in range(130)))
    element = element_for(field, WorkspaceSchema(fields=(field,)), action_id="a")
    assert element["type"] == "multi_external_select"


def test_options_for_query_prefix_first(schema: WorkspaceSchema) -> None:
    city = schema.field("city")
    assert city is not None
    values = [o["value"] for o in options_for_query(city, schema, "00")]
    assert values == [f"City 00{i}" for i in range(1, 10)] + ["City 100"]
    assert [o["value"] for o in options_for_query(city, schema, "CITY 12")] == [
        f"City 12{i}" for i in range(10)
    ]
    source = schema.field("source")
    assert source is not None
    assert [o["value"] for o in options_for_query(source, schema, "w")] == ["Website", "Walk-in"]
    assert [o["value"] for o in options_for_query(source, schema, "ads")] == ["Facebook Ads"]
    assert [o["value"] for o in options_for_query(source, schema, "eb")] == ["Website", "Facebook Ads"]
    assert len(options_for_query(city, schema, "")) == 100
    assert len(options_for_query(city, schema, "", limit=5)) == 5


def test_options_for_query_members_by_name_or_email(schema: WorkspaceSchema) -> None:
    assignee = schema.field("assignee")
    assert assignee is not None
    assert [o["value"] for o in options_for_query(assignee, schema, "ravi")] == [
        "ravi.k@acme.in",
        "ravi.kumar@acme.in",
    ]
    assert [o["value"] for o in options_for_query(assignee, schema, "iyer")] == ["Meera.Iyer@acme.in"]
    assert options_for_query(assignee, schema, "old") == []


# --- reading view.state.values ---------------------------------------------------------------------


def _opt(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"type": "plain_text_input", "value": "Jane"}, "Jane"),
        ({"type": "plain_text_input", "value": None}, None),
        ({"type": "email_text_input", "value": "a@b.co"}, "a@b.co"),
        ({"type": "url_text_input", "value": "https://x.io"}, "https://x.io"),
        ({"type": "number_input", "value": "12.5"}, "12.5"),
        ({"type": "static_select", "selected_option": _opt("Website")}, "Website"),
        ({"type": "static_select", "selected_option": None}, None),
        ({"type": "external_select", "selected_option": _opt("City 042")}, "City 042"),
        (
            {"type": "multi_static_select", "selected_options": [_opt("VIP"), _opt("Returning")]},
            ["VIP", "Returning"],
        ),
        ({"type": "multi_static_select", "selected_options": []}, []),
        ({"type": "multi_external_select", "selected_options": [_opt("t1")]}, ["t1"]),
        ({"type": "datepicker", "selected_date": "2026-12-25"}, "2026-12-25"),
        ({"type": "datepicker", "selected_date": None}, None),
        ({"type": "datetimepicker", "selected_date_time": 1798174800}, 1798174800),
        ({"type": "timepicker", "selected_time": "10:30"}, "10:30"),
        ({"type": "users_select", "selected_user": "U123"}, "U123"),
        ({"type": "multi_users_select", "selected_users": ["U1", "U2"]}, ["U1", "U2"]),
        ({"type": "conversations_select", "selected_conversation": "C1"}, "C1"),
        ({"type": "multi_conversations_select", "selected_conversations": ["C1"]}, ["C1"]),
        ({"type": "channels_select", "selected_channel": "C2"}, "C2"),
        ({"type": "multi_channels_select", "selected_channels": ["C2"]}, ["C2"]),
        ({"type": "checkboxes", "selected_options": [_opt("yes")]}, ["yes"]),
        ({"type": "radio_buttons", "selected_option": _opt("b")}, "b"),
        (
            {
                "type": "rich_text_input",
                "rich_text_value": {
                    "type": "rich_text",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "Hi there"}]}
                    ],
                },
            },
            "Hi there",
        ),
        ({"type": "file_input", "files": [{"id": "F1"}]}, [{"id": "F1"}]),
        ({"type": "mystery_input", "value": "x"}, "x"),
        ({"type": "mystery_select", "selected_option": _opt("y")}, "y"),
        ({}, None),
    ],
)
def test_value_from_state(state: dict[str, Any], expected: object) -> None:
    assert value_from_state(state) == expected


def test_form_values_flattens_a_real_view_state(schema: WorkspaceSchema) -> None:
    state_values = {
        "phone": {"value": {"type": "plain_text_input", "value": "98765 43210"}},
        "status": {"value": {"type": "static_select", "selected_option": _opt("Fresh")}},
        "interests": {"value": {"type": "multi_static_select", "selected_options": [_opt("VIP")]}},
        "follow_up_date": {"value": {"type": "datepicker", "selected_date": "2026-12-25"}},
        "meeting_time": {"value": {"type": "datetimepicker", "selected_date_time": 1798174800}},
        "rating": {"value": {"type": "static_select", "selected_option": _opt("4", "★★★★☆  4")}},
        "budget": {"value": {"type": "number_input", "value": "5000.50"}},
        "notes": {"value": {"type": "plain_text_input", "value": None}},
        "broken": "not a mapping",
    }
    raw = form_values(state_values)
    assert raw["phone"] == "98765 43210" and "broken" not in raw
    from kit.fields import validate_fields

    values, problems = validate_fields(schema, raw)
    assert problems == []
    assert values == {
        "phone": "919876543210",
        "budget": "5000.50",
        "rating": 4,
        "status": "Fresh",
        "interests": ["VIP"],
        "follow_up_date": "25/12/2026 00:00:00",
        "meeting_time": "25/12/2026 10:30:00",
    }


# --- ordering ------------------------------------------------------------------------------------------


def test_order_fields_identifier_then_usage_then_workspace_order() -> None:
    fields = tuple(FieldDef(f"f{i:03d}", FieldType.TEXT) for i in range(150))
    schema = WorkspaceSchema(fields=fields, identifier_api_name="f149")
    usage = {"F010": 5, "f020": 9, "f030": 5, "f149": 100, "nope": 3, "f040": 0}
    shown, rest = order_fields_for_modal(schema, usage=usage, max_fields=90)
    names = [f.api_name for f in shown]
    assert len(shown) == 90 and len(rest) == 60
    assert names[:4] == ["f149", "f020", "f010", "f030"]
    assert names[4:7] == ["f000", "f001", "f002"]
    assert {f.api_name for f in shown} | {f.api_name for f in rest} == {f.api_name for f in fields}
    assert [f.api_name for f in rest] == sorted(f.api_name for f in rest)
    assert not {f.api_name for f in shown} & {f.api_name for f in rest}


def test_order_fields_without_usage_and_tiny_limits(schema: WorkspaceSchema) -> None:
    shown, rest = order_fields_for_modal(schema, max_fields=100)
    assert shown == list(schema.fields) and rest == []
    shown, rest = order_fields_for_modal(schema, max_fields=0)
    assert shown == [schema.identifier] and len(rest) == len(schema.fields) - 1


def test_a_modal_of_every_shown_field_fits_slack(schema: WorkspaceSchema) -> None:
    fields = tuple(FieldDef(f"field_{i}", FieldType.DROPDOWN, options=("a", "b")) for i in range(150))
    big = WorkspaceSchema(fields=fields, identifier_api_name="field_0")
    shown, rest = order_fields_for_modal(big, max_fields=95)
    blocks = [input_block(f, big, optional=i > 0) for i, f in enumerate(shown)]
    assert len(blocks) <= 100 and len({b["block_id"] for b in blocks}) == len(blocks)
    for block in blocks:
        slack_valid(block)
