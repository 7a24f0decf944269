"""Exactly once after a lost answer, with TeleCRM answering only the keys its documents show.

`SANDBOX_STRICT_DOCS=1` (telecrm/sandbox/documented.py) strips every undocumented key from the
sandbox's answers — above all a timeline row's `action_id`, `created_on` and `performed_by`. The
lost-answer runs of tests/payment, tests/timeline and tests/reliability are repeated here with it
on: the write that landed is found by type, amount, currency, field values and the search's time
window, and is never sent twice; and a write that did not land is still sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kit.worker import Backoff
from tests.conftest import CHANNEL, USER, Bot
from tests.payment.conftest import (
    action_writes,
    new_lead,
    payments_in_sandbox,
    thread_replies,
    wait_payment_messages,
)
from tests.reliability.test_faults import lead_cards, leads_named, told
from tests.timeline.conftest import make_lead, texts
from tests.timeline.test_activity_e2e import NOTE, OUTCOME, _custom_actions, _open_form

HTML_OK = "<html><body>OK</body></html>"


@pytest.fixture
def strict_bot(make_bot: Callable[..., Bot], monkeypatch: pytest.MonkeyPatch) -> Bot:
    monkeypatch.setenv("SANDBOX_STRICT_DOCS", "1")
    bot = make_bot()
    assert bot.sandbox.strict_docs, "the environment variable turns strict docs on"
    bot.services.worker.backoff = Backoff(base=0.05, cap=0.2, jitter=0)
    return bot


def _timeline_rows(bot: Bot, lead_id: str) -> list[dict[str, Any]]:
    return bot.services.telecrm.search_actions(lead_id, limit=100).items


def _payment_notes(bot: Bot) -> list[dict[str, Any]]:
    return [r for r in thread_replies(bot) if "Payment of ₹" in (r.get("text") or "")]


@pytest.mark.parametrize(
    "lose_the_answer",
    [
        pytest.param(dict(status=503), id="503-after-the-write"),
        pytest.param(dict(status=200, body=HTML_OK), id="unreadable-200-after-the-write"),
    ],
)
def test_a_payment_whose_answer_was_lost_is_recorded_once(strict_bot: Bot, lose_the_answer: dict) -> None:
    bot = strict_bot
    lead_id, phone = new_lead(bot, "Strict Payment")
    bot.sandbox.faults.fail_after_write_next(1, path_contains=f"/lead/{lead_id}/action", **lose_the_answer)
    bot.command("/payment", f"{phone} 7000")
    bot.wait(lambda e: told(bot, "recorded"), timeout=30)
    bot.settle()

    assert len(payments_in_sandbox(bot, lead_id)) == 1, "recorded once"
    [payment] = payments_in_sandbox(bot, lead_id)
    assert payment["amount"] == "7000"
    assert len(action_writes(bot)) == 1, "the payment was not sent again"
    assert all(set(row) <= {"type", "status", "currency", "amount"} for row in _timeline_rows(bot, lead_id))
    [note] = _payment_notes(bot)
    assert (
        "Payment of ₹7,000.00 (PENDING) recorded" in note["text"]
        and "change its status in TeleCRM" in note["text"]
    )
    assert [row.state for row in bot.services.worker.outbox.recent(1)] == ["done"]


def test_a_lost_answer_is_told_apart_from_an_equal_payment_recorded_before(strict_bot: Bot) -> None:
    bot = strict_bot
    lead_id, phone = new_lead(bot, "Twice Paid")
    bot.command("/payment", f"{phone} 500")
    wait_payment_messages(bot)  # the first: its answer came back, so it is on record with its id
    bot.sandbox.faults.fail_after_write_next(1, status=503, path_contains=f"/lead/{lead_id}/action")
    bot.command("/payment", f"{phone} 500")
    bot.wait(lambda e: _payment_notes(bot), timeout=30)
    bot.settle()
    assert [p["amount"] for p in payments_in_sandbox(bot, lead_id)] == ["500", "500"]
    assert len(action_writes(bot)) == 2


def test_a_payment_that_did_not_land_is_sent_again_beside_an_equal_one(strict_bot: Bot) -> None:
    bot = strict_bot
    lead_id, phone = new_lead(bot, "Not Landed")
    bot.command("/payment", f"{phone} 500")
    wait_payment_messages(bot)
    bot.sandbox.faults.fail_next(1, status=503, path_contains=f"/lead/{lead_id}/action")  # nothing written
    bot.command("/payment", f"{phone} 500")
    wait_payment_messages(bot, 2)
    assert [p["amount"] for p in payments_in_sandbox(bot, lead_id)] == ["500", "500"]


def test_an_activity_whose_answer_was_lost_is_logged_once(strict_bot: Bot) -> None:
    bot = strict_bot
    lead = make_lead(bot, with_card=True)
    _open_form(bot, lead, "1001")
    bot.sandbox.faults.fail_after_write_next(1, status=503, path_contains=f"/lead/{lead.id}/action")

    bot.emulator.submit_view(user=USER, values={NOTE: "Strict visit", OUTCOME: "Interested"})
    reply = bot.wait(lambda emulator: emulator.replies(CHANNEL, lead.thread_ts), timeout=30)[0]
    bot.settle()

    assert len(_custom_actions(bot, lead)) == 1, "logged once"
    (stored,) = _custom_actions(bot, lead)
    assert stored["fields"] == {"note": "Strict visit", "outcome": "Interested"}
    assert all(set(row) <= {"type", "fields"} for row in _timeline_rows(bot, lead.id))
    shown = texts(reply)
    assert f"<@{USER}> logged *Site Visit*" in shown and "action id is not known" in shown
    assert "did not save" not in shown
    assert len(bot.replies(lead.thread_ts)) == 1


def test_a_lead_whose_answer_was_lost_is_created_once(strict_bot: Bot) -> None:
    bot = strict_bot
    bot.sandbox.faults.fail_after_write_next(1, status=503, path_contains="/lead")
    bot.command("/lead", 'name="Strict Sunita" phone=919800000334')
    bot.wait(lambda emu: lead_cards(bot, "Strict Sunita"), timeout=30)
    bot.settle()
    assert len(leads_named(bot, "Strict Sunita")) == 1
    assert len(lead_cards(bot, "Strict Sunita")) == 1
    assert not told(bot, "already exists")
