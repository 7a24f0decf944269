"""Cards that stay true: every way the bot learns a lead changed redraws its card in place, and every
later message names the lead as it is now (issue 13, point 1). End to end: the real app, the Slack
emulator and the TeleCRM sandbox."""

from __future__ import annotations

import re
from typing import Any

from kit import ids
from kit.lead_changes import request_card_refresh
from kit.worker import Backoff
from tests.conftest import ADMIN, CHANNEL, USER, Bot
from tests.lead.conftest import RAHUL_EMAIL, cards, text_of

PRIYA_EMAIL = "priya.sharma@suryodayasolar.in"  # a team member no Slack user is linked to
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def card_of(bot: Bot, ts: str) -> dict[str, Any]:
    """The card message as Slack shows it now (after any edits)."""
    return next(m for m in bot.messages(CHANNEL) if m["ts"] == ts)


def new_card(bot: Bot, text: str) -> dict[str, Any]:
    bot.command("/lead", text)
    bot.settle()
    return cards(bot)[-1]


def lead_id_of(bot: Bot, phone: str) -> str:
    return bot.sandbox.find_lead(phone)["id"]


def test_the_card_shows_values_as_people_read_them(lead_bot: Bot) -> None:
    bot = lead_bot
    new_card(bot, "name=First phone=9876500300")  # Rahul uses the bot: his Slack user is linked
    card = new_card(
        bot,
        f'name="Asha Rao" phone=9876500301 assignee={RAHUL_EMAIL} budget=5000 follow_up_date=25/12/2026',
    )
    shown = text_of(card)
    assert "+91 98765 00301" in shown and "919876500301" not in shown
    assert "*Assignee*\n<@U0RAHUL>" in shown  # the member is linked to a Slack user: a mention
    assert "₹5,000.00" in shown
    assert "25 Dec 2026" in shown and "25 Dec 2026, 12:00 AM" not in shown  # a day, without a time
    assert "Updated <!date^" in shown
    assert not EMAIL.findall(shown.replace("@U0RAHUL", ""))  # never a raw email

    card = new_card(bot, f'name="Ravi K" phone=9876500302 assignee={PRIYA_EMAIL}')
    shown = text_of(card)
    assert "*Assignee*\nPriya Sharma" in shown and PRIYA_EMAIL not in shown


def test_lead_update_redraws_the_card_and_later_messages_use_the_new_name(lead_bot: Bot) -> None:
    bot = lead_bot
    card = new_card(bot, 'name="Jane Doe" phone=9876500311 status=Fresh')
    lead_id = lead_id_of(bot, "919876500311")
    count = len(bot.messages(CHANNEL))

    bot.command("/lead", f'update 9876500311 name="Jane Smith" status=Qualified assignee={PRIYA_EMAIL}')
    bot.settle()

    now = card_of(bot, card["ts"])
    shown = text_of(now)
    assert "New lead: Jane Smith" in shown and "Jane Doe" not in shown
    assert "*Status*\nQualified" in shown and "*Assignee*\nPriya Sharma" in shown
    assert now.get("edited") and len(bot.messages(CHANNEL)) == count  # in place, not a new message
    assert bot.services.threads.get(lead_id).name == "Jane Smith"

    bot.command("/payment", "9876500311 5000")
    bot.settle()
    assert any("for Jane Smith in TeleCRM" in text_of(e) for e in bot.ephemerals(USER))
    bot.command("/payment", "")
    bot.settle()
    (form,) = bot.emulator.open_views(USER)
    assert "Jane Smith" in str(form["blocks"]) and "Jane Doe" not in str(form["blocks"])
    bot.emulator.close_view(user=USER, clear=True)


