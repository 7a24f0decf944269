"""Reading and checking import files (kit/imports): every row fails for the same reasons, in the same
words, as the same value typed in ``/lead``; encodings, delimiters, XLSX and refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from commands.lead.command import plan_command
from kit.imports.checks import RowRules
from kit.imports.preview import CheckedFile, check_file, spooled_rows
from kit.imports.reader import MAX_FILE_BYTES, NotATable
from telecrm.schema import WorkspaceSchema

HEADER = "Name,Phone,Email,Rating,Status,City,Follow-up Date,Budget (INR)"


@pytest.fixture
def check(tmp_path: Path, demo_schema: WorkspaceSchema) -> Callable[..., CheckedFile]:
    def run(content: bytes | str, name: str = "leads.csv", max_rows: int = 1000, **kw: object) -> CheckedFile:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        return check_file(path, name, demo_schema, RowRules(), max_rows=max_rows, workdir=work, **kw)

    return run


def rows_of(checked: CheckedFile) -> list[dict]:
    return [row.body for row in spooled_rows(checked.rows_spool)]


def problem_rows(checked: CheckedFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(checked.problem_csv.read_text(encoding="utf-8-sig"))))


def test_a_good_row_becomes_the_async_body(check: Callable[..., CheckedFile]) -> None:
    checked = check(
        "Name,Phone,E-mail,Status,Interests,Payment amount,Payment currency,Site Visit: Visit notes\n"
        'Jane Doe,+91 98765 43210,JANE@example.com,fresh,"VIP",5000,usd,went well\n'
    )
    assert checked.tally.valid_rows == 1 and checked.tally.problem_rows == 0
    assert rows_of(checked) == [
        {
            "fields": {
                "name": "Jane Doe",
                "phone": "919876543210",
                "email": "JANE@example.com",
                "status": "Fresh",
                "interests": ["VIP"],
            },
            "actions": [
                {"type": "ACTION_1001", "fields": {"note": "went well"}},
                {"type": "PAYMENT", "status": "PENDING", "currency": "USD", "amount": "5000"},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("Phone", "12345", "Phone: is not a phone number"),
        ("Email", "jane@", "Email: is not an email address"),
        ("Rating", "7", "Rating: is out of range"),
        ("Status", "Maybe", "Status: is not a status"),
        ("City", "Atlantis", "City: is not an option"),
        ("Follow-up Date", "31/02/2026", "Follow-up Date: is not a date"),
        ("Budget (INR)", "-10", "Budget (INR): the amount must be more than 0"),
    ],
)
def test_each_problem_is_worded_as_lead_words_it(
    check: Callable[..., CheckedFile], demo_schema: WorkspaceSchema, column: str, value: str, kind: str
) -> None:
    good = {"Name": "Jane", "Phone": "9876543210"}
    row = {**good, column: value}
    names = HEADER.split(",")
    text = HEADER + "\n" + ",".join(row.get(n, "") for n in names) + "\n"
    checked = check(text)
    assert checked.tally.valid_rows == 0 and checked.tally.problem_rows == 1
    assert list(checked.tally.problems) == [kind]
    [reason] = [r["reason"] for r in problem_rows(checked)]
    api = {"Follow-up Date": "follow_up_date", "Budget (INR)": "budget"}
    line = " ".join(f'{api.get(k, k.lower())}="{v}"' for k, v in row.items())
    typed = plan_command(demo_schema, line)
    assert typed.kind == "reply" and reason in typed.text  # the same words as /lead


def test_missing_identifier_and_repeats(check: Callable[..., CheckedFile]) -> None:
    checked = check("Name,Phone\nA,9876543210\nB,\nC,+91 98765-43210\nD,9876543211\n")
    assert checked.tally.total_rows == 4 and checked.tally.valid_rows == 2
    assert checked.tally.problems == {"Phone is required": 1, "Repeated identifier": 1}
    assert checked.tally.repeated_rows == 1
    reasons = {r["row"]: r["reason"] for r in problem_rows(checked)}
    assert reasons["4"] == "Phone repeats row 2; only that row is imported"
    assert reasons["3"].startswith("Phone is required")


def test_payment_problems(check: Callable[..., CheckedFile]) -> None:
    checked = check(
        "Phone,Payment amount,Payment currency,Payment status\n9876543210,abc,EUR,PAID\n9876543211,,INR,\n"
    )
    assert checked.tally.valid_rows == 0
    assert set(checked.tally.problems) == {
        "Payment amount: is not an amount",
        "Payment currency: is not a supported currency",
        "Payment status: is not a payment status",
        "Payment amount is required when a payment currency or status is given",
    }


def test_utf8_bom_and_cp1252_and_delimiters(check: Callable[..., CheckedFile]) -> None:
    bom = check("\ufeffName;Phone;Désignation\nJosé;9876543210;Directeur\n".encode("utf-8-sig"))
    assert bom.info.encoding == "utf-8-sig" and bom.info.delimiter == ";"
    assert rows_of(bom)[0]["fields"] == {"name": "José", "phone": "919876543210", "designation": "Directeur"}
    windows = check("Name\tPhone\nRenée Müller\t9876543210\n".encode("cp1252"))
    assert windows.info.encoding == "cp1252" and windows.info.delimiter == "\t"
    assert rows_of(windows)[0]["fields"]["name"] == "Renée Müller"
    one_column = check("phone\n9876543210\n9876543211\n")
    assert one_column.tally.valid_rows == 2


def test_xlsx_numbers_and_dates(check: Callable[..., CheckedFile], tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "Follow-up Date", "Rating"])
    sheet.append(["Jane", 919876543210, datetime(2026, 12, 25, 10, 30), 4])
    sheet.append([None, None, None, None])
    sheet.append(["Bad", 12, "soon", 9])
    buffer = io.BytesIO()
    book.save(buffer)
    checked = check(buffer.getvalue(), name="leads.xlsx")
    assert checked.info.kind == "xlsx"
    assert rows_of(checked) == [
        {
            "fields": {
                "name": "Jane",
                "phone": "919876543210",
                "rating": 4,
                "follow_up_date": "25/12/2026 10:30:00",
            }
        }
    ]
    assert checked.tally.problem_rows == 1 and problem_rows(checked)[0]["row"] == "4"


def test_files_that_are_not_tables(check: Callable[..., CheckedFile]) -> None:
    with pytest.raises(NotATable, match="is empty"):
        check(b"")
    with pytest.raises(NotATable, match="binary file"):
        check(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(NotATable, match=r"old Excel workbook \(\.xls\)"):
        check(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="old.xls")
    with pytest.raises(NotATable, match="not a readable Excel workbook"):
        check(b"PK\x03\x04 this is no zip", name="broken.xlsx")
    with pytest.raises(NotATable, match="no header row"):
        check(",,,\n")


def test_limits(check: Callable[..., CheckedFile], tmp_path: Path) -> None:
    with pytest.raises(NotATable, match=r"more than 3 rows.*IMPORT_MAX_ROWS"):
        check("Phone\n" + "".join(f"98765432{n:02d}\n" for n in range(4)), max_rows=3)
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(NotATable, match="the most I can import is 50 MB"):
        check_file(big, "big.csv", None, RowRules(), max_rows=10, workdir=tmp_path)  # type: ignore[arg-type]


def test_no_identifier_column_is_said(check: Callable[..., CheckedFile]) -> None:
    checked = check("Name,Mobile\nJane,9876543210\n")
    assert checked.mapping == {"Name": "name", "Mobile": None}
    assert "No column is mapped to Phone" in checked.mapping_problems[0]
    changed = check("Name,Mobile\nJane,9876543210\n", mapping={"Mobile": "phone"})
    assert changed.mapping_problems == [] and changed.tally.valid_rows == 1


def test_checked_in_parallel_the_same_as_in_turn(tmp_path: Path, demo_schema: WorkspaceSchema) -> None:
    lines = ["Name,Phone,Email,City"]
    for n in range(2500):
        lines.append(f"Lead {n},98{n % 2400:08d},{'bad@' if n % 97 == 0 else f'l{n}@example.com'},Pune")
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    outcomes = []
    for workers in (1, 2):
        work = tmp_path / f"w{workers}"
        work.mkdir()
        checked = check_file(
            path, "many.csv", demo_schema, RowRules(), max_rows=10_000, workdir=work, workers=workers
        )
        outcomes.append((checked.tally, checked.rows_spool.read_text(), checked.problem_csv.read_text()))
    assert outcomes[0] == outcomes[1]
    tally = outcomes[0][0]
    assert tally.repeated_rows == 97 and tally.valid_rows + tally.problem_rows == 2500
