"""Helpers for the /payment end-to-end tests: leads made through the sandbox API, payment messages
found the way a user finds them (replies in the channel's threads)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from kit import ids
from tests.conftest import CHANNEL, USER, Bot

_phones = itertools.count(1)


def new_lead(bot: Bot, name: str = "Jane Doe") -> tuple[str, str]:
    """(lead id, phone) of a fresh lead created through the TeleCRM API (the bot knows no thread)."""
    phone = f"9198765{next(_phones):05d}"
    result = bot.services.telecrm.create_lead({"phone": phone, "name": name})
    assert result.lead_id
    return result.lead_id, phone


def action_writes(bot: Bot) -> list[Any]:
    """Requests that create or change actions (POST …/action…, not the action search)."""
    return [
        r
        for r in bot.sandbox.request_log
        if r.method == "POST" and "/action" in r.path and not r.path.endswith("/action/search")
    ]


def payments_in_sandbox(bot: Bot, lead_id: str) -> list[dict[str, Any]]:
    return [a for a in bot.sandbox.actions(lead_id) if a["type"] == "PAYMENT"]


def is_payment_message(message: dict[str, Any]) -> bool:
    return any(
        e.get("action_id") == ids.ACT_PAYMENT_AMOUNT_HELP
        for b in message.get("blocks") or []
        if b.get("type") == "actions"
        for e in b.get("elements") or []
    )


def thread_replies(bot: Bot, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """Every reply in every thread of the channel, oldest thread first."""
    return [r for m in bot.messages(channel) for r in bot.replies(m["ts"], channel)]


def payment_messages(bot: Bot, channel: str = CHANNEL) -> list[dict[str, Any]]:
    return [r for r in thread_replies(bot, channel) if is_payment_message(r)]


def wait_payment_messages(bot: Bot, n: int = 1, channel: str = CHANNEL) -> list[dict[str, Any]]:
    bot.wait(lambda _: len(payment_messages(bot, channel)) >= n)
    bot.settle()
    return payment_messages(bot, channel)


def wait_ephemeral(bot: Bot, containing: str, user: str = USER) -> dict[str, Any]:
    """The newest ephemeral message for ``user`` that contains ``containing``."""

    def found(_: Any) -> dict[str, Any] | None:
        hits = [e for e in bot.ephemerals(user) if containing in e["text"]]
        return hits[-1] if hits else None

    message = bot.wait(found)
    bot.settle()
    return message


def status_buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Status → button, for the next-status buttons on a payment message."""
    found = {}
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if str(element.get("action_id", "")).startswith(ids.ACT_PAYMENT_STATUS):
                found[json.loads(element["value"])["status"]] = element
    return found


def click_status(bot: Bot, message: dict[str, Any], status: str, user: str = USER) -> Any:
    button = status_buttons(message)[status]
    return bot.emulator.click_button(
        user=user,
        action_id=button["action_id"],
        channel=CHANNEL,
        message_ts=message["ts"],
        value=button["value"],
    )


def shown_text(message: dict[str, Any]) -> str:
    return message.get("text", "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)
