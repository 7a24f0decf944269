"""Outbox rows stored by the release before typed job payloads still run after a deploy.

Each job kind's payload is a frozen dataclass (``commands/<feature>/payloads.py``) that is stored as
JSON; the rows below are the exact dicts the previous release's submitters wrote (one per submitter),
put straight into the outbox as that release did, then run by this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from commands.activity.payloads import LogActivity
from commands.lead.payloads import CreateLead, UpdateLead
from commands.payment.payloads import ChangePaymentStatus, PaymentChangedInTeleCRM, RecordPayment
from telecrm.sandbox.workspace import demo_workspace
from tests.conftest import CHANNEL, USER, Bot
from tests.lead.conftest import RAHUL_EMAIL, cards, with_rahul
from tests.payment.conftest import new_lead, payments_in_sandbox, thread_replies, wait_payment_messages
from tests.timeline.conftest import make_lead

# (payload class, a row as the previous release stored it, the typed payload it is read as)
OLD_ROWS: list[tuple[type[Any], dict[str, Any], Any]] = [
    (  # /lead name=… phone=…
        CreateLead,
        {
            "fields": {"phone": "919800000001"},
            "user": "U1",
            "channel": "C1",
            "source": "command",
            "actions": [],
            "default_assignee": True,
        },
        CreateLead(
            fields={"phone": "919800000001"}, user="U1", channel="C1", source="command", default_assignee=True
        ),
    ),
    (  # the New lead modal: no "default_assignee"
        CreateLead,
        {
            "fields": {"phone": "919800000002"},
            "actions": [{"type": "1001", "fields": {"note": "n"}}],
            "user": "U1",
            "channel": "C1",
            "source": "modal",
        },
        CreateLead(
            fields={"phone": "919800000002"},
            user="U1",
            channel="C1",
            source="modal",
            actions=({"type": "1001", "fields": {"note": "n"}},),
        ),
    ),
    (  # /lead update <target> …: no "lead_id"
        UpdateLead,
        {"fields": {"rating": 4}, "user": "U1", "channel": "C1", "source": "command", "target": "9198"},
        UpdateLead(fields={"rating": 4}, user="U1", channel="C1", source="command", target="9198"),
    ),
    (  # Edit on a card, and the duplicate offer: no "target"
        UpdateLead,
        {"lead_id": "L1", "fields": {"rating": 4}, "user": "U1", "channel": None, "source": "edit"},
        UpdateLead(fields={"rating": 4}, user="U1", channel=None, source="edit", lead_id="L1"),
    ),
    (
        RecordPayment,
        {
            "user": "U1",
            "channel": "C1",
            "reply_ts": "1.2",
            "lead_ref": "",
            "lead_id": "L1",
            "amount": "5000",
            "currency": "INR",
            "status": "PENDING",
            "origin_lead_id": "L1",
            "thread_channel": "C1",
            "thread_ts": "1.2",
        },
        RecordPayment(
            user="U1",
            channel="C1",
            reply_ts="1.2",
            lead_ref="",
            lead_id="L1",
            amount="5000",
            currency="INR",
            status="PENDING",
            origin_lead_id="L1",
            thread_channel="C1",
            thread_ts="1.2",
        ),
    ),
    (
        ChangePaymentStatus,
        {
            "action_id": "A1",
            "lead_id": "L1",
            "from": "PENDING",
            "to": "COMPLETED",
            "user": "U1",
            "channel": "C1",
            "reply_ts": None,
        },
        ChangePaymentStatus(
            action_id="A1",
            lead_id="L1",
            from_status="PENDING",
            to_status="COMPLETED",
            user="U1",
            channel="C1",
            reply_ts=None,
        ),
    ),
    (
        PaymentChangedInTeleCRM,
        {"action_id": "A1", "from": "PENDING", "to": "FAILED"},
        PaymentChangedInTeleCRM(action_id="A1", from_status="PENDING", to_status="FAILED"),
    ),
    (
        LogActivity,
        {"lead_id": "L1", "action": {"type": "1001", "fields": {"note": "n"}}, "user": "U1", "channel": "C1"},
        LogActivity(lead_id="L1", action={"type": "1001", "fields": {"note": "n"}}, user="U1", channel="C1"),
    ),
]


@pytest.mark.parametrize(
    ("cls", "row", "typed"), OLD_ROWS, ids=[f"{c.KIND}:{i}" for i, (c, _, _) in enumerate(OLD_ROWS)]
)
def test_an_old_row_reads_as_its_payload_and_is_stored_with_the_same_keys_and_values(
    cls: type[Any], row: dict[str, Any], typed: Any
) -> None:
    read = cls.from_json(row)
    assert read == typed
    stored = read.to_json()
    assert {k: stored[k] for k in row} == row, "every key the old release stored keeps its value"
    assert set(stored) == set().union(*(r for c, r, _ in OLD_ROWS if c is cls)), "no key of its own"
    assert cls.from_json(stored) == read


def run_rows(bot: Bot, rows: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """Store rows as the previous release's ``worker.submit(key, kind, payload)`` did, then run them."""
    for key, (kind, payload) in rows.items():
        bot.services.worker.outbox.add(key, kind, payload)
    bot.services.worker.wake()
    bot.settle()
    assert {key: bot.services.worker.outbox.get(key).state for key in rows} == {key: "done" for key in rows}


