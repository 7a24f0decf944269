"""The log redactor on hostile input: linear time on any text (a quadratic pattern turned one
request body into a hung process), capped, masking URL-encoded emails too, and keeping every
message on one line so that nothing a client sends can forge a log line."""

from __future__ import annotations

import logging
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telecrm import redact
from telecrm.redact import RedactingFilter, mask

MB = 1_000_000
# Repeated to a megabyte each: runs that a pattern may start matching at every position.
ADVERSARIAL_UNITS = [
    "a",
    "a@",
    "1",
    "1 ",
    "1-",
    "+1",
    "a.",
    "a-",
    "%40a",
    "%3D1",
    "\\n1",
    "a.b%40c.",
    "@a.",
    "a.a@a.a",
    "bearer ",
    "jane@example.com ",
    "1763700000.123456 ",
]


def megabyte_of(unit: str) -> str:
    return (unit * (MB // len(unit) + 1))[:MB]


@pytest.mark.timeout(10)  # the bound: a quadratic pattern takes hours on a megabyte
@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS)
def test_masking_a_megabyte_of_adversarial_text_finishes(unit):
    text = megabyte_of(unit) + "x!"  # a run that ends in something else makes patterns backtrack
    assert len(mask(text, limit=None)) <= len(text)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("unit", ["a", "1", "a.", "%40a"])
def test_a_log_record_of_a_megabyte_is_capped_and_masked_quickly(unit):
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "body: %s", (megabyte_of(unit),), None)
    RedactingFilter(["s3cr3t-token"]).filter(record)
    message = record.getMessage()
    assert len(message) < redact.MAX_CHARS + 100
    assert "more characters not shown" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email=jane.doe%40example.com&x=1", "email=j***%40example.com&x=1"),
        ("JANE.DOE%40EXAMPLE.COM", "J***%40EXAMPLE.COM"),
        ("text=hi%0Ajane%40example.co.in", "text=h***%40example.co.in"),
    ],
)
def test_url_encoded_emails_are_masked(text, expected):
    assert mask(text) == expected


LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+\-]{0,20}", fullmatch=True)
DOMAIN = st.from_regex(
    r"[a-z0-9][a-z0-9\-]{0,10}(\.[a-z0-9][a-z0-9\-]{0,10}){0,2}\.[a-z]{2,6}", fullmatch=True
)
AROUND = st.text(max_size=30)


@given(before=AROUND, local=LOCAL, at=st.sampled_from(["@", "%40"]), domain=DOMAIN, after=AROUND)
def test_no_email_survives_masking_whatever_surrounds_it(before, local, at, domain, after):
    email = f"{local}{at}{domain}"
    assert email not in mask(f"{before}{email}{after}")


@given(st.text())
def test_escaped_text_has_no_control_characters_or_line_breaks(text):
    escaped = redact.escape_controls(text)
    assert len(escaped.splitlines()) <= 1
    assert not any(unicodedata.category(c) == "Cc" for c in escaped)


@given(st.text(), st.binary())
def test_a_logged_message_stays_on_one_line(text, data):
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "got %s and %r", (text, data), None)
    RedactingFilter().filter(record)
    assert len(record.getMessage().splitlines()) <= 1


def test_a_forged_line_in_a_message_is_escaped():
    forged = "ok\nERROR   bot.admin: forged\r\x1b[31mred\u2028"
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "value %s", (forged,), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "value ok\\nERROR   bot.admin: forged\\r\\x1b[31mred\\u2028"


def test_a_value_cut_by_the_cap_is_dropped_rather_than_left_unmasked():
    text = "x" * (redact.MAX_CHARS - 10) + " jane.doe@example.com and more"
    assert "jane" not in mask(text)


def test_a_secret_cut_by_the_cap_is_still_removed():
    secret = "xoxb-not-a-real-token-1234567890"
    text = "y" * (redact.MAX_CHARS - 10) + " " + secret
    record = logging.LogRecord("t", logging.INFO, __file__, 1, text, None, None)
    RedactingFilter([secret]).filter(record)
    assert secret[:8] not in record.getMessage()


@given(st.binary(max_size=5_000))
def test_an_excerpt_is_short_escaped_and_masked(data):
    shown = redact.excerpt(data)
    assert len(shown) <= 260
    assert len(shown.splitlines()) <= 1


def test_an_excerpt_masks_what_it_shows():
    shown = redact.excerpt(b"email=jane.doe%40example.com&phone=%2B919812398765&" + b"z" * 10_000)
    assert "jane.doe" not in shown and "9812398765" not in shown
    assert shown.endswith("…(+9851)")
