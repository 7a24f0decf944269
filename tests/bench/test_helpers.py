"""The benchmark helpers' own logic: machine description, report table, workspaces, verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import parse_only
from bench.bulk import async_import_callers
from bench.harness import read_vmrss_kib, thread_cpu_from_schedstat, thread_group
from bench.machine import cpu_model, mem_total_gib, os_name
from bench.memory import second_half_trend, step_for, trend_limit
from bench.report import MET, MISSED, Row, markdown_table, missed, ms, verdict
from bench.throughput import exactly_once
from bench.workspaces import inline_create_text, next_phone, workspace_with_fields
from kit.grammar import parse_lead
from telecrm.sandbox import Sandbox


def test_machine_facts_are_read_from_proc_files() -> None:
    cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338\n"
    assert cpu_model(cpuinfo) == "Intel(R) Xeon(R) Gold 6338"
    assert cpu_model("processor : 0\n") == "unknown"
    assert mem_total_gib("MemTotal:       24681472 kB\nMemFree: 1 kB\n") == pytest.approx(23.54, abs=0.01)
    assert os_name('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n', "Linux") == (
        "Debian GNU/Linux 12 (bookworm)"
    )
    assert os_name("", "Linux 6.1") == "Linux 6.1"
    assert read_vmrss_kib("Name:\tpython\nVmPeak:\t 9 kB\nVmRSS:\t   57344 kB\n") == 57344
    with pytest.raises(ValueError):
        read_vmrss_kib("Name:\tzombie\n")


def test_report_table_is_markdown_and_names_the_misses() -> None:
    rows = [
        Row("Ack latency", "1 concurrent", "p99 12 ms | bare 11 ms", "≤ 1.25×", verdict(True)),
        Row("Memory", "idle", "95 MB", "≤ 90 MB", verdict(False)),
    ]
    table = markdown_table(rows).splitlines()
    assert table[0] == "| # | measure | setting | result | target | verdict |"
    assert table[2].count(" | ") == 5  # the pipe inside the result is escaped, not a new column
    assert "p99 12 ms \\| bare 11 ms" in table[2]
    assert table[3].endswith(f"| {MISSED} |")
    assert missed(rows) == [rows[1]]
    assert rows[0].verdict == MET
    assert ms(0.00081) == "0.81 ms"
    assert ms(0.0421) == "42.1 ms"
    assert ms(2.5) == "2,500 ms"


@pytest.mark.parametrize("n", [10, 50, 100, 300])
def test_workspace_has_exactly_n_distinct_fields_and_loads_in_the_sandbox(n: int) -> None:
    ws = workspace_with_fields(n)
    names = [f["apiName"] for f in ws["fields"]]
    assert len(names) == n == len(set(names))
    assert {"name", "phone", "email", "status", "assignee"} <= set(names)
    Sandbox(ws).close()  # the sandbox validates the workspace and refuses a bad one


def test_workspace_needs_the_fields_every_form_uses() -> None:
    with pytest.raises(ValueError):
        workspace_with_fields(3)


def test_typed_commands_are_valid_creates_with_fresh_identifiers() -> None:
    phones = [next_phone() for _ in range(3)]
    assert len(set(phones)) == 3
    command = parse_lead(inline_create_text(phones[0]))
    assert command.action == "create"
    assert not command.errors
    assert dict(command.pairs)["phone"] == phones[0]


def test_exactly_once_names_missing_duplicate_and_unexpected_leads() -> None:
    assert exactly_once(["1", "2"], ["2", "1"]) == []
    problems = exactly_once(["1", "2", "3"], ["1", "1", "3", "9"])
    assert len(problems) == 3
    assert "never created" in problems[0] and "more than once" in problems[1] and "unexpected" in problems[2]


def test_memory_trend_ignores_start_up_growth() -> None:
    warm_then_flat = [(0, 48_000), (100, 56_000), (200, 57_000)] + [
        (c, 57_400) for c in range(300, 1100, 100)
    ]
    assert second_half_trend(warm_then_flat) == pytest.approx(0.0)
    leaking = [(c, 50_000 + c * 10) for c in range(0, 1100, 100)]  # 10 KiB per command
    assert second_half_trend(leaking) == pytest.approx(10_000 / 1024, rel=1e-6)


def test_bulk_detection_finds_app_code_calling_the_async_api(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "commands").mkdir()
    (tmp_path / "bot" / "app.py").write_text("client.create_lead(fields)\n")
    assert async_import_callers(tmp_path) == []
    (tmp_path / "commands" / "bulk.py").write_text("services.telecrm.async_upsert(rows)\n")
    assert async_import_callers(tmp_path) == ["commands/bulk.py"]


def test_sections_are_chosen_by_name_in_the_published_order() -> None:
    assert parse_only(None)[0] == "ack"
    assert parse_only("memory, modal") == ["modal", "memory"]
    with pytest.raises(ValueError, match="unknown section"):
        parse_only("ack,speed")


def test_profile_shares_are_per_function_within_the_focused_path() -> None:
    from bench.profile import parse_collapsed, top_functions

    collapsed = "\n".join(
        [
            "Thread.run (threading.py:982);SlackRequestHandler.dispatch (slack_bolt/handler.py:42);"
            "Deliveries.first_time (storage/deliveries.py:27);Store.transaction (storage/db.py:135) 30",
            "Thread.run (threading.py:982);SlackRequestHandler.dispatch (slack_bolt/handler.py:42);"
            "Store.transaction (storage/db.py:136);Store.transaction (storage/db.py:140) 10",
            "Thread.run (threading.py:982);Worker._attempt (bot/worker.py:236) 60",
            "not a stack line",
        ]
    )
    assert len(parse_collapsed(collapsed)) == 3
    shares = {s.function: s.percent for s in top_functions(collapsed, focus="SlackRequestHandler.dispatch")}
    assert shares["SlackRequestHandler.dispatch (handler.py)"] == 100
    assert shares["Store.transaction (db.py)"] == 100  # two lines of one function, counted once per stack
    assert shares["Deliveries.first_time (deliveries.py)"] == 75
    assert "Worker._attempt (worker.py)" not in shares
    assert top_functions(collapsed, focus="nowhere") == []


def test_cpu_time_is_read_from_proc_stat_even_with_spaces_in_the_name() -> None:
    from bench.harness import cpu_seconds_from_stat

    stat = "4242 (python -m bot) S 1 4242 4242 0 -1 4194304 900 0 0 0 250 50 0 0 20 0 40 0 100 1 1"
    assert cpu_seconds_from_stat(stat, 100) == pytest.approx(3.0)


def test_ack_ratio_pairs_runs_taken_side_by_side() -> None:
    from bench.ack import paired_ratio
    from bench.stats import Latency

    ours = [Latency(0.01, 0.030, 100), Latency(0.01, 0.200, 100), Latency(0.01, 0.033, 100)]
    floor = [Latency(0.01, 0.025, 100), Latency(0.01, 0.190, 100), Latency(0.01, 0.030, 100)]
    # a noisy moment slows both apps in run 2; pairing keeps it from deciding the verdict
    assert paired_ratio(ours, floor) == pytest.approx(1.1)


def test_find_bench_leads_and_queries_are_realistic_and_repeatable(tmp_path: Path) -> None:
    from bench.find import measure, queries, synthetic_leads

    leads = list(synthetic_leads(300))
    assert leads == list(synthetic_leads(300))  # the same every run
    assert {len(lead["identifier"]) for lead in leads} == {12} and all("@" in lead["email"] for lead in leads)
    asked = queries(leads, 12)
    assert {kind for kind, _ in asked} == {
        "name part",
        "phone ending",
        "email/company part",
        "misspelt name",
        "two letters",
        "whole name",
    }
    raw = measure(str(tmp_path / "find.sqlite3"), 300, 60)
    assert raw["leads"] == 300 and raw["index_bytes"] > 0
    assert raw["found"]["phone ending"] == 10 and raw["found"]["whole name"] == 10
    assert sum(len(t) for t in raw["timings"].values()) == 60


def test_thread_groups_and_their_cpu_time_are_read_from_proc_files() -> None:
    assert [thread_group(n) for n in ("listener_12", "waitress-3", "outbox-schedule", "MainThread")] == [
        "listener",
        "waitress",
        "outbox-schedule",
        "MainThread",
    ]
    assert thread_cpu_from_schedstat("1500000000 2000 30\n") == pytest.approx(1.5)


def test_a_long_memory_run_is_a_soak_sampled_about_a_hundred_times() -> None:
    assert step_for(2000) == 100 and step_for(100_000) == 1000 and step_for(25_050) == 200
    assert trend_limit(2000) == 2.0 and trend_limit(100_000) == 0.05
