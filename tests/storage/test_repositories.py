from __future__ import annotations

import threading
from decimal import Decimal

from storage.db import Store
from storage.repositories import CachedSchemas, LeadThreads, Payments, UserLinks
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

from .conftest import FakeClock


def test_lead_thread_first_thread_wins(store: Store, clock: FakeClock) -> None:
    threads = LeadThreads(store, clock=clock)
    first = threads.remember(
        "L1", "C1", "1712345678.000100", identifier="919999999999", name="Jane", created_by="U1"
    )
    assert first.ts == "1712345678.000100" and first.created_at == clock.now
    clock.advance(5)
    again = threads.remember("L1", "C2", "1712345999.000200", created_by="U2")
    assert again == first
    moved = threads.remember("L1", "C2", "1712345999.000200", replace=True)
    assert (moved.channel, moved.ts) == ("C2", "1712345999.000200")
    assert threads.get("L1") == moved
    assert threads.get("missing") is None


def test_recent_lead_threads(store: Store, clock: FakeClock) -> None:
    threads = LeadThreads(store, clock=clock)
    for n in range(5):
        clock.advance(1)
        threads.remember(f"L{n}", "C", f"{n}.0", created_by="U1" if n % 2 else "U2")
    assert [t.lead_id for t in threads.recent(3)] == ["L4", "L3", "L2"]
    assert [t.lead_id for t in threads.recent(10, created_by="U1")] == ["L3", "L1"]


def test_payment_save_keeps_amount_text_and_created_at(store: Store, clock: FakeClock) -> None:
    payments = Payments(store, clock=clock)
    saved = payments.save(
        "A1", "L1", Decimal("10000.50"), "INR", "PENDING", recorded_by="U1", channel="C1", thread_ts="1.0"
    )
    assert saved.amount == "10000.50" and saved.is_open
    clock.advance(10)
    updated = payments.save("A1", "L1", "10000.50", "INR", "PENDING", message_ts="2.0")
    assert updated.created_at == saved.created_at and updated.updated_at == clock.now
    assert (updated.recorded_by, updated.channel, updated.thread_ts, updated.message_ts) == (
        "U1",
        "C1",
        "1.0",
        "2.0",
    )
    payments.set_message("A1", channel="C9", message_ts="3.0")
    assert payments.get("A1").message_ts == "3.0"  # type: ignore[union-attr]
    assert [p.action_id for p in payments.for_lead("L1")] == ["A1"]
    assert payments.get("nope") is None


def test_set_status_is_compare_and_set(store: Store) -> None:
    payments = Payments(store)
    payments.save("A1", "L1", "10", "INR", "PENDING")
    assert payments.set_status("A1", "COMPLETED", expected_old="PENDING") is True
    assert payments.set_status("A1", "COMPLETED", expected_old="PENDING") is False  # the double click
    assert payments.set_status("A1", "COMPLETED") is False  # unchanged
    assert payments.set_status("A1", "REFUNDED") is True
    assert payments.set_status("missing", "COMPLETED") is False
    assert payments.get("A1").status == "REFUNDED"  # type: ignore[union-attr]


def test_set_status_race_has_one_winner(store: Store) -> None:
    payments = Payments(store)
    payments.save("A1", "L1", "10", "INR", "PENDING")
    wins: list[bool] = []
    start = threading.Barrier(10)

    def click() -> None:
        start.wait()
        wins.append(payments.set_status("A1", "COMPLETED", expected_old="PENDING"))

    clicks = [threading.Thread(target=click) for _ in range(10)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    assert sorted(wins) == [False] * 9 + [True]


def test_open_payments_least_recently_checked_first(store: Store, clock: FakeClock) -> None:
    payments = Payments(store, clock=clock)
    for n, status in enumerate(["PENDING", "COMPLETED", "PROCESSING", "PENDING"]):
        clock.advance(1)
        payments.save(f"A{n}", "L1", "1", "INR", status)
    assert [p.action_id for p in payments.open_payments()] == ["A0", "A2", "A3"]
    payments.mark_checked("A0", at=clock.now + 100)
    payments.mark_checked("A2")
    assert [p.action_id for p in payments.open_payments()] == ["A3", "A2", "A0"]
    assert [p.action_id for p in payments.open_payments(limit=1)] == ["A3"]
    assert [p.action_id for p in payments.open_payments(statuses=["COMPLETED"])] == ["A1"]


def test_user_links(store: Store, clock: FakeClock) -> None:
    links = UserLinks(store, clock=clock)
    link = links.link("U1", email="jane@example.com", member_email="Jane@Example.com")
    assert link.updated_at == clock.now
    assert links.get("U1") == link
    assert [x.slack_user_id for x in links.by_member_email(" jane@example.com")] == ["U1"]
    links.link("U1", email="jane@example.com", member_email=None)
    assert links.get("U1").member_email is None  # type: ignore[union-attr]
    links.forget("U1")
    assert links.get("U1") is None


def test_cached_schema_round_trip(store: Store) -> None:
    rows = CachedSchemas(store)
    schema = WorkspaceSchema(
        fields=(FieldDef("phone", FieldType.PHONE, is_identifier=True),), fetched_at=42.0
    )
    assert rows.load("E1") is None
    rows.save("E1", schema)
    loaded = rows.load("E1")
    assert loaded == schema and loaded.field("PHONE") is not None  # type: ignore[union-attr]
    assert rows.fetched_at("E1") == 42.0
    assert rows.load("other") is None


def test_a_lead_thread_is_found_by_its_slack_message(tmp_path):
    from storage.db import Store
    from storage.repositories import LeadThreads

    store = Store(tmp_path / "bot.sqlite3")
    threads = LeadThreads(store)
    threads.remember("lead1", "C1", "1700000000.000100", name="Asha")
    assert threads.by_message("C1", "1700000000.000100").lead_id == "lead1"
    assert threads.by_message("C2", "1700000000.000100") is None
    assert threads.by_message("C1", "1700000000.000200") is None
    store.close()
