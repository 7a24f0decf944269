"""``telecrm-bot import FILE [--dry-run]``: the Slack preview's checks, on the terminal, for operators.

The file goes through the same engine as ``/lead import`` (kit/imports): read, mapped by its headers,
every row checked as ``/lead`` checks it. ``--dry-run`` prints the preview and stores nothing.
Without it the import is recorded (source ``cli``) with its valid rows, then handed to
:func:`send_checked_import` — the one hook the sending engine (``send_import``) is wired into.

Exit status: 0 when the file was read and has rows to import; 1 when it cannot be imported (not a
table, too big, no identifier column, no valid row) — with one line saying why; 2 for configuration.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from kit.config import Settings
from kit.imports.checks import RowRules
from kit.imports.preview import check_file, file_sha256, store_checked
from kit.imports.reader import NotATable
from kit.imports.report import PreviewFacts, rows_word, terminal_text
from storage.imports import DONE, PAUSED, SENDING, VERIFYING, Imports
from telecrm.errors import TeleCRMError


def cmd_import(settings: Settings, file: str, *, dry_run: bool) -> int:
    """Against the workspace the bot uses: in sandbox mode, the embedded sandbox's."""
    if not settings.uses_telecrm_sandbox:
        return _import(settings, file, dry_run=dry_run)
    from bot.sandbox_mode import serving_sandbox

    print("sandbox mode (no TeleCRM credentials are set): checking against the sandbox's demo workspace")
    with serving_sandbox(settings) as sandboxed:
        return _import(sandboxed, file, dry_run=dry_run)


def _import(settings: Settings, file: str, *, dry_run: bool) -> int:
    from bot.cli import _cache  # the same store, client and cache as `telecrm-bot cache`

    path = Path(file)
    if not path.is_file():
        print(f"telecrm-bot import: {file} is not a file", file=sys.stderr)
        return 1
    store, client, cache = _cache(settings)
    workdir = Path(tempfile.mkdtemp(prefix="telecrm-import-"))
    try:
        try:
            schema = cache.get()
        except TeleCRMError as exc:
            print(
                f"telecrm-bot import: could not read the workspace's fields from TeleCRM: {exc}",
                file=sys.stderr,
            )
            return 1
        rules = RowRules(
            default_country_code=settings.default_country_code, default_currency=settings.default_currency
        )
        try:
            checked = check_file(
                path, path.name, schema, rules, max_rows=settings.import_max_rows, workdir=workdir
            )
        except NotATable as exc:
            print(f"telecrm-bot import: {exc} Nothing was sent to TeleCRM.", file=sys.stderr)
            return 1
        imports = Imports(store)
        sha = file_sha256(path)
        earlier = [r for r in imports.with_file(sha) if r.state in (SENDING, PAUSED, VERIFYING, DONE)]
        note = (
            f"This file was already imported ({earlier[0].valid_rows:,} rows, import {earlier[0].id})."
            if earlier
            else ""
        )
        record_id = "dry-run"
        if not dry_run:
            record = imports.create(file_sha256=sha, file_name=path.name, source="cli", on_existing="update")
            store_checked(imports, record.id, checked)
            record_id = record.id
        facts = PreviewFacts(
            record_id, path.name, checked.mapping, checked.tally, checked.mapping_problems, earlier_note=note
        )
        print(terminal_text(facts, schema))
        if checked.tally.problem_rows:
            kept = Path.cwd() / f"{path.stem}-problem-rows.csv"
            shutil.copyfile(checked.problem_csv, kept)
            print(f"\nEvery problem row, with a reason column: {kept}")
        if checked.mapping_problems or not checked.tally.valid_rows:
            print("telecrm-bot import: nothing in this file can be imported (see above).", file=sys.stderr)
            return 1
        if dry_run:
            print(
                f"\ndry run: nothing was sent. Without --dry-run, {rows_word(checked.tally.valid_rows)} would be sent."
            )
            return 0
        return send_checked_import(settings, record_id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        client.close()
        store.close()


def send_checked_import(settings: Settings, import_id: str) -> int:
    """The hook where the sending engine's ``send_import(services, import_id, on_progress=…)`` is
    called (with a terminal progress bar) once it is merged; until then the rows wait, stored."""
    print(
        f"\nimport {import_id} is stored with its valid rows; sending through TeleCRM's Async API is "
        "done by the sending engine, which is not wired into this command yet.",
        file=sys.stderr,
    )
    return 1
