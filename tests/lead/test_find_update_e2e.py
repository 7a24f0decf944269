"""`/lead find`, `/lead update` and the card's *Edit* button, end to end."""

from __future__ import annotations

from typing import Any

from kit import ids
from kit.cards import thread_for
from tests.conftest import CHANNEL, USER, Bot
from tests.lead.conftest import api_writes, cards, last_ephemeral, text_of

RAJESH = "919812345670"  # a lead of the demo workspace: Negotiation, rating 5, Managing Director
FARHAN = "919866054321"  # another: Contacted, rating 3, Plant Head (the one these tests change)


def lead_id(bot: Bot, phone: str) -> str:
    return bot.sandbox.find_lead(phone)["id"]


def create_card(bot: Bot, text: str) -> dict[str, Any]:
    bot.command("/lead", text)
    bot.settle()
    return cards(bot)[-1]


# --- find ------------------------------------------------------------------------------------------


def test_find_by_phone_email_name_and_id(lead_bot: Bot) -> None:
    bot = lead_bot
    rajesh = lead_id(bot, RAJESH)
    for query in ("98123 45670", "RAJESH@guptatextiles.co.in", "rajesh gupta", rajesh):
        bot.command("/lead", f"find {query}")
        bot.settle()
        said = last_ephemeral(bot)
        assert "1 lead matches" in said, query
        for expected in ("Rajesh Gupta", RAJESH, "Status: Negotiation", "Open in TeleCRM", rajesh):
            assert expected in said, (query, expected)
    assert not api_writes(bot)


def test_find_links_the_thread_the_bot_knows(lead_bot: Bot) -> None:
    bot = lead_bot
    create_card(bot, "phone=9876500020 name=Threaded")
    bot.command("/lead", "find 9876500020")
    bot.settle()
    assert "Open thread" in last_ephemeral(bot)


def test_find_pages_with_more(lead_bot: Bot) -> None:
    bot = lead_bot
    for n in range(12):
        bot.services.telecrm.create_lead({"phone": f"9198765001{n:02d}", "name": "Twin"})
    bot.command("/lead", "find Twin")
    bot.settle()
    page = bot.ephemerals(USER)[-1]
    said = text_of(page)
    assert "12 leads match" in said and "showing 1–10" in said
    assert said.count("Twin") >= 10
    bot.emulator.click_button(user=USER, action_id=ids.ACT_FIND_MORE, channel=CHANNEL, message_ts=page["ts"])
    bot.wait(lambda e: "showing 11–12" in text_of(e.ephemerals(USER)[-1]))
    assert len(bot.ephemerals(USER)) == 1  # the list was replaced, not repeated
    assert "More" not in str(bot.ephemerals(USER)[-1]["blocks"][-1].get("elements", ""))


def test_find_without_a_match_says_so(lead_bot: Bot) -> None:
    lead_bot.command("/lead", "find nobody@example.com")
    lead_bot.settle()
    assert "No lead matches" in last_ephemeral(lead_bot)


# --- update ----------------------------------------------------------------------------------------


def test_update_sends_only_changed_fields_and_says_so_in_the_thread(lead_bot: Bot) -> None:
    bot = lead_bot
    writes = bot.telecrm_writes()
    bot.command("/lead", f"update {FARHAN} status=qualified rating=3 designation=CEO")
    bot.settle()
    assert bot.telecrm_writes() == writes + 1
    stored = bot.sandbox.find_lead(FARHAN)["fields"]
    assert stored["status"] == "Qualified" and stored["designation"] == "CEO" and stored["rating"] == 3
    (card,) = cards(bot)  # no thread yet: a card is posted first
    (summary,) = bot.replies(card["ts"])
    said = text_of(summary)
    assert f"updated by <@{USER}>" in said
    assert "Contacted → Qualified" in said and "Plant Head → CEO" in said
    assert "Rating" not in said  # unchanged, so neither sent nor reported


