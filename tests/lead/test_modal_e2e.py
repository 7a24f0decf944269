"""The New lead modal end to end: opened from the cache, validated in Slack, created by the worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands.lead import forms
from kit import ids
from kit.activity_section import BLOCK_PICK
from telecrm.sandbox.workspace import demo_workspace, email_identifier_workspace
from tests.conftest import CHANNEL, USER, Bot
from tests.lead.conftest import RAHUL_EMAIL, api_writes, cards, text_of, wide_workspace, with_rahul


def open_modal(bot: Bot, channel: str = CHANNEL) -> dict[str, Any]:
    bot.command("/lead", "", channel=channel)
    views = bot.wait(lambda e: e.open_views(USER))
    return views[-1]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def test_the_modal_opens_from_the_cache_without_asking_telecrm(lead_bot: Bot) -> None:
    bot = lead_bot
    bot.sandbox.faults.latency = 5.0  # any TeleCRM call before views.open would outlive the trigger id
    requests = len(bot.sandbox.request_log)
    view = open_modal(bot)
    bot.sandbox.faults.latency = 0.0
    assert view["callback_id"] == ids.VIEW_LEAD_CREATE
    assert len(bot.sandbox.request_log) == requests
    assert not bot.emulator.failed_calls()
    assert forms.input_block_ids(view["blocks"])[0] == "phone"
    assert block(view, "assignee")["element"]["initial_option"]["value"] == RAHUL_EMAIL


def test_bad_values_come_back_on_their_fields_and_nothing_is_sent(lead_bot: Bot) -> None:
    bot = lead_bot
    open_modal(bot)
    answer = bot.emulator.submit_view(
        user=USER, values={"phone": "12ab", "name": "Jane", "city": "Atlantis", "alternate_phone": "123"}
    )
    errors = answer.json["errors"]
    assert set(errors) == {"phone", "city", "alternate_phone"}
    assert "not a phone number" in errors["phone"] and "not an option" in errors["city"]
    (view,) = bot.emulator.open_views(USER)  # still open, errors shown
    assert view["errors"] == errors
    bot.settle()
    assert not api_writes(bot)

    bot.emulator.submit_view(
        user=USER, values={"phone": "98765 00010", "city": "Pune", "alternate_phone": "", "budget": "25000"}
    )
    bot.settle()
    assert not bot.emulator.open_views(USER)
    stored = bot.sandbox.find_lead("919876500010")["fields"]
    assert stored["name"] == "Jane" and stored["city"] == "Pune" and stored["budget"] == "25000"
    assert stored["assignee"] == RAHUL_EMAIL
    assert len(cards(bot)) == 1


def test_the_card_goes_to_the_channel_where_lead_was_typed(lead_bot: Bot) -> None:
    bot = lead_bot
    open_modal(bot, channel="C0PAYMENTS")
    bot.emulator.submit_view(user=USER, values={"phone": "9876500011"})
    bot.settle()
    (card,) = cards(bot, "C0PAYMENTS")
    assert not cards(bot)
    # the mention already shows the person's name: it is not repeated after it
    assert f"created by <@{USER}> ·" in text_of(card) and f"<@{USER}> (" not in text_of(card)


def test_the_optional_activity_select_is_labelled_once_as_optional(lead_bot: Bot) -> None:
    view = open_modal(lead_bot)
    picker = block(view, BLOCK_PICK)
    assert picker["optional"] is True  # Slack adds "(optional)" after the label of such an input
    assert "optional" not in picker["label"]["text"].lower()


def test_a_long_dropdown_is_typed_ahead(lead_bot: Bot) -> None:
    bot = lead_bot
    view = open_modal(bot)
    assert block(view, "city")["element"]["type"] == "external_select"
    answer = bot.emulator.block_suggestion(
        user=USER, action_id=ids.ACT_FIELD_VALUE, block_id="city", value="pu"
    )
    offered = [o["value"] for o in answer.options]
    assert offered[0] == "Pune" and len(offered) <= 100
    everything = bot.emulator.block_suggestion(
        user=USER, action_id=ids.ACT_FIELD_VALUE, block_id="city", value=""
    )
    assert len(everything.options) == 100
    bot.emulator.submit_view(user=USER, values={"phone": "9876500012", "city": "Pune"})
    bot.settle()
    assert bot.sandbox.find_lead("919876500012")["fields"]["city"] == "Pune"


def test_an_activity_is_logged_with_the_new_lead(lead_bot: Bot) -> None:
    bot = lead_bot
    open_modal(bot)
    bot.emulator.select_option(user=USER, action_id=ids.ACT_LEAD_ACTIVITY_PICK, value="1001")
    view = bot.wait(
        lambda e: next((v for v in e.open_views(USER) if "activity:1001:note" in str(v["blocks"])), None)
    )
    outcome = block(view, "activity:1001:outcome")
    assert [o["value"] for o in outcome["element"]["options"]] == [
        "Interested",
        "Not Interested",
        "Follow-up Needed",
    ]
    bot.emulator.submit_view(
        user=USER,
        values={
            "phone": "9876500013",
            "activity:1001:note": "Roof is 2,000 sq ft",
            "activity:1001:outcome": "Interested",
        },
    )
    bot.settle()
    lead = bot.sandbox.find_lead("919876500013")
    (action,) = bot.sandbox.actions(lead["id"])
    assert action["type"] == "1001"
    assert action["fields"] == {"note": "Roof is 2,000 sq ft", "outcome": "Interested"}


def test_an_activity_telecrm_ignores_is_named_as_not_saved_and_the_lead_still_created(own_bot: Bot) -> None:
    """TeleCRM ignores an action of a create that fails its validation (here: the form's cached
    definition has a field TeleCRM's no longer has) and still creates the lead; the lead's thread
    says which activity was not saved and why."""
    bot = own_bot
    open_modal(bot)
    bot.emulator.select_option(user=USER, action_id=ids.ACT_LEAD_ACTIVITY_PICK, value="1001")
    bot.wait(
        lambda e: next((v for v in e.open_views(USER) if "activity:1001:note" in str(v["blocks"])), None)
    )
    with bot.sandbox._lock:
        del bot.sandbox._state.actions_def["1001"].raw["fieldSchema"]["note"]
    bot.emulator.submit_view(
        user=USER,
        values={
            "phone": "9876500015",
            "name": "Ignored Activity",
            "activity:1001:note": "Roof is 2,000 sq ft",
            "activity:1001:outcome": "Interested",
        },
    )
    [card] = bot.wait(lambda e: cards(bot))
    bot.settle()
    lead = bot.sandbox.find_lead("919876500015")
    assert lead is not None and lead["fields"]["name"] == "Ignored Activity"
    assert bot.sandbox.actions(lead["id"]) == []
    [reply] = bot.replies(card["ts"])
    said = text_of(reply)
    assert "TeleCRM created the lead but did not keep everything" in said
    assert (
        "• The activity *Site Visit* was not saved — *Visit notes* (sent “Roof is 2,000 sq ft”): "
        "Field 'note' is not defined for custom action 1001"
    ) in said


def test_a_150_field_workspace_opens_and_every_field_can_be_filled(make_bot) -> None:
    bot = make_bot(workspace=wide_workspace(150))
    view = open_modal(bot)
    assert len(view["blocks"]) <= 100
    assert "last_field" not in forms.input_block_ids(view["blocks"])
    bot.emulator.click_button(user=USER, action_id=ids.ACT_OPEN_MORE_FIELDS, view_id=view["id"])
    stack = bot.wait(lambda e: len(e.open_views(USER)) == 2 and e.open_views(USER))
    second = stack[-1]
    assert second["callback_id"] == ids.VIEW_LEAD_MORE_FIELDS
    assert "last_field" in forms.input_block_ids(second["blocks"])
    answer = bot.emulator.submit_view(user=USER, values={"last_field": "12.5"})
    assert answer.json is None  # closes the second page, back to the first
    first = bot.wait(
        lambda e: next((v for v in e.open_views(USER) if "more field(s) saved" in text_of(v)), None)
    )
    assert "Last field" in text_of(first)
    bot.emulator.submit_view(user=USER, values={"phone": "9876500014", "name": "Wide"})
    bot.settle()
    stored = bot.sandbox.find_lead("919876500014")["fields"]
    assert stored["name"] == "Wide" and stored["last_field"] == "12.5"
    assert not bot.emulator.failed_calls()

    bot.command("/lead", "phone=9876500016 extra_120=x")  # the most used fields move to the first page
    bot.settle()
    again = open_modal(bot)
    first_page = forms.input_block_ids(again["blocks"])
    assert "last_field" in first_page and "extra_120" in first_page


def test_a_text_identifier_workspace_works_end_to_end(make_bot) -> None:
    workspace = with_rahul(demo_workspace())
    workspace["lead_identifier"] = "gst_number"
    for n, seeded in enumerate(workspace["leads"]):
        seeded["fields"].setdefault("gst_number", f"GSTSEED{n:08d}")
    bot = make_bot(workspace=workspace)
    view = open_modal(bot)
    assert forms.input_block_ids(view["blocks"])[0] == "gst_number"
    assert block(view, "gst_number")["optional"] is False
    bot.emulator.close_view(user=USER, clear=True)
    bot.command("/lead", 'gst_number=27AAAPL1234C1ZV name="Text Id"')
    bot.settle()
    assert bot.sandbox.find_lead("27aaapl1234c1zv")["fields"]["name"] == "Text Id"
    bot.command("/lead", "update 27AAAPL1234C1ZV rating=4")
    bot.settle()
    assert bot.sandbox.find_lead("27AAAPL1234C1ZV")["fields"]["rating"] == 4
    bot.command("/lead", "find 27AAAPL1234C1ZV")
    bot.settle()
    assert "1 lead matches" in text_of(bot.ephemerals(USER)[-1])


def test_an_email_identifier_workspace_works_end_to_end(make_bot) -> None:
    bot = make_bot(workspace=with_rahul(email_identifier_workspace()))
    view = open_modal(bot)
    first = block(view, "email")
    assert forms.input_block_ids(view["blocks"])[0] == "email" and first["optional"] is False
    assert first["element"]["type"] == "email_text_input"
    bot.emulator.submit_view(user=USER, values={"email": "Asha@Example.com", "name": "Asha"})
    bot.settle()
    assert bot.sandbox.find_lead("asha@example.com")["fields"]["name"] == "Asha"
    (card,) = cards(bot)
    assert "Asha@example.com" in text_of(card)

    bot.command("/lead", "email=ASHA@example.com name=Again")
    bot.settle()
    said = text_of(bot.ephemerals(USER)[-1])
    assert "already exists" in said and "Email" in said
    bot.command("/lead", "name=NoEmail phone=9876500015")
    bot.settle()  # a typed line's values are checked, and answered, right after the acknowledgement
    assert "Email is required" in text_of(bot.ephemerals(USER)[-1])


def test_create_lead_from_a_message_prefills_what_it_finds(lead_bot: Bot) -> None:
    bot = lead_bot
    posted = bot.emulator.post_user_message(
        user="U0PRIYA", channel=CHANNEL, text="Call Meena on +91 98450 12345, meena@example.com"
    )
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_LEAD_FROM_MESSAGE, channel=CHANNEL, message_ts=posted
    )
    (view,) = bot.wait(lambda e: e.open_views(USER))
    assert block(view, "phone")["element"]["initial_value"] == "919845012345"
    assert block(view, "email")["element"]["initial_value"] == "meena@example.com"
    assert block(view, "name")["element"]["initial_value"] == "Meena"
    bot.emulator.submit_view(user=USER)
    bot.settle()
    assert bot.sandbox.find_lead("919845012345")["fields"]["name"] == "Meena"
    assert len(cards(bot)) == 1


def test_past_100_activities_the_activity_is_found_by_typing_and_logged_with_the_lead(
    make_bot: Callable[..., Bot],
) -> None:
    workspace = with_rahul(demo_workspace())
    for n in range(2001, 2121):  # 120 more activities: more than one static select holds
        workspace["custom_actions"].append(
            {
                "code": f"ACTION_{n}",
                "displayName": f"Visit round {n}",
                "score": 0,
                "fieldSchema": {"summary": {"type": "TEXT", "label": "Summary"}},
            }
        )
    bot = make_bot(workspace=workspace)
    view = open_modal(bot)
    assert block(view, BLOCK_PICK)["element"]["type"] == "external_select"
    found = bot.emulator.block_suggestion(
        user=USER, view_id=view["id"], action_id=ids.ACT_LEAD_ACTIVITY_PICK, block_id=BLOCK_PICK, value="2117"
    )
    assert [o["value"] for o in found.options] == ["2117"]
    bot.emulator.select_option(user=USER, action_id=ids.ACT_LEAD_ACTIVITY_PICK, value="2117")
    bot.wait(
        lambda e: next((v for v in e.open_views(USER) if "activity:2117:summary" in str(v["blocks"])), None)
    )
    bot.emulator.submit_view(
        user=USER, values={"phone": "9876500014", "activity:2117:summary": "Second visit"}
    )
    bot.settle()
    lead = bot.sandbox.find_lead("919876500014")
    (action,) = bot.sandbox.actions(lead["id"])
    assert action["type"] == "2117" and action["fields"] == {"summary": "Second visit"}


def test_a_form_opened_where_the_bot_is_not_says_so_and_offers_the_dm(lead_bot: Bot) -> None:
    bot = lead_bot
    view = open_modal(bot, channel="C0RANDOM")
    place = block(view, forms.CARD_PLACE_BLOCK)
    assert "I'm not in <#C0RANDOM>" in str(place) and "/invite @TeleCRM" in str(place)
    assert [o["value"] for o in place["element"]["initial_options"]] == ["dm"]  # the DM is the default
    bot.emulator.submit_view(user=USER, values={"phone": "9876500015"})
    bot.settle()
    lead = bot.sandbox.find_lead("919876500015")
    thread = bot.services.threads.get(lead["id"])
    assert thread is not None and thread.channel.startswith("D")
    assert "Invite me" not in str(bot.emulator.replies(thread.channel, thread.ts))  # it was asked for


def test_a_form_opened_where_the_bot_is_asks_nothing_about_the_card(lead_bot: Bot) -> None:
    view = open_modal(lead_bot, channel="C0PAYMENTS")
    assert forms.CARD_PLACE_BLOCK not in [b.get("block_id") for b in view["blocks"]]


def test_an_advance_payment_is_created_with_the_lead_and_shown_in_its_thread(lead_bot: Bot) -> None:
    bot = lead_bot
    view = open_modal(bot)
    assert block(view, forms.ADVANCE_CURRENCY_BLOCK)["element"]["initial_option"]["value"] == "INR"
    answer = bot.emulator.submit_view(
        user=USER, values={"phone": "9876500016", forms.ADVANCE_AMOUNT_BLOCK: "5k"}
    )
    assert "amount" in answer.json["errors"][forms.ADVANCE_AMOUNT_BLOCK].lower()
    writes = bot.telecrm_writes()
    bot.emulator.submit_view(
        user=USER,
        values={
            "phone": "9876500016",
            forms.ADVANCE_AMOUNT_BLOCK: "₹12,500",
            forms.ADVANCE_CURRENCY_BLOCK: "INR",
        },
    )
    bot.settle()
    assert bot.telecrm_writes() == writes + 1  # one create call carried the lead and the payment
    lead = bot.sandbox.find_lead("919876500016")
    (payment,) = [a for a in bot.sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"]
    assert (payment["amount"], payment["currency"], payment["status"]) == ("12500", "INR", "COMPLETED")
    thread = bot.services.threads.get(lead["id"])
    assert thread is not None
    said = " ".join(text_of(m) for m in bot.replies(thread.ts))
    assert "₹12,500" in said and bot.services.payments.for_lead(lead["id"])
