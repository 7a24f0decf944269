"""The bot on PostgreSQL end to end (``DATABASE_URL=postgresql://…``): the real app, the Slack
emulator, the TeleCRM sandbox and a real PostgreSQL server — a lead created, found by part of its name,
paid, and two bots (two replicas) sharing the database without doing anything twice."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from storage.dialect import POSTGRES
from telecrm.sandbox import demo_workspace
from tests.conftest import CHANNEL, Bot
from tests.lead.conftest import last_ephemeral, with_rahul
from tests.payment.conftest import payments_in_sandbox, wait_payment_messages

JANE = 'name="Jane Doe" phone=9876543210 email=jane.doe@suryodayasolar.in follow_up_date=25/12/2030'


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_a_lead_is_created_found_and_paid_with_everything_kept_in_postgresql(
    make_bot: Callable[..., Bot], pg_url: str
) -> None:
    bot = make_bot(workspace=with_rahul(demo_workspace()), database_url=pg_url)
    assert bot.services.store.dialect is POSTGRES
    bot.command("/lead", JANE)
    bot.settle()
    jane = bot.sandbox.find_lead("919876543210")
    assert jane is not None
    [card] = bot.messages()
    assert "Jane Doe" in card["text"]

    bot.command("/lead", "find jan")
    bot.settle()
    said = last_ephemeral(bot)
    assert "Jane Doe" in said and "1 from the bot's index of" in said

    bot.command("/payment", "9876543210 ₹5,000 inr")
    [message] = wait_payment_messages(bot)
    assert message["thread_ts"] == card["ts"]
    [paid] = payments_in_sandbox(bot, jane["id"])
    bot.settle()

    assert rows(pg_url, "SELECT lead_id, channel, ts FROM lead_threads") == [
        (jane["id"], CHANNEL, card["ts"])
    ]
    assert rows(pg_url, "SELECT action_id, amount, status FROM payments") == [
        (paid["action_id"], "5000", "PENDING")
    ]
    assert rows(pg_url, f"SELECT count(*) FROM follow_ups WHERE lead_id = '{jane['id']}'") == [(1,)]
    assert rows(pg_url, "SELECT DISTINCT state FROM outbox") == [("done",)]
    recorded = (
        "SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM outbox WHERE delivery IS NOT NULL)"
    )
    assert rows(pg_url, recorded)[0][0] >= 3  # a gesture's write records its delivery, others on their own


def test_two_replicas_on_one_database_take_each_write_once(make_bot: Callable[..., Bot], pg_url: str) -> None:
    first = make_bot(workspace=with_rahul(demo_workspace()), database_url=pg_url)
    second = make_bot(sandbox=first.sandbox, database_url=pg_url)
    for n in range(6):
        (first if n % 2 else second).command("/lead", f'name="Lead {n}" phone=98765000{n:02d}')
    first.settle()
    second.settle()
    created = [
        lead for lead in first.sandbox.leads() if str(lead["fields"].get("name", "")).startswith("Lead ")
    ]
    assert sorted(lead["fields"]["name"] for lead in created) == [f"Lead {n}" for n in range(6)]
    # every write queued by either replica ran once, and is done
    assert rows(pg_url, "SELECT state, max(attempts) FROM outbox GROUP BY state") == [("done", 1)]
