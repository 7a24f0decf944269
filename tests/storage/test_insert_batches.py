"""Rows that threads insert at the same moment go into one statement, and each thread still learns
whether its own row was inserted (the acknowledgements' one write, storage/insert_batches.py)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from storage import insert_batches
from storage.db import Store
from storage.insert_batches import InsertQueue, PendingRow
from storage.outbox import Outbox

COLUMNS = ("slack_user_id", "updated_at")


@pytest.fixture
def waiting_rows(monkeypatch: pytest.MonkeyPatch) -> threading.Semaphore:
    """Released once for each row that starts waiting for its answer (not its writer's)."""
    arrived = threading.Semaphore(0)
    original_wait = PendingRow.wait

    def counted_wait(row: PendingRow) -> None:
        arrived.release()
        original_wait(row)

    monkeypatch.setattr(PendingRow, "wait", counted_wait)
    return arrived


def run_all(targets: list[Callable[[], Any]]) -> tuple[list[threading.Thread], list[Any]]:
    results: list[Any] = [None] * len(targets)

    def run(i: int) -> None:
        try:
            results[i] = targets[i]()
        except BaseException as exc:  # reported to the test as the row's answer
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    return threads, results


def join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(30)
        assert not t.is_alive(), "a thread never got its answer"


def test_rows_queued_behind_a_busy_store_go_in_few_statements_each_answered(
    db_path: Path, waiting_rows: threading.Semaphore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(db_path)
    batches: list[int] = []
    original = Store._insert_rows

    def recorded(self: Store, shape: Any, rows: list[PendingRow]) -> None:
        batches.append(len(rows))
        original(self, shape, rows)

    monkeypatch.setattr(Store, "_insert_rows", recorded)
    store.write("INSERT INTO user_links (slack_user_id, updated_at) VALUES ('U3', 0)")

    def insert(user: str, at: int) -> Callable[[], bool]:
        return lambda: store.insert_new("user_links", COLUMNS, [user, at], identity=COLUMNS)

    # U3 exists already; U5 comes twice (another insert of it: another time)
    users = [f"U{i}" for i in range(20)] + ["U5"]
    with store.transaction():  # the store is busy: every row waits for it
        threads, answers = run_all([insert(u, i) for i, u in enumerate(users)])
        for _ in users[1:]:  # all but the writer wait for their answer
            waiting_rows.acquire(timeout=30)
    join(threads)

    assert batches == [insert_batches.MAX_ROWS, len(users) - insert_batches.MAX_ROWS]  # 21 rows: 2
    assert answers.count(False) == 2  # U3 (there before) and the second U5
    assert answers[3] is False and answers[5] != answers[20]
    assert store.db.execute("SELECT COUNT(*) FROM user_links").fetchone()[0] == 20
    store.close()


def test_a_bad_row_fails_only_its_own_thread(db_path: Path, waiting_rows: threading.Semaphore) -> None:
    store = Store(db_path)
    rows: list[list[Any]] = [["U1", 1], ["U2", None], ["U3", 1]]  # updated_at is NOT NULL
    with store.transaction():
        threads, answers = run_all(
            [lambda r=r: store.insert_new("user_links", COLUMNS, r, identity=COLUMNS) for r in rows]
        )
        for _ in rows[1:]:
            waiting_rows.acquire(timeout=30)
    join(threads)
    assert answers[0] is True and answers[2] is True
    assert isinstance(answers[1], sqlite3.IntegrityError)
    store.close()


def test_outbox_adds_at_the_same_moment_create_each_write_once(store: Any) -> None:
    """Several deliveries of the same gestures at once (double clicks, retries, two replicas): one row
    per key, and exactly one of them told it created it."""
    outbox = Outbox(store)
    keys = [f"cmd:{i % 6}" for i in range(30)]
    barrier = threading.Barrier(len(keys))

    def add(i: int) -> bool:
        barrier.wait(30)
        _, created = outbox.add(keys[i], "lead.typed", {"n": i % 6}, delivery=f"trigger:{i}")
        return created

    threads, created = run_all([lambda i=i: add(i) for i in range(len(keys))])
    join(threads)
    assert not [c for c in created if isinstance(c, BaseException)]
    assert sorted(k for k, c in zip(keys, created, strict=True) if c) == sorted(set(keys))
    assert len(outbox.pending()) == 6


@contextmanager
def gate_until(opened: threading.Event) -> Iterator[None]:
    assert opened.wait(30)
    yield


def test_a_writer_hands_over_after_its_batches_and_every_row_is_answered(
    monkeypatch: pytest.MonkeyPatch, waiting_rows: threading.Semaphore
) -> None:
    monkeypatch.setattr(insert_batches, "MAX_ROWS", 2)
    monkeypatch.setattr(insert_batches, "MAX_BATCHES", 1)
    opened = threading.Event()
    writers: list[tuple[str, int]] = []

    def write_rows(rows: list[PendingRow]) -> None:
        writers.append((threading.current_thread().name, len(rows)))
        for row in rows:
            row.inserted = True

    queue = InsertQueue(lambda: gate_until(opened), write_rows)
    threads, answers = run_all([lambda i=i: queue.insert([i]) for i in range(7)])
    for _ in range(6):
        waiting_rows.acquire(timeout=30)
    opened.set()
    join(threads)
    assert answers == [True] * 7
    assert [n for _, n in writers] == [2, 2, 2, 1]
    assert len({name for name, _ in writers}) == 4  # each writer wrote one batch, then handed over


def test_when_the_store_cannot_be_had_every_waiting_row_says_so_and_the_queue_recovers(
    waiting_rows: threading.Semaphore,
) -> None:
    opened = threading.Event()
    broken = [True]

    @contextmanager
    def gate() -> Iterator[None]:
        assert opened.wait(30)
        if broken[0]:
            raise sqlite3.OperationalError("unable to open database file")
        yield

    def write_rows(rows: list[PendingRow]) -> None:
        for row in rows:
            row.inserted = True

    queue = InsertQueue(gate, write_rows)
    threads, answers = run_all([lambda i=i: queue.insert([i]) for i in range(5)])
    for _ in range(4):
        waiting_rows.acquire(timeout=30)
    opened.set()
    join(threads)
    assert all(isinstance(a, sqlite3.OperationalError) for a in answers)
    broken[0] = False
    assert queue.insert([9]) is True


@pytest.mark.parametrize("table, column", [("outbox; DROP TABLE outbox", "key"), ("outbox", "key) --")])
def test_only_plain_names_go_into_the_sql_text(table: str, column: str) -> None:
    with pytest.raises(ValueError, match="not a plain SQL name"):
        insert_batches.insert_sql(table, (column,), 1)
    with pytest.raises(ValueError, match="not a plain SQL name"):
        insert_batches.row_exists_sql(table, (column,))