def test_an_update_typed_elsewhere_tells_its_author_where_the_change_went(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", f"update {FARHAN} designation=Director")  # card and thread in the sales channel
    bot.settle()
    bot.command("/lead", f"update {FARHAN} designation=Founder", channel="C0PAYMENTS")
    bot.settle()
    told = last_ephemeral(bot)
    assert "updated (1 field(s))" in told and "the lead's thread" in told
    assert "http" in told  # a link to the thread
    thread = thread_for(bot.services, bot.sandbox.find_lead(FARHAN)["id"])
    assert thread is not None and thread.channel == CHANNEL
    assert "Director → Founder" in text_of(bot.replies(thread.ts)[-1])


def test_an_update_that_changes_nothing_sends_nothing(lead_bot: Bot) -> None:
    bot = lead_bot
    rajesh = lead_id(bot, RAJESH)
    writes = len(api_writes(bot))
    bot.command("/lead", f'update {rajesh} name="Rajesh Gupta" budget=70,00,000')
    bot.settle()
    assert "already has these values" in last_ephemeral(bot)
    assert len(api_writes(bot)) == writes


def test_the_identifier_cannot_be_updated(lead_bot: Bot) -> None:
    bot = lead_bot
    requests = len(bot.sandbox.request_log)
    bot.command("/lead", f"update {RAJESH} phone=919999999999 name=X")
    said = last_ephemeral(bot)
    assert "Phone is the lead's identifier and cannot be changed" in said
    assert len(bot.sandbox.request_log) == requests


def test_update_of_an_unknown_lead_says_so(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", "update ffffffffffffffffffffffff name=X")
    bot.settle()
    assert "No lead found" in last_ephemeral(bot)
    assert not api_writes(bot)


def test_a_value_telecrm_refuses_is_explained(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", f"update {RAJESH} gst_number=27AAAPL1234C1ZVTOOLONG")
    bot.settle()
    said = last_ephemeral(bot)
    assert "did not accept the change" in said and "15 characters" in said


def test_update_values_are_validated_first(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.command("/lead", f"update {RAJESH} rating=nine city=Atlantis")
    said = last_ephemeral(bot)
    assert "Rating" in said and "City" in said and "couldn't update the lead" in said
    assert not api_writes(bot)


# --- the Edit button ---------------------------------------------------------------------------------


def open_edit(bot: Bot, card: dict[str, Any]) -> dict[str, Any]:
    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_EDIT, channel=CHANNEL, message_ts=card["ts"])
    return bot.wait(lambda e: next((v for v in e.open_views(USER) if v.get("submit")), None))


def test_edit_opens_at_once_then_shows_current_values_and_sends_only_changes(lead_bot: Bot) -> None:
    bot = lead_bot
    card = create_card(bot, "phone=9876500021 name=Jane rating=3 city=Pune interests=VIP")
    bot.sandbox.faults.latency = 1.0  # TeleCRM is slow: the modal must not wait for it
    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_EDIT, channel=CHANNEL, message_ts=card["ts"])
    (loading,) = bot.wait(lambda e: e.open_views(USER))
    assert "Reading" in text_of(loading)
    view = bot.wait(lambda e: next((v for v in e.open_views(USER) if v.get("submit")), None))
    bot.sandbox.faults.latency = 0.0
    # (a TeleCRM member Slack does not know by email is an expected users_not_found, asked once)
    assert not [c for c in bot.emulator.failed_calls() if c["error"] != "users_not_found"]
    name = next(b for b in view["blocks"] if b.get("block_id") == "name")
    assert name["element"]["initial_value"] == "Jane"
    assert "phone" not in [b.get("block_id") for b in view["blocks"] if b["type"] == "input"]

    writes = bot.telecrm_writes()
    bot.emulator.submit_view(user=USER, values={"name": "Janet", "rating": "4"})
    bot.settle()
    assert bot.telecrm_writes() == writes + 1
    stored = bot.sandbox.find_lead("919876500021")["fields"]
    assert stored["name"] == "Janet" and stored["rating"] == 4
    assert stored["city"] == "Pune" and stored["interests"] == ["VIP"]
    (summary,) = bot.replies(card["ts"])
    said = text_of(summary)
    assert "Jane → Janet" in said and "3 → 4" in said and "City" not in said


def test_an_untouched_edit_sends_nothing(lead_bot: Bot) -> None:
    bot = lead_bot
    card = create_card(bot, "phone=9876500022 name=Still follow_up_date=25/12/2026")
    open_edit(bot, card)
    writes = len(api_writes(bot))
    answer = bot.emulator.submit_view(user=USER)
    assert answer.json["response_action"] == "update"
    (view,) = bot.emulator.open_views(USER)
    assert "changed nothing" in text_of(view) and not view.get("submit")
    bot.settle()
    assert len(api_writes(bot)) == writes


def test_edit_shows_why_a_lead_cannot_be_read(lead_bot: Bot) -> None:
    bot = lead_bot
    card = create_card(bot, "phone=9876500023")
    bot.sandbox.faults.fail_next(1, status=404, path_contains=lead_id(bot, "919876500023"))
    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_EDIT, channel=CHANNEL, message_ts=card["ts"])
    view = bot.wait(lambda e: next((v for v in e.open_views(USER) if "could not find" in text_of(v)), None))
    assert not view.get("submit")
