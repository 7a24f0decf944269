"""A spreadsheet read as a header and a stream of rows, whatever people save it as.

CSV goes through the standard :mod:`csv` module: the encoding is UTF-8 (with or without the BOM Excel
writes) or, when the bytes are not UTF-8, Windows-1252 (what Excel on Windows saves as "CSV"); the
delimiter is sniffed from the first lines (``,`` ``;`` tab ``|``). XLSX is read with openpyxl in
read-only mode (the first sheet), so a large workbook is streamed, never loaded whole.

A file that cannot be an import — too big, too many rows, empty, binary, an old ``.xls``, a broken
workbook — raises :class:`NotATable` with one sentence saying what is wrong and what to send instead.
Nothing here knows about TeleCRM or Slack.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 50 * 1024 * 1024  # the limit: a bigger file gets a clear answer, nothing is sent
_SNIFF_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
_DELIMITERS = ",;\t|"
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an old binary .xls (or .doc): openpyxl cannot read it


class NotATable(ValueError):
    """The file cannot be imported; ``str(exc)`` is the whole answer for the person who sent it."""


@dataclass(frozen=True)
class TableInfo:
    """What was found out about a file before its rows are read."""

    kind: str  # "csv" | "xlsx"
    encoding: str = ""  # "utf-8", "utf-8-sig", "cp1252" (CSV only)
    delimiter: str = ""  # CSV only


class Table:
    """A file's header and rows. :meth:`rows` streams the data rows (row 2 on), each as a list of
    strings as long as the header; it can be called again to read the file once more."""

    def __init__(self, path: Path, name: str, *, max_rows: int) -> None:
        self.path = Path(path)
        self.name = name
        self.max_rows = max_rows
        size = self.path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise NotATable(
                f"{name} is {size / 1024 / 1024:.1f} MB; the most I can import is "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB — split it into smaller files."
            )
        if size == 0:
            raise NotATable(
                f"{name} is empty — send a CSV or XLSX file with a header row and one lead per row."
            )
        self.info = _inspect(self.path, name)
        header = next(self._raw_rows(), None)
        if header is None or not any(cell.strip() for cell in header):
            raise NotATable(
                f"{name} has no header row — the first row must name the columns (e.g. Name, Phone, Email)."
            )
        self.header = _unique_headers(header)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of the data rows — the header is row 1, as a spreadsheet numbers them;
        blank rows are skipped. Raises :class:`NotATable` past ``max_rows``."""
        raw = self._raw_rows()
        next(raw, None)
        width = len(self.header)
        count = 0
        for row_no, cells in enumerate(raw, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > self.max_rows:
                raise NotATable(
                    f"{self.name} has more than {self.max_rows:,} rows, the most one import takes "
                    "(IMPORT_MAX_ROWS) — split it into smaller files."
                )
            yield row_no, (cells + [""] * (width - len(cells)))[:width] if len(cells) != width else cells

    def _raw_rows(self) -> Iterator[list[str]]:
        if self.info.kind == "xlsx":
            return _xlsx_rows(self.path, self.name)
        return _csv_rows(self.path, self.info)


def open_table(path: Path | str, name: str, *, max_rows: int) -> Table:
    """The file at ``path`` (``name`` is what people called it) as a :class:`Table`, or NotATable."""
    return Table(Path(path), name, max_rows=max_rows)


def _inspect(path: Path, name: str) -> TableInfo:
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    lower = name.lower()
    if head.startswith(_OLE_MAGIC) or lower.endswith(".xls"):
        raise NotATable(
            f"{name} is an old Excel workbook (.xls), which I cannot read — save it as .xlsx or CSV and send that."
        )
    if head.startswith(_XLSX_MAGIC) or lower.endswith((".xlsx", ".xlsm")):
        if not zipfile.is_zipfile(path):
            raise NotATable(f"{name} is not a readable Excel workbook — save it again as .xlsx or CSV.")
        return TableInfo("xlsx")
    if b"\x00" in head:
        raise NotATable(
            f"{name} is not a table (it looks like a binary file) — send a CSV or XLSX file with one lead per row."
        )
    encoding = _encoding(path, head)
    sample = head.decode(encoding, errors="ignore")
    return TableInfo("csv", encoding, _delimiter(sample))


def _encoding(path: Path, head: bytes) -> str:
    """UTF-8 (``utf-8-sig`` when it starts with a BOM) if every byte of the file decodes as UTF-8,
    else Windows-1252. The whole file is checked, in chunks: a CSV is often ASCII for many rows
    before its first "é"."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        try:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _delimiter(sample: str) -> str:
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end in the middle of a line
    text = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(text, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        # One column (a plain list of phone numbers) or too little to tell: the most frequent
        # candidate in the header line, else a comma.
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv_rows(path: Path, info: TableInfo) -> Iterator[list[str]]:
    # cp1252 leaves five bytes undefined; "replace" keeps a stray one from refusing the whole file
    errors = "replace" if info.encoding == "cp1252" else "strict"
    with path.open(encoding=info.encoding, errors=errors, newline="") as f:
        try:
            yield from csv.reader(f, delimiter=info.delimiter)
        except csv.Error as exc:
            raise NotATable(f"{path.name} is not a readable CSV file ({exc}).") from None


def _xlsx_rows(path: Path, name: str) -> Iterator[list[str]]:
    import openpyxl  # imported here: only XLSX imports pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise NotATable(
            f"{name} is not a readable Excel workbook ({exc}) — save it again as .xlsx or CSV."
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return
        for values in sheet.iter_rows(values_only=True):
            yield [cell_text(v) for v in values]
    finally:
        with suppress(Exception):
            book.close()


def cell_text(value: Any) -> str:
    """An Excel cell as the text a person would type: whole numbers without ``.0`` (a phone number
    stored as a number stays a phone number), dates as ``DD/MM/YYYY HH:MM:SS``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    return str(value)


def _unique_headers(header: list[str]) -> list[str]:
    """Column names, trimmed; a blank one becomes ``Column N``, a repeated one ``Name (2)``, so every
    column can be named in the mapping."""
    seen: dict[str, int] = {}
    out = []
    for i, raw in enumerate(header, start=1):
        name = " ".join(raw.replace("\ufeff", "").split()) or f"Column {i}"
        key = name.casefold()
        seen[key] = seen.get(key, 0) + 1
        out.append(name if seen[key] == 1 else f"{name} ({seen[key]})")
    return out
