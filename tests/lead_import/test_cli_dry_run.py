"""``telecrm-bot import FILE --dry-run`` as an operator runs it: a subprocess against the embedded
TeleCRM sandbox (no credentials set), printing the same preview as Slack shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.config import ConfigError, load_settings
from tests.core.test_cli import run_cli


def test_dry_run_prints_the_preview_and_sends_nothing(tmp_path: Path) -> None:
    file = tmp_path / "leads.csv"
    file.write_text("Name;Phone;E-mail\nJane;9876543210;jane@example.com\nBad;12;\nAgain;+91 98765 43210;\n")
    done = run_cli(
        ["import", str(file), "--dry-run"], {"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "leads.csv: 3 rows, 1 ready to import, 2 with problems" in out
    assert "  E-mail -> Email" in out
    assert "row 3: Phone: “12” is not a phone number" in out
    assert "row 4: Phone repeats row 2; only that row is imported" in out
    assert "dry run: nothing was sent. Without --dry-run, 1 row would be sent." in out
    problems = (tmp_path / "leads-problem-rows.csv").read_text(encoding="utf-8-sig")
    assert problems.splitlines()[0] == "row,Name,Phone,E-mail,reason"


def test_a_bad_file_is_one_clear_line_and_a_failure(tmp_path: Path) -> None:
    file = tmp_path / "old.xls"
    file.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    done = run_cli(
        ["import", str(file), "--dry-run"], {"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, tmp_path
    )
    assert done.returncode == 1
    assert "telecrm-bot import: old.xls is an old Excel workbook (.xls)" in done.stderr
    assert "Traceback" not in done.stderr


def test_import_max_rows_is_checked_and_applied(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="IMPORT_MAX_ROWS must be a whole number of rows"):
        load_settings({"IMPORT_MAX_ROWS": "lots"}, dotenv_path=None)
    file = tmp_path / "three.csv"
    file.write_text("phone\n9876543210\n9876543211\n9876543212\n")
    env = {"DATABASE_PATH": str(tmp_path / "bot.sqlite3"), "IMPORT_MAX_ROWS": "2"}
    done = run_cli(["import", str(file), "--dry-run"], env, tmp_path)
    assert done.returncode == 1 and "more than 2 rows" in done.stderr


def test_without_dry_run_the_rows_are_sent_with_a_progress_bar_and_read_back(tmp_path: Path) -> None:
    file = tmp_path / "visitors.csv"
    file.write_text("Name,Phone\nAsha,9876543210\nBilal,9876543211\nChen,9876543212\nBad,12\n")
    done = run_cli(["import", str(file)], {"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "visitors.csv: 4 rows, 3 ready to import, 1 with problems" in out
    assert "▓▓▓" in out and "3 of 3 rows sent" in out  # the progress bar
    assert "Import of visitors.csv finished." in out and "Traceback" not in done.stderr
    assert "3 found" in out  # every row read back through the Sync API
