"""Retention (storage/retention.py): finished work older than ``RETENTION_DAYS`` is deleted, in
batches; work still owed — a pending or running write, an import being sent — never is, however old."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.db import Store
from storage.deliveries import Deliveries
from storage.imports import CANCELLED, DONE, PREVIEW, SENDING, CheckedRow, Imports
from storage.outbox import Outbox
from storage.retention import DAY_SECONDS, Retention
from storage.tenancy import team_scope

from .conftest import FakeClock

RETENTION_DAYS = 30
PAST_RETENTION = (RETENTION_DAYS + 1) * DAY_SECONDS


def keys(store: Store, table: str, column: str = "key") -> set[str]:
    return {row[column] for row in store.db.query(f"SELECT {column} FROM {table}")}


def finished(outbox: Outbox, key: str, *, failed: bool = False) -> None:
    outbox.add(key, "lead.create", {"fields": {"phone": "+919876543210"}})
    item = outbox.claim()
    assert item is not None and item.key == key
    assert outbox.give_up(key, "refused") if failed else outbox.succeed(key)


def draft(store: Store, key: str, at: float) -> None:
    with store.transaction() as db:
        db.execute(
            "INSERT INTO lead_drafts (key, kind, user_id, data, created_at) VALUES (?, 'edit', 'U1', '{}', ?)",
            [key, at],
        )


def an_import(imports: Imports, rows: int, *, to: str | None = None) -> str:
    record = imports.create(file_sha256="f" * 64, file_name="leads.csv", source="cli", on_existing="skip")
    imports.replace_rows(
        record.id,
        mapping={"Phone": "phone"},
        total_rows=rows,
        problems={},
        problem_rows=0,
        rows=[CheckedRow(n, f"+9198765{n:05d}", {"fields": {"phone": n}}) for n in range(1, rows + 1)],
    )
    if to in {SENDING, DONE}:
        assert imports.move(record.id, to=SENDING, only_from=[PREVIEW])
    if to == DONE:
        assert imports.move(record.id, to=DONE, only_from=[SENDING])
    if to == CANCELLED:
        assert imports.move(record.id, to=CANCELLED, only_from=[PREVIEW])
    return record.id


def import_rows(store: Store, import_id: str) -> int:
    return int(
        store.db.execute("SELECT COUNT(*) FROM import_rows WHERE import_id = ?", [import_id]).fetchone()[0]
    )


# --- what goes, what stays -----------------------------------------------------------------------


def test_finished_writes_go_after_the_retention_and_writes_still_owed_never_do(
    store: Store, clock: FakeClock
) -> None:
    outbox = Outbox(store, clock=clock)
    finished(outbox, "old-done")
    finished(outbox, "old-failed", failed=True)
    outbox.add("old-pending", "lead.create", {})  # e.g. TeleCRM down for a month: still owed
    assert outbox.claim() is not None
    assert outbox.retry_at("old-pending", clock() + 10 * PAST_RETENTION, "TeleCRM is down")
    outbox.add("old-running", "lead.create", {})  # a process is still at it, under a live lease
    assert outbox.claim(lease_seconds=10 * PAST_RETENTION) is not None
    clock.advance(PAST_RETENTION)
    finished(outbox, "recent-done")

    pruned = Retention(store, days=RETENTION_DAYS, clock=clock).prune()

    assert pruned.outbox == 2
    assert keys(store, "outbox") == {"old-pending", "old-running", "recent-done"}


def test_form_drafts_go_after_the_retention(store: Store, clock: FakeClock) -> None:
    draft(store, "old", clock() - PAST_RETENTION)
    draft(store, "recent", clock() - DAY_SECONDS)

    assert Retention(store, days=RETENTION_DAYS, clock=clock).prune().drafts == 1
    assert keys(store, "lead_drafts") == {"recent"}


def test_deliveries_are_kept_a_day_so_a_redelivery_is_still_recognised(
    store: Store, clock: FakeClock
) -> None:
    deliveries = Deliveries(store, clock=clock)
    deliveries.record("yesterday")
    clock.advance(DAY_SECONDS + 1)
    deliveries.record("ten-minutes-ago")
    clock.advance(600)

    assert Retention(store, days=RETENTION_DAYS, clock=clock).prune().deliveries == 1
    assert keys(store, "deliveries") == {"ten-minutes-ago"}
    assert not deliveries.first_time("ten-minutes-ago")  # Slack's retry of it still does nothing


def test_finished_imports_go_with_their_rows_and_an_import_still_sending_stays_whole(
    store: Store, clock: FakeClock
) -> None:
    imports = Imports(store, clock=clock)
    done = an_import(imports, 1200, to=DONE)
    cancelled = an_import(imports, 3, to=CANCELLED)
    sending = an_import(imports, 5, to=SENDING)  # paused for a month: its rows are still to be sent
    preview = an_import(imports, 2)
    clock.advance(PAST_RETENTION)
    recent = an_import(imports, 4, to=DONE)

    pruned = Retention(store, days=RETENTION_DAYS, clock=clock, batch=100).prune()

    assert (pruned.imports, pruned.import_rows) == (2, 1203)
    assert keys(store, "imports", "id") == {sending, preview, recent}
    assert import_rows(store, done) == import_rows(store, cancelled) == 0
    assert (import_rows(store, sending), import_rows(store, recent)) == (5, 4)


def test_zero_days_keeps_everything_but_day_old_deliveries(store: Store, clock: FakeClock) -> None:
    outbox = Outbox(store, clock=clock)
    finished(outbox, "done")
    draft(store, "draft", clock())
    an_import(Imports(store, clock=clock), 2, to=DONE)
    Deliveries(store, clock=clock).record("delivery")
    clock.advance(10 * 365 * DAY_SECONDS)

    pruned = Retention(store, days=0, clock=clock).prune()

    assert (pruned.outbox, pruned.drafts, pruned.imports, pruned.import_rows) == (0, 0, 0, 0)
    assert pruned.deliveries == 1


# --- how: in batches, and a stop between two ---------------------------------------------------------


class CountingStore:
    """The store, noting how many rows each write transaction changed."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.changed: list[int] = []

    @property
    def db(self) -> Any:
        return self._store.db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._store.transaction() as db:
            counting = _CountingDb(db)
            yield counting
            self.changed.append(counting.changed)


