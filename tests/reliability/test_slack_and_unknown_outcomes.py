"""Slack failing after TeleCRM wrote, and TeleCRM answers that cannot be read.

A rate-limited or failing Slack must not lose the card, the payment message or the answer to the
user, and must not make the bot write to TeleCRM again; a 2xx whose body is not JSON is an
unknown outcome: reconciled, then retried, never given up while the user was told "retried".
"""

from __future__ import annotations

import json
import time

import pytest

from kit.job_posts import post_once
from kit.worker import Backoff, Job
from tests.conftest import CHANNEL, Bot, start_bot
from tests.payment.conftest import action_writes, new_lead, payments_in_sandbox, wait_payment_messages
from tests.reliability.test_faults import creates, lead_cards, leads_named, told

HTML_OK = "<html><body>OK</body></html>"


def fast_retries(bot: Bot) -> None:
    bot.services.worker.backoff = Backoff(base=0.05, cap=0.2, jitter=0)


def failed_calls(bot: Bot, method: str) -> list[dict]:
    return [c for c in bot.emulator.calls_to(method) if not c["ok"]]


# --- Slack failing after the TeleCRM write -------------------------------------------------------


def test_card_rate_limited_by_slack_is_posted_later_and_the_lead_written_once(bot: Bot) -> None:
    fast_retries(bot)
    bot.emulator.web_faults.fail_next("chat.postMessage", 2, error="ratelimited", retry_after=1)
    bot.command("/lead", 'name="Limited Lata" phone=919800001001')
    bot.wait(lambda emu: lead_cards(bot, "Limited Lata"), timeout=20)
    bot.settle()
    assert len(failed_calls(bot, "chat.postMessage")) == 2
    assert creates(bot) == 1 and len(leads_named(bot, "Limited Lata")) == 1
    assert len(lead_cards(bot, "Limited Lata")) == 1
    assert bot.services.worker.outbox.pending() == []


def test_slack_down_for_messages_and_ephemerals_still_gets_the_lead_id_to_someone(bot: Bot) -> None:
    fast_retries(bot)
    bot.emulator.web_faults.fail_next(None, 6, error="service_unavailable", status=503)
    bot.command("/lead", 'name="Outage Omar" phone=919800001002')
    [card] = bot.wait(lambda emu: lead_cards(bot, "Outage Omar"), timeout=20)
    bot.settle()
    [lead] = leads_named(bot, "Outage Omar")
    assert lead["id"] in json.dumps(card["blocks"])
    assert creates(bot) == 1


def test_a_payment_is_on_record_with_buttons_even_while_slack_refuses_to_post(bot: Bot) -> None:
    fast_retries(bot)
    lead_id, phone = new_lead(bot, "Paying Priti")
    bot.emulator.web_faults.fail_next("chat.postMessage", 3, error="ratelimited", retry_after=1)
    bot.command("/payment", f"{phone} 4500")
    bot.wait(lambda emu: bot.services.payments.for_lead(lead_id), timeout=20)
    [message] = wait_payment_messages(bot)
    [payment] = bot.services.payments.for_lead(lead_id)
    assert payment.message_ts == message["ts"], "the payment message is the one whose buttons work"
    assert len(payments_in_sandbox(bot, lead_id)) == 1 and len(action_writes(bot)) == 1
    assert told(bot, "recorded")


def test_a_slack_failure_while_telling_about_a_refusal_is_retried(bot: Bot) -> None:
    fast_retries(bot)
    bot.sandbox.faults.fail_next(1, status=400, path_contains="/lead")
    bot.emulator.web_faults.fail_next("chat.postEphemeral", 1, error="fatal_error", status=500)
    bot.command("/lead", 'name="Refused Ravi" phone=919800001003')
    bot.wait(lambda emu: told(bot, "did not accept"), timeout=20)
    bot.settle()
    assert creates(bot) == 1, "the refused write is not sent again"
    [row] = bot.services.worker.outbox.recent(1)
    assert row.state == "failed"


def test_a_write_waiting_on_slack_survives_a_restart_and_is_not_written_again(tmp_path) -> None:
    first = start_bot(tmp_path)
    try:
        first.emulator.web_faults.fail_next("chat.postMessage", 1, error="ratelimited", retry_after=3000)
        first.command("/lead", 'name="Restart Rekha" phone=919800001004')
        first.wait(lambda emu: failed_calls(first, "chat.postMessage"), timeout=20)
        first.settle()
        assert first.services.worker.outbox.pending(), "the Slack step is still owed"
    finally:
        first.runtime.stop()
    second = restart(first, tmp_path)
    try:
        second.wait(lambda emu: lead_cards(second, "Restart Rekha"), timeout=20)
        second.settle()
        assert creates(second) == 1 and len(leads_named(second, "Restart Rekha")) == 1
        assert len(lead_cards(second, "Restart Rekha")) == 1
    finally:
        second.runtime.stop()


