"""Recording payments end to end: typed, by the modal, from a lead card; every refusal; retries."""

from __future__ import annotations

import pytest

from kit import ids
from kit.cards import post_lead_card
from kit.worker import Backoff
from telecrm.models import ActionOutcome, Remark, WriteResult
from tests.conftest import CHANNEL, USER, Bot
from tests.payment.conftest import (
    action_writes,
    new_lead,
    payment_messages,
    payments_in_sandbox,
    shown_text,
    status_buttons,
    thread_replies,
    wait_ephemeral,
    wait_payment_messages,
)


def test_typed_payment_posts_a_card_first_then_the_payment_in_its_thread(bot: Bot) -> None:
    lead_id, phone = new_lead(bot, "Jane Doe")
    bot.command("/payment", f'"+91 {phone[2:7]} {phone[7:]}" ₹5,000 inr')
    [message] = wait_payment_messages(bot)

    [stored] = payments_in_sandbox(bot, lead_id)
    assert (stored["amount"], stored["currency"], stored["status"]) == ("5000", "INR", "PENDING")
    [card] = bot.messages()
    assert "Jane Doe" in card["text"] and card["ts"] == message["thread_ts"]
    assert bot.services.threads.get(lead_id).ts == card["ts"]
    text = shown_text(message)
    assert "₹5,000.00" in text and "PENDING" in text and f"<@{USER}>" in text and stored["action_id"] in text
    assert set(status_buttons(message)) == {"PROCESSING", "COMPLETED", "FAILED", "CANCELLED"}
    saved = bot.services.payments.get(stored["action_id"])
    assert (saved.lead_id, saved.amount, saved.currency, saved.status) == (lead_id, "5000", "INR", "PENDING")
    assert (saved.channel, saved.thread_ts, saved.message_ts) == (CHANNEL, card["ts"], message["ts"])
    assert "Recorded ₹5,000.00" in wait_ephemeral(bot, "Recorded")["text"]


def test_amounts_are_read_as_people_type_them_and_go_to_the_known_thread(bot: Bot) -> None:
    lead_id, phone = new_lead(bot)
    thread = post_lead_card(
        bot.services, channel=CHANNEL, lead_id=lead_id, fields={"phone": phone, "name": "A"}
    )
    for text in (f"{phone} 5,000", f"{lead_id} ₹5000 COMPLETED", f"{phone} 5000.50 USD processing"):
        bot.command("/payment", text)
    wait_payment_messages(bot, 3)

    stored = sorted((p["amount"], p["currency"], p["status"]) for p in payments_in_sandbox(bot, lead_id))
    assert stored == [
        ("5000", "INR", "COMPLETED"),
        ("5000", "INR", "PENDING"),
        ("5000.50", "USD", "PROCESSING"),
    ]
    assert len(bot.messages()) == 1  # no second card: the lead's thread was known
    assert {m["thread_ts"] for m in payment_messages(bot)} == {thread.ts}


BAD_INPUT = [
    ("{phone} 0", "more than 0"),
    ("{phone} -5", "more than 0"),
    ("{phone} abc", "“abc”"),
    ("{phone} 5,00", "ambiguous"),
    ("{phone} 5000 XYZ", "XYZ"),
    ("{phone} 5000 INR PAIDOUT", "PAIDOUT"),
    ("hello 5000", "“hello” is not a lead id"),
    ("{phone} INR", "the amount is missing"),
    ('"" 5000', "say which lead first"),
]


def test_bad_typed_input_is_answered_and_nothing_is_sent(bot: Bot) -> None:
    _, phone = new_lead(bot)
    writes = bot.telecrm_writes()
    requests = len(bot.sandbox.request_log)

    def answers() -> list[dict]:
        return [e for e in bot.ephemerals() if "Nothing was sent" in e["text"]]

    for n, (text, expected) in enumerate(BAD_INPUT, start=1):
        bot.command("/payment", text.format(phone=phone))
        bot.wait(lambda _, n=n: len(answers()) >= n)
        answer = answers()[-1]["text"]
        assert expected in answer and "/payment <lead id or phone>" in answer, (text, answer)
    bot.settle()
    assert len(bot.sandbox.request_log) == requests and bot.telecrm_writes() == writes


