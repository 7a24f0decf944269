"""Bulk imports as stored: the preview's rows are replaced while in preview only, states move by
compare-and-set, and rows page in file order (storage/imports.py)."""

from __future__ import annotations

from storage.db import Store
from storage.imports import (
    CANCELLED,
    MISSING,
    PREVIEW,
    READY,
    SENDING,
    SENT,
    CheckedRow,
    Imports,
)
from tests.storage.conftest import FakeClock


def _rows(n: int) -> list[CheckedRow]:
    return [
        CheckedRow(i, f"9198765{i:05d}", {"fields": {"phone": f"9198765{i:05d}"}}) for i in range(2, n + 2)
    ]


def test_a_checked_file_is_stored_with_its_counts(store: Store, clock: FakeClock) -> None:
    imports = Imports(store, clock=clock)
    started = imports.create(file_sha256="ab", file_name="visitors.csv", source="slack", on_existing="update")
    assert started.state == PREVIEW and started.valid_rows == 0

    assert imports.replace_rows(
        started.id,
        mapping={"Phone": "phone", "Notes": None},
        total_rows=2503,
        problems={"phone: not a number": 3},
        problem_rows=3,
        rows=_rows(2500),
    )
    stored = imports.get(started.id)
    assert stored is not None
    assert (stored.total_rows, stored.valid_rows, stored.problem_rows) == (2503, 2500, 3)
    assert stored.mapping == {"Phone": "phone", "Notes": None}
    assert imports.row_counts(started.id)[READY] == 2500


def test_a_new_mapping_replaces_the_rows_but_not_once_sending(store: Store, clock: FakeClock) -> None:
    imports = Imports(store, clock=clock)
    started = imports.create(file_sha256="ab", file_name="a.csv", source="cli", on_existing="skip")
    kwargs = {"mapping": {}, "total_rows": 5, "problems": {}, "problem_rows": 0}
    imports.replace_rows(started.id, rows=_rows(5), **kwargs)  # type: ignore[arg-type]
    imports.replace_rows(started.id, rows=_rows(3), **kwargs)  # type: ignore[arg-type]
    assert imports.row_counts(started.id)[READY] == 3

    assert imports.move(started.id, to=SENDING, only_from=[PREVIEW])
    assert not imports.move(started.id, to=SENDING, only_from=[PREVIEW])  # a double click moves it once
    assert not imports.replace_rows(started.id, rows=_rows(9), **kwargs)  # type: ignore[arg-type]
    assert imports.row_counts(started.id)[READY] == 3


def test_rows_page_in_file_order_and_change_state(store: Store, clock: FakeClock) -> None:
    imports = Imports(store, clock=clock)
    started = imports.create(file_sha256="cd", file_name="b.csv", source="slack", on_existing="update")
    imports.replace_rows(started.id, mapping={}, total_rows=10, problems={}, problem_rows=0, rows=_rows(10))
    first = imports.rows(started.id, state=READY, limit=4)
    assert [r.row_no for r in first] == [2, 3, 4, 5]
    imports.mark_rows(started.id, [r.row_no for r in first], to=SENT)
    imports.mark_rows(started.id, [2], to=MISSING)
    assert [r.row_no for r in imports.rows(started.id, state=READY, limit=2)] == [6, 7]
    assert imports.row_counts(started.id) == {READY: 6, SENT: 3, "verified": 0, MISSING: 1}


def test_the_same_file_is_found_unless_that_import_was_cancelled(store: Store, clock: FakeClock) -> None:
    imports = Imports(store, clock=clock)
    first = imports.create(file_sha256="ee", file_name="x.csv", source="slack", on_existing="update")
    assert [i.id for i in imports.with_file("ee")] == [first.id]
    imports.move(first.id, to=CANCELLED, only_from=[PREVIEW])
    assert imports.with_file("ee") == []
