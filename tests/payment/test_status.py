"""Changing a payment's status: buttons (double clicks included), changes made in TeleCRM, corrections."""

from __future__ import annotations

import json
from typing import Any

from commands.payment.watcher import check_open_payments
from kit import ids
from kit.worker import Backoff
from tests.conftest import ADMIN, CHANNEL, USER, Bot
from tests.payment.conftest import (
    action_writes,
    click_status,
    new_lead,
    payment_messages,
    payments_in_sandbox,
    shown_text,
    status_buttons,
    thread_replies,
    wait_ephemeral,
    wait_payment_messages,
)


def record(bot: Bot, amount: str = "5000") -> tuple[str, dict[str, Any]]:
    """A fresh lead with one PENDING payment; (lead id, the payment message)."""
    lead_id, phone = new_lead(bot)
    before = len(payment_messages(bot))
    bot.command("/payment", f"{phone} {amount}")
    return lead_id, wait_payment_messages(bot, before + 1)[-1]


def notifications(bot: Bot, containing: str) -> list[dict[str, Any]]:
    return [r for r in thread_replies(bot) if containing in r.get("text", "")]


def status_updates(bot: Bot, action_id: str) -> list[Any]:
    return [r for r in action_writes(bot) if r.path.endswith(f"/action/{action_id}")]


def test_double_clicked_status_button_changes_telecrm_once(bot: Bot) -> None:
    lead_id, message = record(bot)
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]

    bot.sandbox.faults.latency = 0.3  # the second click lands while the first change is on its way
    click_status(bot, message, "COMPLETED", user=ADMIN)
    click_status(bot, message, "COMPLETED", user=ADMIN)
    bot.wait(lambda _: notifications(bot, "marked ₹5,000.00 COMPLETED"))
    bot.settle()

    assert len(status_updates(bot, action_id)) == 1
    assert payments_in_sandbox(bot, lead_id)[0]["status"] == "COMPLETED"
    [note] = notifications(bot, "marked ₹5,000.00 COMPLETED")
    assert (
        f"<@{ADMIN}> marked ₹5,000.00 COMPLETED" in note["text"] and note["thread_ts"] == message["thread_ts"]
    )
    [updated] = payment_messages(bot)
    assert updated["ts"] == message["ts"] and "edited" in updated
    assert "Completed" in shown_text(updated) and set(status_buttons(updated)) == {"REFUNDED"}
    assert bot.services.payments.get(action_id).status == "COMPLETED"
    assert all(c["method"] != "chat.update" or c["ok"] for c in bot.emulator.calls)


def test_click_on_a_message_that_is_behind_is_answered_and_sends_nothing(bot: Bot) -> None:
    """The stored status moved on (another click, the watcher) before the message was redrawn."""
    lead_id, message = record(bot)
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    assert bot.services.payments.set_status(action_id, "COMPLETED", expected_old="PENDING")
    click_status(bot, message, "COMPLETED")
    assert "already COMPLETED" in wait_ephemeral(bot, "already")["text"]
    click_status(bot, message, "FAILED")
    assert "can't be marked FAILED" in wait_ephemeral(bot, "can't be marked")["text"]
    bot.wait(lambda _: set(status_buttons(payment_messages(bot)[0])) == {"REFUNDED"})
    assert status_updates(bot, action_id) == []


