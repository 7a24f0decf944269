"""*Log activity* end to end: card button → modal → choose an activity → its fields → TeleCRM → thread."""

from __future__ import annotations

import time
from typing import Any

from kit import ids
from kit.activity_section import BLOCK_PICK, BLOCK_WHEN
from kit.worker import Backoff
from tests.conftest import CHANNEL, USER, Bot

from .conftest import Lead, ist_ms, make_lead, texts

NOTE = "activity:1001:note"
OUTCOME = "activity:1001:outcome"
DEMO_DATE = "activity:1002:demo_date"
ATTENDEES = "activity:1002:attendees"
INVITE = "activity:1002:contact_email"


def _open_form(bot: Bot, lead: Lead, code: str) -> dict[str, Any]:
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_CARD_ACTIVITY, channel=CHANNEL, message_ts=lead.thread_ts
    )
    (view,) = bot.wait(lambda emulator: emulator.open_views(USER))
    assert view["callback_id"] == ids.VIEW_ACTIVITY
    picker = next(b for b in view["blocks"] if b["block_id"] == BLOCK_PICK)
    assert [o["text"]["text"] for o in picker["element"]["options"]] == [
        "Site Visit",
        "Demo Booked",
        "Quotation Sent",
    ]
    bot.emulator.select_option(user=USER, action_id=ids.ACT_ACTIVITY_PICK, value=code, view_id=view["id"])
    (view,) = bot.wait(lambda emulator: [v for v in emulator.open_views(USER) if len(v["blocks"]) > 2])
    return view


def _custom_actions(bot: Bot, lead: Lead) -> list[dict[str, Any]]:
    return [a for a in bot.sandbox.actions(lead.id) if a["type"].isdigit()]


