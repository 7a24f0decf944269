"""A queued write is the record of the Slack delivery that asked for it (one statement per
acknowledgement), and a redelivery finds it whatever key its listener chose."""

from __future__ import annotations

from storage.db import Store
from storage.deliveries import Deliveries
from storage.outbox import Outbox


def test_a_write_queued_for_a_delivery_records_that_delivery(store: Store) -> None:
    outbox, deliveries = Outbox(store), Deliveries(store)
    assert not deliveries.seen("trigger:1")
    _, created = outbox.add("cmd:1", "lead.typed", {"text": "name=A"}, delivery="trigger:1")
    assert created
    assert deliveries.seen("trigger:1")
    assert not deliveries.seen("trigger:2")


def test_a_redelivery_queues_nothing_even_under_another_key(store: Store) -> None:
    outbox = Outbox(store)
    first, _ = outbox.add("cmd:1", "lead.typed", {"text": "name=A"}, delivery="trigger:1")
    again, created = outbox.add("cmd:1-again", "lead.typed", {"text": "name=A"}, delivery="trigger:1")
    assert not created
    assert again.key == first.key == "cmd:1"
    assert [item.key for item in outbox.pending()] == ["cmd:1"]


def test_the_same_key_from_another_delivery_is_the_same_write(store: Store) -> None:
    outbox = Outbox(store)
    outbox.add("pay:7:paid", "payment.status", {"status": "paid"}, delivery="trigger:1")
    item, created = outbox.add("pay:7:paid", "payment.status", {"status": "paid"}, delivery="trigger:2")
    assert not created and item.payload == {"status": "paid"}
    assert len(outbox.pending()) == 1


def test_writes_queued_without_a_delivery_do_not_collide(store: Store) -> None:
    outbox = Outbox(store)
    assert outbox.add("a", "lead.typed", {}, delivery=None)[1]
    assert outbox.add("b", "lead.typed", {}, delivery=None)[1]
    assert len(outbox.pending()) == 2
