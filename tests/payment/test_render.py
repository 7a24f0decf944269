"""The pure side of /payment: transitions, the modal and its values, the payment message, sentences."""

from __future__ import annotations

import json
from typing import Any

import pytest

from commands.payment.access import split_allowed
from commands.payment.actions import find_matching_payment
from commands.payment.leads import lead_in_message
from commands.payment.modal import (
    BLOCK_AMOUNT,
    BLOCK_CURRENCY,
    BLOCK_LEAD,
    BLOCK_RECENT,
    BLOCK_STATUS,
    Origin,
    read_payment_form,
    render_payment_modal,
)
from commands.payment.render import read_status_click, render_payment_message, status_change_text
from commands.payment.statuses import TRANSITIONS, can_transition, is_final, next_statuses
from commands.payment.texts import amount_change_text, refusal_text, remarks_text
from kit import ids
from kit.reconcile import EarlierAttempt
from slack_emulator import validate_message_blocks, validate_view
from storage.repositories import LeadThread, Payment
from telecrm.models import Remark
from telecrm.schema import PAYMENT_STATUSES, FieldDef, FieldType, WorkspaceSchema

LEAD = "603d2b2f9b1e8a001c8e4f5c"
ACTION = "603d2b2f9b1e8a001c8e4f5d"
SCHEMA = WorkspaceSchema(
    fields=(FieldDef("phone", FieldType.PHONE, label="Phone", is_identifier=True),),
    identifier_api_name="phone",
)


def payment(status: str = "PENDING", amount: str = "5000", currency: str = "INR") -> Payment:
    return Payment(
        ACTION, LEAD, amount, currency, status, recorded_by="U0RAHUL", channel="C1", message_ts="1.1"
    )


def form(
    lead: str | None = None,
    recent: str | None = None,
    amount: str | None = "5000",
    currency: str = "INR",
    status: str = "PENDING",
) -> dict[str, Any]:
    v = ids.ACT_FIELD_VALUE
    values: dict[str, Any] = {
        BLOCK_LEAD: {v: {"type": "plain_text_input", "value": lead}},
        BLOCK_AMOUNT: {v: {"type": "plain_text_input", "value": amount}},
        BLOCK_CURRENCY: {v: {"type": "static_select", "selected_option": {"value": currency}}},
        BLOCK_STATUS: {v: {"type": "static_select", "selected_option": {"value": status}}},
    }
    if recent is not None:
        values[BLOCK_RECENT] = {v: {"type": "static_select", "selected_option": {"value": recent}}}
    return values


def read(values: dict[str, Any], origin: Origin | None = None) -> tuple[Any, dict[str, str]]:
    return read_payment_form(
        values, origin or Origin(), schema=SCHEMA, default_currency="INR", default_country_code="91"
    )


# --- transitions -----------------------------------------------------------------------------------


def test_transition_table_covers_every_status_and_only_known_ones() -> None:
    assert set(TRANSITIONS) == set(PAYMENT_STATUSES)
    for targets in TRANSITIONS.values():
        assert set(targets) <= set(PAYMENT_STATUSES)


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("PENDING", "PROCESSING", True),
        ("PENDING", "COMPLETED", True),
        ("PENDING", "FAILED", True),
        ("PENDING", "CANCELLED", True),
        ("PENDING", "REFUNDED", False),
        ("PROCESSING", "COMPLETED", True),
        ("PROCESSING", "PENDING", False),
        ("COMPLETED", "REFUNDED", True),
        ("COMPLETED", "CANCELLED", False),
        ("FAILED", "COMPLETED", False),
        ("CANCELLED", "PENDING", False),
        ("REFUNDED", "COMPLETED", False),
        ("pending", "completed", True),
    ],
)
def test_transitions(old: str, new: str, allowed: bool) -> None:
    assert can_transition(old, new) is allowed


