"""A file checked from end to end: read, mapped, every row checked, the valid ones stored.

Used alike by the Slack preview (commands/lead_import) and ``telecrm-bot import FILE`` (bot/cli.py).
Checking writes the valid rows to a spool file next to the problem CSV, and only then are they stored
(:func:`store_checked`): the database's write lock is held for the inserts alone, never for the
seconds a 100,000-row check takes, so Slack's acknowledgements are never kept waiting behind it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from kit.imports.checks import RowRules, Tally, check_rows, open_problem_csv
from kit.imports.mapping import Mapping_, auto_map, mapping_problems, valid_targets
from kit.imports.reader import Table, TableInfo, open_table
from storage.imports import CheckedRow, Imports
from telecrm.schema import WorkspaceSchema

log = logging.getLogger(__name__)

PARALLEL_FROM_BYTES = 1024 * 1024  # about 10,000 rows


@dataclass(frozen=True)
class CheckedFile:
    """What checking a file found; ``rows_spool`` holds its valid rows until they are stored."""

    name: str
    info: TableInfo
    header: list[str]
    mapping: Mapping_
    tally: Tally
    mapping_problems: list[str]
    rows_spool: Path
    problem_csv: Path

    @property
    def has_problem_rows(self) -> bool:
        return self.tally.problem_rows > 0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(
    path: Path,
    name: str,
    schema: WorkspaceSchema,
    rules: RowRules,
    *,
    max_rows: int,
    workdir: Path,
    mapping: Mapping_ | None = None,
    workers: int | None = None,
) -> CheckedFile:
    """Check the file at ``path``; raises :class:`~kit.imports.reader.NotATable` for a file that
    cannot be imported. ``mapping`` (from *Change mapping*) wins over the headers' names for the
    columns it names; targets the workspace no longer has are left out."""
    table = open_table(path, name, max_rows=max_rows)
    chosen = auto_map(table.header, schema)
    if mapping is not None:
        known = valid_targets(schema)
        chosen = {
            h: (mapping[h] if mapping.get(h) in known else None) if h in mapping else chosen[h]
            for h in table.header
        }
    if workers is None:
        workers = parallel_workers(path)
    try:
        tally, spool, problems = _check_into(table, chosen, schema, rules, workdir, workers)
    except BrokenProcessPool:  # a checking process could not start or died: check in this one
        log.warning("the processes checking %s stopped; checking it in one process", name)
        tally, spool, problems = _check_into(table, chosen, schema, rules, workdir, 1)
    return CheckedFile(
        name=name,
        info=table.info,
        header=list(table.header),
        mapping=chosen,
        tally=tally,
        mapping_problems=mapping_problems(schema, chosen),
        rows_spool=spool,
        problem_csv=problems,
    )


def _check_into(
    table: Table, mapping: Mapping_, schema: WorkspaceSchema, rules: RowRules, workdir: Path, workers: int
) -> tuple[Tally, Path, Path]:
    tally = Tally()
    spool = workdir / "rows.jsonl"
    problems = workdir / "problem-rows.csv"
    with spool.open("w", encoding="utf-8") as out, open_problem_csv(problems) as bad:
        for row in check_rows(table, mapping, schema, rules, tally, bad, workers=workers):
            out.write(json.dumps([row.row_no, row.identifier, row.body], ensure_ascii=False) + "\n")
    return tally, spool, problems


def parallel_workers(path: Path) -> int:
    """Processes to check a file with: one for a small file (starting more costs more than it
    saves), else one per core, at most 4 (the bot has other work to do)."""
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def spooled_rows(spool: Path) -> Iterator[CheckedRow]:
    with spool.open(encoding="utf-8") as f:
        for line in f:
            row_no, identifier, body = json.loads(line)
            yield CheckedRow(int(row_no), str(identifier), body)


def store_checked(imports: Imports, import_id: str, checked: CheckedFile) -> bool:
    """The check's outcome as the import's rows (replacing earlier ones); False once sending started."""
    return imports.replace_rows(
        import_id,
        mapping=checked.mapping,
        total_rows=checked.tally.total_rows,
        problems=checked.tally.problems,
        problem_rows=checked.tally.problem_rows,
        rows=spooled_rows(checked.rows_spool),
    )
