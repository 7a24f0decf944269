"""``telecrm-bot import FILE [--dry-run]``: the Slack preview's checks, on the terminal, for operators.

The file goes through the same engine as ``/lead import`` (kit/imports): read, mapped by its headers,
every row checked as ``/lead`` checks it. ``--dry-run`` prints the preview and stores nothing.
Without it the import is recorded (source ``cli``) with its valid rows and sent by
:func:`send_checked_import` through the same engine as *Import N valid rows* in Slack, with a progress
bar on the terminal.

Exit status: 0 when the file was read and has rows to import; 1 when it cannot be imported (not a
table, too big, no identifier column, no valid row) — with one line saying why; 2 for configuration.
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from bot.schema_access import open_schema_cache
from kit.config import Settings
from kit.imports.checks import RowRules
from kit.imports.preview import check_file, file_sha256, store_checked
from kit.imports.progress import Progress, progress_text, summary_text, text_bar
from kit.imports.reader import NotATable
from kit.imports.report import PreviewFacts, rows_word, terminal_text
from kit.imports.sending import ImportBusy, import_summary, send_import
from storage.imports import DONE, PAUSED, SENDING, VERIFYING, Imports
from storage.secrets import TokenCipher
from storage.stores import open_store
from storage.telecrm_connections import TelecrmConnections
from storage.tenancy import team_scope
from telecrm.errors import TeleCRMError


def cmd_import(settings: Settings, file: str, *, dry_run: bool, team: str | None = None) -> int:
    """Against the workspace the bot uses: in sandbox mode, the embedded sandbox's; in OAuth mode, the
    TeleCRM that Slack workspace ``team`` connected."""
    if settings.oauth_mode:
        return _import_for_workspace(settings, file, dry_run=dry_run, team=team)
    if team:
        print(
            "telecrm-bot import: --team names a workspace in OAuth mode; this bot serves one", file=sys.stderr
        )
        return 2
    if not settings.uses_telecrm_sandbox:
        return _import(settings, file, dry_run=dry_run)
    from bot.sandbox_mode import serving_sandbox

    print("sandbox mode (no TeleCRM credentials are set): checking against the sandbox's demo workspace")
    with serving_sandbox(settings) as sandboxed:
        return _import(sandboxed, file, dry_run=dry_run)


def _import_for_workspace(settings: Settings, file: str, *, dry_run: bool, team: str | None) -> int:
    """OAuth mode: the file goes to the TeleCRM the workspace's admin connected in App Home, and the
    import is that workspace's (its rows, its Async pace, its summary)."""
    if not team:
        print(
            "telecrm-bot import: the app serves several Slack workspaces (OAuth mode); "
            "say which one the file is for: --team T…",
            file=sys.stderr,
        )
        return 2
    store = open_store(settings.database)
    try:
        connection = TelecrmConnections(store, TokenCipher(settings.token_encryption_key)).find(team)
    finally:
        store.close()
    if connection is None:
        print(
            f"telecrm-bot import: Slack workspace {team} is not connected to TeleCRM: an admin connects "
            "it in the app's Home tab (Connect TeleCRM) first",
            file=sys.stderr,
        )
        return 1
    connected = settings.with_overrides(
        telecrm_enterprise_id=connection.workspace_id,
        telecrm_sync_token=connection.sync_token,
        telecrm_async_token=connection.async_token or "",
    )
    with team_scope(team):
        return _import(connected, file, dry_run=dry_run)


def _import(settings: Settings, file: str, *, dry_run: bool) -> int:
    path = Path(file)
    if not path.is_file():
        print(f"telecrm-bot import: {file} is not a file", file=sys.stderr)
        return 1
    store, client, cache = open_schema_cache(settings)  # as `telecrm-bot cache` has them
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
    """Send the stored import through TeleCRM's Async API and verify it, with a progress bar on the
    terminal (:func:`kit.imports.sending.send_import`). Ctrl-C stops after the request in flight; the
    import carries on from there when run again (or when the bot, running, picks it up).

    Exit status: 0 when every row was sent and the summary printed; 1 otherwise, with one line."""
    from bot.runtime import Runtime

    runtime = Runtime(settings, use_sandbox=False, use_emulator=False)  # the stand-ins are already up
    services = runtime.build_services()  # no Bolt app: Slack is not needed to send
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        state = send_import(services, import_id, on_progress=_print_progress, stop=stop)
        summary = summary_text(import_summary(services, import_id)) if state == DONE else ""
    except (ImportBusy, TeleCRMError) as exc:
        print(f"\ntelecrm-bot import: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
        runtime.stop()
    print()
    if state != DONE:
        print(
            f"telecrm-bot import: import {import_id} is {state}; run the same command to carry on.",
            file=sys.stderr,
        )
        return 1
    print(summary.replace("*", ""))  # the thread's summary, without Slack's bold marks
    return 0


def _print_progress(progress: Progress) -> None:
    """One line, rewritten in place: the bar, rows sent of total, rate and time left."""
    done = progress.sent / progress.total if progress.total else 1.0
    print(f"\r{text_bar(done)} {progress_text(progress)}", end="", flush=True)
