"""What the bot hands Slack and reads back (button values, private_metadata): typed, bounded, and
never an exception for a value it did not write."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from kit.packed import Packed, key
from kit.view_context import ViewContext


@dataclass(frozen=True)
class Page(Packed):
    REQUIRED = ("lead_id",)

    lead_id: str = field(metadata=key("l"))
    skip: int = field(default=0, metadata=key("s"))
    name: str | None = field(default=None, metadata=key("n", max_len=10))


def test_a_value_travels_under_its_short_keys_and_comes_back_equal() -> None:
    page = Page("a" * 24, 40, "Jane")
    assert json.loads(page.to_value()) == {"l": "a" * 24, "s": 40, "n": "Jane"}
    assert Page.from_value(page.to_value()) == page


def test_long_text_is_cut_to_its_own_limit() -> None:
    assert json.loads(Page("x", name="Anita Rao Kulkarni").to_value())["n"] == "Anita Rao…"


@pytest.mark.parametrize(
    "value",
    [None, "", "{nope", "[]", "7", '{"s": 1}', '{"l": "x", "s": "many"}', '{"l": {"nested": 1}}', "x" * 7000],
)
def test_anything_else_reads_as_nothing(value: object) -> None:
    assert Page.from_value(value) is None


def test_unknown_keys_are_ignored_and_numbers_as_text_are_read() -> None:
    assert Page.from_value('{"l": "x", "s": "20", "evil": "<!channel>"}') == Page("x", 20)


def test_view_metadata_is_the_same_model() -> None:
    context = ViewContext(channel="C1", lead_id="b" * 24)
    assert ViewContext.from_metadata(context.to_metadata()) == context
    assert ViewContext.from_metadata("garbage") == ViewContext()
