"""Every TeleCRM type: what is accepted, what TeleCRM receives, and what a person is told when wrong."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from kit.fields import (
    FieldError,
    Problem,
    convert,
    describe_type,
    normalize_amount,
    option_value,
    option_value_to_label,
    resolve_keys,
    validate_fields,
)
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

from .conftest import CITIES, LONG_OPTION

NOW = datetime(2026, 11, 21, 15, 5, 0)


def ok(schema: WorkspaceSchema, name: str, raw: object, **kw: object) -> object:
    field = schema.field(name)
    assert field is not None
    return convert(field, raw, schema, now=NOW, **kw)  # type: ignore[arg-type]


def bad(schema: WorkspaceSchema, name: str, raw: object, **kw: object) -> str:
    field = schema.field(name)
    assert field is not None
    with pytest.raises(FieldError) as info:
        convert(field, raw, schema, now=NOW, **kw)  # type: ignore[arg-type]
    assert info.value.message.startswith(f"{field.label}: "), "messages name the field"
    assert info.value.detail in info.value.message
    return info.value.message


# --- text / email ------------------------------------------------------------------------------------


def test_text_is_trimmed(schema: WorkspaceSchema) -> None:
    assert ok(schema, "name", "  Jane Doe ") == "Jane Doe"
    assert ok(schema, "name", 42) == "42"


@pytest.mark.parametrize("raw", ["", "   ", None, [], ["  "]])
def test_empty_is_required(schema: WorkspaceSchema, raw: object) -> None:
    assert "required" in bad(schema, "name", raw)


def test_text_refuses_structures(schema: WorkspaceSchema) -> None:
    assert "single value" in bad(schema, "name", {"a": 1})
    assert "single value" in bad(schema, "name", ["a", "b"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM ", "Jane.Doe@example.com"),
        ("mailto:jane@example.com", "jane@example.com"),
    ],
)
def test_email_normalised(schema: WorkspaceSchema, raw: str, expected: str) -> None:
    assert ok(schema, "email", raw) == expected


@pytest.mark.parametrize("raw", ["jane", "jane@", "jane@example", "a b@example.com", "@example.com"])
def test_email_refused(schema: WorkspaceSchema, raw: str) -> None:
    message = bad(schema, "email", raw)
    assert "is not an email address" in message and "jane@example.com" in message


# --- phone -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "+91 98765 43210",
        "098765 43210",
        "9876543210",
        "919876543210",
        "+91-98765-43210",
        "(+91) 98765 43210",
        "0091 98765 43210",
        "tel:+919876543210",
        9876543210,
    ],
)
def test_phone_forms_all_become_digits_with_country_code(schema: WorkspaceSchema, raw: object) -> None:
    assert ok(schema, "phone", raw) == "919876543210"


def test_phone_examples_from_the_docs(schema: WorkspaceSchema) -> None:
    assert ok(schema, "phone", "919999999999") == "919999999999"
    assert ok(schema, "phone", "+919999999999") == "919999999999"
    assert ok(schema, "phone", "9999999999") == "919999999999"


def test_phone_foreign_numbers(schema: WorkspaceSchema) -> None:
    assert ok(schema, "phone", "+1 415 555 2671") == "14155552671"
    assert ok(schema, "phone", "+44 20 7946 0958") == "442079460958"
    assert ok(schema, "phone", "447946095811") == "447946095811"  # no '+', not Indian → read as international


def test_phone_default_country_code(schema: WorkspaceSchema) -> None:
    assert ok(schema, "phone", "(415) 555-2671", default_country_code="1") == "14155552671"
    assert ok(schema, "phone", "050 123 4567", default_country_code="971") == "971501234567"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12ab", "letters"),
        ("98765abcde", "letters"),
        ("123", "too short"),
        ("99999", "too short"),
        ("+91 98765 43210 98765 43210", "too long"),
        ("+999 1234567", "not a valid"),
    ],
)
def test_phone_refused_with_reason_and_example(schema: WorkspaceSchema, raw: str, reason: str) -> None:
    message = bad(schema, "phone", raw)
    assert reason in message
    assert "country code + number, e.g. 919876543210" in message


def test_phone_message_matches_the_spec_wording(schema: WorkspaceSchema) -> None:
    assert bad(schema, "phone", "12ab").startswith("Phone: “12ab” is not a phone number")


# --- number / money / rating -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,000", 1000),
        ("1,00,000", 100000),
        ("12.5", 12.5),
        (" 42 ", 42),
        ("-3", -3),
        (".5", 0.5),
        (7, 7),
        (2.25, 2.25),
        (Decimal("3"), 3),
    ],
)
def test_number(schema: WorkspaceSchema, raw: object, expected: float) -> None:
    value = ok(schema, "deal_size", raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    "raw", ["abc", "nan", "inf", "1e3", "12,5", "5,00", "1.2.3", float("nan"), float("inf"), True]
)
def test_number_refused(schema: WorkspaceSchema, raw: object) -> None:
    bad(schema, "deal_size", raw)


def test_number_ambiguous_comma_explained(schema: WorkspaceSchema) -> None:
    assert "ambiguous" in bad(schema, "deal_size", "12,5")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1000", "1000"),
        ("1000.5", "1000.5"),
        ("1,000", "1000"),
        ("₹5,000.50", "5000.50"),
        ("Rs. 5,000", "5000"),
        ("Rs 750", "750"),
        ("$50", "50"),
        ("5000 INR", "5000"),
        ("5000/-", "5000"),
        ("0.01", "0.01"),
        ("007", "7"),
        (1000, "1000"),
        (1000.5, "1000.5"),
        (Decimal("12.50"), "12.50"),
    ],
)
def test_money_is_a_numeric_string(schema: WorkspaceSchema, raw: object, expected: str) -> None:
    assert ok(schema, "budget", raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("0", "more than 0"),
        ("-5", "more than 0"),
        ("0.00", "more than 0"),
        ("abc", "not an amount"),
        ("5,00", "ambiguous"),
        ("1e5", "not an amount"),
        ("9" * 20, "too large"),
        (float("nan"), "not an amount"),
    ],
)
def test_money_refused(schema: WorkspaceSchema, raw: object, words: str) -> None:
    assert words in bad(schema, "budget", raw)


def test_normalize_amount_directly() -> None:
    assert normalize_amount("₹5,000.50") == "5000.50"
    with pytest.raises(FieldError, match="more than 0"):
        normalize_amount("0")
    with pytest.raises(FieldError):
        normalize_amount(None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(4, 4), ("4", 4), ("4.0", 4), (5.0, 5), ("1", 1), ("5 stars", 5), ("3/5", 3), ("★★★★", 4), ("★★☆☆☆", 2)],
)
def test_rating(schema: WorkspaceSchema, raw: object, expected: int) -> None:
    value = ok(schema, "rating", raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (4.5, "whole number"),
        ("4.5", "whole number"),
        ("0", "between 1 and 5"),
        (6, "between 1 and 5"),
        ("great", "not a rating"),
        (True, "single value"),
    ],
)
def test_rating_refused(schema: WorkspaceSchema, raw: object, words: str) -> None:
    assert words in bad(schema, "rating", raw)


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("25/12/2026", "25/12/2026 00:00:00"),
        ("25/12/2026 10:30", "25/12/2026 10:30:00"),
        ("25/12/2026 10:30:15", "25/12/2026 10:30:15"),
        ("5/1/2027", "05/01/2027 00:00:00"),
        ("25-12-2026", "25/12/2026 00:00:00"),
        ("25/12/2026 3:05 pm", "25/12/2026 15:05:00"),
        ("25/12/2026 12 am", "25/12/2026 00:00:00"),
        ("2026-12-25", "25/12/2026 00:00:00"),
        ("2026-12-25T10:30", "25/12/2026 10:30:00"),
        ("2026-12-25T05:00:00Z", "25/12/2026 10:30:00"),
        ("25 Dec 2026", "25/12/2026 00:00:00"),
        ("December 25, 2026", "25/12/2026 00:00:00"),
        ("today", "21/11/2026 00:00:00"),
        ("Tomorrow", "22/11/2026 00:00:00"),
        ("tomorrow 10:30", "22/11/2026 10:30:00"),
        ("yesterday", "20/11/2026 00:00:00"),
        ("now", "21/11/2026 15:05:00"),
        (1798174800, "25/12/2026 10:30:00"),  # datetimepicker epoch seconds
        ("1798174800", "25/12/2026 10:30:00"),
        (1798174800000, "25/12/2026 10:30:00"),  # epoch ms
        (datetime(2026, 12, 25, 10, 30), "25/12/2026 10:30:00"),
    ],
)
def test_dates(schema: WorkspaceSchema, raw: object, expected: str) -> None:
    assert ok(schema, "follow_up_date", raw) == expected


def test_epoch_converted_in_the_given_time_zone(schema: WorkspaceSchema) -> None:
    assert ok(schema, "meeting_time", 1798174800, tz="UTC") == "25/12/2026 05:00:00"
    assert ok(schema, "meeting_time", 1798174800, tz="Not/AZone") == "25/12/2026 10:30:00"


def test_relative_dates_use_now_in_the_time_zone(schema: WorkspaceSchema) -> None:
    from zoneinfo import ZoneInfo

    late_utc = datetime(2026, 11, 21, 20, 0, tzinfo=ZoneInfo("UTC"))  # already the 22nd in India
    field = schema.field("follow_up_date")
    assert field is not None
    assert convert(field, "today", schema, now=late_utc) == "22/11/2026 00:00:00"


@pytest.mark.parametrize("raw", ["31/02/2026", "12/25/2026", "soon", "25/12/26", "25/12/2026 25:00", "13 pm"])
def test_dates_refused(schema: WorkspaceSchema, raw: str) -> None:
    assert "DD/MM/YYYY" in bad(schema, "follow_up_date", raw)


def test_absurd_dates_refused(schema: WorkspaceSchema) -> None:
    bad(schema, "follow_up_date", 10**30)
    assert "plausible" in bad(schema, "follow_up_date", "01/01/0001")


# --- choices -----------------------------------------------------------------------------------------


def test_dropdown_canonical_spelling(schema: WorkspaceSchema) -> None:
    assert ok(schema, "source", "website") == "Website"
    assert ok(schema, "source", "  COLD   call ") == "Cold Call"
    assert ok(schema, "city", "city 042") == "City 042"


def test_dropdown_unknown_short_list_names_them_all(schema: WorkspaceSchema) -> None:
    message = bad(schema, "source", "Webste")
    assert "did you mean Website?" in message
    assert "Website, Referral, Cold Call, Walk-in, Facebook Ads" in message


def test_dropdown_unknown_long_list_gives_count_and_examples(schema: WorkspaceSchema) -> None:
    message = bad(schema, "city", "Atlantis")
    assert f"{len(CITIES)} options; e.g. City 001" in message


def test_dropdown_long_label_round_trips_through_option_key(schema: WorkspaceSchema) -> None:
    plan = schema.field("plan")
    assert plan is not None
    key = option_value(LONG_OPTION)
    assert len(key) <= 150 and key != LONG_OPTION
    assert option_value_to_label(plan, schema, key) == LONG_OPTION
    assert option_value_to_label(plan, schema, "~unknown") == "~unknown"
    assert ok(schema, "plan", key) == LONG_OPTION


def test_dropdown_without_options_accepts_text() -> None:
    schema = WorkspaceSchema(
        fields=(FieldDef("phone", FieldType.PHONE), FieldDef("kind", FieldType.DROPDOWN))
    )
    assert convert(schema.fields[1], " Anything ", schema) == "Anything"


def test_status_active_only(schema: WorkspaceSchema) -> None:
    assert ok(schema, "status", "fresh") == "Fresh"
    assert ok(schema, "status", "deal closed") == "Deal Closed"
    message = bad(schema, "status", "old lead")
    assert "“Old Lead” is archived in TeleCRM; " in message and "Fresh" in message and "Junk" not in message
    assert "is not a status" in bad(schema, "status", "Hot")


def test_lost_reason_active_only(schema: WorkspaceSchema) -> None:
    assert ok(schema, "lostReason", "too expensive") == "Too Expensive"
    assert "archived" in bad(schema, "lostReason", "Wrong number")
    assert "did you mean No Need?" in bad(schema, "lostReason", "No Needs")


def test_assignee_by_email_or_name(schema: WorkspaceSchema) -> None:
    assert ok(schema, "assignee", "ASHA@acme.in") == "asha@acme.in"
    assert ok(schema, "assignee", "meera.iyer@ACME.IN") == "Meera.Iyer@acme.in"
    assert ok(schema, "assignee", "asha rao") == "asha@acme.in"
    assert ok(schema, "assignee", "Asha Rao (asha@acme.in)") == "asha@acme.in"
    assert ok(schema, "assignee", "mailto:john@acme.in") == "john@acme.in"


def test_assignee_refusals(schema: WorkspaceSchema) -> None:
    assert "not an active team member" in bad(schema, "assignee", "old@acme.in")
    assert "not an active team member" in bad(schema, "assignee", "leave@acme.in")
    assert "more than one team member" in bad(schema, "assignee", "Ravi Kumar")
    assert "is not a team member" in bad(schema, "assignee", "nobody@acme.in")
    assert "is not a team member" in bad(schema, "assignee", "Nobody")
    assert "Old Timer" not in bad(schema, "assignee", "Nobody")


def test_assignee_without_cached_members_checks_email_syntax() -> None:
    schema = WorkspaceSchema(fields=(FieldDef("assignee", FieldType.ACTIVE_USERS),))
    assert convert(schema.fields[0], "Agent@Company.com", schema) == "Agent@company.com"
    with pytest.raises(FieldError):
        convert(schema.fields[0], "agent", schema)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("VIP, Returning", ["VIP", "Returning"]),
        ("vip,,  returning ,", ["VIP", "Returning"]),
        (["vip", "New customer", " "], ["VIP", "New customer"]),
        ("VIP, vip", ["VIP"]),
        ("Hot\nCold", ["Hot", "Cold"]),
        ("Wholesale", ["Wholesale"]),
    ],
)
def test_tags(schema: WorkspaceSchema, raw: object, expected: list[str]) -> None:
    assert ok(schema, "interests", raw) == expected


def test_tags_free_field_and_empty_list(schema: WorkspaceSchema) -> None:
    assert ok(schema, "keywords", "villa, sea view") == ["villa", "sea view"]
    assert "no tags" in bad(schema, "keywords", " , ,")


# --- urls --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "https://example.com"),
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("HTTP://Example.com", "http://Example.com"),
        ("www.example.co.in/page", "https://www.example.co.in/page"),
        ("http://localhost:8080/x", "http://localhost:8080/x"),
    ],
)
def test_urls(schema: WorkspaceSchema, raw: str, expected: str) -> None:
    assert ok(schema, "website", raw) == expected
    assert ok(schema, "brochure", raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["not a url", "ftp://example.com", "example", "https://", "http://exa mple.com", "https://x.com:99999"],
)
def test_urls_refused(schema: WorkspaceSchema, raw: str) -> None:
    assert "https://example.com" in bad(schema, "website", raw)


# --- describe_type -----------------------------------------------------------------------------------


def test_describe_type(schema: WorkspaceSchema) -> None:
    d = {f.api_name: describe_type(f, schema) for f in schema.fields}
    assert d["phone"] == "a phone number with country code, e.g. 919876543210"
    assert d["source"] == "one of: Website, Referral, Cold Call, Walk-in, Facebook Ads"
    assert d["city"].startswith("one of 130 options, e.g. City 001")
    assert d["rating"] == "1–5"
    assert "Fresh" in d["status"] and "Old Lead" not in d["status"]
    assert d["assignee"] == "a team member's email, e.g. asha@acme.in"
    assert all(d.values())


# --- validate_fields ---------------------------------------------------------------------------------


def test_validate_fields_converts_in_schema_order(schema: WorkspaceSchema) -> None:
    values, problems = validate_fields(
        schema,
        {"rating": "4", "phone": "98765 43210", "name": "Jane", "status": "fresh", "notes": "   "},
        now=NOW,
    )
    assert problems == []
    assert values == {"phone": "919876543210", "name": "Jane", "rating": 4, "status": "Fresh"}
    assert list(values) == ["phone", "name", "rating", "status"]


def test_validate_fields_reports_every_problem(schema: WorkspaceSchema) -> None:
    values, problems = validate_fields(schema, {"name": "Jane", "rating": "9", "email": "nope", "bogus": "x"})
    by_field = {p.api_name: p for p in problems}
    assert set(by_field) == {"phone", "rating", "email", "bogus"}
    assert by_field["phone"] == Problem(
        "phone", "Phone", "Phone is required — a phone number with country code, e.g. 919876543210"
    )
    assert by_field["rating"].message.startswith("Rating: ")
    assert values == {"name": "Jane"}


def test_validate_fields_update_needs_no_identifier(schema: WorkspaceSchema) -> None:
    values, problems = validate_fields(schema, {"status": "Won"}, require_identifier=False)
    assert problems == [] and values == {"status": "Won"}


def test_validate_custom_action_fields(schema: WorkspaceSchema) -> None:
    visit = schema.custom_action("Site Visit")
    assert visit is not None
    values, problems = validate_fields(schema, {"outcome": "positive"}, fields=visit.fields)
    assert values == {"outcome": "Positive"}
    assert [p.api_name for p in problems] == ["visit_date"]
    values, problems = validate_fields(
        schema, {"visit_date": "tomorrow"}, fields=visit.fields, require_identifier=False, now=NOW
    )
    assert values == {"visit_date": "22/11/2026 00:00:00"} and problems == []


# --- resolve_keys ------------------------------------------------------------------------------------


def test_resolve_keys_by_api_name_label_and_loose_spelling(schema: WorkspaceSchema) -> None:
    resolved, problems = resolve_keys(
        schema,
        [
            ("NAME", "Jane"),
            ("Deal size", "5"),
            ("follow-up-date", "today"),
            ("lost reason", "No Need"),
            ("lostreason", "x"),
        ],
    )
    assert resolved == {"name": "Jane", "deal_size": "5", "follow_up_date": "today", "lostReason": "No Need"}
    assert (
        len(problems) == 1 and "given twice" in problems[0].message and problems[0].api_name == "lostReason"
    )


def test_resolve_keys_unknown_key_suggests(schema: WorkspaceSchema) -> None:
    resolved, problems = resolve_keys(schema, [("stauts", "Fresh"), ("zzzz", "1"), ("", "x")])
    assert resolved == {}
    messages = [p.message for p in problems]
    assert "did you mean status?" in messages[0]
    assert "fields: phone, name, email" in messages[1]
    assert "missing field name" in messages[2]


def test_resolve_keys_ambiguous_label() -> None:
    schema = WorkspaceSchema(
        fields=(
            FieldDef("deal_size", FieldType.NUMBER),
            FieldDef("dealsize", FieldType.MONEY, label="Deal Size"),
        )
    )
    resolved, problems = resolve_keys(schema, [("Deal-Size", "1"), ("dealsize", "2")])
    assert resolved == {"dealsize": "2"}
    assert "could mean" in problems[0].message