def test_just_a_lead_opens_the_modal_with_it(bot: Bot) -> None:
    _, phone = new_lead(bot)
    bot.command("/payment", phone)
    [view] = bot.wait(lambda e: e.open_views(USER))
    assert view["blocks"][0]["element"]["initial_value"] == phone


def test_unknown_lead_is_looked_up_after_the_ack_and_refused(bot: Bot) -> None:
    writes = bot.telecrm_writes()
    bot.command("/payment", "919000011111 5000")
    assert "919000011111" in wait_ephemeral(bot, "No TeleCRM lead")["text"]
    bot.command("/payment", "0123456789abcdef01234567 5000")
    wait_ephemeral(bot, "0123456789abcdef01234567")
    assert bot.telecrm_writes() == writes and action_writes(bot) == []
    assert bot.messages() == []


def test_modal_checks_the_values_then_records_once(bot: Bot) -> None:
    lead_id, phone = new_lead(bot, "Modal Lead")
    post_lead_card(
        bot.services, channel=CHANNEL, lead_id=lead_id, fields={"phone": phone, "name": "Modal Lead"}
    )
    bot.command("/payment")
    [view] = bot.wait(lambda e: e.open_views(USER))
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["currency"]["element"]["initial_option"]["value"] == "INR"
    assert blocks["status"]["element"]["initial_option"]["value"] == "PENDING"
    assert [o["value"] for o in blocks["recent_lead"]["element"]["options"]] == [lead_id]

    for amount, currency, status in (
        ("0", "INR", "PENDING"),
        ("-5", "USD", "PENDING"),
        ("abc", "INR", "FAILED"),
    ):
        bot.emulator.submit_view(
            user=USER,
            values={"recent_lead": lead_id, "amount": amount, "currency": currency, "status": status},
        )
        [shown] = bot.emulator.open_views(USER)
        assert list(shown["errors"]) == ["amount"] and amount in shown["errors"]["amount"]
    bot.emulator.submit_view(user=USER, values={"lead": "hello", "recent_lead": None, "amount": "5,000.50"})
    [shown] = bot.emulator.open_views(USER)
    assert list(shown["errors"]) == ["lead"]
    assert action_writes(bot) == []

    bot.emulator.submit_view(
        user=USER, values={"lead": phone, "amount": "₹5,000.50", "currency": "USD", "status": "PENDING"}
    )
    assert bot.emulator.open_views(USER) == []
    [message] = wait_payment_messages(bot)
    [stored] = payments_in_sandbox(bot, lead_id)
    assert (stored["amount"], stored["currency"], stored["status"]) == ("5000.50", "USD", "PENDING")
    assert "$5,000.50" in shown_text(message) and len(action_writes(bot)) == 1


def test_modal_for_an_unknown_lead_answers_and_writes_nothing(bot: Bot) -> None:
    bot.command("/payment")
    bot.wait(lambda e: e.open_views(USER))
    bot.emulator.submit_view(user=USER, values={"lead": "919000022222", "amount": "100"})
    assert "919000022222" in wait_ephemeral(bot, "No TeleCRM lead")["text"]
    assert action_writes(bot) == [] and bot.messages() == []


