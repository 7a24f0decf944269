"""`/lead key=value …` end to end: the real app, the Slack emulator and the TeleCRM sandbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kit import ids
from kit.worker import Backoff
from tests.conftest import CHANNEL, USER, Bot
from tests.lead.conftest import RAHUL_EMAIL, api_writes, cards, last_ephemeral, text_of

SEEDED_PHONE = "919812345670"  # Rajesh Gupta, a lead of the demo workspace


def lead_by_phone(bot: Bot, phone: str) -> dict:
    found = bot.sandbox.find_lead(phone)
    assert found is not None, f"no lead with phone {phone}"
    return found


def fast_retries(bot: Bot) -> None:
    bot.services.worker.backoff = Backoff(base=0.05, cap=0.2, jitter=0)


def test_inline_create_converts_every_type_and_posts_the_card(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command(
        "/lead",
        'NAME="Jane Doe" Phone="+91 98765-43210" email=Jane@Example.com status=fresh '
        'interests="VIP, Returning" rating=4 deal_size=12.5 budget=₹5,000 '
        "follow_up_date=25/12/2026 city=pune contact_source=website",
    )
    bot.settle()
    stored = lead_by_phone(bot, "919876543210")["fields"]
    assert stored["name"] == "Jane Doe"
    assert stored["phone"] == "919876543210"
    assert stored["email"] == "Jane@example.com"
    assert stored["status"] == "Fresh"
    assert stored["interests"] == ["VIP", "Returning"]
    assert stored["rating"] == 4
    assert stored["deal_size"] == 12.5
    assert stored["budget"] == "5000"
    assert stored["city"] == "Pune" and stored["contact_source"] == "Website"
    ist = ZoneInfo("Asia/Kolkata")
    assert stored["follow_up_date"] == int(datetime(2026, 12, 25, tzinfo=ist).timestamp() * 1000)
    assert stored["assignee"] == RAHUL_EMAIL  # the rep typing it, who is a TeleCRM team member

    (card,) = cards(bot)
    shown = text_of(card)
    lead_id = lead_by_phone(bot, "919876543210")["id"]
    for expected in ("Jane Doe", "+91 98765 43210", "Fresh", lead_id, "Open in TeleCRM", f"<@{USER}>"):
        assert expected in shown
    buttons = [e["text"]["text"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Record payment", "Log activity", "Timeline", "Edit"]
    thread = bot.services.threads.get(lead_id)
    assert (thread.channel, thread.ts) == (CHANNEL, card["ts"])


def test_an_explicit_empty_assignee_leaves_the_lead_unassigned(lead_bot: Bot) -> None:
    lead_bot.command("/lead", "phone=9876500001 assignee=")
    lead_bot.settle()
    assert "assignee" not in lead_by_phone(lead_bot, "919876500001")["fields"]


def test_invalid_values_are_listed_in_one_message_and_nothing_is_sent(lead_bot: Bot) -> None:
    bot = lead_bot
    before = list(bot.sandbox.request_log)
    bot.command(
        "/lead",
        "phone=12ab rating=7 email=not-an-email status=Nonsense budget=-5 follow_up_date=someday "
        "city=Atlantis colour=red",
    )
    bot.settle()
    reply = last_ephemeral(bot)
    assert len(bot.ephemerals(USER)) == 1
    for expected in (
        "Phone",
        "Rating",
        "Email",
        "Status",
        "Budget (INR)",
        "Follow-up Date",
        "City",
        "colour",
    ):
        assert expected in reply, expected
    assert "nothing was sent to TeleCRM" in reply
    assert bot.sandbox.request_log == before
    assert not cards(bot)


def test_a_missing_identifier_is_named(lead_bot: Bot) -> None:
    lead_bot.command("/lead", 'name="No Phone"')
    reply = last_ephemeral(lead_bot)
    assert "Phone is required" in reply
    assert not api_writes(lead_bot)


def test_remarks_are_replied_in_the_leads_thread(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", "phone=9876500002 gst_number=27AAAPL1234C1ZVTOOLONG")
    bot.settle()
    (card,) = cards(bot)
    (reply,) = bot.replies(card["ts"])
    said = text_of(reply)
    assert "GSTIN" in said and "27AAAPL1234C1ZVTOOLONG" in said
    assert "15 characters" in said  # TeleCRM's own reason
    assert "gst_number" not in lead_by_phone(bot, "919876500002")["fields"]


def test_a_duplicate_offers_to_update_the_existing_lead_once(lead_bot: Bot) -> None:
    bot = lead_bot
    existing = lead_by_phone(bot, SEEDED_PHONE)
    leads_before = len(bot.sandbox.leads())
    bot.command("/lead", f'phone={SEEDED_PHONE} designation="Chief Executive" rating=3')
    bot.settle()
    assert len(bot.sandbox.leads()) == leads_before
    reply = bot.ephemerals(USER)[-1]
    said = text_of(reply)
    assert "already exists" in said and existing["id"] in said and "Open in TeleCRM" in said
    assert not cards(bot)

    writes = bot.telecrm_writes()
    for _ in range(2):  # a double click
        bot.emulator.click_button(
            user=USER, action_id=ids.ACT_UPDATE_EXISTING, channel=CHANNEL, message_ts=reply["ts"]
        )
        bot.settle()
    assert bot.telecrm_writes() == writes + 1
    updated = lead_by_phone(bot, SEEDED_PHONE)["fields"]
    assert updated["designation"] == "Chief Executive" and updated["rating"] == 3
    bot.wait(lambda e: any("Already done" in text_of(m) for m in bot.ephemerals(USER)))
    (card,) = cards(bot)  # the bot had no thread for this lead: a card first, then the update in it
    (summary,) = bot.replies(card["ts"])
    said = text_of(summary)
    assert f"updated by <@{USER}>" in said
    assert "Managing Director → Chief Executive" in said and "5 → 3" in said


def test_the_duplicate_reply_links_the_thread_the_bot_knows(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", "phone=9876500003 name=First")
    bot.settle()
    bot.command("/lead", "phone=9876500003 name=Second")
    bot.settle()
    said = last_ephemeral(bot)
    assert "already exists" in said and "Open its thread" in said
    assert len(cards(bot)) == 1


def test_a_transient_failure_is_queued_told_and_lands_later(lead_bot: Bot) -> None:
    bot = lead_bot
    fast_retries(bot)
    bot.sandbox.faults.fail_next(1, status=503, path_contains="/lead")
    bot.command("/lead", "phone=9876500004 name=Later")
    bot.wait(lambda e: cards(bot))
    bot.settle()
    assert "will be sent automatically" in text_of(bot.ephemerals(USER)[0])
    assert lead_by_phone(bot, "919876500004")["fields"]["name"] == "Later"


def test_a_lost_answer_is_reconciled_not_duplicated(lead_bot: Bot) -> None:
    """The first attempt lands but its answer is lost; the retry's 409 is our own lead."""
    bot = lead_bot
    fast_retries(bot)
    leads_before = len(bot.sandbox.leads())
    bot.sandbox.faults.fail_after_write_next(1, status=503, path_contains="/lead")
    bot.command("/lead", "phone=9876500005 name=Once")
    bot.wait(lambda e: cards(bot))
    bot.settle()
    assert len(bot.sandbox.leads()) == leads_before + 1
    assert len(cards(bot)) == 1
    assert not any("already exists" in text_of(m) for m in bot.ephemerals(USER))


