"""One deployment, many Slack workspaces, each with its own TeleCRM whose ids may be another's: every
repository keeps two workspaces' rows apart even when they use the same lead, action, user or report
id; ``telecrm-bot purge --team`` deletes one workspace's rows and nothing else; a database of the
previous schema keeps its rows (single-workspace data under '') and each queued job's workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from commands.lead.store import FieldUsage, LeadDrafts
from commands.timeline.seen_types import SeenActionTypes
from storage.db import Store
from storage.deliveries import Deliveries
from storage.follow_ups import FollowUps
from storage.import_sending import ImportSending
from storage.imports import CheckedRow, Imports
from storage.lead_index import IndexEntry, MirrorCursor
from storage.lead_watch import LeadWatches
from storage.migrations import MIGRATIONS
from storage.outbox import Outbox
from storage.pipeline import DigestDays, PipelineReports, payment_totals, slack_leads
from storage.postgres import PostgresStore
from storage.postgres_schema import POSTGRES_MIGRATIONS
from storage.purge import purge_team
from storage.repositories import LeadThreads, Payments, UserLinks
from storage.stores import lead_index_for
from storage.team_tables import TEAM_TABLES
from storage.tenancy import team_scope
from tests.storage.conftest import FakeClock

A, B = "T0AAAAAAA", "T0BBBBBBB"


def test_two_workspaces_lead_threads_payments_and_user_links_never_mix(store: Any, clock: FakeClock) -> None:
    threads, payments, links = LeadThreads(store, clock=clock), Payments(store, clock=clock), UserLinks(store)
    with team_scope(A):
        threads.remember("1", "C-A", "100.1", name="Asha", created_by="U1")
        payments.save("act-1", "1", "500", "INR", "PENDING", recorded_by="U1")
        links.link("U1", email="u1@a.in", member_email="sales@a.in")
    with team_scope(B):
        assert (
            threads.get("1") is None and threads.recent() == [] and threads.by_message("C-A", "100.1") is None
        )
        assert payments.get("act-1") is None and payments.open_payments() == []
        assert links.get("U1") is None and links.by_member_email("sales@a.in") == []
        threads.remember("1", "C-B", "200.2", name="Bilal", created_by="U1")
        payments.save("act-1", "1", "9", "USD", "PENDING")
        assert payments.set_status("act-1", "COMPLETED", expected_old="PENDING")
        links.link("U1", email="u1@b.in", member_email="ops@b.in")
        assert threads.rename("1", "Bilal K")
    with team_scope(A):
        assert threads.get("1").name == "Asha"  # type: ignore[union-attr]
        assert [t.channel for t in threads.recent(created_by="U1")] == ["C-A"]
        assert payments.get("act-1").status == "PENDING"  # type: ignore[union-attr]
        assert links.get("U1").member_email == "sales@a.in"  # type: ignore[union-attr]
        assert slack_leads(store, 0, clock.now + 1) == 1
        assert [t.currency for t in payment_totals(store, 0, clock.now + 1).recorded] == ["INR"]
        links.forget("U1")
    with team_scope(B):
        assert threads.get("1").name == "Bilal K"  # type: ignore[union-attr]
        assert links.get("U1") is not None  # forgetting A's link left B's
        assert payment_totals(store, 0, clock.now + 1).completed[0].currency == "USD"


def test_follow_ups_and_lead_watches_are_per_workspace(store: Any, clock: FakeClock) -> None:
    follow_ups, watches, threads = (
        FollowUps(store, clock=clock),
        LeadWatches(store, clock=clock),
        LeadThreads(store),
    )
    with team_scope(A):
        threads.remember("7", "C-A", "1.1")
        follow_ups.arm("7", user_id="U1", assignee=None, field="f", follow_up_at=5, remind_at=5, name="Asha")
        watches.baseline("7", {"name": "Asha"})
        watches.lease("watcher", "me", 60)
    with team_scope(B):
        assert follow_ups.get("7") is None and follow_ups.due(10) == []
        assert watches.get("7") is None and watches.due(now=clock.now, interval=0, active_since=0) == []
        assert watches.lease("watcher", "other", 60)[0]  # A's watcher lease is not B's
        follow_ups.arm("7", user_id="U2", assignee=None, field="f", follow_up_at=9, remind_at=9, name="Bo")
        assert follow_ups.claim("7", 1)
    with team_scope(A):
        assert [f.user_id for f in follow_ups.due(10)] == ["U1"]
        assert [c.lead_id for c in watches.due(now=clock.now, interval=0, active_since=0)] == ["7"]
        assert watches.watched_count() == 1


def test_pipeline_reports_digests_imports_and_pacing_are_per_workspace(store: Any, clock: FakeClock) -> None:
    reports, days = PipelineReports(store, clock=clock), DigestDays(store, clock=clock)
    imports, sending = Imports(store, clock=clock), ImportSending(store, clock=clock)
    with team_scope(A):
        reports.save("r1", "U1", "C1", "A's numbers", [])
        assert days.claim("2026-11-28", "C1")
        mine = imports.create(file_sha256="same-bytes", file_name="a.csv", source="cli", on_existing="skip")
        assert imports.replace_rows(mine.id, mapping={}, total_rows=1, problems={}, problem_rows=0,
                                    rows=[CheckedRow(1, "+911", {"name": "A"})])  # fmt: skip
        assert sending.take_turn("async", interval=60) == 0.0
    with team_scope(B):
        assert reports.get("r1") is None and not reports.mark_shared("r1", "U9")
        assert days.claim("2026-11-28", "C2")  # B's digest of the same day is its own
        assert imports.get(mine.id) is None and imports.with_file("same-bytes") == []
        assert imports.rows(mine.id) == []
        assert sending.take_turn("async", interval=60) == 0.0  # B's TeleCRM has its own pace
    with team_scope(A):
        assert reports.get("r1").text == "A's numbers"  # type: ignore[union-attr]
        assert [r.identifier for r in imports.rows(mine.id)] == ["+911"]
        assert sending.take_turn("async", interval=60) > 0


def test_drafts_field_usage_and_seen_types_are_per_workspace(store: Any) -> None:
    drafts, usage, seen = LeadDrafts(store), FieldUsage(store), SeenActionTypes(store)
    with team_scope(A):
        drafts.put("view-1", "edit", {"name": "A"}, user="U1")
        usage.record(["name"])
        seen.record(["CALL"])
    with team_scope(B):
        assert drafts.get("view-1", "edit") is None and drafts.owner("view-1") is None
        assert usage.counts() == {} and seen.counts() == {}


def test_the_lead_index_finds_only_the_workspace_s_own_leads(store: Any, clock: FakeClock) -> None:
    index = lead_index_for(store, clock=clock)
    with team_scope(A):
        index.record([IndexEntry("1", name="Jane Doe", phones="919876543210", seen_at=10)])
        index.save_cursor(MirrorCursor(days=30, high_ms=5))
    with team_scope(B):
        index.record([IndexEntry("1", name="Janet Roe", seen_at=11)])
        assert [e.name for e in index.search("jan").entries] == ["Janet Roe"]
        assert index.search("3210").entries == []
        assert index.search("jnae doe").entries == []  # A's words do not correct B's typos
        assert index.stats().leads == 1 and index.cursor() == MirrorCursor()
    with team_scope(A):
        assert [e.name for e in index.search("jan").entries] == ["Jane Doe"]
        assert index.get("1").name == "Jane Doe"  # type: ignore[union-attr]
        assert index.cursor().high_ms == 5 and index.stats().leads == 1
        index.forget("1")
        assert index.search("jan").entries == []
    with team_scope(B):
        assert index.get("1") is not None


def test_an_outbox_row_carries_its_workspace_and_keys_and_deliveries_are_per_workspace(store: Any) -> None:
    outbox, deliveries = Outbox(store), Deliveries(store)
    with team_scope(A):
        item, created = outbox.add("lead.card_refresh:1", "demo", {"n": 1}, delivery="ev-1")
        assert created and item.team == A
    with team_scope(B):
        assert outbox.get("lead.card_refresh:1") is None and not deliveries.seen("ev-1")
        item, created = outbox.add("lead.card_refresh:1", "demo", {"n": 2}, delivery="ev-1")
        assert created and item.team == B
    claimed = {(i.team, i.payload["n"]) for i in (outbox.claim(), outbox.claim())}  # type: ignore[union-attr]
    assert claimed == {(A, 1), (B, 2)}  # the worker serves every workspace
    with team_scope(A):
        assert outbox.succeed("lead.card_refresh:1")
        assert deliveries.seen("ev-1")
    with team_scope(B):
        assert outbox.get("lead.card_refresh:1").state == "running"  # type: ignore[union-attr]


def _fill(store: Any, team: str) -> None:
    with team_scope(team):
        LeadThreads(store).remember("1", "C", "1.1")
        Payments(store).save("act-1", "1", "5", "INR", "PENDING")
        lead_index_for(store).record([IndexEntry("1", name="Jane")])
        Outbox(store).add("k", "demo", {})
        Deliveries(store).record("ev")
    store.write(
        "INSERT INTO telecrm_connections (enterprise_id, team_id, workspace_id, sync_token, connected_by,"
        " connected_at) VALUES ('', ?, ?, 'sealed', 'U1', 0)",
        [team, f"crm-{team}"],
    )
    store.write(
        "INSERT INTO slack_bots (enterprise_id, team_id, data, installed_at) VALUES ('', ?, '{}', 0)", [team]
    )
    store.write(
        "INSERT INTO schema_cache (enterprise_id, schema_json, fetched_at) VALUES (?, '{}', 0)",
        [f"crm-{team}"],
    )


def test_purge_deletes_every_row_of_one_workspace_and_nothing_of_another(store: Any) -> None:
    _fill(store, A)
    _fill(store, B)
    removed = dict(purge_team(store, A))
    assert removed["lead_threads"] == removed["payments"] == removed["lead_index"] == 1
    assert removed["outbox"] == removed["deliveries"] == removed["telecrm_connections"] == 1
    assert removed["slack_bots"] == removed["schema_cache"] == 1
    assert set(removed) >= {t.name for t in TEAM_TABLES}
    for table in [t.name for t in TEAM_TABLES] + ["telecrm_connections", "slack_bots"]:
        assert store.db.execute(f"SELECT count(*) FROM {table} WHERE team_id = ?", [A]).fetchone() == (0,)
    assert store.db.execute("SELECT enterprise_id FROM schema_cache").fetchall() == [(f"crm-{B}",)]
    with team_scope(B):
        assert LeadThreads(store).get("1") is not None and Outbox(store).get("k") is not None
        assert [e.name for e in lead_index_for(store).search("jan").entries] == ["Jane"]
        assert lead_index_for(store).stats().leads == 1
    with pytest.raises(ValueError):
        purge_team(store, "")  # '' is the single-workspace data, never purged by mistake


def _previous_schema(db_path: Path, pg_url: str | None) -> Any:
    if pg_url is None:
        return Store(db_path, migrations=MIGRATIONS[:17])
    return PostgresStore(pg_url, migrations=POSTGRES_MIGRATIONS[:5])


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_an_upgrade_keeps_every_row_and_moves_each_job_s_workspace_into_the_outbox(
    database: str, db_path: Path, request: pytest.FixtureRequest
) -> None:
    pg_url = request.getfixturevalue("pg_url") if database == "postgres" else None
    old = _previous_schema(db_path, pg_url)
    try:
        old.write("INSERT INTO lead_threads (lead_id, channel, ts, created_at) VALUES ('1', 'C', '1.1', 5)")
        old.write("INSERT INTO lead_index (lead_id, name, seen_at) VALUES ('1', 'Jane Doe', 5)")
        old.write("UPDATE lead_index_state SET high_ms = 42")
        for key in ("single", "oauth"):
            old.write(
                "INSERT INTO outbox (key, kind, payload, state, next_attempt_at, created_at, updated_at)"
                " VALUES (?, 'demo', '{}', 'pending', 0, 0, 0)",
                [key],
            )
        old.write("INSERT INTO job_teams (key, team_id, created_at) VALUES ('oauth', ?, 0)", [A])
    finally:
        old.close()
    new = Store(db_path) if pg_url is None else PostgresStore(pg_url)
    try:
        assert LeadThreads(new).get("1") is not None  # single-workspace data, under ''
        index = lead_index_for(new)
        assert [e.name for e in index.search("jane").entries] == ["Jane Doe"]
        assert index.cursor().high_ms == 42 and index.stats().leads == 1
        assert Outbox(new).get("single") is not None
        with team_scope(A):
            assert Outbox(new).get("oauth") is not None and LeadThreads(new).get("1") is None
        tables = new.db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'job_teams'"
            " AND table_schema = current_schema()"
            if pg_url
            else "SELECT count(*) FROM sqlite_master WHERE name = 'job_teams'"
        ).fetchone()
        assert tables == (0,)
    finally:
        new.close()
    if pg_url is None:  # the rebuilt file passes the check every open makes
        Store(db_path).close()
