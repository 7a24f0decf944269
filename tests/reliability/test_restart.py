"""``kill -9`` of the real ``telecrm-bot serve`` process: nothing accepted is lost, nothing is doubled.

The bot runs as a separate process (as in production); the Slack emulator and the TeleCRM sandbox
run in the test process, so the test sees both sides.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from soak import crashes
from soak.processes import world as stand_ins
from tests.conftest import CHANNEL, USER

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")


class ArrivalWatch:
    """WSGI wrapper that signals when a write (by default a lead create) reaches TeleCRM, before
    TeleCRM answers."""

    def __init__(self, app, path_end: str = "/lead") -> None:
        self.app = app
        self.path_end = path_end
        self.arrived = threading.Event()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith(self.path_end):
            self.arrived.set()
        return self.app(environ, start_response)


@pytest.fixture
def world(tmp_path):
    watch: list[ArrivalWatch] = []

    def wrap(app):
        watch.append(ArrivalWatch(app))
        return watch[0]

    # 2.5 s: still well above the 1 s TeleCRM takes in these tests, and a killed process's lease
    # (kit/worker.py lease_for: 2 × (timeout + 2 s)) runs out after 9 s
    with stand_ins(tmp_path, wrap=wrap, TELECRM_TIMEOUT_SECONDS="2.5", PAYMENT_WATCH_SECONDS="300") as w:
        bot = w.bot()
        yield w.sandbox, watch[0], w.emulator, bot, w.env
        bot.terminate()


QUEUED_WORDS = ("queued", "will be sent", "retried automatically")


def cards(emulator, name: str) -> list[dict]:
    return [
        m
        for m in emulator.messages(CHANNEL)
        if name in json.dumps(m.get("blocks") or []) and "lead_card_edit" in json.dumps(m.get("blocks") or [])
    ]


def outbox(env) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", "/dev/null", "outbox", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_a_second_process_never_takes_writes_the_first_is_still_making(tmp_path):
    """A rolling deploy: the new process starts while the old one is in the middle of slow writes."""
    with stand_ins(tmp_path, TELECRM_TIMEOUT_SECONDS="6") as w:
        leads = crashes.make_leads(w, 8)
        lead_phones = [phone for _, phone in leads]
        old = w.bot()
        old.start()
        w.sandbox.faults.write_latency = 4.0  # longer than the new process takes to start
        for n, phone in enumerate(lead_phones):
            assert (
                w.emulator.slash_command("/payment", f"{phone} {500 + n}", user=USER, channel=CHANNEL).status
                == 200
            )
        new = w.bot()
        new.start()  # while the old process's payments are in flight
        w.wait(lambda: not w.outbox(), timeout=60, what="every payment to be recorded")
        old.terminate()
        new.terminate()
        payments = [a for lead_id, _ in leads for a in w.sandbox.actions(lead_id) if a["type"] == "PAYMENT"]
        assert sorted(int(float(p["amount"])) for p in payments) == [500 + n for n in range(8)]
        assert len(crashes.payment_messages(w)) == 8


def test_kill_9_while_a_payment_is_at_telecrm_records_it_once(tmp_path):
    """The bot dies after sending the payment; TeleCRM stores it only later. The restarted bot
    must not reconcile (and re-send) before the dead process's request can have landed."""
    arrivals: list[ArrivalWatch] = []

    def wrap(app):
        arrivals.append(ArrivalWatch(app, path_end="/action"))
        return arrivals[0]

    with stand_ins(tmp_path, wrap=wrap, TELECRM_TIMEOUT_SECONDS="2.5") as w:  # the lease: 9 s
        [(lead_id, phone)] = crashes.make_leads(w, 1)
        bot = w.bot()
        bot.start(ready_line="Workspace schema refreshed")
        w.sandbox.faults.write_latency = 2.0
        assert w.emulator.slash_command("/payment", f"{phone} 777", user=USER, channel=CHANNEL).status == 200
        assert arrivals[0].arrived.wait(15), "the payment never reached TeleCRM"
        bot.kill9()
        again = w.bot()
        again.start()
        w.wait(lambda: crashes.payment_messages(w), timeout=60, what="the payment message")
        w.wait(lambda: not w.outbox(), timeout=60, what="the payment to be finished")
        again.terminate()
        assert [a["amount"] for a in w.sandbox.actions(lead_id) if a["type"] == "PAYMENT"] == ["777"]
        assert len(crashes.payment_messages(w)) == 1


def test_kill_9_at_random_moments_loses_and_doubles_nothing(tmp_path):
    result = crashes.run(rounds=3, seed=11, workdir=tmp_path)
    lost_or_doubled = {
        k: v for k, v in result.items() if k.endswith(("_lost", "_duplicated", "_missing")) and v
    }
    assert not lost_or_doubled, result


def test_kill_9_between_accept_and_telecrm_answer(world):
    sandbox, watch, emulator, bot, env = world
    bot.start(ready_line="Workspace schema refreshed")
    sandbox.faults.latency = 1.0  # TeleCRM is slow: the write is in flight when the bot dies
    delivery = emulator.slash_command(
        "/lead", 'name="Killed Kiran" phone=919800000666', user=USER, channel=CHANNEL
    )
    assert delivery.status == 200 and not delivery.timed_out
    assert watch.arrived.wait(15), "the write never reached TeleCRM"
    bot.kill9()

    pending = outbox(env)
    assert [p["kind"] for p in pending] and all(p["state"] in {"pending", "running"} for p in pending)

    sandbox.faults.latency = 0
    bot.start(ready_line="Slack Request URL")  # the schema is cached in SQLite already
    emulator.wait_for(lambda emu: cards(emu, "Killed Kiran"), timeout=30)
    assert len([lead for lead in sandbox.leads() if lead["fields"].get("name") == "Killed Kiran"]) == 1
    assert len(cards(emulator, "Killed Kiran")) == 1
    bot.terminate()  # finishes the in-flight write before exiting
    assert outbox(env) == []


def test_write_queued_while_telecrm_is_down_lands_after_restart(world):
    sandbox, watch, emulator, bot, env = world
    bot.start(ready_line="Workspace schema refreshed")
    sandbox.faults.fail_next(1000, status=503, path_contains="/lead")
    emulator.slash_command("/lead", 'name="Patient Pooja" phone=919800000777', user=USER, channel=CHANNEL)
    emulator.wait_for(
        lambda emu: any(w in json.dumps(e).lower() for e in emu.ephemerals(USER) for w in QUEUED_WORDS),
        timeout=20,
    )
    bot.terminate()  # a graceful stop: the queued write stays in SQLite

    assert [p["kind"] for p in outbox(env)], "the queued write was not kept"
    sandbox.faults.clear()
    bot.start(ready_line="Slack Request URL")
    emulator.wait_for(lambda emu: cards(emu, "Patient Pooja"), timeout=30)
    assert len([lead for lead in sandbox.leads() if lead["fields"].get("name") == "Patient Pooja"]) == 1