def test_final_statuses_and_no_way_back() -> None:
    assert [s for s in PAYMENT_STATUSES if is_final(s)] == ["FAILED", "CANCELLED", "REFUNDED"]
    assert not is_final("PENDING") and not is_final("COMPLETED")
    for status in PAYMENT_STATUSES:
        assert status not in next_statuses(status)
    assert next_statuses("SOMETHING") == ()


# --- the payment message ---------------------------------------------------------------------------


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_payment_message_shows_money_status_who_and_action_id() -> None:
    text, blocks = render_payment_message(payment(), lead_name="Jane Doe")
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "₹5,000.00" in text and "PENDING" in text
    assert "₹5,000.00 (INR)" in shown and "<@U0RAHUL>" in shown and ACTION in shown and "Jane Doe" in shown
    assert validate_message_blocks(blocks) == []


@pytest.mark.parametrize("status", PAYMENT_STATUSES)
def test_payment_message_offers_exactly_the_next_statuses(status: str) -> None:
    _, blocks = render_payment_message(payment(status))
    status_buttons = [b for b in _buttons(blocks) if b["action_id"].startswith(ids.ACT_PAYMENT_STATUS)]
    assert [json.loads(b["value"])["status"] for b in status_buttons] == list(next_statuses(status))
    for b in status_buttons:
        assert json.loads(b["value"])["action_id"] == ACTION
        assert read_status_click(b).status == json.loads(b["value"])["status"]  # type: ignore[union-attr]
    assert any(b["action_id"] == ids.ACT_PAYMENT_AMOUNT_HELP for b in _buttons(blocks))
    assert validate_message_blocks(blocks) == []


def test_final_payment_says_so() -> None:
    _, blocks = render_payment_message(payment("CANCELLED"), last_change="<@U0PRIYA> marked it CANCELLED")
    shown = json.dumps(blocks)
    assert "final" in shown and "marked it CANCELLED" in shown


def test_other_currencies_are_spelled_out() -> None:
    text, _ = render_payment_message(payment(amount="1234.5", currency="AED"))
    assert "AED 1,234.50" in text


def test_status_change_texts() -> None:
    assert status_change_text(payment(), "COMPLETED", user="U0PRIYA").endswith(
        "<@U0PRIYA> marked ₹5,000.00 COMPLETED"
    )
    outside = status_change_text(payment(), "FAILED", old_status="PENDING")
    assert "₹5,000.00 was marked FAILED in TeleCRM (was PENDING)" in outside


def test_a_card_or_a_payment_message_names_its_lead() -> None:
    card = {"blocks": [{"type": "actions", "elements": [{"action_id": ids.ACT_CARD_PAYMENT, "value": LEAD}]}]}
    assert lead_in_message(card) == LEAD
    _, blocks = render_payment_message(payment())
    assert lead_in_message({"blocks": blocks}) == LEAD
    assert lead_in_message({"text": "hello"}) is None


def test_status_click_refuses_unknown_values() -> None:
    assert read_status_click({"action_id": "payment_status:X", "value": "not json"}) is None
    bad = json.dumps({"action_id": ACTION, "status": "PAID"})
    assert read_status_click({"action_id": "payment_status:PAID", "value": bad}) is None
    legacy = json.dumps({"action_id": ACTION})
    assert read_status_click({"action_id": "payment_status:COMPLETED", "value": legacy}).status == "COMPLETED"  # type: ignore[union-attr]


# --- the modal -------------------------------------------------------------------------------------


def test_modal_defaults_and_recent_leads() -> None:
    recent = [LeadThread(LEAD, "C1", "1.1", identifier="919999999999", name="Jane Doe")]
    view = render_payment_modal(
        Origin(channel="C1"), default_currency="USD", recent=recent, identifier_label="Phone"
    )
    assert validate_view(view)[0] == []
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[BLOCK_CURRENCY]["element"]["initial_option"]["value"] == "USD"
    assert blocks[BLOCK_STATUS]["element"]["initial_option"]["value"] == "PENDING"
    options = blocks[BLOCK_RECENT]["element"]["options"]
    assert options == [
        {"text": {"type": "plain_text", "text": "Jane Doe · 919999999999", "emoji": True}, "value": LEAD}
    ]
    assert Origin.from_metadata(view["private_metadata"]) == Origin(channel="C1")
    # both optional to Slack, so both say that one of them is needed
    assert blocks[BLOCK_LEAD]["optional"] and blocks[BLOCK_RECENT]["optional"]
    assert "one of the two is needed" in blocks[BLOCK_LEAD]["hint"]["text"]
    assert "Needed when no lead is typed" in blocks[BLOCK_RECENT]["hint"]["text"]


