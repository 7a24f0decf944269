"""A realistic workspace: every field type, a long dropdown, archived statuses, inactive members."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import Block, Option, OptionGroup

from telecrm.schema import (
    CustomActionDef,
    FieldDef,
    FieldType,
    LostReasonDef,
    StatusDef,
    TeamMember,
    WorkspaceSchema,
)

CITIES = tuple(f"City {n:03d}" for n in range(1, 131))
LONG_OPTION = "Enterprise plan — " + "very long option label " * 8  # > 150 characters
MEDIUM_OPTION = "Premium support with a dedicated account manager and quarterly reviews (yearly)"  # 80


def build_schema() -> WorkspaceSchema:
    fields = (
        FieldDef("phone", FieldType.PHONE, label="Phone", is_identifier=True),
        FieldDef("name", FieldType.TEXT, label="Name"),
        FieldDef("email", FieldType.EMAIL, label="Email"),
        FieldDef("alt_phone", FieldType.PHONE, label="Alternate phone"),
        FieldDef("deal_size", FieldType.NUMBER, label="Deal size"),
        FieldDef("budget", FieldType.MONEY, label="Budget"),
        FieldDef("rating", FieldType.RATING, label="Rating"),
        FieldDef("status", FieldType.STATUS, label="Status"),
        FieldDef("lostReason", FieldType.LOST_REASON, label="Lost reason"),
        FieldDef("assignee", FieldType.ACTIVE_USERS, label="Assignee"),
        FieldDef(
            "source",
            FieldType.DROPDOWN,
            label="Source",
            options=("Website", "Referral", "Cold Call", "Walk-in", "Facebook Ads"),
        ),
        FieldDef("city", FieldType.DROPDOWN, label="City", options=CITIES),
        FieldDef("plan", FieldType.DROPDOWN, label="Plan", options=("Basic", MEDIUM_OPTION, LONG_OPTION)),
        FieldDef("interests", FieldType.TAGS, label="Interests", options=("VIP", "Returning", "Wholesale")),
        FieldDef("keywords", FieldType.TAGS, label="Keywords"),
        FieldDef("website", FieldType.WEBSITE, label="Website"),
        FieldDef("brochure", FieldType.MEDIALINK, label="Brochure"),
        FieldDef("follow_up_date", FieldType.DATE, label="Follow up date"),
        FieldDef("meeting_time", FieldType.DATE, label="Meeting time"),
        FieldDef("notes", FieldType.TEXT, label="Notes", description="Anything the next caller should know"),
    )
    statuses = (
        StatusDef("Fresh", "OPEN", "s1"),
        StatusDef("Interested", "OPEN", "s1"),
        StatusDef("Follow up", "OPEN", "s1"),
        StatusDef("Old Lead", "OPEN", "s1", active=False),
        StatusDef("Won", "WON", "s2"),
        StatusDef("Deal Closed", "WON", "s2"),
        StatusDef("Legacy Won", "WON", "s2", active=False),
        StatusDef("Lost", "LOST", "s3"),
        StatusDef("Not Interested", "LOST", "s3"),
        StatusDef("Junk", "LOST", "s3", active=False),
    )
    reasons = (
        LostReasonDef("No Need"),
        LostReasonDef("Too Expensive"),
        LostReasonDef("Went with competitor"),
        LostReasonDef("Wrong Number", active=False),
    )
    members = (
        TeamMember("Asha Rao", "asha@acme.in", role="Admin"),
        TeamMember("Ravi Kumar", "ravi.k@acme.in"),
        TeamMember("Ravi Kumar", "ravi.kumar@acme.in"),
        TeamMember("Meera Iyer", "Meera.Iyer@acme.in"),
        TeamMember("John Smith", "john@acme.in"),
        TeamMember("Priya Shah", "priya@acme.in"),
        TeamMember("Arjun Nair", "arjun@acme.in"),
        TeamMember("Fatima Khan", "fatima@acme.in"),
        TeamMember("Deepak Jain", "deepak@acme.in"),
        TeamMember("Sara Thomas", "sara@acme.in"),
        TeamMember("Vikram Singh", "vikram@acme.in"),
        TeamMember("Old Timer", "old@acme.in", status="Deleted"),
        TeamMember("On Leave", "leave@acme.in", status="Inactive"),
    )
    actions = (
        CustomActionDef(
            "ACTION_1001",
            "Site Visit",
            score=10,
            fields=(
                FieldDef("visit_date", FieldType.DATE, label="Visit date", required=True),
                FieldDef("outcome", FieldType.DROPDOWN, label="Outcome", options=("Positive", "Negative")),
                FieldDef("visit_notes", FieldType.TEXT, label="Visit notes"),
            ),
        ),
        CustomActionDef(
            "ACTION_1002",
            "Demo Call",
            fields=(
                FieldDef("demo_rating", FieldType.RATING, label="Demo rating"),
                FieldDef("attendees", FieldType.TAGS, label="Attendees"),
            ),
        ),
    )
    return WorkspaceSchema(
        fields=fields,
        identifier_api_name="phone",
        statuses=statuses,
        lost_reasons=reasons,
        custom_actions=actions,
        team_members=members,
        enterprise_name="Acme Realty",
    )


@pytest.fixture(scope="session")
def schema() -> WorkspaceSchema:
    return build_schema()


def slack_valid(block: dict[str, Any]) -> None:
    """Fail when slack_sdk's own models (or Slack's documented limits) say Slack would refuse the block."""
    parsed = Block.parse(block)
    assert parsed is not None
    parsed.validate_json()
    element = block.get("element") or {}
    options = list(element.get("options") or [])
    groups = element.get("option_groups") or []
    assert len(options) <= 100 and len(groups) <= 100
    for group in groups:
        OptionGroup(label=group["label"], options=group["options"]).validate_json()
        options.extend(group["options"])
    assert len(options) <= 100
    for option in [*options, *element.get("initial_options", []), element.get("initial_option")]:
        if option:
            Option(value=option["value"], text=option["text"]).validate_json()
            assert 0 < len(option["text"]["text"]) <= 75 and 0 < len(option["value"]) <= 150
    if "placeholder" in element:
        assert len(element["placeholder"]["text"]) <= 150
