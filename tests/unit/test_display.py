"""A field's value reads the same wherever a person sees it (cards, replies, before/after lines)."""

from __future__ import annotations

from kit.display import EMPTY, field_text
from telecrm.schema import FieldDef, FieldType

BUDGET = FieldDef("budget", FieldType.MONEY, label="Budget")
FOLLOW_UP = FieldDef("follow_up_date", FieldType.DATE, label="Follow up date")
TAGS = FieldDef("interests", FieldType.TAGS, label="Interests")


def test_dates_read_as_dates_whether_telecrm_sent_epoch_ms_or_its_date_string() -> None:
    from_ms = field_text(FOLLOW_UP, 1780281000000)  # 1 Jun 2026, 08:00 IST
    from_string = field_text(FOLLOW_UP, "01/06/2026 08:00:00")
    assert from_ms == from_string == "1 Jun 2026, 8:00 AM IST"
    assert field_text(FOLLOW_UP, 1780281000000, tz="Asia/Dubai") == "1 Jun 2026, 6:30 AM +04"


def test_money_carries_the_workspace_currency_when_it_is_known() -> None:
    assert field_text(BUDGET, "250000", currency="INR") == "₹2,50,000.00"
    assert field_text(BUDGET, "250000") == "250000"


def test_empty_values_and_lists() -> None:
    assert field_text(TAGS, ["VIP", "Returning"]) == "VIP, Returning"
    assert field_text(TAGS, ["", " "]) == EMPTY
    assert field_text(None, None) == EMPTY
    assert field_text(FOLLOW_UP, "not a date") == "not a date"