def test_logging_an_activity_creates_it_once_and_answers_in_the_thread(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    view = _open_form(bot, lead, "1002")
    labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"] if b["type"] == "input"}
    assert labels == {
        BLOCK_PICK: "Activity",
        DEMO_DATE: "Demo date",
        ATTENDEES: "Attendees",
        INVITE: "Invite sent to",
    }
    bot.emulator.submit_view(
        user=USER, values={DEMO_DATE: "2026-12-05", ATTENDEES: "3", INVITE: "ravi@example.com"}
    )
    bot.settle()

    (stored,) = _custom_actions(bot, lead)
    assert stored["type"] == "1002" and stored["fields"]["attendees"] == 3
    assert stored["fields"]["contact_email"] == "ravi@example.com"
    (reply,) = bot.replies(lead.thread_ts)
    shown = texts(reply)
    assert f"<@{USER}> logged *Demo Booked*" in shown and "*Attendees:* 3" in shown
    assert "*Demo date:* 05/12/2026 ·" in shown
    assert f"action id `{stored['action_id']}`" in shown
    assert bot.emulator.open_views(USER) == []
    assert bot.emulator.failed_calls() == []


def test_choosing_another_activity_swaps_the_fields(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    view = _open_form(bot, lead, "1002")
    bot.emulator.select_option(user=USER, action_id=ids.ACT_ACTIVITY_PICK, value="1001", view_id=view["id"])
    (view,) = bot.wait(
        lambda emulator: [
            v for v in emulator.open_views(USER) if any(b["block_id"] == NOTE for b in v["blocks"])
        ]
    )
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert inputs == [BLOCK_PICK, NOTE, OUTCOME, BLOCK_WHEN]  # Site Visit may be back-dated
    outcome = next(b for b in view["blocks"] if b["block_id"] == OUTCOME)["element"]
    assert outcome["type"] == "static_select"

    bot.emulator.submit_view(user=USER, values={NOTE: "Met the owner", OUTCOME: "Follow-up Needed"})
    bot.settle()
    (stored,) = _custom_actions(bot, lead)
    assert stored["type"] == "1001"
    assert stored["fields"] == {"note": "Met the owner", "outcome": "Follow-up Needed"}


def test_a_stale_form_gets_telecrms_remark_in_words_and_nothing_half_saved(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    # the admin removes the "note" field from Site Visit in TeleCRM after the bot cached the definition
    with bot.sandbox._lock:
        del bot.sandbox._state.actions_def["1001"].raw["fieldSchema"]["note"]
    view = _open_form(bot, lead, "1001")
    assert any(b["block_id"] == NOTE for b in view["blocks"])

    bot.emulator.submit_view(user=USER, values={NOTE: "Roof needs repair first", OUTCOME: "Interested"})
    bot.settle()

    assert _custom_actions(bot, lead) == []
    (reply,) = bot.replies(lead.thread_ts)
    shown = texts(reply)
    assert "TeleCRM did not save the *Site Visit* activity" in shown
    assert "*Visit notes* (sent “Roof needs repair first”)" in shown
    assert "Field 'note' is not defined for custom action 1001" in shown
    assert "out of date" in shown
    bot.services.cache.wait_idle(5)
    bot.settle()
    refreshed = bot.services.cache.cached().custom_action("1001")
    assert [f.api_name for f in refreshed.fields] == ["outcome"]


def test_a_lost_answer_is_retried_without_creating_the_activity_twice(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    bot.services.worker.backoff = Backoff(base=0.05, jitter=0)
    view = _open_form(bot, lead, "1001")
    bot.sandbox.faults.fail_after_write_next(1, status=503, path_contains=f"/lead/{lead.id}/action")

    bot.emulator.submit_view(user=USER, values={NOTE: "Second visit", OUTCOME: "Interested"})
    reply = bot.wait(lambda emulator: emulator.replies(CHANNEL, lead.thread_ts))[0]
    bot.settle()

    (stored,) = _custom_actions(bot, lead)
    assert f"action id `{stored['action_id']}`" in texts(reply)
    queued = [m["text"] for m in bot.ephemerals(USER)]
    assert any("TeleCRM is not answering" in t for t in queued)
    assert view["id"]


def test_a_workspace_without_custom_activities_says_so(make_bot: Any) -> None:
    from telecrm.sandbox.workspace import demo_workspace

    workspace = demo_workspace()
    workspace["custom_actions"] = []
    workspace["leads"] = []
    bot = make_bot(workspace=workspace)
    lead = make_lead(bot, with_card=True)
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_CARD_ACTIVITY, channel=CHANNEL, message_ts=lead.thread_ts
    )
    (view,) = bot.wait(lambda emulator: emulator.open_views(USER))
    assert "defines no custom activities" in texts(view) and not view.get("submit")


def test_a_long_choice_list_is_searched_as_you_type(make_bot: Any) -> None:
    from telecrm.sandbox.workspace import demo_workspace

    workspace = demo_workspace()
    cities = [f"Town {n:03d}" for n in range(1, 131)]
    workspace["custom_actions"][0]["fieldSchema"]["town"] = {
        "type": "DROPDOWN",
        "label": "Town",
        "options": cities,
    }
    bot = make_bot(workspace=workspace)
    lead = make_lead(bot, with_card=True)
    view = _open_form(bot, lead, "1001")
    town = next(b for b in view["blocks"] if b["block_id"] == "activity:1001:town")["element"]
    assert town["type"] == "external_select"

    delivery = bot.emulator.block_suggestion(
        user=USER,
        view_id=view["id"],
        action_id=ids.ACT_ACTIVITY_FIELD,
        block_id="activity:1001:town",
        value="012",
    )
    assert [o["value"] for o in delivery.options] == ["Town 012"]

    bot.emulator.submit_view(user=USER, values={"activity:1001:town": "Town 012", OUTCOME: "Interested"})
    bot.settle()
    (stored,) = _custom_actions(bot, lead)
    assert stored["fields"] == {"town": "Town 012", "outcome": "Interested"}


def test_an_activity_that_may_be_back_dated_is_logged_when_it_happened(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    view = _open_form(bot, lead, "1001")  # Site Visit: allowPredatedActivity is on
    assert any(b["block_id"] == BLOCK_WHEN for b in view["blocks"])
    tomorrow = int(time.time()) + 86400
    answer = bot.emulator.submit_view(user=USER, values={OUTCOME: "Interested", BLOCK_WHEN: tomorrow})
    assert "in the future" in answer.json["errors"][BLOCK_WHEN]

    visited = ist_ms(2026, 4, 20, 15, 30)
    bot.emulator.submit_view(user=USER, values={OUTCOME: "Interested", BLOCK_WHEN: visited // 1000})
    bot.settle()
    (stored,) = _custom_actions(bot, lead)
    assert stored["created_on"] == visited


def test_an_activity_that_may_not_be_back_dated_does_not_ask_when(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    view = _open_form(bot, lead, "1002")  # Demo Booked: allowPredatedActivity is off
    assert not any(b["block_id"] == BLOCK_WHEN for b in view["blocks"])