class _CountingDb:
    """A transaction's database, adding up the rows its statements changed."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.changed = 0

    def execute(self, sql: str, params: Any = ()) -> Any:
        cursor = self._db.execute(sql, params)
        self.changed += max(cursor.rowcount, 0)
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_long_history_is_deleted_in_short_transactions(store: Store, clock: FakeClock) -> None:
    outbox = Outbox(store, clock=clock)
    for n in range(95):
        finished(outbox, f"w{n}")
    an_import(Imports(store, clock=clock), 250, to=DONE)
    clock.advance(PAST_RETENTION)
    counting = CountingStore(store)

    pruned = Retention(counting, days=RETENTION_DAYS, clock=clock, batch=20).prune()

    assert (pruned.outbox, pruned.import_rows, pruned.imports) == (95, 250, 1)
    assert max(counting.changed) <= 20
    assert len(counting.changed) >= (95 + 250) // 20


def test_a_pass_stopped_between_batches_leaves_the_rest_to_the_next(store: Store, clock: FakeClock) -> None:
    outbox = Outbox(store, clock=clock)
    for n in range(30):
        finished(outbox, f"w{n}")
    clock.advance(PAST_RETENTION)
    counting = CountingStore(store)
    stop = Retention(
        counting, days=RETENTION_DAYS, clock=clock, batch=10, stopping=lambda: any(counting.changed)
    )

    assert stop.prune().outbox == 10
    assert Retention(store, days=RETENTION_DAYS, clock=clock, batch=10).prune().outbox == 20
    assert keys(store, "outbox") == set()


# --- through the runtime -----------------------------------------------------------------------------


@pytest.mark.parametrize("days", [RETENTION_DAYS, 0])
def test_the_runtime_runs_the_pass_with_retention_days(tmp_path: Path, clock: FakeClock, days: int) -> None:
    from bot.runtime import Runtime
    from kit.config import Settings
    from storage.retention import PASS_SECONDS

    path = tmp_path / "bot.sqlite3"
    with Store(path) as store:
        finished(Outbox(store, clock=clock), "old-done")
    clock.advance(PAST_RETENTION)
    runtime = Runtime(
        Settings(database_path=str(path), retention_days=days),
        use_sandbox=True,
        use_emulator=True,
        clock=clock,
    )
    try:
        services = runtime.build()
        [periodic] = [p for p in runtime.periodics if p.name == "retention"]
        assert periodic.interval == PASS_SECONDS

        periodic.fn()

        assert keys(services.store, "outbox") == (set() if days else {"old-done"})
    finally:
        runtime.stop()


def test_retention_days_defaults_to_30_and_must_be_a_whole_number_of_days() -> None:
    from kit.config import ConfigError, Settings, load_settings

    assert Settings().retention_days == load_settings({}, dotenv_path=None).retention_days == 30
    assert load_settings({"RETENTION_DAYS": "0"}, dotenv_path=None).retention_days == 0
    for bad in ("-1", "a month", "7.5"):
        with pytest.raises(ConfigError, match="RETENTION_DAYS must be a whole number of days"):
            load_settings({"RETENTION_DAYS": bad}, dotenv_path=None)


def test_a_pass_takes_a_finished_write_of_one_workspace_and_never_another_s_with_the_same_key(
    store: Store, clock: FakeClock
) -> None:
    outbox = Outbox(store, clock=clock)
    with team_scope("T0AAAAAAA"):
        finished(outbox, "lead.card_refresh:1")
    with team_scope("T0BBBBBBB"):  # the same key in another workspace, still owed
        outbox.add("lead.card_refresh:1", "lead.create", {})
    clock.advance(PAST_RETENTION)

    assert Retention(store, days=RETENTION_DAYS, clock=clock).prune().outbox == 1
    with team_scope("T0BBBBBBB"):
        assert outbox.get("lead.card_refresh:1") is not None