def test_modal_on_a_card_is_prefilled_with_the_lead() -> None:
    origin = Origin(channel="C1", lead_id=LEAD, thread_channel="C1", thread_ts="1.1")
    view = render_payment_modal(origin, default_currency="INR", recent=[], lead_label="Jane Doe")
    assert validate_view(view)[0] == []
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[BLOCK_LEAD]["element"]["initial_value"] == LEAD
    assert BLOCK_RECENT not in blocks
    assert "Jane Doe" in json.dumps(view)
    assert Origin.from_metadata(view["private_metadata"]) == origin


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("5,000", "5000"), ("₹5000", "5000"), ("5000.50", "5000.50"), ("$ 1,00,000", "100000")],
)
def test_form_accepts_amounts_people_type(typed: str, expected: str) -> None:
    request, errors = read(form(lead="919999999999", amount=typed))
    assert errors == {}
    assert request.amount == expected and request.lead_ref == "919999999999" and request.lead_id is None


@pytest.mark.parametrize("typed", ["0", "-5", "abc", "5,00"])
def test_form_refuses_bad_amounts_on_the_amount_block(typed: str) -> None:
    request, errors = read(form(lead="919999999999", amount=typed))
    assert request is None and list(errors) == [BLOCK_AMOUNT]
    assert typed in errors[BLOCK_AMOUNT]


def test_form_refuses_unknown_currency_and_status() -> None:
    _, errors = read(form(lead="919999999999", currency="EUR", status="PAID"))
    assert set(errors) == {BLOCK_CURRENCY, BLOCK_STATUS}
    assert "INR" in errors[BLOCK_CURRENCY] and "COMPLETED" in errors[BLOCK_STATUS]


def test_form_lead_rules() -> None:
    assert set(read(form(lead=None, recent=None))[1]) == {BLOCK_LEAD}
    assert "not a lead id" in read(form(lead="hello"))[1][BLOCK_LEAD]
    assert "only one" in read(form(lead="919999999999", recent=LEAD))[1][BLOCK_LEAD]
    picked, _ = read(form(lead=None, recent=LEAD))
    assert picked.lead_id == LEAD
    known, _ = read(form(lead=LEAD), Origin(lead_id=LEAD))
    assert known.lead_id == LEAD
    by_id, _ = read(form(lead=LEAD))
    assert by_id.lead_id is None and by_id.lead_ref == LEAD


# --- reconciliation --------------------------------------------------------------------------------


def test_reconcile_takes_the_first_matching_payment_since_the_job_began() -> None:
    rows = [
        {"type": "PAYMENT", "amount": "5000", "currency": "INR", "action_id": "newer", "created_on": 3000},
        {"type": "PAYMENT", "amount": "5000.00", "currency": "INR", "action_id": "mine", "created_on": 2000},
        {"type": "PAYMENT", "amount": "5000", "currency": "INR", "action_id": "before", "created_on": 500},
        {"type": "PAYMENT", "amount": "6000", "currency": "INR", "action_id": "other", "created_on": 2500},
        {"type": "PAYMENT", "amount": "5000", "currency": "USD", "action_id": "usd", "created_on": 2500},
        {"type": "1001", "action_id": "custom", "created_on": 2500},
    ]
    assert find_matching_payment(rows, amount="5000", currency="INR", since_ms=1000) == EarlierAttempt("mine")
    assert find_matching_payment(
        rows, amount="5000", currency="INR", since_ms=1000, skip_ids=["mine"]
    ) == EarlierAttempt("newer")
    assert find_matching_payment(rows, amount="7000", currency="INR", since_ms=0) is None
    assert find_matching_payment(rows[2:3], amount="5000", currency="INR", since_ms=1000) is None


