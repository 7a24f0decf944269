"""SchemaCache: fresh, stale, empty, down, restarted, and busy."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from storage.cache import SchemaCache, SchemaUnavailable
from storage.db import Store
from storage.repositories import CachedSchemas
from telecrm.errors import TeleCRMUnavailable
from telecrm.schema import CustomActionDef, FieldDef, FieldType, TeamMember, WorkspaceSchema

from .conftest import FakeClock

REPO = Path(__file__).resolve().parents[2]


class FakeTeleCRM:
    """A ``fetch`` callable: counts calls, can be made to fail, or to block until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = False
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self._lock = threading.Lock()

    def __call__(self) -> WorkspaceSchema:
        with self._lock:
            self.calls += 1
            version = self.calls
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test never released the fetch"
        if self.down:
            raise TeleCRMUnavailable("Could not reach TeleCRM: connection refused.")
        return WorkspaceSchema(
            fields=(FieldDef("phone", FieldType.PHONE, is_identifier=True), FieldDef("name", FieldType.TEXT)),
            custom_actions=(CustomActionDef("ACTION_1001", "Site Visit"),),
            team_members=(TeamMember("Jane", "jane@example.com"),),
            enterprise_name=f"v{version}",
        )


@pytest.fixture
def telecrm() -> FakeTeleCRM:
    return FakeTeleCRM()


@pytest.fixture
def cache(store: Store, telecrm: FakeTeleCRM, clock: FakeClock) -> SchemaCache:
    return SchemaCache(store, telecrm, ttl_seconds=900, clock=clock, enterprise_id="E1")


def test_cold_start_fetches_and_persists(
    cache: SchemaCache, telecrm: FakeTeleCRM, store: Store, clock: FakeClock
) -> None:
    assert cache.cached() is None
    schema = cache.get()
    assert telecrm.calls == 1 and schema.enterprise_name == "v1"
    assert schema.fetched_at == clock.now
    assert CachedSchemas(store).load("E1") == schema
    status = cache.status()
    assert (status.fresh, status.field_count, status.custom_action_count, status.team_member_count) == (
        True,
        2,
        1,
        1,
    )
    assert status.age_seconds == 0 and status.last_error is None and not status.refreshing


