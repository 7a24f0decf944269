"""Properties that must hold for any input: grammars never raise, convert raises only FieldError."""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.fields import FieldError, convert, normalize_amount, validate_fields
from kit.format import format_money, format_when, truncate
from kit.grammar import format_kv, parse_lead, parse_payment, slack_escape, tokenize_kv
from kit.timeline_grammar import parse_timeline
from telecrm.schema import FieldType

from .conftest import build_schema

SCHEMA = build_schema()
FIELDS = SCHEMA.fields + tuple(f for a in SCHEMA.custom_actions for f in a.fields)
NOW = datetime(2026, 11, 21, 15, 5)

GRAMMAR_CHARS = list('"“”\\= <>|&;:,.$₹/-_0123456789aAbcdeINRUSDpendingPENDINGmailto:tel:http…\t\n') + [
    "&amp;",
    "&lt;",
    "<mailto:",
    "|",
    ">",
    "..",
    "Rs.",
    "find ",
    "update ",
    "help",
    "OUTGOING_CALL",
    "01/04/2026",
    "31/02/2026",
]
grammar_text = st.one_of(
    st.text(),
    st.lists(st.sampled_from(GRAMMAR_CHARS), max_size=30).map("".join),
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# --- tokenize_kv round trip ----------------------------------------------------------------------------

keys = st.text(min_size=1, max_size=20).filter(lambda k: k == k.strip() and k.strip() != "")
values = st.text(max_size=40)


@FAST
@given(st.lists(st.tuples(keys, values), max_size=6))
def test_tokenize_kv_round_trips_quoted_pairs(pairs: list[tuple[str, str]]) -> None:
    text = slack_escape(format_kv(pairs))
    assert tokenize_kv(text) == (pairs, [])


@FAST
@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True), values), max_size=6))
def test_tokenize_kv_round_trips_typical_keys(pairs: list[tuple[str, str]]) -> None:
    text = slack_escape(format_kv(pairs))
    assert tokenize_kv(text) == (pairs, [])


@FAST
@given(
    st.lists(
        st.tuples(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True), values),
        min_size=1,
        max_size=6,
    )
)
def test_lead_create_and_update_keep_the_pairs(pairs: list[tuple[str, str]]) -> None:
    text = slack_escape(format_kv(pairs))
    create = parse_lead(text)
    assert (create.action, create.pairs, create.errors) == ("create", pairs, [])
    update = parse_lead("update 603d2b2f9b1e8a001c8e4f5c " + text)
    assert (update.action, update.target, update.pairs, update.errors) == (
        "update",
        "603d2b2f9b1e8a001c8e4f5c",
        pairs,
        [],
    )


# --- grammars never raise --------------------------------------------------------------------------------


def _no_internal_error(errors: list[str]) -> None:
    assert not any(e.startswith("could not read that command") for e in errors), errors


@FAST
@given(grammar_text)
def test_tokenize_kv_never_raises(text: str) -> None:
    pairs, errors = tokenize_kv(text)
    assert all(k and k == k.strip() for k, _ in pairs)
    assert all(isinstance(e, str) and e for e in errors)


@FAST
@given(grammar_text)
def test_parse_lead_never_raises(text: str) -> None:
    cmd = parse_lead(text)
    assert cmd.action in ("modal", "create", "find", "update", "help")
    _no_internal_error(cmd.errors)
    if cmd.action == "create":
        assert cmd.pairs
    if cmd.action == "update":
        assert cmd.target
    if cmd.action == "find":  # possibly too short: /lead find itself explains what it needs
        assert cmd.query == cmd.query.strip()


@FAST
@given(grammar_text, st.sampled_from(["INR", "usd", "EUR", ""]))
def test_parse_payment_never_raises(text: str, currency: str) -> None:
    cmd = parse_payment(text, default_currency=currency)
    assert cmd.action in ("modal", "record", "help")
    _no_internal_error(cmd.errors)
    if cmd.action == "record" and not cmd.errors:
        assert cmd.amount and re.fullmatch(r"\d+(\.\d+)?", cmd.amount) and Decimal(cmd.amount) > 0
        assert cmd.currency and cmd.status and cmd.lead


