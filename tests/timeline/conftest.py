"""Leads with a history, made directly in the sandbox (no dependency on /lead)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kit.cards import post_lead_card
from tests.conftest import CHANNEL, USER, Bot

IST = ZoneInfo("Asia/Kolkata")
PRIYA_EMAIL = "priya.sharma@suryodayasolar.in"  # an active team member of the demo workspace
PHONE = "919812345678"


def ist_ms(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=IST).timestamp() * 1000)


@dataclass
class Lead:
    id: str
    phone: str
    name: str
    thread_ts: str | None = None


def make_lead(bot: Bot, phone: str = PHONE, name: str = "Jane Doe", *, with_card: bool = False) -> Lead:
    result = bot.services.telecrm.create_lead({"phone": phone, "name": name})
    assert result.lead_id
    lead = Lead(result.lead_id, phone, name)
    if with_card:
        thread = post_lead_card(
            bot.services, channel=CHANNEL, lead_id=lead.id, fields={"phone": phone, "name": name}
        )
        lead.thread_ts = thread.ts
    return lead


def seed_history(bot: Bot, lead: Lead) -> None:
    """A call, a WhatsApp message, a Site Visit (custom) and a payment, on known days of April 2026."""
    bot.sandbox.add_builtin_action(
        lead.id,
        "OUTGOING_CALL",
        created_on_ms=ist_ms(2026, 3, 28, 10),
        performed_by=PRIYA_EMAIL,
        duration=185,
    )
    bot.sandbox.add_builtin_action(
        lead.id,
        "INCOMING_WHATSAPP_MSG",
        created_on_ms=ist_ms(2026, 4, 2, 9),
        performed_by=PRIYA_EMAIL,
        message="Is the 5 kW plan available?",
    )
    answer = bot.services.telecrm.create_actions(
        lead.id,
        [
            {
                "type": "1001",
                "fields": {"note": "Roof is south facing", "outcome": "Interested"},
                "created_on": "30/04/2026 23:30:00",
            },
            {"type": "PAYMENT", "amount": "5000", "currency": "INR", "status": "COMPLETED"},
        ],
    )
    assert [a.status for a in answer.actions] == ["CREATED", "CREATED"], answer


def texts(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: its blocks' texts (or the fallback text)."""
    out = []
    for block in message.get("blocks") or []:
        for part in [block.get("text"), *(block.get("elements") or []), *(block.get("fields") or [])]:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("text"), dict):
                out.append(part["text"].get("text", ""))
    return "\n".join(out) or message.get("text", "")


@pytest.fixture
def lead_factory(bot: Bot) -> Callable[..., Lead]:
    def factory(**kw: Any) -> Lead:
        return make_lead(bot, **kw)

    return factory


_ANSWERS = {
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "response_url",
    "views.open",
    "views.update",
}


def _answer_count(emulator: Any) -> int:
    return sum(1 for call in emulator.calls if call["method"] in _ANSWERS)


def answered(bot: Bot, gesture: Callable[[], Any]) -> None:
    """Do what a user does, wait until the bot has answered it in Slack, then until its work is done.

    Listeners acknowledge first and hand the work over afterwards, so ``settle()`` alone could look
    before the work exists; a first visible answer proves it does.
    """
    before = _answer_count(bot.emulator)
    gesture()
    bot.wait(lambda emulator: _answer_count(emulator) > before)
    bot.settle()


def timeline(bot: Bot, text: str, *, user: str = USER) -> None:
    answered(bot, lambda: bot.command("/timeline", text, user=user))


def click(bot: Bot, action_id: str, message_ts: str | None, *, user: str = USER) -> None:
    """Click a button on a channel message, thread reply or the user's ephemeral, and wait for the answer."""
    answered(
        bot,
        lambda: bot.emulator.click_button(
            user=user, action_id=action_id, channel=CHANNEL, message_ts=message_ts
        ),
    )
