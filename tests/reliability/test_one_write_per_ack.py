"""An acknowledgement costs one durable write: a gesture that queues a write stores its Slack delivery
in the outbox row itself (one statement); one that queues none records it at its ack. Redeliveries
are still dropped (tests/reliability/test_faults.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from storage.db import Store

ACK_PATH = ("listener", "waitress")  # the Slack request thread and the listener it hands off to


@pytest.fixture
def ack_path_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Write transactions (a ``transaction()`` block, a lone ``write()`` or ``insert_new()``) opened
    on the acknowledgement path (not by the outbox worker)."""
    seen: list[str] = []
    original_transaction, original_write = Store.transaction, Store.write
    original_insert_new = Store.insert_new

    def count(store: Store) -> None:
        name = threading.current_thread().name
        if name.startswith(ACK_PATH) and not store.db.conn.in_transaction:
            seen.append(name)

    @contextmanager
    def counted_transaction(self: Store) -> Iterator[Any]:
        count(self)
        with original_transaction(self) as db:
            yield db

    def counted_write(self: Store, sql: str, params: Any = ()) -> Any:
        count(self)
        return original_write(self, sql, params)

    def counted_insert_new(self: Store, *args: Any, **kwargs: Any) -> bool:
        count(self)
        return original_insert_new(self, *args, **kwargs)

    monkeypatch.setattr(Store, "transaction", counted_transaction)
    monkeypatch.setattr(Store, "write", counted_write)
    monkeypatch.setattr(Store, "insert_new", counted_insert_new)
    return seen


def test_an_inline_lead_is_stored_with_its_delivery_in_one_write(
    bot: Any, ack_path_writes: list[str]
) -> None:
    bot.command("/lead", 'name="Once Only" phone=919800000222')
    bot.settle()
    assert len(ack_path_writes) == 1
    assert bot.sandbox.find_lead("919800000222") is not None


def test_a_gesture_that_writes_nothing_records_its_delivery_once(
    bot: Any, ack_path_writes: list[str]
) -> None:
    bot.command("/lead", "help")
    bot.settle()
    assert len(ack_path_writes) == 1


def test_a_typed_payment_is_stored_before_its_ack_in_one_write(bot: Any, ack_path_writes: list[str]) -> None:
    bot.command("/lead", 'name="Pays Once" phone=919800000333')
    bot.settle()
    ack_path_writes.clear()
    bot.command("/payment", "919800000333 2500")
    bot.settle()
    assert len(ack_path_writes) == 1
    lead = bot.sandbox.find_lead("919800000333")
    assert [a["amount"] for a in bot.sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"] == ["2500"]
