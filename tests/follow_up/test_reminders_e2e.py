"""Follow-up reminders end to end: a lead's follow-up date set through the bot (or seen in TeleCRM)
becomes one DM to its assignee at that time, with the card and *Done* / *Snooze 1 h* /
*Tomorrow 10:00* / *Log activity*; the bot's clock is moved instead of waiting."""

from __future__ import annotations

import json
import threading
from typing import Any

from commands.follow_up.reminders import CHECK_SECONDS, remind_due
from kit import ids
from kit.follow_ups import schedule_follow_up
from storage.follow_ups import DONE, PENDING, SENT
from tests.conftest import USER, Bot
from tests.follow_up.conftest import (
    DUBAI,
    OMAR,
    OMAR_DM,
    MovableClock,
    at,
    buttons,
    new_lead,
    reminders,
)
from tests.lead.conftest import text_of

ASSIGNED_TO_OMAR = "assignee=karthik.nair@suryodayasolar.in"


def due_now(bot: Bot) -> int:
    """Look for due reminders, as the bot's own check does every 30 s, and let the bot send them."""
    (check,) = [p for p in bot.runtime.periodics if p.name == "follow-ups"]
    assert check.interval == CHECK_SECONDS
    queued = check.fn()
    bot.settle()
    return int(queued)


def click(bot: Bot, message: dict[str, Any], action_id: str, *, user: str = OMAR, dm: str = OMAR_DM) -> None:
    bot.emulator.click_button(user=user, action_id=action_id, channel=dm, message_ts=message["ts"])
    bot.settle()


def current(bot: Bot, message: dict[str, Any], dm: str = OMAR_DM) -> dict[str, Any]:
    return next(m for m in bot.emulator.messages(dm) if m["ts"] == message["ts"])