def test_reconcile_without_action_ids_counts_the_bots_other_payments() -> None:
    """Documented search rows carry no ``action_id`` or ``created_on`` (the window is the search's
    filter): a matching payment beyond those other jobs of the bot account for is this job's."""
    row = {"type": "PAYMENT", "status": "PENDING", "amount": "5000", "currency": "INR"}
    other = {"type": "PAYMENT", "status": "PENDING", "amount": "6000", "currency": "INR"}
    found = find_matching_payment([row], amount="5000", currency="INR", since_ms=1000)
    assert found == EarlierAttempt(None)
    assert find_matching_payment([row], amount="5000.00", currency="inr", since_ms=0, others_count=1) is None
    assert find_matching_payment([row, row], amount="5000", currency="INR", since_ms=0, others_count=1) == (
        EarlierAttempt(None)
    )
    assert find_matching_payment([other], amount="5000", currency="INR", since_ms=0) is None
    assert find_matching_payment([], amount="5000", currency="INR", since_ms=0) is None


def test_reconcile_matches_the_performer_of_the_bots_own_writes_when_rows_name_one() -> None:
    known = {
        "type": "PAYMENT",
        "amount": "1",
        "currency": "INR",
        "action_id": "known",
        "performed_by": "api@x.in",
    }
    by_a_person = {
        "type": "PAYMENT",
        "amount": "5000",
        "currency": "INR",
        "action_id": "p",
        "performed_by": "rep@x.in",
    }
    by_the_bot = {**by_a_person, "action_id": "b", "performed_by": "API@x.in"}
    assert (
        find_matching_payment(
            [by_a_person, known], amount="5000", currency="INR", since_ms=0, skip_ids=["known"]
        )
        is None
    )
    assert find_matching_payment(
        [by_a_person, by_the_bot, known], amount="5000", currency="INR", since_ms=0, skip_ids=["known"]
    ) == EarlierAttempt("b")
    # nothing known to learn the bot's performer from: the performer cannot rule a row out
    assert find_matching_payment([by_a_person], amount="5000", currency="INR", since_ms=0) == EarlierAttempt(
        "p"
    )


# --- sentences -------------------------------------------------------------------------------------


def test_ignored_remarks_in_words() -> None:
    remark = Remark("actions[0].fields.amount", "IGNORED", "Amount must be greater than 0")
    text = remarks_text([remark], money="₹5,000.00", stored=False)
    assert "did not store" in text and "amount: Amount must be greater than 0" in text
    assert "TeleCRM gave no reason" in remarks_text([], money="₹1.00", stored=False)


def test_amount_change_explains_cancel_and_record_new() -> None:
    assert "Cancelled" in amount_change_text(payment("PENDING"))
    assert "Refunded" in amount_change_text(payment("COMPLETED"))
    assert "only its status" in amount_change_text(None)


def test_allowed_users_and_groups() -> None:
    users, groups = split_allowed(["U0PRIYA", " @Sales-Managers ", "S0FINANCE", "<!subteam^S0X|@x>", ""])
    assert users == {"U0PRIYA"} and groups == ("sales-managers", "S0FINANCE", "S0X")
    assert "<@U0PRIYA>" in refusal_text(["U0PRIYA", "@sales-managers"])


def test_watch_interval_and_allowed_users_come_from_the_environment() -> None:
    from kit.config import load_settings

    settings = load_settings(
        {"PAYMENT_WATCH_SECONDS": "30", "PAYMENT_ALLOWED_USERS": "U0PRIYA, @sales-managers"}, dotenv_path=None
    )
    assert settings.payment_watch_seconds == 30
    assert settings.payment_allowed_users == ("U0PRIYA", "@sales-managers")
