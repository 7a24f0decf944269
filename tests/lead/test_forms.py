"""The /lead modals as pure functions: valid Block Kit within Slack's limits for any workspace."""

from __future__ import annotations

from typing import Any

from commands.lead import edit_form, forms, prefill, values
from kit import ids
from kit.activity_section import BLOCK_PICK, field_block_id
from kit.view_context import ViewContext
from slack_emulator import validate_view
from telecrm.sandbox.workspace import email_identifier_workspace
from tests.lead.conftest import RAHUL_EMAIL, schema_of, wide_workspace, with_rahul


def inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if b["type"] == "input"]


def by_id(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def assert_valid(view: dict[str, Any]) -> None:
    errors, _ = validate_view(view)
    assert errors == []
    assert len(view["blocks"]) <= 100
    assert len(view.get("private_metadata", "")) <= 3000


def test_new_lead_modal_has_one_input_per_field_identifier_first_and_required(demo_schema):
    view = forms.new_lead_view(demo_schema, channel="C0SALES")
    assert_valid(view)
    fields = inputs(view)
    lead_inputs = [b for b in fields if b["block_id"] != BLOCK_PICK]
    assert [b["block_id"] for b in lead_inputs][0] == "phone"
    assert lead_inputs[0]["optional"] is False
    assert sorted(b["block_id"] for b in lead_inputs) == sorted(f.api_name for f in demo_schema.fields)
    assert all(b["optional"] for b in lead_inputs[1:])
    assert view["callback_id"] == ids.VIEW_LEAD_CREATE
    assert ViewContext.from_metadata(view["private_metadata"]) == ViewContext(channel="C0SALES")


def test_elements_follow_the_field_types(demo_schema):
    view = forms.new_lead_view(demo_schema, channel="C0SALES")
    kind = {b["block_id"]: b["element"]["type"] for b in inputs(view)}
    assert kind["name"] == "plain_text_input"
    assert kind["phone"] == "plain_text_input"
    assert kind["email"] == "email_text_input"
    assert kind["deal_size"] == "number_input"
    assert kind["budget"] == "number_input"
    assert by_id(view, "deal_size")["element"]["is_decimal_allowed"] is True
    assert kind["follow_up_date"] in ("datepicker", "datetimepicker")
    assert kind["contact_source"] == "static_select"
    assert kind["city"] == "external_select"  # 162 options: more than a static select may hold
    assert kind["interests"] == "multi_static_select"
    assert kind["website"] == "url_text_input"
    assert kind["brochure"] == "url_text_input"
    assert kind["rating"] == "static_select"
    assert [o["value"] for o in by_id(view, "rating")["element"]["options"]] == ["1", "2", "3", "4", "5"]
    assert kind["status"] == "static_select"
    assert kind["assignee"] == "static_select"


def test_status_offers_only_active_statuses_grouped_by_stage(demo_schema):
    element = by_id(forms.new_lead_view(demo_schema, channel="C0SALES"), "status")["element"]
    offered = [o["value"] for g in element["option_groups"] for o in g["options"]]
    assert offered == [s.label for s in demo_schema.statuses if s.active]
    archived = [s.label for s in demo_schema.statuses if not s.active]
    assert archived and not set(archived) & set(offered)
    assert [g["label"]["text"] for g in element["option_groups"]] == ["Open", "Won", "Lost"]


def test_assignee_defaults_to_the_person_typing(demo_schema):
    view = forms.new_lead_view(demo_schema, channel="C0SALES", member_email=RAHUL_EMAIL)
    assert by_id(view, "assignee")["element"]["initial_option"]["value"] == RAHUL_EMAIL
    plain = forms.new_lead_view(demo_schema, channel="C0SALES")
    assert "initial_option" not in by_id(plain, "assignee")["element"]


def test_email_identifier_workspace_puts_email_first_and_required():
    schema = schema_of(email_identifier_workspace())
    view = forms.new_lead_view(schema, channel="C0SALES")
    assert_valid(view)
    first = inputs(view)[0]
    assert first["block_id"] == "email" and first["optional"] is False
    assert first["element"]["type"] == "email_text_input"
    assert by_id(view, "phone")["optional"] is True


def test_a_150_field_workspace_fits_with_the_most_used_first_and_a_more_button():
    schema = schema_of(wide_workspace(150))
    usage = {"extra_120": 9, "notes": 5}
    view = forms.new_lead_view(schema, channel="C0SALES", usage=usage)
    assert_valid(view)
    first_page = [b["block_id"] for b in inputs(view) if ":" not in b["block_id"]]
    assert first_page[:4] == ["phone", "assignee", "extra_120", "notes"]
    more = by_id(view, forms.MORE_BLOCK)["elements"][0]
    assert more["action_id"] == ids.ACT_OPEN_MORE_FIELDS
    rest = len(schema.fields) - len(first_page)
    assert f"({rest})" in more["text"]["text"]
    # the activity with the most fields still fits once chosen
    widest = max(schema.custom_actions, key=lambda a: len(a.fields))
    assert len(forms.with_activity(view, schema, widest.code)["blocks"]) <= 100

    second = forms.more_fields_view(schema, forms.input_block_ids(view["blocks"]))
    assert_valid(second)
    second_ids = [b["block_id"] for b in inputs(second)]
    assert sorted(first_page + second_ids) == sorted(f.api_name for f in schema.fields)
    assert second["callback_id"] == ids.VIEW_LEAD_MORE_FIELDS


def test_a_300_field_workspace_still_opens_and_every_field_is_reachable():
    schema = schema_of(wide_workspace(300))
    view = forms.new_lead_view(schema, channel="C0SALES")
    assert_valid(view)
    second = forms.more_fields_view(schema, forms.input_block_ids(view["blocks"]))
    assert_valid(second)
    other = by_id(second, forms.OTHER_BLOCK)
    reached = set(forms.input_block_ids(view["blocks"])) | set(forms.input_block_ids(second["blocks"]))
    unreached = [f.api_name for f in schema.fields if f.api_name not in reached]
    assert unreached and "last_field" in unreached
    assert "last_field" in other["hint"]["text"]


def test_more_fields_page_is_prefilled_from_what_was_saved(demo_schema):
    schema = schema_of(wide_workspace(150))
    view = forms.new_lead_view(schema, channel="C0SALES")
    second = forms.more_fields_view(
        schema, forms.input_block_ids(view["blocks"]), initial={"last_field": "kept"}
    )
    assert by_id(second, "last_field")["element"]["initial_value"] == "kept"
    noted = forms.with_more_saved(view["blocks"], "C0SALES", ["Last field"])
    assert (
        "1 more field(s) saved: Last field"
        in by_id({"blocks": noted}, forms.INTRO_BLOCK)["elements"][0]["text"]
    )


def test_choosing_an_activity_adds_its_fields_after_the_select(demo_schema):
    view = forms.new_lead_view(demo_schema, channel="C0SALES")
    visit = demo_schema.custom_action("Site Visit")
    chosen = forms.with_activity(view, demo_schema, visit.code)
    block_ids = [b.get("block_id") for b in chosen["blocks"]]
    at = block_ids.index(BLOCK_PICK)
    assert block_ids[at + 1 : at + 1 + len(visit.fields)] == [field_block_id(visit, f) for f in visit.fields]
    demo = demo_schema.custom_action("Demo Booked")
    switched = forms.with_activity(chosen, demo_schema, demo.code)
    assert not any(str(b.get("block_id")).endswith(":note") for b in switched["blocks"])
    assert_valid(switched)


def test_split_submission_separates_lead_activity_and_other_fields():
    state = {
        "phone": {"value": {"type": "plain_text_input", "value": "9876543210"}},
        "status": {"value": {"type": "static_select", "selected_option": {"value": "Fresh"}}},
        BLOCK_PICK: {
            ids.ACT_LEAD_ACTIVITY_PICK: {"type": "static_select", "selected_option": {"value": "1001"}}
        },
        "activity:1001:note": {"value": {"type": "plain_text_input", "value": "hi"}},
        forms.OTHER_BLOCK: {"value": {"type": "plain_text_input", "value": "city=Pune"}},
    }
    parts = forms.split_submission(state)
    assert parts["lead"] == {"phone": "9876543210", "status": "Fresh"}
    assert parts["activity_type"] == "1001"
    assert parts["activity"] == {BLOCK_PICK: "1001", "activity:1001:note": "hi"}
    assert parts["other"] == "city=Pune"


def test_edit_view_is_prefilled_and_its_untouched_baseline_matches_the_lead(demo_schema):
    current = {
        "phone": "919812345670",
        "name": "Rajesh Gupta",
        "status": "Negotiation",
        "rating": 5,
        "budget": "7000000",
        "interests": ["On-grid", "AMC"],
        "follow_up_date": 1795411349100,
        "city": "Surat",
    }
    view = edit_form.edit_view(demo_schema, "a" * 24, current, channel="C0SALES")
    assert_valid(view)
    ids_ = forms.input_block_ids(view["blocks"])
    assert "phone" not in ids_  # the identifier cannot change
    assert "919812345670" in str(by_id(view, "lead:fixed"))
    assert by_id(view, "name")["element"]["initial_value"] == "Rajesh Gupta"
    assert by_id(view, "city")["element"]["initial_option"]["value"] == "Surat"
    baseline = edit_form.edit_baseline(demo_schema, view)
    for key in ("name", "status", "rating", "budget", "interests", "city"):
        assert values.comparable(demo_schema, demo_schema.field(key), current[key]) == values.canonical(
            baseline[key]
        ), key
    assert baseline["follow_up_date"] == "23/11/2026 00:00:00"  # a date picker keeps the day


def test_edit_view_of_a_300_field_lead_fits(demo_schema):
    schema = schema_of(wide_workspace(300))
    current = {"phone": "919812345670", "last_field": "x", "name": "A"}
    view = edit_form.edit_view(schema, "a" * 24, current, channel="C0SALES")
    assert_valid(view)
    ids_ = forms.input_block_ids(view["blocks"])
    assert "last_field" in ids_ and "name" in ids_  # filled fields come first
    assert forms.OTHER_BLOCK in ids_


def test_canonical_compares_values_the_way_people_mean_them():
    assert values.canonical(5000) == values.canonical("5000.00")
    assert values.canonical(["b", "a"]) == values.canonical(["a", "b"])
    assert values.canonical("  ") is None and values.canonical([]) is None
    assert values.canonical("Jane") != values.canonical("jane")


def test_metadata_keeps_only_ids():
    text = ViewContext(channel="C0SALES", lead_id="a" * 24).to_metadata()
    assert len(text) < 100
    assert ViewContext.from_metadata(text) == ViewContext(channel="C0SALES", lead_id="a" * 24)
    assert ViewContext.from_metadata("not json") == ViewContext()


def test_assignee_field_is_found_by_name(demo_schema):
    assert forms.assignee_field(demo_schema).api_name == "assignee"
    other = schema_of(with_rahul(email_identifier_workspace()))
    assert forms.assignee_field(other).api_name == "assignee"


def test_prefill_finds_phone_email_and_name_in_a_message(demo_schema):
    found = prefill.prefill_from_text(demo_schema, "Call Meena on +91 98450 12345, <mailto:m@x.in|m@x.in>")
    assert found == {"phone": "919845012345", "email": "m@x.in", "name": "Meena"}
    assert prefill.prefill_from_text(demo_schema, "name: Jane Doe, 98765 43210")["name"] == "Jane Doe"
    assert prefill.prefill_from_text(demo_schema, "nothing useful here") == {}
    email_schema = schema_of(email_identifier_workspace())
    assert prefill.prefill_from_text(email_schema, "write to a@b.co")["email"] == "a@b.co"


def test_the_card_place_question_still_fits_a_full_form() -> None:
    schema = schema_of(wide_workspace(150))
    view = forms.new_lead_view(schema, channel="C0RANDOM", bot_in_channel=False)
    assert_valid(view)
    widest = max(schema.custom_actions, key=lambda a: len(a.fields))
    assert len(forms.with_activity(view, schema, widest.code)["blocks"]) <= 100
    values = {
        forms.CARD_PLACE_BLOCK: {"value": {"type": "checkboxes", "selected_options": [{"value": "dm"}]}}
    }
    assert forms.card_to_dm(values) and not forms.card_to_dm({})
