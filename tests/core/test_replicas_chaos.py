"""Chaos: two ``telecrm-bot serve`` processes on one PostgreSQL behind a round-robin load balancer,
one TeleCRM sandbox and one Slack emulator. 2,000 inline ``/lead`` creates and 200 modal submissions
go through the balancer; midway one replica is killed with ``kill -9`` and started again. Every lead
is created in TeleCRM exactly once and gets one card in Slack.

A request the killed replica never answered is re-sent by the balancer to the other replica with
Slack's retry mark, as Slack redelivers an unanswered request. A ``/lead`` the killed replica
acknowledged but whose form it never opened is typed again, as the rep would.
"""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import harness
from bench.balancer import Balancer
from bench.throughput import exactly_once
from bench.workspaces import inline_create_text, next_phone
from slack_emulator import SlackEmulator, serve_wsgi
from slack_emulator.directory import DEFAULT_USERS

CREATES = 2000
MODALS = 200
CONCURRENCY = 8
# the reps filling forms, each one form at a time (a person has one modal stack)
FORM_USERS = [u["id"] for u in DEFAULT_USERS if u["id"] != harness.USER]


@pytest.fixture
def stand_ins() -> Iterator[harness.StandIns]:
    with harness.StandIns() as s:
        yield s


def fill_forms(emulator: SlackEmulator, user: str, phones: list[str], failures: list[str]) -> None:
    """One rep creates a lead per phone from the /lead form; what Slack would show as a failure is kept."""
    for phone in phones:
        while not _open_form(emulator, user):
            pass  # the replica that took the command died before opening the form: typed again
        answer = emulator.submit_view(user=user, values={"phone": phone, "name": f"Form Lead {phone[-6:]}"})
        if answer.status != 200 or answer.elapsed > harness.SLACK_ACK_TIMEOUT:
            failures.append(f"form for {phone}: HTTP {answer.status} after {answer.elapsed:.1f}s")
        if emulator.open_views(user):
            failures.append(f"form for {phone} still open: {emulator.open_views(user)[-1].get('errors')}")
            emulator.close_view(user=user, clear=True)


def _open_form(emulator: SlackEmulator, user: str) -> bool:
    typed = emulator.slash_command("/lead", "", user=user, channel=harness.CHANNEL)
    if typed.status != 200:
        return False
    try:
        harness.wait_until(lambda: emulator.open_views(user), timeout=10, what=f"{user}'s /lead form")
    except TimeoutError:
        return False
    return True


def test_two_replicas_one_killed_midway_create_every_lead_once(
    stand_ins: harness.StandIns, pg_url: str, tmp_path: Path
) -> None:
    first = harness.start_bot(stand_ins, tmp_path, name="first", database_url=pg_url)
    second = harness.start_bot(stand_ins, tmp_path, name="second", database_url=pg_url)
    balancer = Balancer([first.url, second.url])
    front = serve_wsgi(balancer, threads=16)
    emulator, sandbox = stand_ins.emulator, stand_ins.sandbox
    emulator.app_url = front.url + "/slack/events"
    seeded = collections.Counter(str(lead["fields"].get("phone")) for lead in sandbox.leads())
    typed = [next_phone() for _ in range(CREATES)]
    in_forms = [next_phone() for _ in range(MODALS)]
    form_failures: list[str] = []
    bursts: list[harness.Burst] = []
    senders = [
        threading.Thread(
            target=lambda: bursts.append(
                harness.fire(emulator, emulator.app_url, [inline_create_text(p) for p in typed], CONCURRENCY)
            )
        ),
        *(
            threading.Thread(
                target=fill_forms, args=(emulator, user, in_forms[i :: len(FORM_USERS)], form_failures)
            )
            for i, user in enumerate(FORM_USERS)
        ),
    ]
    restarted: list[harness.AppProcess] = []
    try:
        for sender in senders:
            sender.start()
        midway = len(seeded) + (CREATES + MODALS) // 2
        harness.wait_until(lambda: len(sandbox.leads()) >= midway, timeout=300, what="half the leads created")
        first.proc.kill()  # SIGKILL: no shutdown, leases held, requests in flight
        first.proc.wait(10)
        for sender in senders:
            sender.join()
        again = harness.start_bot(stand_ins, tmp_path, name="first-again", database_url=pg_url)
        restarted.append(again)
        balancer.backends = [again.url, second.url]
        harness.wait_until(
            lambda: len(sandbox.leads()) >= len(seeded) + CREATES + MODALS and harness.outbox_idle(second),
            timeout=300,
            interval=0.1,
            what="every lead in TeleCRM and the outbox drained",
        )
        stored = collections.Counter(str(lead["fields"].get("phone")) for lead in sandbox.leads())
        cards = emulator.messages(harness.CHANNEL)
    finally:
        front.stop()
        balancer.close()
        for bot in (first, second, *restarted):
            bot.stop()
    phones = typed + in_forms
    assert [f for burst in bursts for f in burst.failures] == [] and form_failures == []
    assert exactly_once(phones, list((stored - seeded).elements())) == []
    leads_on_cards = [set(re.findall(r"Lead (\d{6})", c.get("text", ""))) for c in cards]
    card_of = collections.Counter(n for found in leads_on_cards for n in found)
    twice = sorted(n for n, count in card_of.items() if count > 1)  # shown when the check fails
    assert len(cards) == len(phones) and {card_of[p[-6:]] for p in phones} == {1}, twice