def test_card_button_and_message_shortcut_open_the_modal_for_that_lead(bot: Bot) -> None:
    lead_id, phone = new_lead(bot, "Card Lead")
    card = post_lead_card(
        bot.services, channel=CHANNEL, lead_id=lead_id, fields={"phone": phone, "name": "Card Lead"}
    )

    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_PAYMENT, channel=CHANNEL, message_ts=card.ts)
    [view] = bot.wait(lambda e: e.open_views(USER))
    assert "Card Lead" in shown_text(view)
    assert {b.get("block_id"): b for b in view["blocks"]}["lead"]["element"]["initial_value"] == lead_id
    assert "recent_lead" not in {b.get("block_id") for b in view["blocks"]}
    bot.emulator.submit_view(user=USER, values={"amount": "1200"})
    [first] = wait_payment_messages(bot)
    assert first["thread_ts"] == card.ts

    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_PAYMENT_ON_CARD, channel=CHANNEL, message_ts=card.ts
    )
    [view] = bot.wait(lambda e: e.open_views(USER))
    assert {b.get("block_id"): b for b in view["blocks"]}["lead"]["element"]["initial_value"] == lead_id
    bot.emulator.submit_view(user=USER, values={"amount": "800", "status": "COMPLETED"})
    second = wait_payment_messages(bot, 2)[-1]
    assert second["thread_ts"] == card.ts and "₹800.00" in shown_text(second)
    assert sorted(p["amount"] for p in payments_in_sandbox(bot, lead_id)) == ["1200", "800"]

    # the shortcut also works on a reply in the lead's thread, and explains itself elsewhere
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_PAYMENT_ON_CARD, channel=CHANNEL, message_ts=second["ts"]
    )
    [view] = bot.wait(lambda e: e.open_views(USER))
    assert {b.get("block_id"): b for b in view["blocks"]}["lead"]["element"]["initial_value"] == lead_id
    bot.emulator.close_view(user=USER)
    ts = bot.emulator.post_user_message(user=USER, channel=CHANNEL, text="paid 5000 today")
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_PAYMENT_ON_CARD, channel=CHANNEL, message_ts=ts
    )
    assert "not a lead card" in wait_ephemeral(bot, "not a lead card")["text"]


def test_card_in_an_unknown_thread_becomes_the_leads_thread(bot: Bot) -> None:
    """A card the bot did not remember (e.g. from before a database reset) receives the payment."""
    lead_id, phone = new_lead(bot, "Old Card")
    card = post_lead_card(
        bot.services, channel=CHANNEL, lead_id=lead_id, fields={"phone": phone, "name": "Old Card"}
    )
    bot.services.store.db.execute("DELETE FROM lead_threads WHERE lead_id = ?", [lead_id])
    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_PAYMENT, channel=CHANNEL, message_ts=card.ts)
    bot.wait(lambda e: e.open_views(USER))
    bot.emulator.submit_view(user=USER, values={"amount": "300"})
    [message] = wait_payment_messages(bot)
    assert message["thread_ts"] == card.ts and len(bot.messages()) == 1
    assert bot.services.threads.get(lead_id).ts == card.ts


def test_lost_answer_is_reconciled_so_the_payment_exists_once(bot: Bot) -> None:
    bot.services.worker.backoff = Backoff(base=0.05, jitter=0)
    lead_id, phone = new_lead(bot)
    bot.sandbox.faults.fail_after_write_next(1, status=503, path_contains=f"/lead/{lead_id}/action")
    bot.command("/payment", f"{phone} 7000")
    [message] = wait_payment_messages(bot)
    assert len(payments_in_sandbox(bot, lead_id)) == 1 and len(action_writes(bot)) == 1
    assert payments_in_sandbox(bot, lead_id)[0]["action_id"] in shown_text(message)
    assert "queued" in wait_ephemeral(bot, "queued")["text"]


def test_payment_ignored_by_telecrm_is_explained_in_the_thread(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead_id, phone = new_lead(bot, "Ignored")
    ignored = WriteResult(
        lead_id,
        [ActionOutcome(None, "IGNORED")],
        [Remark("actions[0].fields.amount", "IGNORED", "Amount exceeds the workspace limit")],
    )
    monkeypatch.setattr(bot.services.telecrm, "create_actions", lambda *a, **k: ignored)
    bot.command("/payment", f"{phone} 99999999")
    wait_ephemeral(bot, "did not store")
    [reply] = thread_replies(bot)
    assert "did not store the payment of ₹9,99,99,999.00" in reply["text"]
    assert "amount: Amount exceeds the workspace limit" in reply["text"]
    assert bot.services.payments.for_lead(lead_id) == []
