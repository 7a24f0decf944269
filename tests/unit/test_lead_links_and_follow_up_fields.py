"""Pure pieces of lead links and follow-ups: which links are this workspace's lead links, which field
holds a follow-up, and the links Slack finds in a message."""

from __future__ import annotations

import pytest

from commands.unfurl.links import lead_id_in
from kit.lead_fields import follow_up_field
from slack_emulator.unfurls import links_in, unfurl_domain
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

TEMPLATE = "https://next.telecrm.in/{enterprise_id}/views/all-leads-v2/overlay/l/{lead_id}"
LEAD = "65f1c0ffee0123456789abcd"


@pytest.mark.parametrize(
    ("url", "found"),
    [
        (f"https://next.telecrm.in/E1/views/all-leads-v2/overlay/l/{LEAD}", LEAD),
        (f"http://NEXT.telecrm.in/E1/views/all-leads-v2/overlay/l/{LEAD}/?tab=timeline#x", LEAD),
        (f"https://next.telecrm.in/E2/views/all-leads-v2/overlay/l/{LEAD}", None),  # another workspace
        (f"https://www.next.telecrm.in/E1/views/all-leads-v2/overlay/l/{LEAD}", None),  # another host
        (f"https://next.telecrm.in:8443/E1/views/all-leads-v2/overlay/l/{LEAD}", None),
        (f"https://next.telecrm.in/E1/views/all-leads-v2/overlay/x/{LEAD}", None),  # another page
        (f"https://next.telecrm.in/E1/views/all-leads-v2/overlay/l/{LEAD}/more", None),
        ("https://next.telecrm.in/E1/views/all-leads-v2/overlay/l/", None),
        (f"ftp://next.telecrm.in/E1/views/all-leads-v2/overlay/l/{LEAD}", None),
        ("not a link", None),
    ],
)
def test_lead_links_of_this_workspace_only(url: str, found: str | None) -> None:
    assert lead_id_in(url, TEMPLATE, "E1") == found


def test_a_lead_id_in_the_query_string() -> None:
    template = "https://crm.example/lead?id={lead_id}&ws={enterprise_id}"
    assert lead_id_in(f"https://crm.example/lead?ws=E1&id={LEAD}", template, "E1") == LEAD
    assert lead_id_in(f"https://crm.example/other?id={LEAD}", template, "E1") is None


def schema(*fields: FieldDef) -> WorkspaceSchema:
    return WorkspaceSchema(fields=(FieldDef("phone", FieldType.PHONE, is_identifier=True), *fields))


def test_the_follow_up_field_is_the_configured_date_field_else_one_named_like_follow() -> None:
    due = FieldDef("due_on", FieldType.DATE, label="Next follow-up")
    follow = FieldDef("follow_up_date", FieldType.DATE)
    text = FieldDef("follow_notes", FieldType.TEXT)
    assert follow_up_field(schema(text, due, follow)) == due  # the first DATE field named like it
    assert follow_up_field(schema(text, follow), "FOLLOW_UP_DATE") == follow
    assert follow_up_field(schema(due, follow), "next follow-up") == due  # by label
    assert follow_up_field(schema(text, follow), "follow_notes") is None  # not a date: no reminders
    assert follow_up_field(schema(text)) is None


def test_links_slack_finds_in_a_message_and_the_domain_each_falls_under() -> None:
    text = "see <https://a.example/1|this>, https://b.example/2?x=1&amp;y=2. and <mailto:x@y.z> https://a.example/1"
    assert links_in(text) == ["https://a.example/1", "https://b.example/2?x=1&y=2"]
    assert unfurl_domain("https://www.next.telecrm.in/x", ["next.telecrm.in"]) == "next.telecrm.in"
    assert unfurl_domain("https://nottelecrm.in/x", ["telecrm.in"]) is None
    assert unfurl_domain("http://127.0.0.1:3000/x", ["127.0.0.1"]) == "127.0.0.1"
