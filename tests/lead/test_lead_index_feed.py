"""What feeds the lead index (kit/lead_index.py, telecrm/observed.py): the leads the bot reads and
writes, and the mirror of recently created leads — resumable, and within the request budget."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from kit.lead_index import DAY_MS, MIRROR_PAGE, IndexFeed, LeadMirror, advance, entry_for
from storage.db import Store
from storage.lead_index import LeadIndex, MirrorCursor
from telecrm.budget import RequestBudget
from telecrm.client import Lead, Page
from telecrm.errors import TeleCRMUnavailable
from telecrm.observed import ObservedTeleCRMClient
from telecrm.sandbox import DEMO_ENTERPRISE_ID, DEMO_SYNC_TOKEN, Sandbox, demo_workspace, serve_in_thread
from telecrm.schema import WorkspaceSchema

NOW = 1_780_000_000.0  # seconds


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeTeleCRM:
    """Lead search by creation date as TeleCRM answers it: both bounds inclusive, newest first."""

    def __init__(self, leads: list[Lead], clock: Clock) -> None:
        self.leads = leads
        self.clock = clock
        self.requests: list[dict[str, Any]] = []
        self.fail = False

    def search_leads(
        self, fields: dict[str, Any] | None = None, actions: Any = None, *, skip: int = 0, limit: int = 10
    ) -> Page[Lead]:
        window = (fields or {})["created_on"]
        self.requests.append({"at": self.clock(), "from": window["from"], "to": window["to"], "skip": skip})
        if self.fail:
            raise TeleCRMUnavailable("TeleCRM answered HTTP 503", status=503)
        rows = [lead for lead in self.leads if window["from"] <= lead.fields["created_on"] <= window["to"]]
        rows.sort(key=lambda lead: lead.fields["created_on"], reverse=True)
        return Page(rows[skip : skip + limit], len(rows), skip, limit)


def made(n: int, created_ms: int) -> Lead:
    return Lead(f"{n:024x}", {"name": f"Lead {n:04d}", "phone": f"9198{n:08d}", "created_on": created_ms})


def hours_ago(hours: float) -> int:
    return int((NOW - hours * 3600) * 1000)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "bot.sqlite3"


def mirror_of(
    path: Path, crm: FakeTeleCRM, schema: WorkspaceSchema, budget: RequestBudget, clock: Clock, days: int = 90
) -> tuple[LeadMirror, LeadIndex, Store]:
    store = Store(path)
    index = LeadIndex(store, clock=clock)
    return LeadMirror(crm, index, budget, lambda: schema, days=days, clock=clock), index, store  # type: ignore[arg-type]  # a fake client


def indexed(store: Store) -> list[str]:
    return [row[0] for row in store.db.conn.execute("SELECT lead_id FROM lead_index ORDER BY lead_id")]


# --- one lead → one row -------------------------------------------------------------------------------


def test_a_lead_keeps_only_what_search_needs(demo_schema: WorkspaceSchema) -> None:
    full = demo_workspace()["leads"][0]["fields"]  # Rajesh Gupta: every field type filled in
    entry = entry_for(demo_schema, Lead("a" * 24, full))
    assert entry is not None
    assert asdict(entry) == {
        "lead_id": "a" * 24,
        "name": "Rajesh Gupta",
        "identifier": "919812345670",
        "phones": "919812345670 912612345678",  # the identifier and the alternate phone
        "email": "rajesh@guptatextiles.co.in",
        "company": "Gupta Textiles Pvt. Ltd.",
        "status": "Negotiation",
        "seen_at": 0.0,
    }
    kept = " ".join(str(v) for v in asdict(entry).values())
    for other in ("Managing Director", "Surat", "24AABCG1234F1Z5", "commissioning", "7000000"):
        assert other not in kept


def test_a_field_the_answer_did_not_carry_stays_unknown(demo_schema: WorkspaceSchema) -> None:
    entry = entry_for(demo_schema, Lead("b" * 24, {"status": "Won"}))
    assert entry is not None and entry.status == "Won"
    assert (entry.name, entry.phones, entry.email, entry.company) == (None, None, None, None)
    assert entry_for(demo_schema, Lead(None, {"name": "x"})) is None


# --- the leads the bot reads and writes ----------------------------------------------------------------


@pytest.fixture
def observed(
    tmp_path: Path, demo_schema: WorkspaceSchema
) -> Iterator[tuple[ObservedTeleCRMClient, LeadIndex]]:
    running = serve_in_thread(Sandbox())
    store = Store(tmp_path / "bot.sqlite3")
    index = LeadIndex(store)
    client = ObservedTeleCRMClient(
        base_url=running.url + "/autoupdate/v2",
        enterprise_id=DEMO_ENTERPRISE_ID,
        sync_token=DEMO_SYNC_TOKEN,
        timeout=5,
        observer=IndexFeed(index, lambda: demo_schema),
    )
    try:
        yield client, index
    finally:
        client.close()
        store.close()
        running.stop()


def test_every_lead_read_or_written_is_indexed(observed: tuple[ObservedTeleCRMClient, LeadIndex]) -> None:
    client, index = observed
    created = client.create_lead({"phone": "919800012345", "name": "Jane Doe", "rating": 9})
    assert created.lead_id is not None
    assert [e.name for e in index.search("jane").entries] == ["Jane Doe"]
    client.update_lead(created.lead_id, {"company": "Suryoday Solar"})
    assert [e.name for e in index.search("suryoday").entries] == ["Jane Doe"]
    rajesh = client.find_lead_by_identifier("phone", "919812345670")  # a search
    assert rajesh is not None and index.get(rajesh.id or "") is not None
    with client.unobserved():
        client.search_leads({"name": "Farhan Qureshi"})
    assert index.search("farhan").entries == []
    farhan = client.search_leads({"name": "Farhan Qureshi"}).items[0]
    assert [e.name for e in index.search("farhan").entries] == ["Farhan Qureshi"]
    client.get_lead(farhan.id or "")
    assert index.stats().leads == 3


def test_a_lead_telecrm_no_longer_has_is_dropped(observed: tuple[ObservedTeleCRMClient, LeadIndex]) -> None:
    from storage.lead_index import IndexEntry
    from telecrm.errors import TeleCRMNotFound

    client, index = observed
    index.record([IndexEntry("f" * 24, name="Ghost Lead")])
    with pytest.raises(TeleCRMNotFound):
        client.get_lead("f" * 24)
    assert index.get("f" * 24) is None


def test_a_failing_index_never_fails_the_call(observed: tuple[ObservedTeleCRMClient, LeadIndex]) -> None:
    client, _ = observed

    class Broken:
        def seen(self, leads: Any) -> None:
            raise RuntimeError("disk full")

        def gone(self, lead_id: str) -> None:
            raise RuntimeError("disk full")

    client.observer = Broken()
    assert client.find_lead_by_identifier("phone", "919812345670") is not None


# --- the mirror of recent leads ------------------------------------------------------------------------


def test_the_mirror_reads_the_window_newest_first_and_nothing_older(
    db: Path, demo_schema: WorkspaceSchema
) -> None:
    clock = Clock()
    leads = [made(n, hours_ago(n * 10)) for n in range(300)]  # one every 10 hours: 125 days back
    crm = FakeTeleCRM(leads, clock)
    mirror, index, store = mirror_of(db, crm, demo_schema, RequestBudget(600), clock)
    assert mirror.run() == 3  # 216 leads in 90 days: pages of 100, 100, 16
    in_window = sorted(lead.id or "" for lead in leads if lead.fields["created_on"] >= hours_ago(90 * 24))
    assert indexed(store) == in_window
    assert [r["to"] for r in crm.requests][0] == int(NOW * 1000)
    assert crm.requests[1]["to"] == leads[99].fields["created_on"]  # the oldest of the first page
    cursor = index.cursor()
    assert not cursor.sweeping and cursor.high_ms == int(NOW * 1000) and cursor.checked_at == NOW
    # a mirrored lead counts as seen when it was created, so the newest come first
    assert index.search("lead").entries[0].name == "Lead 0000"


def test_the_mirror_carries_on_after_a_restart_and_reads_each_lead_once(
    db: Path, demo_schema: WorkspaceSchema
) -> None:
    clock = Clock()
    leads = [made(n, hours_ago(n)) for n in range(450)]
    crm = FakeTeleCRM(leads, clock)
    seen: list[str] = []
    for _ in range(5):  # five starts of the bot, a minute apart, one page each (a tiny budget)
        mirror, index, store = mirror_of(db, crm, demo_schema, RequestBudget(2, clock=clock), clock)
        before = set(indexed(store))
        assert mirror.run() == 1
        seen += [i for i in indexed(store) if i not in before]
        store.close()
        clock.now += 60
    assert len(seen) == len(set(seen)) == 450
    assert [r["skip"] for r in crm.requests] == [0, 1, 1, 1, 1]  # each page starts after the last
    tops = {r["to"] for r in crm.requests}
    assert len(tops) == 5  # never the same page twice


def test_after_catching_up_only_newer_leads_are_read(db: Path, demo_schema: WorkspaceSchema) -> None:
    clock = Clock()
    crm = FakeTeleCRM([made(n, hours_ago(n)) for n in range(50)], clock)
    mirror, index, store = mirror_of(db, crm, demo_schema, RequestBudget(60, clock=clock), clock)
    mirror.run()
    clock.now += 3600
    crm.leads.append(made(999, int((clock.now - 60) * 1000)))
    crm.requests.clear()
    assert mirror.run() == 1
    (request,) = crm.requests
    assert request["from"] == int(NOW * 1000) - 10 * 60 * 1000  # from the last run, a little overlap
    assert index.get(f"{999:024x}") is not None


def test_many_leads_created_at_the_same_moment_are_all_read(db: Path, demo_schema: WorkspaceSchema) -> None:
    clock = Clock()
    same = hours_ago(5)
    leads = [made(n, same) for n in range(250)] + [made(300 + n, hours_ago(6 + n)) for n in range(20)]
    crm = FakeTeleCRM(leads, clock)
    mirror, _, store = mirror_of(db, crm, demo_schema, RequestBudget(60, clock=clock), clock)
    mirror.run()
    assert len(indexed(store)) == 270
    assert [(r["to"], r["skip"]) for r in crm.requests][1:3] == [(same, 100), (same, 200)]


def test_the_cursor_moves_past_the_oldest_of_a_page() -> None:
    top, mid, low = hours_ago(0), hours_ago(1), hours_ago(2)
    start = MirrorCursor(sweep_top=top, sweep_to=top, sweep_skip=0, sweep_floor=0)
    page = [made(1, top), made(2, mid), made(3, low), made(4, low)]
    assert (advance(start, page).sweep_to, advance(start, page).sweep_skip) == (low, 2)
    same = [made(n, top) for n in range(3)]
    assert (advance(start, same).sweep_to, advance(start, same).sweep_skip) == (top, 3)
    undated = [Lead("x" * 24, {"name": "no date"})]
    assert (advance(start, undated).sweep_to, advance(start, undated).sweep_skip) == (top, 1)
    seconds = [Lead("y" * 24, {"created_on": NOW - 3600})]  # a time in seconds is read as such
    assert advance(start, seconds).sweep_to == mid


def test_the_mirror_never_exceeds_its_share_of_the_budget(db: Path, demo_schema: WorkspaceSchema) -> None:
    clock = Clock()
    budget = RequestBudget(10, clock=clock)
    crm = FakeTeleCRM([made(n, hours_ago(n / 10)) for n in range(5000)], clock)
    mirror, _, _ = mirror_of(db, crm, demo_schema, budget, clock)
    other: list[float] = []
    for _ in range(60):  # ten minutes of runs every 10 s, and another watcher taking a request a run
        if budget.take():
            other.append(clock.now)
        mirror.run()
        clock.now += 10
    times = sorted([r["at"] for r in crm.requests] + other)
    assert all(sum(1 for t in times if start <= t < start + 60) <= 10 for start in times)
    mirror_times = [r["at"] for r in crm.requests]
    assert all(sum(1 for t in mirror_times if start <= t < start + 60) <= 5 for start in mirror_times)
    assert len(other) >= 50  # the other watcher was never starved


def test_a_telecrm_failure_ends_the_run_and_the_next_one_retries(
    db: Path, demo_schema: WorkspaceSchema
) -> None:
    clock = Clock()
    crm = FakeTeleCRM([made(n, hours_ago(n)) for n in range(150)], clock)
    mirror, index, store = mirror_of(db, crm, demo_schema, RequestBudget(60, clock=clock), clock)
    crm.fail = True
    assert mirror.run() == 0 and indexed(store) == []
    crm.fail = False
    clock.now += 30
    mirror.run()
    assert len(indexed(store)) == 150


def test_a_changed_window_starts_over_and_zero_days_is_off(db: Path, demo_schema: WorkspaceSchema) -> None:
    clock = Clock()
    crm = FakeTeleCRM([made(n, hours_ago(n * 24)) for n in range(40)], clock)
    mirror, index, store = mirror_of(db, crm, demo_schema, RequestBudget(60, clock=clock), clock, days=10)
    mirror.run()
    assert len(indexed(store)) == 11
    wider, _, _ = mirror_of(db, crm, demo_schema, RequestBudget(60, clock=clock), clock, days=30)
    wider.run()
    assert len(indexed(store)) == 31 and index.cursor().days == 30
    crm.requests.clear()
    off, _, _ = mirror_of(db, crm, demo_schema, RequestBudget(60, clock=clock), clock, days=0)
    assert off.run() == 0 and crm.requests == []
    assert DAY_MS == 86_400_000 and MIRROR_PAGE == 100
