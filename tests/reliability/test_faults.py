"""Fault injection against the sandbox: slow TeleCRM, 503, 429, resets, lost answers, redeliveries.

Each test asserts both sides a user would care about: how many writes TeleCRM received, and what
Slack showed (the card, the "queued" notice, nothing twice).
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from slack_emulator import sign_request
from tests.conftest import CHANNEL, SIGNING_SECRET, USER


def lead_cards(bot, name: str) -> list[dict]:
    return [
        m
        for m in bot.messages(CHANNEL)
        if name in json.dumps(m.get("blocks") or []) and "lead_card_edit" in json.dumps(m.get("blocks") or [])
    ]


def leads_named(bot, name: str) -> list[dict]:
    return [lead for lead in bot.sandbox.leads() if lead["fields"].get("name") == name]


def creates(bot) -> int:
    return sum(1 for r in bot.sandbox.request_log if r[0] == "POST" and r[1].endswith("/lead"))


QUEUED_WORDS = ("queued", "will be sent", "retried automatically")


def told_queued(bot, user: str = USER) -> bool:
    """The user heard that TeleCRM is down and the write is kept and will be retried."""
    return any(told(bot, w, user) for w in QUEUED_WORDS)


def told(bot, word: str, user: str = USER) -> bool:
    return any(word in json.dumps(e).lower() for e in bot.ephemerals(user))


def test_acks_within_3s_with_slow_telecrm_and_40_concurrent_commands(make_bot, caplog):
    bot = make_bot(worker_threads=16)
    bot.sandbox.faults.latency = 2.5
    caplog.set_level(logging.WARNING)
    names = [f"Load Test {i:02d}" for i in range(40)]

    def send(i: int):
        return bot.emulator.slash_command(
            "/lead", f'name="{names[i]}" phone=9198{i:08d}', user=USER, channel=CHANNEL
        )

    with ThreadPoolExecutor(max_workers=40) as pool:
        deliveries = list(pool.map(send, range(40)))
    slowest = max(d.elapsed for d in deliveries)
    assert all(d.status == 200 for d in deliveries)
    assert not any(d.timed_out for d in deliveries), f"slowest ack {slowest:.2f}s"
    assert slowest < 3.0

    bot.wait(lambda emu: sum(1 for n in names if lead_cards(bot, n)) == 40, timeout=90)
    bot.settle(60)
    assert (
        sum(1 for x in bot.sandbox.leads() if str(x["fields"].get("name", "")).startswith("Load Test")) == 40
    )
    assert all(len(leads_named(bot, n)) == 1 for n in names)
    assert "database is locked" not in caplog.text


def test_redelivered_slash_command_creates_one_lead(bot):
    first = bot.command("/lead", 'name="Retry Rita" phone=919800000111')
    body = urllib.parse.urlencode(first.payload)
    headers = {
        **sign_request(SIGNING_SECRET, body),
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    again = httpx.post(bot.emulator.app_url, content=body, headers=headers)
    assert again.status_code == 200
    bot.wait(lambda emu: lead_cards(bot, "Retry Rita"))
    bot.settle()
    assert len(leads_named(bot, "Retry Rita")) == 1
    assert len(lead_cards(bot, "Retry Rita")) == 1
    assert creates(bot) == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda f: f.fail_next(1, status=503, path_contains="/lead"), id="503"),
        pytest.param(lambda f: f.fail_next(1, status=429, retry_after=1, path_contains="/lead"), id="429"),
        pytest.param(lambda f: f.reset_next(1, path_contains="/lead"), id="connection-reset"),
    ],
)
def test_transient_failure_is_queued_retried_and_lands_once(bot, fault):
    fault(bot.sandbox.faults)
    bot.command("/lead", 'name="Queued Quinn" phone=919800000222')
    bot.wait(lambda emu: told_queued(bot), timeout=15)
    bot.wait(lambda emu: lead_cards(bot, "Queued Quinn"), timeout=30)
    bot.settle()
    assert len(leads_named(bot, "Queued Quinn")) == 1
    assert len(lead_cards(bot, "Queued Quinn")) == 1
    assert bot.services.worker.outbox.pending() == []


def test_lost_answer_after_write_is_reconciled_not_duplicated(bot):
    bot.sandbox.faults.fail_after_write_next(1, status=503, path_contains="/lead")
    bot.command("/lead", 'name="Lost Answer Lee" phone=919800000333')
    bot.wait(lambda emu: lead_cards(bot, "Lost Answer Lee"), timeout=30)
    bot.settle()
    assert len(leads_named(bot, "Lost Answer Lee")) == 1
    assert len(lead_cards(bot, "Lost Answer Lee")) == 1
    # the user is not told the lead they just created is a duplicate of itself
    assert not told(bot, "already exists")


def test_timeout_is_retried(make_bot):
    bot = make_bot(telecrm_timeout_seconds=1)
    bot.sandbox.faults.latency = 1.6
    bot.command("/lead", 'name="Timeout Tara" phone=919800000444')
    bot.wait(lambda emu: told_queued(bot), timeout=15)
    bot.sandbox.faults.latency = 0
    bot.wait(lambda emu: lead_cards(bot, "Timeout Tara"), timeout=30)
    bot.settle()
    assert len(leads_named(bot, "Timeout Tara")) == 1


def test_permanent_failure_is_reported_not_retried(bot):
    bot.sandbox.faults.fail_next(1, status=400, path_contains="/lead")
    bot.command("/lead", 'name="Bad Request Bo" phone=919800000555')
    bot.wait(lambda emu: bot.ephemerals(USER), timeout=15)
    bot.settle()
    assert creates(bot) == 1
    assert leads_named(bot, "Bad Request Bo") == []
    assert bot.services.worker.outbox.pending() == []


def test_tokens_and_personal_data_never_reach_the_logs(bot, caplog):
    from telecrm.redact import RedactingFilter

    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(
        RedactingFilter([bot.settings.telecrm_sync_token, bot.settings.slack_bot_token, SIGNING_SECRET])
    )
    bot.sandbox.faults.fail_next(1, status=503, path_contains="/lead")
    bot.command("/lead", 'name="Private Pia" phone=919812398765 email=pia.private@example.com')
    bot.wait(lambda emu: lead_cards(bot, "Private Pia"), timeout=30)
    bot.settle()
    text = "\n".join(caplog.handler.format(r) for r in caplog.records) + caplog.text
    for secret in (bot.settings.telecrm_sync_token, bot.settings.slack_bot_token, SIGNING_SECRET):
        assert secret not in text
    assert "919812398765" not in text
    assert "pia.private@example.com" not in text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=not-json", "application/x-www-form-urlencoded"),
        ("payload=%7B%22type%22%3A%22block_actions%22%7D", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback"}', "application/json"),
        ("{not json", "application/json"),
        ("command=%2Flead", "application/x-www-form-urlencoded"),
        ("", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_signed_payloads_never_get_a_500(bot, body, content_type):
    headers = {**sign_request(SIGNING_SECRET, body), "Content-Type": content_type}
    answer = httpx.post(bot.emulator.app_url, content=body, headers=headers)
    assert answer.status_code < 500
    bot.settle()
    assert bot.telecrm_writes() == 0


def resend(bot, delivery, retry_num: int = 1) -> httpx.Response:
    """Deliver exactly the same signed request again, as Slack does on a retry."""
    if delivery.kind == "slash_command":
        body = urllib.parse.urlencode(delivery.payload)
    else:
        body = urllib.parse.urlencode({"payload": json.dumps(delivery.payload)})
    headers = {
        **sign_request(SIGNING_SECRET, body),
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Retry-Num": str(retry_num),
        "X-Slack-Retry-Reason": "http_timeout",
    }
    return httpx.post(bot.emulator.app_url, content=body, headers=headers)


def test_a_command_replayed_without_slacks_retry_mark_is_still_written_once(bot):
    """Only what Slack marks as a retry is turned away before its listener; a replay without the mark
    (a proxy resending) reaches the listener, and its write is still the first one."""
    first = bot.command("/lead", 'name="Replay Ravi" phone=919800000444')
    body = urllib.parse.urlencode(first.payload)
    headers = {**sign_request(SIGNING_SECRET, body), "Content-Type": "application/x-www-form-urlencoded"}
    assert httpx.post(bot.emulator.app_url, content=body, headers=headers).status_code == 200
    bot.wait(lambda emu: lead_cards(bot, "Replay Ravi"))
    bot.settle()
    assert len(leads_named(bot, "Replay Ravi")) == 1
    assert len(lead_cards(bot, "Replay Ravi")) == 1
    assert creates(bot) == 1


def test_new_lead_form_submitted_twice_creates_one_lead(bot):
    bot.command("/lead")
    view = bot.wait(lambda emu: emu.open_views(USER) and emu.open_views(USER)[-1])
    first = bot.emulator.submit_view(
        user=USER, view_id=view["id"], values={"phone": "919800000888", "name": "Twice Tanvi"}
    )
    assert first.status == 200
    assert resend(bot, first).status_code == 200
    bot.wait(lambda emu: lead_cards(bot, "Twice Tanvi"))
    bot.settle()
    assert len(leads_named(bot, "Twice Tanvi")) == 1
    assert len(lead_cards(bot, "Twice Tanvi")) == 1
    assert creates(bot) == 1


def test_payment_form_submitted_twice_records_one_payment(bot):
    lead = bot.services.telecrm.create_lead({"name": "Payee Parth", "phone": "919800000999"})
    bot.command("/payment")
    view = bot.wait(lambda emu: emu.open_views(USER) and emu.open_views(USER)[-1])
    first = bot.emulator.submit_view(
        user=USER,
        view_id=view["id"],
        values={"lead": "919800000999", "amount": "7,500", "currency": "INR", "status": "PENDING"},
    )
    assert first.status == 200
    assert resend(bot, first).status_code == 200
    bot.wait(
        lambda emu: (
            any("7,500" in json.dumps(m) for m in bot.replies(bot.services.threads.get(lead.lead_id).ts))
            if bot.services.threads.get(lead.lead_id)
            else False
        ),
        timeout=15,
    )
    bot.settle()
    payments = [a for a in bot.sandbox.actions(lead.lead_id) if a["type"] == "PAYMENT"]
    assert len(payments) == 1
