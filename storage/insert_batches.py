"""Rows several threads insert at the same moment, written by one of them in one statement.

Every acknowledgement's durable write is one ``INSERT`` into the outbox. Through the store's write
gate, one writer at a time, the writes of ten concurrent commands queued, and each hand-over waited
for the leaving writer to get the interpreter back after SQLite (a statement gives it away several
times) and then for the next writer to wake and get it: a chain that was the tail of their latency
(docs/PERFORMANCE.md). Here the first thread to arrive becomes the queue's writer: it takes the gate
and writes every row waiting at that moment, its own and those that arrived meanwhile, in one
multi-row ``INSERT``; the others wait for their own row's answer, not for the gate.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

# rows in one statement: a batch is as many rows as arrived while the last one was written, one to a
# dozen under fifty concurrent commands. Each count of rows is a statement of its own in the
# connection's cache, ~8 KiB a row (1 to 64 rows: 2 MiB, which a long run filled slowly as rarer
# counts came up; 1 to 16: 130 KiB)
MAX_ROWS = 16
# batches one writer writes before another waiting thread takes over, so no thread writes for others
# for long while its own request waits
MAX_BATCHES = 4


class PendingRow:
    """One thread's row in the queue, and its answer once written."""

    __slots__ = ("values", "inserted", "error", "takes_over", "_woken")

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values
        self.inserted = False
        self.error: BaseException | None = None
        self.takes_over = False  # the writer before stopped: this row's thread writes the rest
        self._woken = threading.Event()

    def wake(self) -> None:
        self._woken.set()

    def wait(self) -> None:
        self._woken.wait()

    def answer(self) -> bool:
        if self.error is not None:
            raise self.error
        return self.inserted


WriteRows = Callable[[list[PendingRow]], None]


class InsertQueue:
    """The rows waiting for one statement (one table, one set of columns).

    ``gate``: what a writer holds while it writes (the store's write gate, with this thread's
    urgency). ``write_rows``: writes a batch with the gate held and sets each row's ``inserted`` (or
    its ``error``, when only that row failed); when it raises, every row of the batch raises that.
    """

    def __init__(self, gate: Callable[[], AbstractContextManager[Any]], write_rows: WriteRows) -> None:
        self._gate = gate
        self._write_rows = write_rows
        self._lock = threading.Lock()
        self._pending: list[PendingRow] = []
        self._writing = False  # a thread is the writer: every pending row will be written by it

    def insert(self, values: Sequence[Any]) -> bool:
        """Insert one row (with whatever others wait); whether it was inserted (False: it conflicted)."""
        row = PendingRow(values)
        with self._lock:
            self._pending.append(row)
            writer = not self._writing
            self._writing = True
        if not writer:
            row.wait()  # answered, or told to take over
            if not row.takes_over:
                return row.answer()
        # a writer's own row is the first waiting (nobody was writing, or it is the one handed over
        # to), so it is in the first batch, answered when this returns
        self._write_waiting_rows()
        return row.answer()

    def _write_waiting_rows(self) -> None:
        """As the writer: write batches until none is left (then nobody is the writer) or hand over."""
        try:
            with self._gate():
                for _ in range(MAX_BATCHES):
                    batch = self._next_batch()
                    if not batch:
                        return
                    self._write(batch)
        except BaseException as exc:  # the gate could not be had (e.g. the store closed)
            self._fail_waiting(exc)
            return
        self._hand_over()

    def _next_batch(self) -> list[PendingRow]:
        with self._lock:
            batch = self._pending[:MAX_ROWS]
            if not batch:
                self._writing = False
            return batch

    def _write(self, batch: list[PendingRow]) -> None:
        try:
            self._write_rows(batch)
        except BaseException as exc:  # each of these rows' threads raises it
            for row in batch:
                row.error = exc
        with self._lock:
            del self._pending[: len(batch)]
        for row in batch:
            row.wake()

    def _hand_over(self) -> None:
        with self._lock:
            if not self._pending:
                self._writing = False
                return
            successor = self._pending[0]
            successor.takes_over = True
        successor.wake()

    def _fail_waiting(self, exc: BaseException) -> None:
        with self._lock:
            failed, self._pending = self._pending, []
            self._writing = False
        for row in failed:
            row.error = exc
            row.wake()


_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _names(table: str, columns: Sequence[str]) -> None:
    """Table and column names go into the SQL text: only plain ones, spelled in the code."""
    for name in (table, *columns):
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a plain SQL name: {name!r}")


# the SQL texts are built once per shape: they are on every acknowledgement's write
@functools.lru_cache(maxsize=64)
def insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    """``INSERT INTO table (columns) VALUES (?, …), … ON CONFLICT DO NOTHING`` for ``rows`` rows."""
    _names(table, columns)
    one = "(" + ", ".join("?" * len(columns)) + ")"
    values = ", ".join([one] * rows)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} ON CONFLICT DO NOTHING"


@functools.lru_cache(maxsize=16)
def row_exists_sql(table: str, columns: tuple[str, ...]) -> str:
    """Whether a row with these values exists (``IS``: NULL matches NULL)."""
    _names(table, columns)
    return f"SELECT 1 FROM {table} WHERE {' AND '.join(f'{c} IS ?' for c in columns)} LIMIT 1"
