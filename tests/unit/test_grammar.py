"""The slash-command grammars, with the examples the README gives for /lead, /payment and /timeline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.grammar import (
    LeadCommand,
    format_kv,
    lead_action,
    parse_lead,
    parse_payment,
    slack_escape,
    slack_unescape,
    split_currency,
    split_words,
    tokenize_kv,
)
from kit.timeline_grammar import BUILTIN_ACTION_TYPES, parse_timeline
from telecrm.schema import WorkspaceSchema

# --- tokenize_kv -------------------------------------------------------------------------------------


def test_spec_example() -> None:
    pairs, errors = tokenize_kv(
        'name="Jane Doe" phone=919999999999 email=jane@example.com status=Fresh interests=VIP,Returning'
    )
    assert errors == []
    assert pairs == [
        ("name", "Jane Doe"),
        ("phone", "919999999999"),
        ("email", "jane@example.com"),
        ("status", "Fresh"),
        ("interests", "VIP,Returning"),
    ]


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("name=“Jane Doe”", [("name", "Jane Doe")]),
        ("name=”Jane Doe”", [("name", "Jane Doe")]),
        ('note="say \\"hi\\""', [("note", 'say "hi"')]),
        ('interests="VIP, New customer"', [("interests", "VIP, New customer")]),
        ('interests=VIP,"New customer"', [("interests", "VIP,New customer")]),
        ('"Deal size"=5000', [("Deal size", "5000")]),
        ("formula=a=b", [("formula", "a=b")]),
        ("email=", [("email", "")]),
        ('name=""', [("name", "")]),
        ("  a=1\t\nb=2  ", [("a", "1"), ("b", "2")]),
        ("email=<mailto:jane@example.com|jane@example.com>", [("email", "jane@example.com")]),
        ("email=<mailto:jane@example.com>", [("email", "jane@example.com")]),
        ("phone=<tel:+919999999999|+91 99999 99999>", [("phone", "+919999999999")]),
        ("phone=<tel:+919999999999|+919999999999>", [("phone", "+919999999999")]),
        ("website=<http://example.com|example.com>", [("website", "example.com")]),
        ("website=<https://example.com/a?b=1&amp;c=2>", [("website", "https://example.com/a?b=1&c=2")]),
        ("company=A&amp;B note=&lt;urgent&gt;", [("company", "A&B"), ("note", "<urgent>")]),
        ("path=C:\\temp", [("path", "C:\\temp")]),
    ],
)
def test_tokenize_forms(text: str, pairs: list[tuple[str, str]]) -> None:
    assert tokenize_kv(text) == (pairs, [])


def test_tokenize_errors_are_specific_and_keep_good_pairs() -> None:
    pairs, errors = tokenize_kv('phone=9199 foo name="Jane')
    assert pairs == [("phone", "9199")]
    assert errors == ["expected key=value, got “foo”", "unclosed quote after name="]
    assert tokenize_kv("=value")[1] == ["missing field name before “=value”"]
    assert tokenize_kv('"oops')[1] == ['unclosed quote in “"oops”']


def test_format_kv_round_trip_example() -> None:
    pairs = [("name", "Jane “JD” Doe"), ("note", 'a\\b "c"'), ("empty", ""), ("k", "x=y")]
    assert tokenize_kv(slack_escape(format_kv(pairs))) == (pairs, [])


def test_slack_unescape_leaves_mentions_alone() -> None:
    assert slack_unescape("<@U123> <#C1|sales> &amp;") == "<@U123> <#C1|sales> &"


def test_split_words() -> None:
    assert split_words('a "b c" d') == (["a", "b c", "d"], [])
    assert split_words('a "b')[1] == ['unclosed quote in “"b”']


# --- /lead -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "new"])
def test_lead_modal(text: str) -> None:
    assert parse_lead(text) == LeadCommand("modal")


@pytest.mark.parametrize("text", ["help", "HELP", "?", "--help"])
def test_lead_help(text: str) -> None:
    assert parse_lead(text) == LeadCommand("help")


def test_lead_create_spec_example() -> None:
    cmd = parse_lead(
        'name="Jane Doe" phone=919999999999 email=jane@example.com status=Fresh interests=VIP,Returning'
    )
    assert cmd.action == "create" and cmd.errors == []
    assert dict(cmd.pairs)["interests"] == "VIP,Returning"
    assert parse_lead("create phone=9199").pairs == [("phone", "9199")]


def test_lead_text_is_unescaped_once() -> None:
    assert parse_lead("company=A&amp;amp;B").pairs == [("company", "A&amp;B")]
    assert parse_lead("update 919 note=&amp;lt;").pairs == [("note", "&lt;")]


def test_lead_create_with_bad_words_reports_them() -> None:
    cmd = parse_lead("phone=919999999999 Jane")
    assert cmd.action == "create" and cmd.errors == ["expected key=value, got “Jane”"]


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("find 919999999999", "919999999999"),
        ("find Jane Doe", "Jane Doe"),
        ('FIND "Jane Doe"', "Jane Doe"),
        ("find <mailto:jane@example.com|jane@example.com>", "jane@example.com"),
        ("search 603d2b2f9b1e8a001c8e4f5c", "603d2b2f9b1e8a001c8e4f5c"),
    ],
)
def test_lead_find(text: str, query: str) -> None:
    cmd = parse_lead(text)
    assert (cmd.action, cmd.query, cmd.errors) == ("find", query, [])


def test_lead_find_without_query_is_a_find_that_explains_what_it_needs() -> None:
    cmd = parse_lead("find")
    assert (cmd.action, cmd.query, cmd.errors) == ("find", "", [])


def test_lead_update() -> None:
    cmd = parse_lead("update 603d2b2f9b1e8a001c8e4f5c status=Won rating=5")
    assert (cmd.action, cmd.target, cmd.pairs, cmd.errors) == (
        "update",
        "603d2b2f9b1e8a001c8e4f5c",
        [("status", "Won"), ("rating", "5")],
        [],
    )
    quoted = parse_lead('update "+91 99999 99999" name="Jane D"')
    assert quoted.target == "+91 99999 99999" and quoted.pairs == [("name", "Jane D")]


@pytest.mark.parametrize("text", ["update", "update status=Won", 'update "919', 'update "" status=Won'])
def test_lead_update_needs_a_target(text: str) -> None:
    cmd = parse_lead(text)
    assert cmd.action == "help" and cmd.errors


def test_lead_update_needs_changes() -> None:
    cmd = parse_lead("update 919999999999")
    assert cmd.action == "update" and "what to change" in cmd.errors[0]


def test_lead_unparsable_is_help_with_a_pointer() -> None:
    cmd = parse_lead("Jane Doe 919999999999")
    assert cmd.action == "help"
    assert "/lead find Jane Doe 919999999999" in cmd.errors[0]
    assert parse_lead('name="Jane').action == "help"


# --- /payment ----------------------------------------------------------------------------------------


def test_payment_spec_example() -> None:
    cmd = parse_payment("919999999999 5000 INR PENDING")
    assert (cmd.action, cmd.lead, cmd.amount, cmd.currency, cmd.status, cmd.errors) == (
        "record",
        "919999999999",
        "5000",
        "INR",
        "PENDING",
        [],
    )


@pytest.mark.parametrize(
    ("text", "amount", "currency", "status"),
    [
        ("919999999999 5000", "5000", "INR", "PENDING"),
        ("919999999999 5,000 completed usd", "5000", "USD", "COMPLETED"),
        ("919999999999 ₹5000", "5000", "INR", "PENDING"),
        ("919999999999 ₹ 5000", "5000", "INR", "PENDING"),
        ("919999999999 $50", "50", "USD", "PENDING"),
        ("919999999999 5000.50 aed", "5000.50", "AED", "PENDING"),
        ("919999999999 Rs. 5,000", "5000", "INR", "PENDING"),
        ("919999999999 Rs.5,000 paid", "5000", "INR", "COMPLETED"),
        ("919999999999 INR 1,00,000 processing", "100000", "INR", "PROCESSING"),
        ("919999999999 50USD", "50", "USD", "PENDING"),
        ("919999999999 refunded 75 sgd", "75", "SGD", "REFUNDED"),
        ("919999999999 5000 canceled", "5000", "INR", "CANCELLED"),
    ],
)
def test_payment_forms(text: str, amount: str, currency: str, status: str) -> None:
    cmd = parse_payment(text)
    assert cmd.errors == []
    assert (cmd.action, cmd.amount, cmd.currency, cmd.status) == ("record", amount, currency, status)


def test_payment_default_currency() -> None:
    assert parse_payment("919999999999 5000", default_currency="aed").currency == "AED"
    cmd = parse_payment("919999999999 5000", default_currency="EUR")
    assert cmd.errors and "EUR" in cmd.errors[0]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("919999999999 0", "more than 0"),
        ("919999999999 -5", "more than 0"),
        ("919999999999 abc", "not an amount"),
        ("919999999999 5,00", "ambiguous"),
        ("919999999999 5000 EUR", "not a supported currency"),
        ("919999999999 EUR 5000", "not a supported currency"),
        ("919999999999 5000 INR USD", "two currencies"),
        ("919999999999 $50 INR", "two currencies"),
        ("919999999999 5000 PENDING COMPLETED", "two statuses"),
        ("919999999999 5000 6000", "two amounts"),
        ("919999999999 5000 soon-ish", "not a currency or status"),
        ("919999999999 INR PENDING", "amount is missing"),
        ('"919999 5000', "unclosed quote"),
        ('"" 5000', "say which lead first"),
        ('" " 5000 INR PAID', "say which lead first"),
    ],
)
def test_payment_refusals(text: str, words: str) -> None:
    cmd = parse_payment(text)
    assert cmd.errors, text
    assert any(words in e for e in cmd.errors), cmd.errors


def test_payment_modal_and_help() -> None:
    assert parse_payment("").action == "modal"
    pre = parse_payment("919999999999")
    assert (pre.action, pre.lead) == ("modal", "919999999999")
    assert parse_payment("help").action == "help"
    assert parse_payment("<mailto:jane@example.com|jane@example.com> 10").lead == "jane@example.com"


def test_split_currency() -> None:
    assert split_currency("₹5,000") == ("5,000", "INR")
    assert split_currency("5000$") == ("5000", "USD")
    assert split_currency("AED100") == ("100", "AED")
    assert split_currency("5000") == ("5000", None)
    assert split_currency("5000/-") == ("5000", None)


# --- /timeline ---------------------------------------------------------------------------------------


def test_timeline_spec_example() -> None:
    cmd = parse_timeline("919999999999 OUTGOING_CALL 01/04/2026..30/04/2026")
    assert (cmd.action, cmd.lead, cmd.type, cmd.date_from, cmd.date_to, cmd.errors) == (
        "show",
        "919999999999",
        "OUTGOING_CALL",
        "01/04/2026 00:00:00",
        "30/04/2026 23:59:59",
        [],
    )


@pytest.mark.parametrize(
    ("text", "type_", "date_from", "date_to"),
    [
        ("919999999999", None, None, None),
        ("919999999999 outgoing_call", "OUTGOING_CALL", None, None),
        ("919999999999 outgoing-call", "OUTGOING_CALL", None, None),
        ('919999999999 "missed call"', "MISSED_CALL", None, None),
        ("919999999999 payment", "PAYMENT", None, None),
        ("919999999999 Email sent", "OUTGOING_EMAIL", None, None),
        ("919999999999 01/04/2026 .. 30/04/2026", None, "01/04/2026 00:00:00", "30/04/2026 23:59:59"),
        ("919999999999 1/4/2026..", None, "01/04/2026 00:00:00", None),
        ("919999999999 1/4/2026 ..", None, "01/04/2026 00:00:00", None),
        ("919999999999 .. 30/04/2026", None, None, "30/04/2026 23:59:59"),
        ("919999999999 01/04/2026…30/04/2026", None, "01/04/2026 00:00:00", "30/04/2026 23:59:59"),
        ("919999999999 ..30/04/2026", None, None, "30/04/2026 23:59:59"),
        ("919999999999 15/04/2026", None, "15/04/2026 00:00:00", "15/04/2026 23:59:59"),
        ("919999999999 2026-04-01..2026-04-30", None, "01/04/2026 00:00:00", "30/04/2026 23:59:59"),
        (
            "919999999999 01/04/2026..01/04/2026 INCOMING_CALL",
            "INCOMING_CALL",
            "01/04/2026 00:00:00",
            "01/04/2026 23:59:59",
        ),
    ],
)
def test_timeline_forms(text: str, type_: str | None, date_from: str | None, date_to: str | None) -> None:
    cmd = parse_timeline(text)
    assert cmd.errors == []
    assert (cmd.action, cmd.lead, cmd.type, cmd.date_from, cmd.date_to) == (
        "show",
        "919999999999",
        type_,
        date_from,
        date_to,
    )


def test_timeline_custom_actions(schema: WorkspaceSchema) -> None:
    actions = schema.custom_actions
    for text in ("919 Site Visit", '919 "site visit"', "919 ACTION_1001", "919 1001"):
        cmd = parse_timeline(text, custom_actions=actions)
        assert (cmd.type, cmd.errors) == ("1001", []), text
    unknown = parse_timeline("919 Dance", custom_actions=actions)
    assert "not an activity type" in unknown.errors[0] and "Site Visit, Demo Call" in unknown.errors[0]


def test_timeline_types_are_understood_and_suggested_by_the_labels_the_form_shows(
    schema: WorkspaceSchema,
) -> None:
    actions = schema.custom_actions
    assert parse_timeline("919 payments").type == "PAYMENT"
    assert parse_timeline("919 site visits", custom_actions=actions).type == "1001"
    calls = parse_timeline("919 calls").errors[0]
    assert "could mean several types" in calls and "Incoming call, Outgoing call" in calls
    unknown = parse_timeline("919 Dance").errors[0]
    assert "Outgoing call, Incoming call, Payment" in unknown and "OUTGOING_CALL" not in unknown


def test_timeline_known_types_can_be_narrowed() -> None:
    cmd = parse_timeline("919 SMS_THING", known_types=["SMS_THING"])
    assert cmd.type == "SMS_THING" and cmd.errors == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("919 30/04/2026..01/04/2026", "ends (01/04/2026) before it starts (30/04/2026)"),
        ("919 31/02/2026..01/03/2026", "“31/02/2026” is not a date"),
        ("919 01/04/2026..tomorrow", "“tomorrow” is not a date"),
        ("919 ..", "range is empty"),
        ("919 01/04/2026..02/04/2026 03/04/2026", "more than one date range"),
        ("919 BOGUS_TYPE", "not an activity type"),
    ],
)
def test_timeline_refusals(text: str, words: str) -> None:
    cmd = parse_timeline(text)
    assert any(words in e for e in cmd.errors), cmd.errors


def test_timeline_modal_and_help() -> None:
    assert parse_timeline("").action == "modal"
    assert parse_timeline("help").action == "help"
    assert parse_timeline('"919').action == "help"


def test_builtin_action_types_cover_the_documented_ones() -> None:
    for code in (
        "INCOMING_CALL",
        "OUTGOING_CALL",
        "MISSED_CALL",
        "CALL_ACTION",
        "MAQSAM_INCOMING_CALL",
        "KNOWLARITY_OUTGOING_CALL",
        "CALLER_DESK_INCOMING_CALL",
        "INCOMING_WHATSAPP_MSG",
        "OUTGOING_WHATSAPP_MSG",
        "WHATSAPP_ACTION",
        "OUTGOING_SMS",
        "OUTGOING_EMAIL",
        "LEAD_ASSIGNMENT",
        "SYSTEM_NOTE",
        "CALL_FOLLOWUP_COMPLETION_ACTION",
        "TODO_TASK_COMPLETION_ACTION",
        "GOOGLE_MEET_COMPLETION_ACTION",
        "REJECTED_CALL",
    ):
        emoji, human = BUILTIN_ACTION_TYPES[code]
        assert emoji and human
    assert BUILTIN_ACTION_TYPES["PAYMENT"] == ("💰", "Payment")
    assert BUILTIN_ACTION_TYPES["INCOMING_CALL"] == ("📞", "Incoming call")


@pytest.mark.parametrize(
    ("text", "lead", "amount", "currency", "status"),
    [
        ("Jane Doe 5000", "Jane Doe", "5000", "INR", "PENDING"),
        ("Jane Doe INR 5000 completed", "Jane Doe", "5000", "INR", "COMPLETED"),
        ("Anita Rao Kulkarni $50", "Anita Rao Kulkarni", "50", "USD", "PENDING"),
        ('"Jane Doe" 5000 USD', "Jane Doe", "5000", "USD", "PENDING"),
        ("919999999999 5000", "919999999999", "5000", "INR", "PENDING"),
    ],
)
def test_a_lead_name_of_several_words_needs_no_quotes(
    text: str, lead: str, amount: str, currency: str, status: str
) -> None:
    cmd = parse_payment(text)
    assert not cmd.errors, cmd.errors
    assert (cmd.lead, cmd.amount, cmd.currency, cmd.status) == (lead, amount, currency, status)


def test_a_name_alone_opens_the_form_for_that_lead() -> None:
    cmd = parse_payment("Jane Doe")
    assert (cmd.action, cmd.lead) == ("modal", "Jane Doe")


_LEAD_PIECES = [*"ab =\"'\t\n&<>|:/?-", "help", "find", "update", "new", "import", "&lt;", "<https://x.io|x>"]


@given(st.lists(st.sampled_from(_LEAD_PIECES), max_size=12).map("".join))
def test_lead_action_is_what_the_full_reading_decides(text: str) -> None:
    """The acknowledgement reads only the first word: it must agree with the full reading, except
    that a create, update or find whose words are malformed (an unclosed quote) is answered as help,
    naming what was wrong."""
    action, full = lead_action(text), parse_lead(text)
    malformed = full.action == "help" and bool(full.errors)
    assert action == full.action or (action in ("create", "update", "find") and malformed)


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("", "modal"),
        ("new", "modal"),
        ("NEW name=A", "create"),
        ('name="A B" phone=1', "create"),
        ("update 123 status=Won", "update"),
        ("Edit 123", "update"),
        ("find jane", "find"),
        ("import", "import"),
        ("?", "help"),
        ("jane", "help"),
        ('name="unclosed', "create"),
    ],
)
def test_lead_action(text: str, action: str) -> None:
    assert lead_action(text) == action
