"""The remembered domain check of an email address answers exactly as email-validator does, for the
plain addresses it takes and for everything it hands back (kit/fields/values.py normalize_email)."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from kit.fields.values import normalize_email

ADDRESSES = [
    "jane@example.com",
    "Jane.Doe@Example.COM",
    "a.b-c+d@sub.domain.co.in",
    "o'neil@x.ie",
    "{a}@x.com",
    "a|b@x.com",
    "postmaster@example.com",
    "ABUSE@x.com",
    "a..b@x.com",
    ".a@x.com",
    "a.@x.com",
    "a@x",
    "a@-x.com",
    "a@x-.com",
    "a@x.123",
    "a@localhost",
    "a@xn--bcher-kva.ch",
    "a@xn--zz.com",
    "x" * 64 + "@x.com",
    "x" * 65 + "@x.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "a@" + ("b" * 60 + ".") * 4 + "com",
    "user@123.45.67.89",
    "u@x.invalid",
    "u@x.test",
    "u@x.local",
    "u@example",
    "u@ex_ample.com",
    "a@x..com",
    "a@.x.com",
    "a@x.com.",
    "Jane <jane@example.com>",
    "jané@example.com",
    "jane@exämple.com",
    '"quoted"@example.com',
]


def _answer(check, address: str) -> tuple[str, str]:
    try:
        return "ok", check(address)
    except EmailNotValidError as exc:
        return "refused", str(exc)


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_same_answer_as_email_validator(address: str) -> None:
    full = _answer(lambda a: validate_email(a, check_deliverability=False).normalized, address)
    assert _answer(normalize_email, address) == full
    assert _answer(normalize_email, address) == full  # and again, with the domain remembered