def test_edit_and_the_duplicate_offer_redraw_the_card(lead_bot: Bot) -> None:
    bot = lead_bot
    card = new_card(bot, "name=Meera phone=9876500321 rating=2")
    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_EDIT, channel=CHANNEL, message_ts=card["ts"])
    bot.wait(lambda e: next((v for v in e.open_views(USER) if v.get("submit")), None))
    bot.emulator.submit_view(user=USER, values={"name": "Meera Iyer", "rating": "4"})
    bot.settle()
    shown = text_of(card_of(bot, card["ts"]))
    assert "New lead: Meera Iyer" in shown and "*Rating*\n4" in shown

    bot.command("/lead", 'phone=9876500321 designation="Head of Ops"')  # a duplicate: offer to update
    bot.settle()
    offer = next(m for m in reversed(bot.ephemerals(USER)) if ids.ACT_UPDATE_EXISTING in str(m))
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_UPDATE_EXISTING, channel=CHANNEL, message_ts=offer["ts"]
    )
    bot.settle()
    assert "Head of Ops" in text_of(card_of(bot, card["ts"]))


def test_a_payment_and_its_status_change_show_on_the_card_as_the_last_activity(lead_bot: Bot) -> None:
    bot = lead_bot
    card = new_card(bot, "name=Payer phone=9876500331")
    assert "Last activity" not in text_of(card)
    bot.command("/payment", "9876500331 7500")
    bot.settle()
    shown = text_of(card_of(bot, card["ts"]))
    assert "Last activity: 💰 Payment, <!date^" in shown


def test_a_logged_activity_shows_on_the_card(lead_bot: Bot) -> None:
    bot = lead_bot
    card = new_card(bot, "name=Visited phone=9876500341")
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_CARD_ACTIVITY, channel=CHANNEL, message_ts=card["ts"]
    )
    (view,) = bot.wait(lambda e: e.open_views(USER))
    bot.emulator.select_option(user=USER, action_id=ids.ACT_ACTIVITY_PICK, value="1001", view_id=view["id"])
    bot.wait(lambda e: [v for v in e.open_views(USER) if len(v["blocks"]) > 2])
    bot.emulator.submit_view(user=USER, values={"activity:1001:note": "Roof measured"})
    bot.settle()
    assert "Last activity: 📌 Site Visit" in text_of(card_of(bot, card["ts"]))


def test_slack_rate_limiting_the_edit_only_delays_it(lead_bot: Bot) -> None:
    bot = lead_bot
    card = new_card(bot, "name=Limited phone=9876500351 status=Fresh")
    bot.services.worker.backoff = Backoff(base=0.05, cap=0.2, jitter=0)
    bot.emulator.web_faults.fail_next("chat.update", 2, error="ratelimited", retry_after=1)
    bot.command("/lead", "update 9876500351 status=Qualified")
    bot.wait(lambda _: "*Status*\nQualified" in text_of(card_of(bot, card["ts"])), timeout=20)
    bot.settle()
    refused = [c for c in bot.emulator.calls_to("chat.update") if not c["ok"]]
    assert len(refused) == 2 and all(c["args"].get("ts") == card["ts"] for c in refused)


def test_refreshes_asked_for_while_one_waits_are_one(lead_bot: Bot) -> None:
    bot = lead_bot
    card = new_card(bot, "name=Coalesced phone=9876500361")
    lead_id = lead_id_of(bot, "919876500361")
    with bot.services.store.transaction():  # the worker cannot take the job before all three asks
        asked = [request_card_refresh(bot.services, lead_id) for _ in range(3)]
    assert asked == [True, False, False]
    bot.settle()
    assert [r for r in bot.requests() if r.method == "GET" and r.path.endswith(lead_id)] != []
    edits = [
        c for c in bot.emulator.calls if c["method"] == "chat.update" and c["args"].get("ts") == card["ts"]
    ]
    assert len(edits) == 1
    assert request_card_refresh(bot.services, lead_id)  # after it began, a new change asks again
    bot.settle()


def test_a_change_by_another_user_keeps_the_creator_on_the_card(lead_bot: Bot) -> None:
    bot = lead_bot
    card = new_card(bot, "name=Kept phone=9876500371")
    bot.command("/lead", "update 9876500371 rating=5", user=ADMIN)
    bot.settle()
    shown = text_of(card_of(bot, card["ts"]))
    assert f"created by <@{USER}>" in shown and "*Rating*\n5" in shown
