"""Money, times and text as people read them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kit.format import format_money, format_when, mrkdwn_escape, truncate


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("5000", "INR", "₹5,000.00"),
        ("100000", "INR", "₹1,00,000.00"),
        ("12345678.5", "INR", "₹1,23,45,678.50"),
        ("999", "inr", "₹999.00"),
        (1234.5, "USD", "$1,234.50"),
        ("1234567", "USD", "$1,234,567.00"),
        ("1234", "AED", "AED 1,234.00"),
        (Decimal("0.5"), "SGD", "SGD 0.50"),
        ("2500", "XOF", "XOF 2,500"),
        ("1,000", "INR", "₹1,000.00"),
        (-50, "USD", "-$50.00"),
        ("abc", "INR", "abc INR"),
        ("nan", "USD", "nan USD"),
    ],
)
def test_format_money(amount: object, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("when", "tz", "expected"),
    [
        (1795248900000, None, "21 Nov 2026, 1:45 PM IST"),
        (1795248900, "Asia/Kolkata", "21 Nov 2026, 1:45 PM IST"),
        ("1795248900000", None, "21 Nov 2026, 1:45 PM IST"),
        (1795248900000, "UTC", "21 Nov 2026, 8:15 AM UTC"),
        ("21/11/2026 15:05:00", None, "21 Nov 2026, 3:05 PM IST"),
        ("01/04/2026", "UTC", "1 Apr 2026, 12:00 AM UTC"),
        (1795248900000, "Bogus/Zone", "21 Nov 2026, 1:45 PM IST"),
        ("not a date", None, "not a date"),
        ("31/02/2026 10:00:00", None, "31/02/2026 10:00:00"),
        (10**30, None, str(10**30)),
    ],
)
def test_format_when(when: object, tz: str | None, expected: str) -> None:
    assert format_when(when, tz) == expected  # type: ignore[arg-type]


def test_truncate() -> None:
    assert truncate("hello", 10) == "hello"
    assert truncate("hello", 5) == "hello"
    assert truncate("hello world", 5) == "hell…"
    assert truncate("hello", 1) == "…"
    assert truncate("hello", 0) == ""


def test_mrkdwn_escape() -> None:
    assert mrkdwn_escape("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert mrkdwn_escape("<!channel>") == "&lt;!channel&gt;"


def test_mentions_and_links_the_bot_means_are_built_from_escaped_parts() -> None:
    from kit.format import channel_mention, mention, mrkdwn_link

    assert mention("U0RAHUL") == "<@U0RAHUL>"
    assert mention("U1> <!channel") == "<@U1&gt; &lt;!channel>"
    assert channel_mention("C0SALES") == "<#C0SALES>"
    assert mrkdwn_link("https://x.example/l/1?a=1&b=2", "Open") == "<https://x.example/l/1?a=1&amp;b=2|Open>"
    assert mrkdwn_link("https://x.example/|<!here>", "<!channel>") == (
        "<https://x.example/%7C&lt;!here&gt;|&lt;!channel&gt;>"
    )