def test_a_retry_that_meets_an_old_lead_is_still_a_duplicate(lead_bot: Bot) -> None:
    bot = lead_bot
    fast_retries(bot)
    bot.sandbox.faults.fail_next(1, status=503, path_contains="/lead")
    bot.command("/lead", f"phone={SEEDED_PHONE} name=Other")
    bot.wait(lambda e: any("already exists" in text_of(m) for m in bot.ephemerals(USER)))
    bot.settle()
    assert not cards(bot)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "TELECRM_SYNC_TOKEN"),
        (400, "did not accept the lead"),
    ],
)
def test_telecrm_refusals_are_explained(lead_bot: Bot, status: int, expected: str) -> None:
    bot = lead_bot
    bot.sandbox.faults.fail_next(1, status=status, path_contains="/lead")
    bot.command("/lead", "phone=9876500007")
    bot.settle()
    said = last_ephemeral(bot)
    assert expected in said
    if status == 401:
        assert "admin" in said
    assert not cards(bot)


def test_a_channel_without_the_bot_gets_the_card_in_a_dm(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", "phone=9876500008 name=Elsewhere", channel="C0RANDOM")
    bot.settle()
    lead = lead_by_phone(bot, "919876500008")
    thread = bot.services.threads.get(lead["id"])
    assert thread is not None and thread.channel.startswith("D")
    assert "Invite me" in str(bot.emulator.replies(thread.channel, thread.ts))
