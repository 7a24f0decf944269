"""Crashes and overlapping processes while writes are in flight: nothing lost, nothing doubled.

Each round starts a bot process, sends a burst of ``/lead`` and ``/payment`` commands while TeleCRM
answers slowly, and then, at a random moment (before, during or after TeleCRM's answer, while the
bot posts to Slack), either kills it with ``kill -9`` or starts a second process on the same
database and stops the first (a rolling deploy). After the last round one process finishes the
rest, and every write a user was told about (an acknowledged command) is counted in TeleCRM and in
Slack.

``python -m soak.crashes [--rounds 50] [--seed N]`` prints the counts as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit import ids
from soak.processes import BotProcess, World, world
from telecrm.client import TeleCRMClient

CHANNEL = "C0SALES"
USER = "U0RAHUL"
TELECRM_LATENCY = 0.2  # seconds TeleCRM takes to answer each request
TELECRM_WRITE_LATENCY = 2.0  # and writes 2 s more: they are in flight when the bot dies
TELECRM_TIMEOUT = "3"  # the bot's timeout: leases of a killed process run out 10 s after it died


@dataclass
class Asked:
    """What users were told the bot accepted (acknowledged commands)."""

    leads: list[str] = field(default_factory=list)  # lead names
    payments: list[tuple[str, str]] = field(default_factory=list)  # (lead id, amount)


def make_leads(world: World, n: int) -> list[tuple[str, str]]:
    """(lead id, phone) of leads made directly in TeleCRM, for payments to land on."""
    client = TeleCRMClient(
        base_url=world.env["TELECRM_API_URL"],
        enterprise_id=world.sandbox.enterprise_id,
        sync_token=world.sandbox.sync_token,
    )
    made = []
    with client:
        for i in range(n):
            phone = f"9197{i:08d}"
            result = client.create_lead({"phone": phone, "name": f"Payer {i}"})
            assert result.lead_id
            made.append((result.lead_id, phone))
    return made


def _burst(world: World, round_no: int, payers: list[tuple[str, str]], asked: Asked, size: int) -> None:
    """``size`` commands, half new leads and half payments; only acknowledged ones count as asked."""
    for i in range(size):
        if i % 2 == 0:
            name = f"Crash R{round_no} N{i}"
            phone = f"9198{round_no:04d}{i:04d}"
            delivery = world.emulator.slash_command(
                "/lead", f'name="{name}" phone={phone}', user=USER, channel=CHANNEL
            )
            if delivery.status == 200 and not delivery.timed_out:
                asked.leads.append(name)
        else:
            lead_id, phone = payers[(round_no * size + i) % len(payers)]
            amount = str(1000 + round_no * 100 + i)  # unique per lead and round
            delivery = world.emulator.slash_command(
                "/payment", f"{phone} {amount}", user=USER, channel=CHANNEL
            )
            if delivery.status == 200 and not delivery.timed_out:
                asked.payments.append((lead_id, amount))


def _round(
    world: World, current: BotProcess, round_no: int, payers: list, asked: Asked, rng: random.Random
) -> BotProcess:
    """One burst, then a crash or a rolling restart at a random moment; returns the process now serving."""
    _burst(world, round_no, payers, asked, size=6)
    time.sleep(rng.uniform(0, 1.5 * TELECRM_WRITE_LATENCY))  # the random moment the failure strikes
    if rng.random() < 0.5:
        current.kill9()
        successor = world.bot()
        successor.start()
        return successor
    successor = world.bot()  # a rolling deploy: the new process starts while the old one still works
    successor.start()
    if rng.random() < 0.5:
        current.kill9()
    else:
        current.terminate()
    return successor


def payment_messages(world: World) -> list[dict[str, Any]]:
    found = []
    for message in world.emulator.messages(CHANNEL):
        for reply in world.emulator.replies(CHANNEL, message["ts"]):
            for block in reply.get("blocks") or []:
                if any(
                    e.get("action_id") == ids.ACT_PAYMENT_AMOUNT_HELP for e in block.get("elements") or []
                ):
                    found.append(reply)
    return found


def _count(world: World, asked: Asked) -> dict[str, Any]:
    names = Counter(lead["fields"].get("name") for lead in world.sandbox.leads())
    cards = Counter(
        name
        for m in world.emulator.messages(CHANNEL)
        for name in asked.leads
        if "lead_card_edit" in json.dumps(m.get("blocks") or []) and f": {name}" in (m.get("text") or "")
    )
    payments: Counter[tuple[str, str]] = Counter()
    action_ids = []
    for lead_id in {lead for lead, _ in asked.payments}:
        for action in world.sandbox.actions(lead_id):
            if action["type"] == "PAYMENT":
                payments[(lead_id, str(int(float(action["amount"]))))] += 1
                action_ids.append(action["action_id"])
    shown = [json.dumps(m) for m in payment_messages(world)]
    messages = Counter(a for a in action_ids for text in shown if a in text)
    doubled = [
        {"action_id": a, "messages": [json.loads(t)["ts"] for t in shown if a in t]}
        for a in action_ids
        if messages[a] > 1
    ]
    return {
        "leads_asked": len(asked.leads),
        "leads_lost": sum(1 for n in asked.leads if names[n] == 0),
        "leads_duplicated": sum(names[n] - 1 for n in asked.leads if names[n] > 1),
        "cards_missing": sum(1 for n in asked.leads if cards[n] == 0),
        "cards_duplicated": sum(cards[n] - 1 for n in asked.leads if cards[n] > 1),
        "payments_asked": len(asked.payments),
        "payments_lost": sum(1 for p in asked.payments if payments[p] == 0),
        "payments_duplicated": sum(payments[p] - 1 for p in asked.payments if payments[p] > 1),
        "payment_messages_missing": sum(1 for a in action_ids if messages[a] == 0),
        "payment_messages_duplicated": sum(messages[a] - 1 for a in action_ids if messages[a] > 1),
        "doubled_payment_messages": doubled[:5],
    }


def run(rounds: int = 50, seed: int = 7, workdir: Path | None = None) -> dict[str, Any]:
    rng = random.Random(seed)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as tmp,
        world(Path(workdir or tmp), TELECRM_TIMEOUT_SECONDS=TELECRM_TIMEOUT) as w,
    ):
        payers = make_leads(w, 12)
        asked = Asked()
        current = w.bot()
        current.start(ready_line="Workspace schema refreshed")
        w.sandbox.faults.latency = TELECRM_LATENCY
        w.sandbox.faults.write_latency = TELECRM_WRITE_LATENCY
        kills = 0
        for round_no in range(rounds):
            before = current
            current = _round(w, current, round_no, payers, asked, rng)
            kills += int(before.proc is not None and before.proc.returncode == -9)
        w.wait(lambda: not w.outbox(), timeout=120, what="the last process to finish every write")
        current.terminate()
        counts = _count(w, asked)
    return {"rounds": rounds, "kill_9": kills, "seconds": round(time.monotonic() - started, 1), **counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    result = run(args.rounds, args.seed)
    print(json.dumps(result, indent=2))
    bad = ("leads_lost", "leads_duplicated", "payments_lost", "payments_duplicated")
    return 1 if any(result[k] for k in bad) else 0


if __name__ == "__main__":
    sys.exit(main())
