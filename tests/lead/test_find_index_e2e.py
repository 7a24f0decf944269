"""`/lead find` by part of a name, phone, email or company, end to end: the real app, the Slack emulator,
the TeleCRM sandbox, and the bot's lead index (storage/lead_index.py) fed as the bot works."""

from __future__ import annotations

from collections.abc import Callable

from kit import ids
from telecrm.client import TeleCRMClient
from telecrm.sandbox import demo_workspace
from tests.conftest import CHANNEL, USER, Bot
from tests.lead.conftest import api_writes, last_ephemeral, text_of, with_rahul

JANE = 'name="Jane Doe" phone=9876543210 email=jane.doe@suryodayasolar.in company="Suryoday Solar"'


def find(bot: Bot, text: str) -> str:
    bot.command("/lead", f"find {text}")
    bot.settle()
    return last_ephemeral(bot)


def test_part_of_a_name_finds_a_lead_created_in_the_sandbox_through_the_bot(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", JANE)
    bot.settle()
    jane = bot.sandbox.find_lead("919876543210")
    assert jane is not None and jane["fields"]["name"] == "Jane Doe"
    writes = len(api_writes(bot))
    said = find(bot, "jan")
    assert "1 lead matches “jan”" in said
    for shown in ("Jane Doe", "919876543210", "Status:", "Open in TeleCRM", "Open thread", jane["id"]):
        assert shown in said, shown
    assert "1 from the bot's index of" in said and "updated" in said and "s ago" in said
    assert len(api_writes(bot)) == writes


def test_phone_ending_email_company_and_typos_find_the_same_lead(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", JANE.replace("9876543210", "9876501234").replace("Jane Doe", "Janaki Doshi"))
    bot.settle()
    for typed in ("1234", "01234", "suryoday", "doe@suryo", "jnaaki", "janaki dohsi"):
        said = find(bot, typed)
        assert "Janaki Doshi" in said and "from the bot's index of" in said, typed
    assert "close spelling" in find(bot, "jnaaki")


def test_a_full_phone_is_still_an_exact_search_in_telecrm(lead_bot: Bot) -> None:
    said = find(lead_bot, "98123 45670")  # Rajesh Gupta, a demo lead the bot has never seen
    assert "Rajesh Gupta" in said and "From TeleCRM: an exact match" in said
    assert any(r.path.endswith("/lead/search") for r in lead_bot.requests())


def test_one_character_or_nothing_explains_what_find_needs(lead_bot: Bot) -> None:
    for text in ("find j", "find", "search  "):
        requests = len(lead_bot.sandbox.request_log)
        lead_bot.command("/lead", text)
        said = last_ephemeral(lead_bot)
        assert "Type at least 2 characters of a name, phone, email or company" in said, text
        assert len(lead_bot.sandbox.request_log) == requests  # answered at once, nothing searched


def test_more_pages_through_the_index(lead_bot: Bot) -> None:
    bot = lead_bot
    for n in range(13):
        bot.services.telecrm.create_lead({"phone": f"9198765002{n:02d}", "name": f"Quokka {n}"})
    said = find(bot, "quokk")
    assert "13 leads match" in said and "showing 1–10" in said and "13 from the bot's index" in said
    page = bot.ephemerals(USER)[-1]
    bot.emulator.click_button(user=USER, action_id=ids.ACT_FIND_MORE, channel=CHANNEL, message_ts=page["ts"])
    bot.wait(lambda e: "showing 11–13" in text_of(e.ephemerals(USER)[-1]))


def test_the_mirror_brings_in_recent_leads_the_bot_never_saw(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(workspace=with_rahul(demo_workspace()), lead_index_days=90)
    assert any(p.name == "lead-index" for p in bot.runtime.periodics)
    said = find(bot, "cold stor")
    assert "No lead matches" in said and "the bot's index of 0 leads" in said
    # a lead created in TeleCRM by someone else, not through the bot
    outside = TeleCRMClient(
        base_url=bot.settings.telecrm_api_url,
        enterprise_id=bot.settings.telecrm_enterprise_id,
        sync_token=bot.settings.telecrm_sync_token,
    )
    outside.create_lead(
        {"phone": "919811100000", "name": "Zoya Fernandes", "company": "Sunrise Cold Storage"}
    )
    outside.close()
    assert bot.services.lead_mirror.run() == 1  # the demo leads and the new one: one page
    said = find(bot, "cold stor")
    assert "Lakshmi Narayanan" in said and "Zoya Fernandes" in said and "Manoj Tiwari" not in said
    assert "2 from the bot's index of 8 leads" in said
    assert "Zoya Fernandes" in find(bot, "fernan")