def restart(old: Bot, tmp_path) -> Bot:
    """A new bot process on the same database, TeleCRM and Slack."""
    from bot.runtime import Runtime

    runtime = Runtime(
        old.settings, sandbox=old.sandbox, emulator=old.emulator, use_sandbox=True, use_emulator=True
    )
    runtime.build()
    runtime.start_http()
    return Bot(runtime)


# --- answers that cannot be read -----------------------------------------------------------------


def test_an_unreadable_answer_after_the_write_is_reconciled_not_given_up(bot: Bot) -> None:
    fast_retries(bot)
    bot.sandbox.faults.fail_after_write_next(1, status=200, path_contains="/lead", body=HTML_OK)
    bot.command("/lead", 'name="Garbled Gita" phone=919800001005')
    bot.wait(lambda emu: lead_cards(bot, "Garbled Gita"), timeout=20)
    bot.settle()
    assert len(leads_named(bot, "Garbled Gita")) == 1 and len(lead_cards(bot, "Garbled Gita")) == 1
    assert not told(bot, "already exists")
    assert [row.state for row in bot.services.worker.outbox.recent(1)] == ["done"]


def test_an_unreadable_answer_before_the_write_does_not_lose_the_lead(bot: Bot) -> None:
    fast_retries(bot)
    bot.sandbox.faults.fail_next(1, status=200, path_contains="/lead", body=HTML_OK)
    bot.command("/lead", 'name="Proxy Pooja" phone=919800001006')
    bot.wait(lambda emu: lead_cards(bot, "Proxy Pooja"), timeout=20)
    bot.settle()
    assert len(leads_named(bot, "Proxy Pooja")) == 1


def test_an_unreadable_answer_to_a_payment_records_it_once(bot: Bot) -> None:
    fast_retries(bot)
    lead_id, phone = new_lead(bot, "Garbled Payment")
    bot.sandbox.faults.fail_after_write_next(
        1, status=200, path_contains=f"/lead/{lead_id}/action", body=HTML_OK
    )
    bot.command("/payment", f"{phone} 2500")
    wait_payment_messages(bot)
    assert len(payments_in_sandbox(bot, lead_id)) == 1


def test_an_absurd_retry_after_is_capped_and_the_user_told_when(bot: Bot) -> None:
    bot.sandbox.faults.fail_next(1, status=429, retry_after=100_000, path_contains="/lead")
    bot.command("/lead", 'name="Patient Pia" phone=919800001007')
    bot.wait(lambda emu: told(bot, "next try is in about 60 minutes"), timeout=20)
    [row] = bot.services.worker.outbox.pending()
    assert row.next_attempt_at <= bot.services.clock() + 3600 + 1


# --- a crash between Slack accepting a message and the bot recording it ---------------------------


class Crash(Exception):
    pass


def crash_on_record(step: str, value: object) -> None:
    raise Crash(step)


def test_a_message_posted_just_before_a_crash_is_found_not_posted_again(bot: Bot) -> None:
    created = time.time()
    first = Job("job-1", "demo", {}, attempt=1, created_at=created, save_step=crash_on_record)
    with pytest.raises(Crash):  # Slack has the card; the process dies before recording its ts
        post_once(bot.services, first, "card", channel=CHANNEL, text="New lead: Once Only")
    card = post_once(bot.services, first_retry(created), "card", channel=CHANNEL, text="New lead: Once Only")
    assert [m["ts"] for m in bot.messages()] == [card["ts"]]

    with pytest.raises(Crash):
        post_once(bot.services, first, "reply", channel=CHANNEL, thread_ts=card["ts"], text="Payment of ₹10")
    reply = post_once(
        bot.services, first_retry(created), "reply", channel=CHANNEL, thread_ts=card["ts"], text="x"
    )
    assert [m["ts"] for m in bot.replies(card["ts"])] == [reply["ts"]]


def first_retry(created: float) -> Job:
    return Job("job-1", "demo", {}, attempt=2, created_at=created)


def test_other_jobs_messages_are_not_mistaken_for_this_ones(bot: Bot) -> None:
    created = time.time()
    post_once(bot.services, Job("job-A", "demo", {}, 1, created), "card", channel=CHANNEL, text="A")
    post_once(bot.services, Job("job-B", "demo", {}, 2, created), "card", channel=CHANNEL, text="B")
    assert [m["text"] for m in bot.messages()] == ["A", "B"]


def test_a_message_buried_under_a_busy_channels_later_posts_is_still_found(bot: Bot) -> None:
    """Between the crash and the retry the channel moved on by more than a page of history."""
    created = time.time()
    first = Job("job-1", "demo", {}, attempt=1, created_at=created, save_step=crash_on_record)
    with pytest.raises(Crash):
        post_once(bot.services, first, "card", channel=CHANNEL, text="New lead: Buried")
    for n in range(450):  # other jobs' cards, posted after it: more than two pages
        bot.services.slack.chat_postMessage(channel=CHANNEL, text=f"New lead: Other {n}")
    card = post_once(bot.services, first_retry(created), "card", channel=CHANNEL, text="New lead: Buried")
    assert [m["ts"] for m in bot.messages() if m["text"] == "New lead: Buried"] == [card["ts"]]
