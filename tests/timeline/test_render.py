"""Unit tests of the pure parts: rendering a timeline, reading its filters, and the activity form."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from commands.activity import form as activity_form
from commands.timeline.form import (
    BLOCK_FROM,
    BLOCK_LEAD,
    BLOCK_TO,
    BLOCK_TYPE,
    read_timeline_form,
    timeline_modal,
)
from commands.timeline.query import PAGE_SIZE, LeadRef, TimelineQuery, day_bounds_ms, lead_reference
from commands.timeline.render import MAX_ACTION_TEXT, render_action, render_timeline, type_label
from kit import activity_section as activity
from kit import ids
from telecrm.models import Page, Remark
from telecrm.schema import CustomActionDef, FieldDef, FieldType, WorkspaceSchema
from tests.unit.conftest import build_schema, slack_valid

IST = ZoneInfo("Asia/Kolkata")
WHEN = int(datetime(2026, 4, 10, 9, 15, tzinfo=IST).timestamp() * 1000)


@pytest.fixture(scope="module")
def schema() -> WorkspaceSchema:
    return build_schema()


def _valid_message(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
        text = block.get("text")
        if isinstance(text, dict):
            assert len(text["text"]) <= (150 if block["type"] == "header" else 3000)


# --- timeline rendering ---------------------------------------------------------------------------------


def test_types_get_an_icon_and_a_human_name_custom_ones_their_display_name(schema: WorkspaceSchema) -> None:
    assert type_label(schema, "OUTGOING_CALL") == ("📲", "Outgoing call")
    assert type_label(schema, "payment") == ("💰", "Payment")
    assert type_label(schema, "1001") == ("📌", "Site Visit")
    assert type_label(schema, "ACTION_1002") == ("📌", "Demo Call")
    assert type_label(schema, "4242") == ("📌", "Custom activity 4242")
    assert type_label(schema, "VIDEO_KYC_DONE") == ("🔹", "Video kyc done")
    assert type_label(None, "") == ("🔹", "Activity")


def test_a_payment_shows_amount_status_and_id(schema: WorkspaceSchema) -> None:
    row = {
        "type": "PAYMENT",
        "amount": "100000",
        "currency": "INR",
        "status": "REFUNDED",
        "created_on": WHEN,
        "action_id": "a" * 24,
        "performed_by": "asha@acme.in",
    }
    text = render_action(schema, row, "Asia/Kolkata")
    assert text.startswith(
        "💰 *Payment* · *₹1,00,000.00* · ↩️ Refunded · 10 Apr 2026, 9:15 AM IST · by Asha Rao"
    )
    assert f"id `{'a' * 24}`" in text


def test_a_custom_action_shows_its_fields_by_label_in_definition_order(schema: WorkspaceSchema) -> None:
    row = {
        "type": "1001",
        "fields": {"visit_notes": "Gate code <1234> & dog", "outcome": "Positive", "visit_date": WHEN},
        "created_on": WHEN,
        "action_id": "b" * 24,
    }
    text = render_action(schema, row, "Asia/Dubai")
    assert "📌 *Site Visit* · 10 Apr 2026, 7:45 AM +04" in text
    details = text.split("\n")[1]
    assert details.index("*Visit date:*") < details.index("*Outcome:*") < details.index("*Visit notes:*")
    assert "*Visit date:* 10 Apr 2026, 7:45 AM +04" in details
    assert "Gate code &lt;1234&gt; &amp; dog" in details


def test_builtin_details_are_humanised_and_durations_readable(schema: WorkspaceSchema) -> None:
    row = {
        "type": "INCOMING_CALL",
        "created_on": WHEN,
        "call_duration": 3725,
        "recording_url": "https://x.io/r.mp3",
    }
    text = render_action(schema, row, None)
    assert "*Call duration:* 1h 02m 05s" in text and "*Recording url:* https://x.io/r.mp3" in text
    assert "id `" not in text  # built-in actions cannot be fetched or changed, so no id to quote


def test_an_action_with_huge_or_many_values_stays_short(schema: WorkspaceSchema) -> None:
    row = {"type": "SYSTEM_NOTE", "created_on": WHEN, **{f"note_{n}": "x" * 5000 for n in range(30)}}
    text = render_action(schema, row, None)
    assert len(text) <= MAX_ACTION_TEXT
    assert "_and 22 more_" in text or text.endswith("…")


def test_a_page_of_giant_actions_fits_slack_and_offers_older(schema: WorkspaceSchema) -> None:
    rows = [
        {"type": "OUTGOING_CALL", "created_on": WHEN - n, "note": "y" * 4000, "summary": "z" * 4000}
        for n in range(PAGE_SIZE)
    ]
    query = TimelineQuery("c" * 24, type="OUTGOING_CALL")
    text, blocks = render_timeline(
        schema, query=query, page=Page(rows, 300, 0, PAGE_SIZE), name="Jane " * 60, tz="Asia/Kolkata"
    )
    _valid_message(blocks)
    assert len(text) <= 40_000
    (nav,) = [b for b in blocks if b["type"] == "actions"]
    (older,) = nav["elements"]
    assert older["action_id"] == ids.ACT_TIMELINE_OLDER
    assert TimelineQuery.from_value(older["value"]) == replace(
        query.at(PAGE_SIZE), name=("Jane " * 16)[:79] + "…"
    )
    assert "1–20 of 300" in blocks[1]["elements"][0]["text"]


def test_the_last_page_offers_only_newer(schema: WorkspaceSchema) -> None:
    query = TimelineQuery("c" * 24, skip=280)
    rows = [{"type": "MISSED_CALL", "created_on": WHEN}] * 20
    _, blocks = render_timeline(schema, query=query, page=Page(rows, 300, 280, 20), name="Jane", tz=None)
    (nav,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in nav["elements"]] == [ids.ACT_TIMELINE_NEWER]
    assert TimelineQuery.from_value(nav["elements"][0]["value"]).skip == 260


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (TimelineQuery("c" * 24), "No activities recorded for this lead yet."),
        (TimelineQuery("c" * 24, type="1001"), "No activities match (Site Visit)."),
        (TimelineQuery("c" * 24, skip=20), "No older activities."),
    ],
)
def test_an_empty_page_says_why(schema: WorkspaceSchema, query: TimelineQuery, expected: str) -> None:
    _, blocks = render_timeline(schema, query=query, page=Page([], 0, query.skip, 20), name="Jane", tz=None)
    _valid_message(blocks)
    assert blocks[2]["text"]["text"] == expected
    buttons = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ([ids.ACT_TIMELINE_NEWER] if query.skip else [])


def test_button_values_survive_the_round_trip_and_junk_is_refused() -> None:
    query = TimelineQuery("d" * 24, "OUTGOING_CALL", 1, 2, 40, name="Jane “JD” Doe")
    assert TimelineQuery.from_value(query.to_value()) == query
    assert len(query.to_value()) < 2000
    assert TimelineQuery.from_value("{nope") is None and TimelineQuery.from_value("{}") is None


# --- filters --------------------------------------------------------------------------------------------


def test_days_are_whole_and_in_the_users_time_zone() -> None:
    start, end = day_bounds_ms("01/04/2026 00:00:00", "30/04/2026 23:59:59", "Asia/Kolkata")
    assert start == int(datetime(2026, 4, 1, tzinfo=IST).timestamp() * 1000)
    assert end == int(datetime(2026, 5, 1, tzinfo=IST).timestamp() * 1000) - 1
    assert day_bounds_ms("2026-04-01", "2026-04-30", "Asia/Kolkata") == (start, end)
    dubai_start, _ = day_bounds_ms("2026-04-01", None, "Asia/Dubai")
    assert dubai_start - start == 90 * 60 * 1000
    assert day_bounds_ms(None, None, None) == (None, None)


def test_a_lead_is_named_by_id_or_by_identifier_without_telecrm(schema: WorkspaceSchema) -> None:
    assert lead_reference(schema, "603D2B2F9B1E8A001C8E4F5C") == LeadRef(
        "id", "603d2b2f9b1e8a001c8e4f5c", "603D2B2F9B1E8A001C8E4F5C"
    )
    assert lead_reference(schema, "+91 98123 45678") == LeadRef(
        "identifier", "919812345678", "+91 98123 45678"
    )
    problem = lead_reference(schema, "Jane")
    assert isinstance(problem, str) and "not a lead id" in problem and "Phone" in problem
    assert "say which lead" in str(lead_reference(schema, "  "))


def test_the_form_reports_each_bad_filter_on_its_own_block(schema: WorkspaceSchema) -> None:
    form, errors = read_timeline_form(
        schema, {BLOCK_LEAD: "??", BLOCK_TYPE: "9999", BLOCK_FROM: "2026-04-30", BLOCK_TO: "2026-04-01"}
    )
    assert form is None and set(errors) == {BLOCK_LEAD, BLOCK_TYPE, BLOCK_TO}
    form, errors = read_timeline_form(
        schema, {BLOCK_LEAD: "9812345678", BLOCK_TYPE: "1001", BLOCK_FROM: "2026-04-01", BLOCK_TO: None}
    )
    assert errors == {} and form is not None
    query = form.query("e" * 24, "Asia/Kolkata")
    assert query.type == "1001" and query.start_ms is not None and query.end_ms is None
    assert form.lead.value == "919812345678"


def test_the_timeline_modal_is_valid_and_lists_custom_activities(schema: WorkspaceSchema) -> None:
    view = timeline_modal(schema, channel="C1")
    View(**view).validate_json()
    groups = next(b for b in view["blocks"] if b["block_id"] == BLOCK_TYPE)["element"]["option_groups"]
    by_label = {g["label"]["text"]: [o["value"] for o in g["options"]] for g in groups}
    assert by_label["Custom activities"] == ["1001", "1002"]


def test_the_types_this_workspace_uses_come_first_and_unused_providers_are_left_out(
    schema: WorkspaceSchema,
) -> None:
    seen = {"OUTGOING_CALL": 7, "ACTION_1002": 3, "KNOWLARITY_INCOMING_CALL": 1}
    view = timeline_modal(schema, channel="C1", seen=seen)
    View(**view).validate_json()
    groups = next(b for b in view["blocks"] if b["block_id"] == BLOCK_TYPE)["element"]["option_groups"]
    first = groups[0]
    assert first["label"]["text"] == "Used in this workspace"
    assert [o["value"] for o in first["options"]] == ["OUTGOING_CALL", "1002", "KNOWLARITY_INCOMING_CALL"]
    offered = [o["value"] for g in groups for o in g["options"]]
    assert "MAQSAM_INCOMING_CALL" not in offered and "MCUBE_OUTGOING_CALL" not in offered
    assert "PAYMENT" in offered and len(offered) == len(set(offered))


def test_more_types_than_a_select_holds_switch_to_type_ahead(schema: WorkspaceSchema) -> None:
    many = tuple(CustomActionDef(f"ACTION_{2000 + n}", f"Activity {n}") for n in range(90))
    big = WorkspaceSchema(fields=schema.fields, custom_actions=many)
    view = timeline_modal(big, channel=None)
    View(**view).validate_json()
    element = next(b for b in view["blocks"] if b["block_id"] == BLOCK_TYPE)["element"]
    assert element["type"] == "external_select"


# --- the activity form ------------------------------------------------------------------------------------


def test_the_section_starts_with_a_dispatching_select_of_the_workspaces_activities(
    schema: WorkspaceSchema,
) -> None:
    (picker,) = activity.activity_blocks(schema, None, required=False)
    slack_valid(picker)
    assert picker["block_id"] == activity.BLOCK_PICK and picker["dispatch_action"] is True
    assert picker["optional"] is True
    assert [o["value"] for o in picker["element"]["options"]] == ["1001", "1002"]


def test_a_chosen_activity_brings_its_fields_with_their_own_required_flags(schema: WorkspaceSchema) -> None:
    blocks = activity.activity_blocks(schema, "ACTION_1001")
    for block in blocks:
        slack_valid(block)
    assert [b["block_id"] for b in blocks] == [
        "activity:type",
        "activity:1001:visit_date",
        "activity:1001:outcome",
        "activity:1001:visit_notes",
    ]
    assert [b["optional"] for b in blocks] == [False, False, True, True]
    assert blocks[0]["element"]["initial_option"]["value"] == "1001"
    assert all(b["element"]["action_id"] == ids.ACT_ACTIVITY_FIELD for b in blocks[1:])
    assert len(activity.activity_blocks(schema, "1001", max_blocks=2)) == 2


def test_the_payload_uses_the_bare_code_and_converted_values(schema: WorkspaceSchema) -> None:
    values = {
        "activity:type": "1001",
        "activity:1001:visit_date": "2026-06-01",
        "activity:1001:outcome": "positive",
        "activity:1001:visit_notes": None,
        "name": "not part of the activity",
    }
    action, errors = activity.activity_payload(schema, values)
    assert errors == {}
    assert action == {"type": "1001", "fields": {"visit_date": "01/06/2026 00:00:00", "outcome": "Positive"}}


def test_bad_values_are_reported_on_their_blocks_and_nothing_is_built(schema: WorkspaceSchema) -> None:
    action, errors = activity.activity_payload(
        schema, {"activity:type": "1001", "activity:1001:outcome": "Maybe"}
    )
    assert action is None
    assert "Visit date is required" in errors["activity:1001:visit_date"]
    assert "“Maybe” is not an option" in errors["activity:1001:outcome"]
    assert activity.activity_payload(schema, {"activity:type": "7777"})[1] == {
        activity.BLOCK_PICK: "That activity is no longer defined in TeleCRM — choose another one."
    }
    assert activity.activity_payload(schema, {"name": "x"}) == (None, {})


def test_choosing_an_activity_swaps_only_the_activity_section(schema: WorkspaceSchema) -> None:
    view = {
        "type": "modal",
        "callback_id": "lead_create",
        "title": {"type": "plain_text", "text": "New lead"},
        "submit": {"type": "plain_text", "text": "Create"},
        "private_metadata": '{"x": 1}',
        "blocks": [
            {"type": "input", "block_id": "phone", "label": {"type": "plain_text", "text": "Phone"},
             "element": {"type": "plain_text_input", "action_id": "value"}},
            *activity.activity_blocks(schema, "1002", required=False),
            {"type": "context", "block_id": "footer", "elements": [{"type": "mrkdwn", "text": "…"}]},
        ],
    }  # fmt: skip
    fresh = activity.updated_view(view, schema, "1001")
    ids_in_order = [b["block_id"] for b in fresh["blocks"]]
    assert ids_in_order == [
        "phone",
        "activity:type",
        "activity:1001:visit_date",
        "activity:1001:outcome",
        "activity:1001:visit_notes",
        "footer",
    ]
    assert fresh["blocks"][1]["optional"] is True
    assert fresh["callback_id"] == "lead_create" and fresh["private_metadata"] == '{"x": 1}'
    View(**fresh).validate_json()
    assert [
        b["block_id"]
        for b in activity.replace_activity_section([{"block_id": "a"}], [{"block_id": "activity:type"}])
    ] == [
        "a",
        "activity:type",
    ]


def test_the_activity_modal_is_valid_and_says_when_there_is_nothing_to_log(schema: WorkspaceSchema) -> None:
    view = activity_form.activity_modal(
        schema, lead_id="f" * 24, lead_name="Jane", channel="C1", action_code="1002"
    )
    View(**view).validate_json()
    empty = activity_form.activity_modal(
        WorkspaceSchema(fields=schema.fields), lead_id="f" * 24, lead_name="Jane", channel="C1"
    )
    View(**empty).validate_json()
    assert "submit" not in empty and "no custom activities" in empty["blocks"][1]["text"]["text"]


# --- the answer in the thread -----------------------------------------------------------------------------


def test_a_created_activity_is_reported_with_its_fields_and_id(schema: WorkspaceSchema) -> None:
    from commands.activity import result as activity

    action = {"type": "1002", "fields": {"attendees": ["Asha", "Ravi"], "demo_rating": 4}}
    text, blocks = activity.render_result(schema, action=action, user="U1", action_id="9" * 24)
    _valid_message(blocks)
    shown = blocks[0]["text"]["text"]
    assert shown.startswith("📌 <@U1> logged *Demo Call*")
    assert "*Demo rating:* 4 · *Attendees:* Asha, Ravi" in shown
    assert f"action id `{'9' * 24}`" in blocks[-1]["elements"][0]["text"] and "9" * 24 in text


def test_ignored_remarks_are_explained_field_by_field(schema: WorkspaceSchema) -> None:
    from commands.activity import result as activity

    action = {"type": "1001", "fields": {"visit_notes": "Roof leaks", "outcome": "Positive"}}
    remarks = [
        Remark(
            "actions[0].fields.visit_notes",
            "IGNORED",
            "Field 'visit_notes' is not defined for custom action 1001",
        ),
        Remark("actions[0].created_on", "IGNORED", "created_on cannot be in the future"),
    ]
    _, blocks = activity.render_result(schema, action=action, user="U1", action_id=None, remarks=remarks)
    _valid_message(blocks)
    shown = blocks[0]["text"]["text"]
    assert "TeleCRM did not save the *Site Visit* activity <@U1> logged" in shown
    assert "• *Visit notes* (sent “Roof leaks”): Field 'visit_notes' is not defined" in shown
    assert "• `actions[0].created_on`: created_on cannot be in the future" in shown
    assert "out of date" in shown


def test_a_retry_recognises_the_action_an_unanswered_attempt_created() -> None:
    from commands.activity import jobs as activity

    definition = CustomActionDef(
        "ACTION_1001",
        "Site Visit",
        fields=(
            FieldDef("visit_date", FieldType.DATE),
            FieldDef("tags", FieldType.TAGS),
            FieldDef("n", FieldType.TEXT),
        ),
    )
    sent = {"visit_date": "01/06/2026 00:00:00", "tags": ["VIP"], "n": "Hello"}
    assert activity._same_fields(
        definition, {"visit_date": 1780252200000, "tags": ["vip"], "n": "hello "}, sent
    )
    assert not activity._same_fields(definition, {"visit_date": 1, "tags": ["VIP"], "n": "Other"}, sent)
    assert not activity._same_fields(definition, {"tags": ["VIP"], "n": "Hello"}, sent)


def test_type_ahead_finds_builtin_and_custom_types(schema: WorkspaceSchema) -> None:
    from commands.timeline.form import type_options_for_query

    assert [o["value"] for o in type_options_for_query(schema, "site")] == ["1001"]
    found = [o["value"] for o in type_options_for_query(schema, "outgoing call")]
    assert found[0] == "OUTGOING_CALL" and "MAQSAM_OUTGOING_CALL" in found
    assert len(type_options_for_query(schema, "")) == 28


def test_activity_type_ahead_matches_names_and_codes(schema: WorkspaceSchema) -> None:
    assert [o["value"] for o in activity.action_options_for_query(schema, "demo")] == ["1002"]
    assert [o["value"] for o in activity.action_options_for_query(schema, "1001")] == ["1001"]
    assert activity.action_options_for_query(None, "x") == []