def test_the_assignee_gets_one_dm_at_the_follow_up_time(bot: Bot, clock: MovableClock) -> None:
    lead_id = new_lead(bot, "919800011101", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")

    row = bot.services.follow_ups.get(lead_id)
    assert (row.user_id, row.state) == (OMAR, PENDING)
    # a date without a time is reminded at 10:00 that day where the assignee is (Dubai)
    assert row.remind_at == at(5, 10, tz=DUBAI)
    clock.set(row.remind_at - 1)
    assert due_now(bot) == 0 and reminders(bot) == []

    clock.set(row.remind_at + 1)
    assert due_now(bot) == 1
    assert due_now(bot) == 0  # once

    (dm,) = reminders(bot)
    shown = text_of(dm)
    for expected in (
        "Time to follow up with *Meena Iyer*",
        "5 Jan 2027",
        "+91 98000 11101",
        f"<@{OMAR}>",
    ):  # the assignee, as a mention
        assert expected in shown, expected
    assert buttons(dm) == [
        ("Done", ids.ACT_FOLLOW_UP_DONE),
        ("Snooze 1 h", ids.ACT_FOLLOW_UP_SNOOZE),
        ("Tomorrow 10:00", ids.ACT_FOLLOW_UP_TOMORROW),
        ("Log activity", ids.ACT_CARD_ACTIVITY),
    ]
    assert bot.services.follow_ups.get(lead_id).state == SENT
    assert bot.emulator.messages("D0RAHUL") == []  # the rep who typed it is not the assignee


def test_done_clears_the_reminder_and_writes_nothing_to_telecrm(bot: Bot, clock: MovableClock) -> None:
    lead_id = new_lead(bot, "919800011102", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    clock.set(at(5, 10, 1, tz=DUBAI))
    due_now(bot)
    (dm,) = reminders(bot)
    writes = bot.telecrm_writes()

    click(bot, dm, ids.ACT_FOLLOW_UP_DONE)

    assert bot.services.follow_ups.get(lead_id).state == DONE
    answered = current(bot, dm)
    assert buttons(answered) == [] and "Done — no more reminders" in text_of(answered)
    assert bot.telecrm_writes() == writes
    clock.advance(7 * 86400)
    assert due_now(bot) == 0


def test_snooze_and_tomorrow_remind_again_later(bot: Bot, clock: MovableClock) -> None:
    lead_id = new_lead(bot, "919800011103", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    clock.set(at(5, 10, 1, tz=DUBAI))
    due_now(bot)
    (first,) = reminders(bot)

    click(bot, first, ids.ACT_FOLLOW_UP_SNOOZE)
    row = bot.services.follow_ups.get(lead_id)
    assert row.state == PENDING and abs(row.remind_at - (clock() + 3600)) < 60
    assert "Snoozed" in text_of(current(bot, first)) and buttons(current(bot, first)) == []
    clock.advance(3500)
    assert due_now(bot) == 0
    clock.advance(200)
    assert due_now(bot) == 1
    first_again, second = reminders(bot)
    assert first_again["ts"] == first["ts"]

    click(bot, second, ids.ACT_FOLLOW_UP_TOMORROW)
    assert bot.services.follow_ups.get(lead_id).remind_at == at(6, 10, tz=DUBAI)  # Omar's 10:00, not India's
    assert "tomorrow" in text_of(current(bot, second)) and buttons(current(bot, second)) == []
    assert bot.services.follow_ups.get(lead_id).state == PENDING
    clock.set(at(6, 9, 59, tz=DUBAI))
    assert due_now(bot) == 0
    clock.set(at(6, 10, 1, tz=DUBAI))
    assert due_now(bot) == 1
    assert len(reminders(bot)) == 3


def test_a_button_of_an_older_reminder_changes_nothing(bot: Bot, clock: MovableClock) -> None:
    lead_id = new_lead(bot, "919800011104", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    clock.set(at(5, 10, 1, tz=DUBAI))
    due_now(bot)
    (dm,) = reminders(bot)
    bot.command("/lead", "update 919800011104 follow_up_date=08/01/2027")
    bot.settle()
    moved = bot.services.follow_ups.get(lead_id)

    click(bot, dm, ids.ACT_FOLLOW_UP_SNOOZE)

    assert bot.services.follow_ups.get(lead_id) == moved
    assert "out of date" in text_of(current(bot, dm))


def test_log_activity_opens_the_activity_form_for_that_lead(bot: Bot, clock: MovableClock) -> None:
    lead_id = new_lead(bot, "919800011105", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    clock.set(at(5, 10, 1, tz=DUBAI))
    due_now(bot)
    (dm,) = reminders(bot)

    bot.emulator.click_button(
        user=OMAR, action_id=ids.ACT_CARD_ACTIVITY, channel=OMAR_DM, message_ts=dm["ts"], value=lead_id
    )

    (view,) = bot.wait(lambda e: e.open_views(OMAR))
    assert view["callback_id"] == ids.VIEW_ACTIVITY
    assert "Meena Iyer" in str(view["blocks"])


def test_changing_the_date_moves_the_reminder(bot: Bot, clock: MovableClock) -> None:
    lead_id = new_lead(bot, "919800011106", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    version = bot.services.follow_ups.get(lead_id).version

    bot.command("/lead", "update 919800011106 follow_up_date=07/01/2027")
    bot.settle()

    row = bot.services.follow_ups.get(lead_id)
    assert row.remind_at == at(7, 10, tz=DUBAI) and row.version > version and row.state == PENDING
    clock.set(at(5, 10, 1, tz=DUBAI))
    assert due_now(bot) == 0
    clock.set(at(7, 10, 1, tz=DUBAI))
    assert due_now(bot) == 1
    assert "7 Jan 2027" in text_of(reminders(bot)[0])


def test_a_change_seen_in_telecrm_moves_the_reminder_through_the_one_hook(
    bot: Bot, clock: MovableClock
) -> None:
    lead_id = new_lead(bot, "919800011107", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    bot.services.telecrm.update_lead(lead_id, {"follow_up_date": "06/01/2027 16:30:00"})  # in TeleCRM

    fields = bot.services.telecrm.get_lead(lead_id).fields  # what a lead watcher would hand over
    schedule_follow_up(bot.services, lead_id, fields)
    row = bot.services.follow_ups.get(lead_id)
    assert row.remind_at == at(6, 16, 30)  # a time of day is kept as TeleCRM holds it (India's)

    clock.set(row.remind_at + 5)
    assert due_now(bot) == 1
    schedule_follow_up(bot.services, lead_id, fields)  # seen again, unchanged: no second reminder
    assert bot.services.follow_ups.get(lead_id).state == SENT and due_now(bot) == 0
    assert len(reminders(bot)) == 1

    schedule_follow_up(bot.services, lead_id, {**fields, "follow_up_date": None})  # cleared in TeleCRM
    assert bot.services.follow_ups.get(lead_id) is None
    schedule_follow_up(bot.services, lead_id, {"name": "Meena Iyer"})  # the field not given: left alone
    assert bot.services.follow_ups.get(lead_id) is None


def test_an_assignee_the_bot_has_not_met_is_found_in_slack_by_email(start: Any, clock: MovableClock) -> None:
    bot = start()
    lead_id = new_lead(bot, "919800011115", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    row = bot.services.follow_ups.get(lead_id)
    # drawing the new lead's card found the assignee in Slack by email: the reminder is his from the start
    assert (row.user_id, row.assignee) == (OMAR, "karthik.nair@suryodayasolar.in")
    assert len(bot.emulator.calls_to("users.lookupByEmail")) == 1
    thread = bot.services.threads.get(lead_id)
    card = next(m for m in bot.emulator.messages(thread.channel) if m["ts"] == thread.ts)
    assert f"<@{OMAR}>" in json.dumps(card["blocks"])  # and the card mentions him

    clock.set(row.remind_at + 60)  # 10:00 where Omar is
    assert due_now(bot) == 1

    (dm,) = reminders(bot)  # Omar's Slack email is Karthik Nair's: he gets it, not the rep
    assert "Meena Iyer" in text_of(dm) and reminders(bot, "D0RAHUL") == []
    assert bot.services.follow_ups.get(lead_id).user_id == OMAR
    assert bot.services.user_links.get(OMAR).member_email == "karthik.nair@suryodayasolar.in"


def test_without_an_assignee_in_slack_the_rep_who_created_the_lead_is_reminded(
    bot: Bot, clock: MovableClock
) -> None:
    # Priya Sharma is a TeleCRM member, but no Slack account has her TeleCRM email
    lead_id = new_lead(
        bot, "919800011108", "follow_up_date=05/01/2027 assignee=priya.sharma@suryodayasolar.in"
    )

    row = bot.services.follow_ups.get(lead_id)
    assert row.user_id == USER and row.remind_at == at(5, 10)  # Rahul, at 10:00 in India
    clock.set(at(5, 10, 1))
    assert due_now(bot) == 1
    (dm,) = reminders(bot, "D0RAHUL")
    assert "Meena Iyer" in text_of(dm)


def test_a_date_already_past_gets_no_reminder_unless_it_is_still_that_day(
    bot: Bot, clock: MovableClock
) -> None:
    yesterday = new_lead(bot, "919800011109", "follow_up_date=03/01/2027")
    assert bot.services.follow_ups.get(yesterday) is None

    clock.set(at(4, 15))  # 3 pm: today's 10:00 is past, but it is still today
    today = new_lead(bot, "919800011110", "follow_up_date=04/01/2027")
    row = bot.services.follow_ups.get(today)
    assert row.user_id == USER and row.remind_at <= clock()
    assert due_now(bot) == 1
    assert len(reminders(bot, "D0RAHUL")) == 1


def test_follow_up_field_names_the_field_and_a_time_within_the_hour_is_reminded_at_once(
    start: Any, clock: MovableClock
) -> None:
    from telecrm.sandbox.workspace import demo_workspace
    from tests.lead.conftest import with_rahul

    workspace = with_rahul(demo_workspace())
    workspace["fields"].append({"apiName": "next_call", "type": "DATE", "name": "Next call time"})
    bot = start(workspace=workspace, follow_up_field="Next call time")

    late = new_lead(bot, "919800011111", 'next_call="04/01/2027 08:30" follow_up_date=05/01/2027')
    too_late = new_lead(bot, "919800011112", 'next_call="04/01/2027 07:30"')
    later = new_lead(bot, "919800011113", 'next_call="04/01/2027 11:45"')

    assert bot.services.follow_ups.get(late).remind_at <= clock()  # 30 min past: at once
    assert bot.services.follow_ups.get(too_late) is None  # 90 min past: no reminder
    assert bot.services.follow_ups.get(later).remind_at == at(4, 11, 45)
    assert bot.services.follow_ups.get(later).field == "next_call"
    assert due_now(bot) == 1
    (dm,) = reminders(bot, "D0RAHUL")
    assert "4 Jan 2027, 8:30 AM IST" in text_of(dm)


def test_reminders_survive_a_restart_and_two_processes_send_one(
    start: Any, bot: Bot, clock: MovableClock
) -> None:
    lead_id = new_lead(bot, "919800011114", f"follow_up_date=05/01/2027 {ASSIGNED_TO_OMAR}")
    database = bot.settings.database_path
    bot.runtime.stop()

    first = start(database_path=database, sandbox=bot.sandbox)
    second = start(database_path=database, sandbox=bot.sandbox)  # a rolling deploy: both running
    clock.set(at(5, 10, 1, tz=DUBAI))
    counts: list[int] = []
    checks = [
        threading.Thread(target=lambda b=b: counts.append(remind_due(b.services)))
        for b in (first, second, first, second)
    ]
    for check in checks:
        check.start()
    for check in checks:
        check.join()
    first.settle()
    second.settle()

    assert sorted(counts) == [0, 0, 0, 1]
    sent = reminders(first) + reminders(second)
    assert len(sent) == 1 and "Meena Iyer" in text_of(sent[0])
    assert first.services.follow_ups.get(lead_id).state == SENT
