"""Changes made in TeleCRM reach the lead's thread (issue 13, point 2): the lead watcher end to end,
with the real app, the Slack emulator and the TeleCRM sandbox changing leads "from TeleCRM's side"
(``Sandbox.change_lead``, as a person in the TeleCRM web app would)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot.runtime import Runtime
from commands.lead.watch import WATCH_NAME, watch_leads
from kit.worker import Backoff
from telecrm.sandbox.workspace import demo_workspace
from tests.conftest import CHANNEL, USER, Bot
from tests.lead.conftest import RAHUL_EMAIL, cards, text_of, with_rahul

PRIYA_EMAIL = "priya.sharma@suryodayasolar.in"
AARAV_EMAIL = "aarav.mehta@suryodayasolar.in"
RAHUL_DM = "D" + USER[1:]


@pytest.fixture
def wbot(make_bot: Callable[..., Bot]) -> Bot:
    return make_bot(workspace=with_rahul(demo_workspace()))


def card_for(bot: Bot, text: str) -> tuple[str, dict[str, Any]]:
    """(lead id, card) of a lead made with ``/lead`` by U0RAHUL, whose Slack user the bot has linked
    to his TeleCRM account (as every form he opens does)."""
    bot.services.member_for(USER)
    bot.command("/lead", text)
    bot.settle()
    card = cards(bot)[-1]
    lead_id = next(t.lead_id for t in bot.services.threads.recent(50) if t.ts == card["ts"])
    return lead_id, card


def watch(bot: Bot) -> Any:
    """One run of the watcher with every lead due, then everything it queued finished."""
    report = watch_leads(bot.services, interval=0)
    bot.settle()
    return report


def told(bot: Bot, card: dict[str, Any], containing: str = "in TeleCRM") -> list[str]:
    return [text_of(r) for r in bot.replies(card["ts"]) if containing in text_of(r)]


def current(bot: Bot, card: dict[str, Any]) -> str:
    return text_of(next(m for m in bot.messages(CHANNEL) if m["ts"] == card["ts"]))


def test_a_change_made_in_telecrm_is_told_once_and_the_card_and_new_assignee_hear_of_it(wbot: Bot) -> None:
    bot = wbot
    lead_id, card = card_for(bot, f'name="Tara Shah" phone=9876500401 status=Fresh assignee={PRIYA_EMAIL}')
    assert watch(bot).changed == 0  # nothing changed since the card

    bot.sandbox.change_lead(lead_id, {"status": "Won", "assignee": RAHUL_EMAIL}, by=AARAV_EMAIL)
    assert watch(bot).changed == 1
    (note,) = told(bot, card)
    assert "Changed in TeleCRM: Status Fresh → Won; Assignee Priya Sharma → Rahul V (by Aarav Mehta)" in note
    shown = current(bot, card)
    assert "*Status*\nWon" in shown and "*Assignee*\n<@U0RAHUL>" in shown
    (dm,) = bot.messages(RAHUL_DM)
    assert "You were assigned *Tara Shah* in TeleCRM by Aarav Mehta" in text_of(dm)
    assert "lead_card_edit" in json.dumps(dm["blocks"])  # the card comes with it

    assert watch(bot).changed == 0  # seen: never told twice
    assert len(told(bot, card)) == 1 and len(bot.messages(RAHUL_DM)) == 1


def test_payments_and_custom_activities_recorded_in_telecrm_are_told(wbot: Bot) -> None:
    bot = wbot
    lead_id, card = card_for(bot, 'name="Omkar" phone=9876500411')
    watch(bot)
    telecrm = bot.services.telecrm  # another TeleCRM client (an integration), not the bot's jobs
    telecrm.create_actions(
        lead_id, [{"type": "PAYMENT", "status": "PENDING", "currency": "INR", "amount": "2500"}]
    )
    telecrm.create_actions(
        lead_id, [{"type": "1001", "fields": {"note": "Met at <!here> site", "outcome": "Interested"}}]
    )
    bot.sandbox.add_builtin_action(lead_id, "OUTGOING_CALL", performed_by=PRIYA_EMAIL, duration=60)

    assert watch(bot).changed == 1
    (note,) = [t for t in told(bot, card) if "Payment of" not in t]
    assert "Site Visit" in note and "Interested" in note
    assert "&lt;!here&gt;" in note and "<!here>" not in note  # TeleCRM's text is escaped
    assert "call" not in note.lower()  # calls are told only when LEAD_WATCH_CALLS is on
    assert "Last activity: 📲 Outgoing call" in current(bot, card)
    # the payment has its own message in the thread, with the buttons of one recorded with /payment
    (payment,) = [r for r in bot.replies(card["ts"]) if "Payment of" in text_of(r)]
    assert "₹2,500.00" in text_of(payment) and "Recorded in TeleCRM" in text_of(payment)
    assert "payment_status" in json.dumps(payment["blocks"])
    (kept,) = bot.services.payments.for_lead(lead_id)
    assert (kept.amount, kept.status, kept.message_ts) == ("2500", "PENDING", payment["ts"])
    assert (
        watch(bot).changed == 0
        and len([r for r in bot.replies(card["ts"]) if "Payment of" in text_of(r)]) == 1
    )


def test_calls_are_told_when_an_admin_turns_them_on(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(workspace=with_rahul(demo_workspace()), lead_watch_calls=True)
    lead_id, card = card_for(bot, 'name="Caller" phone=9876500421')
    watch(bot)
    bot.sandbox.add_builtin_action(lead_id, "OUTGOING_CALL", performed_by=PRIYA_EMAIL, duration=60)
    watch(bot)
    (note,) = told(bot, card)
    assert "Outgoing call, by Priya Sharma" in note


def test_the_bots_own_changes_are_not_told_as_changes_made_in_telecrm(wbot: Bot) -> None:
    bot = wbot
    lead_id, card = card_for(bot, 'name="Own Work" phone=9876500431 status=Fresh')
    watch(bot)
    bot.command("/lead", "update 9876500431 status=Qualified rating=4")
    bot.settle()
    bot.command("/payment", "9876500431 1200")
    bot.settle()
    assert watch(bot).changed == 0
    assert told(bot, card) == []
    assert "*Status*\nQualified" in current(bot, card)


def test_a_deleted_lead_gets_one_message_and_is_no_longer_watched(wbot: Bot) -> None:
    bot = wbot
    lead_id, card = card_for(bot, 'name="Gone Soon" phone=9876500441')
    watch(bot)
    bot.sandbox.delete_lead(lead_id)
    assert watch(bot).gone == 1
    (note,) = told(bot, card, "deleted in TeleCRM")
    assert "stopped following it" in note
    before = len(bot.sandbox.request_log)
    report = watch(bot)
    assert report.gone == 0 and report.requests == 0 and len(bot.sandbox.request_log) == before
    assert len(told(bot, card, "deleted in TeleCRM")) == 1


def test_telecrm_down_or_rate_limiting_posts_nothing_and_the_change_comes_later(wbot: Bot) -> None:
    bot = wbot
    lead_id, card = card_for(bot, 'name="Patience" phone=9876500451 status=Fresh')
    watch(bot)
    bot.sandbox.change_lead(lead_id, {"status": "Contacted"})

    bot.sandbox.faults.fail_next(1, status=503, path_contains="/lead/search")
    report = watch(bot)
    assert report.stopped == "TeleCRM unreachable" and report.changed == 0
    assert told(bot, card) == []

    bot.sandbox.faults.fail_next(1, status=429, retry_after=600, path_contains="/lead/search")
    assert watch(bot).stopped == "rate limited"
    before = len(bot.sandbox.request_log)
    assert watch(bot).stopped == "paused"  # as TeleCRM asked: no request until Retry-After
    assert len(bot.sandbox.request_log) == before
    assert told(bot, card) == []

    bot.services.watches.save_run(WATCH_NAME, bot.services.worker.outbox.owner, spent=[], paused_until=None)
    assert watch(bot).changed == 1
    (note,) = told(bot, card)
    assert "Status Fresh → Contacted" in note


def test_a_malformed_lead_is_skipped_with_one_log_line(wbot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot = wbot
    lead_id, card = card_for(bot, 'name="Odd" phone=9876500461')
    watch(bot)
    bot.sandbox.change_lead(lead_id, {"status": "Contacted"})
    garbage = {
        "data": [{"id": lead_id, "fields": {"name": {"first": "x"}, "modified_on": "soon"}}],
        "total_count": 1,
    }
    bot.sandbox.faults.fail_next(1, status=200, path_contains="/lead/search", body=json.dumps(garbage))
    with caplog.at_level(logging.WARNING, logger="commands.lead.watch"):
        report = watch(bot)
    assert report.skipped == 1 and report.changed == 0
    lines = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(lines) == 1 and lead_id in lines[0].getMessage()
    assert told(bot, card) == []
    assert watch(bot).changed == 1  # the next good answer is compared as usual


def test_nothing_is_told_twice_across_a_restart(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(workspace=with_rahul(demo_workspace()))
    lead_id, card = card_for(bot, 'name="Restart" phone=9876500471 status=Fresh')
    watch(bot)
    bot.sandbox.change_lead(lead_id, {"status": "Won"})
    bot.services.worker.backoff = Backoff(base=30, cap=30, jitter=0)
    bot.emulator.web_faults.fail_next("chat.postMessage", 1, error="service_unavailable", status=503)
    assert watch_leads(bot.services, interval=0).changed == 1  # recorded, its message not posted yet
    bot.settle()
    assert told(bot, card) == []
    bot.runtime.stop()  # the message is owed, and kept in the outbox

    again = Runtime(
        bot.runtime.settings,
        sandbox=bot.sandbox,
        emulator=bot.emulator,
        use_sandbox=True,
        use_emulator=True,
    )
    again.build()
    again.start_http()
    try:
        second = Bot(again)
        second.settle()
        assert watch(second).changed == 0
        second.settle()
        assert len(told(second, card)) == 1
    finally:
        again.stop()


def test_the_watcher_keeps_to_its_budget_and_reads_a_hundred_leads_a_request(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot(workspace=with_rahul(demo_workspace()), telecrm_watch_budget_per_minute=2)
    from kit.cards import post_lead_card

    for n in range(150):
        phone = f"919876510{n:03d}"
        lead_id = bot.services.telecrm.create_lead({"phone": phone, "name": f"Bulk {n}"}).lead_id
        post_lead_card(
            bot.services, channel=CHANNEL, lead_id=lead_id, fields={"phone": phone, "name": f"Bulk {n}"}
        )
    first = watch(bot)
    assert first.requests == 2 and first.looked == 150  # two searches, not 150 reads
    assert watch(bot).requests == 0  # the minute's budget is spent
    assert bot.services.watch_budget.available() == 0


def test_the_watcher_runs_by_itself_every_lead_watch_seconds(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(workspace=with_rahul(demo_workspace()), lead_watch_seconds=0.2)
    assert any(p.name == WATCH_NAME and p.interval == 0.2 for p in bot.runtime.periodics)
    lead_id, card = card_for(bot, 'name="Auto" phone=9876500481 status=Fresh')
    bot.sandbox.change_lead(lead_id, {"status": "Won"})
    bot.wait(lambda _: told(bot, card))
    assert "Status Fresh → Won" in told(bot, card)[0]


def test_what_telecrm_says_is_escaped_in_the_thread_and_on_the_card(wbot: Bot) -> None:
    bot = wbot
    lead_id, card = card_for(bot, 'name="Plain" phone=9876500491')
    watch(bot)
    bot.sandbox.change_lead(lead_id, {"name": "<!channel> <https://evil.example|Pay here> & co"})
    watch(bot)
    (note,) = told(bot, card)
    reply = next(r for r in bot.replies(card["ts"]) if "in TeleCRM" in text_of(r))
    now = next(m for m in bot.messages(CHANNEL) if m["ts"] == card["ts"])
    mrkdwn = [b for b in now["blocks"] if b["type"] != "header"]  # a header is plain text: never parsed
    for text in (note, json.dumps(reply), now["text"], json.dumps(mrkdwn)):
        assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; &lt;https://evil.example|Pay here&gt; &amp; co" in note
    assert bot.services.threads.get(lead_id).name.startswith("<!channel>")  # kept as TeleCRM has it