def test_hit_needs_neither_telecrm_nor_sqlite(
    cache: SchemaCache, telecrm: FakeTeleCRM, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cache.get()
    loads: list[str] = []
    original = CachedSchemas.load
    monkeypatch.setattr(CachedSchemas, "load", lambda self, eid: loads.append(eid) or original(self, eid))
    clock.advance(899)
    for _ in range(50):
        assert cache.get() is first
    assert telecrm.calls == 1 and loads == []


def test_stale_copy_served_at_once_while_one_background_refresh_runs(
    cache: SchemaCache, telecrm: FakeTeleCRM, clock: FakeClock
) -> None:
    old = cache.get()
    clock.advance(901)
    telecrm.gate = threading.Event()
    telecrm.entered.clear()
    for _ in range(20):  # none of these may block, and only one refresh may start
        assert cache.get() is old
    assert telecrm.entered.wait(5)
    assert cache.status().refreshing and not cache.status().fresh
    telecrm.gate.set()
    assert cache.wait_idle(5)
    assert telecrm.calls == 2
    new = cache.get()
    assert new.enterprise_name == "v2" and cache.status().fresh


def test_telecrm_down_keeps_serving_the_cached_copy(
    cache: SchemaCache, telecrm: FakeTeleCRM, clock: FakeClock
) -> None:
    old = cache.get()
    telecrm.down = True
    clock.advance(1000)
    assert cache.get() is old
    assert cache.wait_idle(5)
    status = cache.status()
    assert "connection refused" in (status.last_error or "") and not status.fresh
    calls = telecrm.calls
    assert cache.get() is old  # within the failure back-off: no new attempt
    assert cache.wait_idle(5) and telecrm.calls == calls
    clock.advance(61)
    telecrm.down = False
    assert cache.get() is old
    assert cache.wait_idle(5)
    assert cache.get().enterprise_name == f"v{calls + 1}" and cache.status().last_error is None


def test_empty_cache_and_telecrm_down_says_so(cache: SchemaCache, telecrm: FakeTeleCRM) -> None:
    telecrm.down = True
    with pytest.raises(SchemaUnavailable, match="not cached yet and TeleCRM could not be reached"):
        cache.get()
    assert cache.cached() is None
    assert cache.status().last_error


def test_forced_refresh(cache: SchemaCache, telecrm: FakeTeleCRM) -> None:
    cache.get()
    assert cache.refresh().enterprise_name == "v2"
    telecrm.down = True
    with pytest.raises(TeleCRMUnavailable):
        cache.refresh()
    assert cache.cached().enterprise_name == "v2"  # type: ignore[union-attr]


def test_restart_serves_from_sqlite_while_telecrm_is_down(
    db_path: Path, telecrm: FakeTeleCRM, clock: FakeClock
) -> None:
    with Store(db_path) as first:
        SchemaCache(first, telecrm, clock=clock, enterprise_id="E1").get()
    telecrm.down = True
    with Store(db_path) as second:
        cache = SchemaCache(second, telecrm, clock=clock, enterprise_id="E1")
        assert cache.get().enterprise_name == "v1"
        assert telecrm.calls == 1


def test_cache_of_another_workspace_is_not_used(store: Store, telecrm: FakeTeleCRM, clock: FakeClock) -> None:
    SchemaCache(store, telecrm, clock=clock, enterprise_id="E1").get()
    other = SchemaCache(store, telecrm, clock=clock, enterprise_id="E2")
    assert other.cached() is None
    other.get()
    assert telecrm.calls == 2


def test_fresher_copy_written_by_another_process_is_adopted(
    db_path: Path, telecrm: FakeTeleCRM, clock: FakeClock
) -> None:
    with Store(db_path) as store:
        cache = SchemaCache(store, telecrm, clock=clock, enterprise_id="E1")
        cache.get()
        clock.advance(1000)
        # `telecrm-bot cache refresh` in another process writes a newer copy
        newer = WorkspaceSchema(fields=(), enterprise_name="from the CLI", fetched_at=clock.now)
        CachedSchemas(store).save("E1", newer)
        cache.get()
        assert cache.wait_idle(5)
        assert cache.get().enterprise_name == "from the CLI"
        assert telecrm.calls == 1


def test_new_process_reads_the_cache(cache: SchemaCache, store: Any, store_url: str) -> None:
    cache.get()
    code = (
        "import sys; from storage.stores import open_store; from storage.cache import SchemaCache\n"
        "def down(): raise RuntimeError('no network in this process')\n"
        "store = open_store(sys.argv[1])\n"
        "schema = SchemaCache(store, down, enterprise_id='E1', ttl_seconds=1e12).get()\n"
        "print(schema.enterprise_name, schema.identifier.api_name, len(schema.fields), store.schema_version)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, store_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    name, identifier, fields, version = done.stdout.split()
    assert (name, identifier, fields) == ("v1", "phone", "2")
    assert int(version) == store.schema_version


def test_twenty_threads_share_one_fetch_and_one_database(
    store: Store, telecrm: FakeTeleCRM, clock: FakeClock
) -> None:
    cache = SchemaCache(store, telecrm, clock=clock, enterprise_id="E1")
    others = [SchemaCache(store, telecrm, clock=clock, enterprise_id=f"X{n}") for n in range(20)]
    errors: list[BaseException] = []
    results: list[WorkspaceSchema] = []
    start = threading.Barrier(20)

    def work(n: int) -> None:
        try:
            start.wait()
            results.append(cache.get())  # all twenty race on an empty cache
            for _ in range(5):
                others[n].refresh()  # and write to SQLite at the same time
                others[n].status()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({id(r) for r in results}) == 1  # one fetch served everyone
    assert telecrm.calls == 1 + 20 * 5
    assert len(list(store.db.query("SELECT enterprise_id FROM schema_cache"))) == 21


class _WatchedLock:
    """A lock that says when someone starts waiting for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waiters = 0
        self.second = threading.Event()

    def __enter__(self) -> None:
        self.waiters += 1
        if self.waiters >= 2:
            self.second.set()
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_callers_waiting_for_a_first_fetch_share_its_failure(
    cache: SchemaCache, telecrm: FakeTeleCRM
) -> None:
    """A form opened while the first fetch is under way hears how that fetch ended, and does not
    make TeleCRM (and the person) wait through a second one."""
    watched = _WatchedLock()
    cache._fetch_lock = watched  # type: ignore[assignment]  # to know when the second caller waits
    telecrm.down, telecrm.gate = True, threading.Event()
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            cache.get()
        except SchemaUnavailable as exc:
            failures.append(exc)

    first = threading.Thread(target=ask)
    first.start()
    assert telecrm.entered.wait(5)
    second = threading.Thread(target=ask)
    second.start()
    assert watched.second.wait(5)
    telecrm.gate.set()
    first.join(5)
    second.join(5)
    assert len(failures) == 2 and telecrm.calls == 1
    assert all(isinstance(f.__cause__, TeleCRMUnavailable) for f in failures)
    with pytest.raises(SchemaUnavailable):  # a later caller tries again
        cache.get()
    assert telecrm.calls == 2