def test_old_lead_rows_create_and_update_leads(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(workspace=with_rahul(demo_workspace()))
    run_rows(
        bot,
        {
            "cmd:old-create": (
                "lead.create",
                {
                    "fields": {"phone": "919876511111", "name": "Typed Before"},
                    "user": USER,
                    "channel": CHANNEL,
                    "source": "command",
                    "actions": [],
                    "default_assignee": True,
                },
            ),
            "view:old-create": (
                "lead.create",
                {
                    "fields": {"phone": "919876522222", "name": "Submitted Before"},
                    "actions": [],
                    "user": USER,
                    "channel": CHANNEL,
                    "source": "modal",
                },
            ),
        },
    )
    typed, submitted = bot.sandbox.find_lead("919876511111"), bot.sandbox.find_lead("919876522222")
    assert typed["fields"]["assignee"] == RAHUL_EMAIL
    assert "assignee" not in submitted["fields"]
    assert len(cards(bot)) == 2

    run_rows(
        bot,
        {
            "view:old-edit": (
                "lead.update",
                {
                    "lead_id": typed["id"],
                    "fields": {"rating": 4},
                    "user": USER,
                    "channel": CHANNEL,
                    "source": "edit",
                },
            ),
            "cmd:old-update": (
                "lead.update",
                {
                    "fields": {"rating": 2},
                    "user": USER,
                    "channel": CHANNEL,
                    "source": "command",
                    "target": "919876522222",
                },
            ),
        },
    )
    assert bot.sandbox.find_lead("919876511111")["fields"]["rating"] == 4
    assert bot.sandbox.find_lead("919876522222")["fields"]["rating"] == 2


def test_old_payment_rows_record_change_and_show_a_change_made_in_telecrm(bot: Bot) -> None:
    lead_id, phone = new_lead(bot)
    run_rows(
        bot,
        {
            "cmd:old-payment": (
                "payment.record",
                {
                    "user": USER,
                    "channel": CHANNEL,
                    "reply_ts": None,
                    "lead_ref": phone,
                    "lead_id": None,
                    "amount": "5000",
                    "currency": "INR",
                    "status": "PENDING",
                    "origin_lead_id": None,
                    "thread_channel": None,
                    "thread_ts": None,
                },
            )
        },
    )
    [payment] = payments_in_sandbox(bot, lead_id)
    [message] = wait_payment_messages(bot)
    action_id = payment["action_id"]

    run_rows(
        bot,
        {
            "paystatus:old": (
                "payment.status",
                {
                    "action_id": action_id,
                    "lead_id": lead_id,
                    "from": "PENDING",
                    "to": "COMPLETED",
                    "user": USER,
                    "channel": CHANNEL,
                    "reply_ts": message["thread_ts"],
                },
            )
        },
    )
    assert payments_in_sandbox(bot, lead_id)[0]["status"] == "COMPLETED"
    assert [r for r in thread_replies(bot) if f"<@{USER}> marked ₹5,000.00 COMPLETED" in r.get("text", "")]

    bot.services.telecrm.update_action(lead_id, action_id, {"type": "PAYMENT", "status": "REFUNDED"})
    assert bot.services.payments.set_status(action_id, "REFUNDED", expected_old="COMPLETED")
    run_rows(
        bot,
        {
            "paychanged:old": (
                "payment.changed_in_telecrm",
                {"action_id": action_id, "from": "COMPLETED", "to": "REFUNDED"},
            )
        },
    )
    [note] = [r for r in thread_replies(bot) if "in TeleCRM" in r.get("text", "")]
    assert "₹5,000.00 was marked REFUNDED in TeleCRM (was COMPLETED)" in note["text"]
    assert note["thread_ts"] == message["thread_ts"]


def test_an_old_activity_row_logs_the_activity_in_the_leads_thread(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    action = {"type": "1001", "fields": {"note": "Met the owner", "outcome": "Follow-up Needed"}}
    run_rows(
        bot,
        {
            "view:old-activity": (
                "activity.create",
                {"lead_id": lead.id, "action": action, "user": USER, "channel": CHANNEL},
            )
        },
    )
    [stored] = [a for a in bot.sandbox.actions(lead.id) if a["type"] == "1001"]
    assert stored["fields"] == action["fields"]
    [reply] = bot.replies(lead.thread_ts or "")
    assert f"action id `{stored['action_id']}`" in str(reply)
