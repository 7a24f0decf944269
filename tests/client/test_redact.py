from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telecrm.redact import RedactingFilter, mask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("919999999999", "91******9999"),
        ("+919999999999", "+91******9999"),
        ("call +91 98765 43210 now", "call +91******3210 now"),
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
        ("lead 603d2b2f9b1e8a001c8e4f5c amount 5000", "lead 603d2b2f9b1e8a001c8e4f5c amount 5000"),
        ("on 01/04/2026 00:00:00", "on 01/04/2026 00:00:00"),
    ],
)
def test_mask(text: str, expected: str) -> None:
    assert mask(text) == expected


@given(
    local=st.from_regex(r"[a-z]{2,12}", fullmatch=True),
    digits=st.from_regex(r"[1-9][0-9]{9,12}", fullmatch=True),
)
def test_masked_text_never_contains_the_original(local: str, digits: str) -> None:
    text = f"lead {local}@example.org phone {digits}"
    masked = mask(text)
    assert f"{local}@example.org" not in masked
    assert digits not in masked
    assert masked.endswith(digits[-4:])


def test_filter_masks_records_and_secrets(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.redact")
    handler_filter = RedactingFilter(secrets=["s3cr3t"])
    log.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="test.redact"):
            log.info("token %s for %s at %s", "s3cr3t", "a.b@c.io", "919876543210")
    finally:
        log.removeFilter(handler_filter)
    assert caplog.messages == ["token *** for a***@c.io at 91******3210"]
