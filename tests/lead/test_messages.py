"""What /lead says: pure renderers within Slack's message limits, and the typed-command planner."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.lead.command import plan_command
from commands.lead.find import find_candidates
from commands.lead.messages import (
    Change,
    FoundLead,
    duplicate_message,
    find_message,
    help_message,
    problems_message,
    remark_lines,
    update_summary,
)
from kit import ids
from kit.fields import Problem
from slack_emulator import validate_message_blocks
from telecrm.models import ActionOutcome, Remark, WriteResult
from telecrm.sandbox.workspace import demo_workspace, email_identifier_workspace
from tests.lead.conftest import schema_of, wide_workspace, with_rahul


def test_help_lists_the_workspaces_real_fields_and_types(demo_schema):
    text, blocks = help_message(demo_schema)
    assert validate_message_blocks(blocks) == []
    shown = str(blocks)
    for expected in ("`city`", "`budget`", "Budget (INR)", "an amount more than 0", "`phone`", "identifier"):
        assert expected in shown
    assert "/lead find" in shown and "/lead update" in shown


def test_help_of_a_300_field_workspace_stays_within_slack_limits():
    schema = schema_of(wide_workspace(300))
    _, blocks = help_message(schema, ["could not read “x”"])
    assert validate_message_blocks(blocks) == []
    assert len(blocks) <= 50
    assert "could not read" in str(blocks[0])


def test_help_names_the_identifier_of_an_email_workspace():
    schema = schema_of(email_identifier_workspace())
    _, blocks = help_message(schema)
    assert "email=…" in str(blocks)


def test_problems_message_names_each_field_once():
    problems = [Problem("phone", "Phone", "Phone: “12” is too short"), 'unclosed quote in “name="x”']
    text, blocks = problems_message(problems)
    assert validate_message_blocks(blocks) == []
    assert "Phone: “12” is too short" in text and "unclosed quote" in text
    assert "nothing was sent to TeleCRM" in text


def test_remarks_name_the_field_the_value_and_telecrms_reason(demo_schema):
    result = WriteResult(
        lead_id="x" * 24,
        actions=[ActionOutcome(None, "IGNORED"), ActionOutcome(None, "IGNORED")],
        remarks=[
            Remark("fields.gst_number", "IGNORED", "Text is longer than the 15 characters this field allows"),
            Remark("actions[0].fields.outcome", "IGNORED", "Value must be one of: Interested"),
        ],
    )
    lines = remark_lines(
        demo_schema,
        result,
        {"gst_number": "27AAAPL1234C1ZVTOOLONG"},
        [{"type": "1001", "fields": {"outcome": "Maybe"}}, {"type": "1002", "fields": {}}],
    )
    assert (
        lines[0].startswith("• *GSTIN*")
        and "27AAAPL1234C1ZVTOOLONG" in lines[0]
        and "15 characters" in lines[0]
    )
    assert "Site Visit" in lines[1] and "Outcome" in lines[1] and "Maybe" in lines[1]
    assert "not saved" in lines[1]
    assert "Demo Booked" in lines[2] and "not saved" in lines[2]


def test_every_remark_on_an_ignored_activity_says_it_was_not_saved(demo_schema):
    result = WriteResult(
        lead_id="x" * 24,
        actions=[
            ActionOutcome(None, "IGNORED"),
            ActionOutcome("a" * 24, "CREATED"),
            ActionOutcome(None, "IGNORED"),
        ],
        remarks=[
            Remark("actions[0].fields.outcome", "IGNORED", "Value must be one of: Interested"),
            Remark("actions[1].fields.note", "IGNORED", "Text is too long"),
            Remark("actions[2].fields.amount", "IGNORED", "Amount must be greater than 0"),
        ],
    )
    lines = remark_lines(
        demo_schema,
        result,
        {},
        [
            {"type": "1001", "fields": {"outcome": "Maybe"}},
            {"type": "1001", "fields": {"note": "long"}},
            {"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "0"},
        ],
    )
    assert lines == [
        "• The activity *Site Visit* was not saved — *Outcome* (sent “Maybe”): Value must be one of: Interested",
        "• Activity *Site Visit*, *Visit notes* (sent “long”): Text is too long",
        "• The activity *Payment* was not saved — *amount* (sent “0”): Amount must be greater than 0",
    ]


def test_duplicate_message_links_the_lead_and_offers_the_update(demo_schema):
    text, blocks = duplicate_message(
        demo_schema,
        identifier_value="919812345670",
        lead_id="a" * 24,
        lead_name="Rajesh Gupta",
        link="https://example.com/lead",
        permalink="https://slack.example/p1",
        token="tok",
        changes=["*Rating*: “3”"],
    )
    assert validate_message_blocks(blocks) == []
    assert "already exists" in text and "Rajesh Gupta" in text
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == ids.ACT_UPDATE_EXISTING and button["value"] == "tok"
    assert "Open its thread" in str(blocks) and "Open in TeleCRM" in str(blocks)


def test_find_message_pages_and_fits(demo_schema):
    leads = [
        FoundLead(
            f"{n:024d}",
            {"name": f"Lead {n}", "phone": "919812345670", "status": "Fresh"},
            "https://x/y",
            None,
        )
        for n in range(10)
    ]
    text, blocks = find_message(demo_schema, "Lead", leads, total=25, skip=10, more_value='{"s": 20}')
    assert validate_message_blocks(blocks) == []
    assert "25 leads match" in text and "showing 11–20" in text
    assert blocks[-1]["elements"][0]["action_id"] == ids.ACT_FIND_MORE
    _, none = find_message(demo_schema, "zz", [], total=0)
    assert "No lead matches" in str(none)


def test_update_summary_reads_field_old_to_new():
    text, blocks = update_summary("U1", [Change("Status", "Fresh", "Qualified")])
    assert text == ":pencil2: updated by <@U1>: *Status*: Fresh → Qualified"
    text, blocks = update_summary("U1", [Change("Status", "Fresh", "Won"), Change("Rating", "—", "4")])
    assert validate_message_blocks(blocks) == []
    assert "• *Rating*: — → 4" in text


def test_find_candidates_guess_where_to_look(demo_schema):
    assert find_candidates(demo_schema, "98123 45670")[0] == ("phone", "919812345670")
    assert ("alternate_phone", "919812345670") in find_candidates(demo_schema, "98123 45670")
    assert find_candidates(demo_schema, "Jane@Example.com")[0] == ("email", "jane@example.com")
    assert find_candidates(demo_schema, "Jane Doe") == [("name", "Jane Doe")]
    assert find_candidates(demo_schema, "A" * 24)[0] == ("id", "a" * 24)
    email_schema = schema_of(email_identifier_workspace())
    assert find_candidates(email_schema, "x@y.in")[0] == ("email", "x@y.in")


def test_plan_turns_text_into_the_right_action(demo_schema):
    assert plan_command(demo_schema, "").kind == "modal"
    assert plan_command(demo_schema, "help").kind == "reply"
    assert plan_command(demo_schema, "find Jane").query == "Jane"
    create = plan_command(demo_schema, 'Name="Jane Doe" PHONE=9876543210 interests=VIP,Returning')
    assert create.kind == "create"
    assert create.fields == {"name": "Jane Doe", "phone": "919876543210", "interests": ["VIP", "Returning"]}
    update = plan_command(demo_schema, "update 919876543210 rating=4")
    assert (update.kind, update.target, update.fields) == ("update", "919876543210", {"rating": 4})
    unknown = plan_command(demo_schema, "phone=9876543210 colour=red")
    assert unknown.kind == "reply" and "colour" in unknown.text
    assert plan_command(None, "phone=9876543210").kind == "later"  # read once the schema is cached


_SCHEMA = schema_of(with_rahul(demo_workspace()))

LEAD_WORDS = [
    "find", "update", "help", "phone=", "name=", '"', "“", "=", ",", "rating=9", "city=Pune", "9876543210",
    "status=Fresh", "<mailto:a@b.c|a@b.c>", "&amp;", " ", "email=", "x=y", "919812345670",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(),
        st.lists(
            st.sampled_from(LEAD_WORDS),
            max_size=12,
        ).map("".join),
    )
)
def test_any_text_is_planned_without_crashing_and_replies_are_valid_slack(text):
    schema = _SCHEMA
    plan = plan_command(schema, text)
    assert plan.kind in {"reply", "modal", "create", "update", "find"}
    if plan.kind == "reply":
        assert plan.text.strip()
        assert validate_message_blocks(plan.blocks) == []
    if plan.kind == "create":
        assert schema.identifier.api_name in plan.fields