@FAST
@given(grammar_text)
def test_parse_timeline_never_raises(text: str) -> None:
    cmd = parse_timeline(text, custom_actions=SCHEMA.custom_actions)
    assert cmd.action in ("modal", "show", "help")
    _no_internal_error(cmd.errors)
    for bound in (cmd.date_from, cmd.date_to):
        assert bound is None or re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", bound)


# --- convert raises only FieldError ------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    grammar_text,
    st.sampled_from(
        ["4", "4.5", "25/12/2026", "2026-12-25", "today", "+91 98765 43210", "Website", "₹5,000"]
    ),
    st.datetimes(),
)
raw_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(max_size=5), scalars, max_size=2),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), raw_values, st.sampled_from(["91", "1", "44", "", "x", "999"]))
def test_convert_raises_only_field_error(field, raw, country_code) -> None:  # type: ignore[no-untyped-def]
    collect = _Collect()
    logger = logging.getLogger("kit.fields")
    logger.addHandler(collect)
    try:
        try:
            value = convert(field, raw, SCHEMA, default_country_code=country_code, now=NOW)
        except FieldError as exc:
            assert exc.message.startswith(field.label + ": ")
            return
        finally:
            logger.removeHandler(collect)
    finally:
        assert collect.records == [], "convert hit an unexpected error"
    _check_converted(field.type, value)


def _check_converted(kind: FieldType, value: object) -> None:
    if kind is FieldType.PHONE:
        assert isinstance(value, str) and value.isdigit()
    elif kind is FieldType.MONEY:
        assert isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value) and Decimal(value) > 0
    elif kind is FieldType.RATING:
        assert isinstance(value, int) and 1 <= value <= 5
    elif kind is FieldType.NUMBER:
        assert isinstance(value, int | float) and not isinstance(value, bool)
        assert value == value and value not in (float("inf"), float("-inf"))
    elif kind is FieldType.DATE:
        assert isinstance(value, str) and re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", value)
    elif kind is FieldType.TAGS:
        assert isinstance(value, list) and value and all(isinstance(t, str) and t for t in value)
    elif kind in (FieldType.WEBSITE, FieldType.MEDIALINK):
        assert isinstance(value, str) and value.lower().startswith(("http://", "https://"))
    elif kind is FieldType.ACTIVE_USERS:
        assert value in {m.email for m in SCHEMA.active_members}
    elif kind is FieldType.STATUS:
        assert value in {s.label for s in SCHEMA.active_statuses}
    elif kind is FieldType.LOST_REASON:
        assert value in {r.label for r in SCHEMA.active_lost_reasons}
    else:
        assert isinstance(value, str) and value


@FAST
@given(
    st.dictionaries(st.sampled_from([f.api_name for f in SCHEMA.fields] + ["bogus"]), raw_values, max_size=6)
)
def test_validate_fields_never_raises(raw: dict[str, object]) -> None:
    values, problems = validate_fields(SCHEMA, raw, now=NOW)
    assert not set(values) & {p.api_name for p in problems}


@FAST
@given(st.one_of(grammar_text, st.integers(), st.floats(), st.decimals()))
def test_normalize_amount_is_total(text: object) -> None:
    with contextlib.suppress(FieldError):
        assert Decimal(normalize_amount(text)) > 0


# --- format is total ---------------------------------------------------------------------------------


@FAST
@given(
    st.one_of(st.text(), st.integers(), st.floats(), st.decimals()),
    st.sampled_from(["INR", "USD", "AED", "XOF", "", "???"]),
)
def test_format_money_never_raises(amount: object, currency: str) -> None:
    assert isinstance(format_money(amount, currency), str)  # type: ignore[arg-type]


@FAST
@given(
    st.one_of(st.text(), st.integers(), st.floats()),
    st.sampled_from([None, "UTC", "Asia/Dubai", "Nope/Nope"]),
)
def test_format_when_never_raises(when: object, tz: str | None) -> None:
    assert isinstance(format_when(when, tz), str)  # type: ignore[arg-type]


@FAST
@given(st.text(), st.integers(min_value=-5, max_value=200))
def test_truncate_bounds(text: str, n: int) -> None:
    out = truncate(text, n)
    assert len(out) <= max(n, 0)
    assert out == text or out.endswith("…") or n <= 0
