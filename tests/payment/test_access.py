"""PAYMENT_ALLOWED_USERS: by user id and by @usergroup; everyone else is refused and nothing is sent."""

from __future__ import annotations

from typing import Any

import pytest

from kit import ids
from kit.cards import post_lead_card
from tests.conftest import ADMIN, CHANNEL, USER
from tests.payment.conftest import (
    action_writes,
    click_status,
    new_lead,
    payments_in_sandbox,
    wait_ephemeral,
    wait_payment_messages,
)


@pytest.mark.parametrize("allowed", [("U0PRIYA",), ("@sales-managers",)])
def test_only_allowed_people_record_or_change_payments(make_bot: Any, allowed: tuple[str, ...]) -> None:
    bot = make_bot(payment_allowed_users=allowed)
    lead_id, phone = new_lead(bot)
    card = post_lead_card(
        bot.services, channel=CHANNEL, lead_id=lead_id, fields={"phone": phone, "name": "Lead"}
    )

    bot.command("/payment", f"{phone} 5000", user=USER)
    refusal = wait_ephemeral(bot, "Sorry", user=USER)
    assert "limited" in refusal["text"] and "Nothing was sent" in refusal["text"]
    bot.command("/payment", "", user=USER)
    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_PAYMENT, channel=CHANNEL, message_ts=card.ts)
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_PAYMENT_ON_CARD, channel=CHANNEL, message_ts=card.ts
    )
    bot.wait(lambda _: len([e for e in bot.ephemerals(USER) if "Sorry" in e["text"]]) == 4)
    bot.settle()
    assert bot.emulator.open_views(USER) == []
    assert action_writes(bot) == [] and payments_in_sandbox(bot, lead_id) == []

    bot.command("/payment", f"{phone} 5000", user=ADMIN)
    [message] = wait_payment_messages(bot)
    click_status(bot, message, "COMPLETED", user=USER)
    wait_ephemeral(bot, "Sorry", user=USER)
    assert len(action_writes(bot)) == 1
    assert payments_in_sandbox(bot, lead_id)[0]["status"] == "PENDING"

    click_status(bot, message, "COMPLETED", user=ADMIN)
    bot.wait(lambda _: payments_in_sandbox(bot, lead_id)[0]["status"] == "COMPLETED")


def test_group_membership_is_read_from_slack_and_cached(make_bot: Any) -> None:
    bot = make_bot(payment_allowed_users=("@sales-managers",))
    _, phone = new_lead(bot)
    for user in ("U0PRIYA", "U0OMAR", "U0RAHUL"):
        bot.command("/payment", f"{phone} 10", user=user)
    wait_ephemeral(bot, "Sorry", user="U0RAHUL")
    wait_payment_messages(bot, 2)
    assert len(bot.emulator.calls_to("usergroups.list")) == 1
    assert len(bot.emulator.calls_to("usergroups.users.list")) == 1