def test_status_change_sends_only_type_and_status(bot: Bot, monkeypatch: Any) -> None:
    lead_id, message = record(bot, "2500")
    sent: list[tuple[str, dict[str, Any]]] = []
    real = bot.services.telecrm.update_action

    def spy(lead: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        sent.append((action, dict(body)))
        return real(lead, action, body)

    monkeypatch.setattr(bot.services.telecrm, "update_action", spy)
    click_status(bot, message, "PROCESSING")
    bot.wait(lambda _: notifications(bot, "marked ₹2,500.00 PROCESSING"))
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    assert sent == [(action_id, {"type": "PAYMENT", "status": "PROCESSING"})]
    [updated] = payment_messages(bot)
    assert set(status_buttons(updated)) == {"COMPLETED", "FAILED", "CANCELLED"}


def test_lost_answer_to_a_status_change_is_not_sent_twice(bot: Bot) -> None:
    bot.services.worker.backoff = Backoff(base=0.05, jitter=0)
    lead_id, message = record(bot)
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    bot.sandbox.faults.fail_after_write_next(1, status=502, path_contains=f"/action/{action_id}")
    click_status(bot, message, "CANCELLED")
    bot.wait(lambda _: notifications(bot, "marked ₹5,000.00 CANCELLED"))
    bot.settle()
    assert len(status_updates(bot, action_id)) == 1
    assert len(notifications(bot, "marked ₹5,000.00 CANCELLED")) == 1
    assert status_buttons(payment_messages(bot)[0]) == {}


def test_refused_status_change_is_explained_and_can_be_tried_again(bot: Bot) -> None:
    lead_id, message = record(bot)
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    bot.sandbox.faults.fail_next(1, status=400, path_contains=f"/action/{action_id}")
    click_status(bot, message, "COMPLETED")
    assert "TeleCRM did not accept the change to COMPLETED" in wait_ephemeral(bot, "did not accept")["text"]
    assert payments_in_sandbox(bot, lead_id)[0]["status"] == "PENDING"
    assert bot.services.payments.get(action_id).status == "PENDING"

    click_status(bot, message, "COMPLETED")
    bot.wait(lambda _: notifications(bot, "marked ₹5,000.00 COMPLETED"))
    assert payments_in_sandbox(bot, lead_id)[0]["status"] == "COMPLETED"


def test_change_made_in_telecrm_is_noticed_once(bot: Bot) -> None:
    lead_id, message = record(bot)
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    assert check_open_payments(bot.services) == 0

    bot.services.telecrm.update_action(lead_id, action_id, {"type": "PAYMENT", "status": "FAILED"})
    assert check_open_payments(bot.services) == 1
    assert check_open_payments(bot.services) == 0
    bot.settle()

    [note] = notifications(bot, "in TeleCRM")
    assert "₹5,000.00 was marked FAILED in TeleCRM (was PENDING)" in note["text"]
    assert note["thread_ts"] == message["thread_ts"]
    [updated] = payment_messages(bot)
    assert "Failed" in shown_text(updated) and status_buttons(updated) == {}
    assert bot.services.payments.get(action_id).status == "FAILED"
    assert bot.services.payments.open_payments() == []


def test_watcher_keeps_going_when_telecrm_is_down(bot: Bot) -> None:
    lead_id, _ = record(bot)
    bot.sandbox.faults.fail_next(1, status=503)
    assert check_open_payments(bot.services) == 0
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    bot.services.telecrm.update_action(lead_id, action_id, {"type": "PAYMENT", "status": "COMPLETED"})
    assert check_open_payments(bot.services) == 1


def test_watcher_runs_on_its_own_at_the_configured_interval(make_bot: Any) -> None:
    bot = make_bot(payment_watch_seconds=0.2)
    assert any(p.name == "payment-watch" and p.interval == 0.2 for p in bot.runtime.periodics)
    lead_id, _ = record(bot)
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    bot.services.telecrm.update_action(lead_id, action_id, {"type": "PAYMENT", "status": "COMPLETED"})
    bot.wait(lambda _: notifications(bot, "in TeleCRM"))
    assert len(notifications(bot, "in TeleCRM")) == 1


def test_amount_cannot_change_so_the_bot_explains_cancel_and_record_new(bot: Bot) -> None:
    lead_id, message = record(bot)
    action_id = payments_in_sandbox(bot, lead_id)[0]["action_id"]
    writes = bot.telecrm_writes()

    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_PAYMENT_AMOUNT_HELP, channel=CHANNEL, message_ts=message["ts"]
    )
    answer = wait_ephemeral(bot, "does not allow changing the amount")
    assert "Cancelled" in answer["text"] and "₹5,000.00" in answer["text"]

    bot.command("/payment", f"{action_id} 6000")
    assert "only its status" in wait_ephemeral(bot, "only its status")["text"]
    assert bot.telecrm_writes() == writes


def test_unknown_payment_button_is_answered(bot: Bot) -> None:
    lead_id, message = record(bot)
    bot.services.store.db.execute("DELETE FROM payments")
    click_status(bot, message, "COMPLETED")
    assert "no longer have this payment" in wait_ephemeral(bot, "no longer")["text"]
    assert len(action_writes(bot)) == 1
    assert json.loads(status_buttons(message)["COMPLETED"]["value"])["lead_id"] == lead_id
