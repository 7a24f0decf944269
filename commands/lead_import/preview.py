"""The preview of an import in Slack: the file fetched and checked, the message and its thread.

The first preview of a file runs as an outbox job (:class:`StartImport`), after the listener's ack;
checking it again (*Change mapping*, *Check it again*) on the worker's background pool.
The import's message is posted in the chosen channel first ("Checking …") and becomes the preview
(``chat.update``); its thread holds the details (mapping, repeats, problems) — one message, found
again by its metadata when *Change mapping* updates it in place — and the CSV of problem rows.
Nothing here calls TeleCRM: the schema is the cached one, and rows are sent only after
``import_confirm`` (the sending engine's, commands/lead_import/sending_listeners.py).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.lead_import.payloads import StartImport
from kit.explain import explain_error
from kit.format import DEFAULT_TZ, mrkdwn_escape, zone
from kit.imports.checks import RowRules
from kit.imports.mapping import Mapping_
from kit.imports.preview import CheckedFile, check_file, store_checked
from kit.imports.reader import NotATable
from kit.imports.report import (
    PreviewFacts,
    again_question,
    details_message,
    preview_message,
    status_message,
)
from kit.imports.slack_files import Downloaded, SlackFileError, download, upload_problem_rows
from kit.job_posts import post_once
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import Job
from storage.imports import CANCELLED, DONE, PAUSED, PREVIEW, SENDING, VERIFYING, ImportRecord

log = logging.getLogger(__name__)

DETAILS_EVENT = "telecrm_import_details"  # message metadata of a preview's details in its thread
STARTED_STATES = (SENDING, PAUSED, VERIFYING, DONE)
_checking: set[str] = set()  # imports being checked again in this process
_checking_lock = threading.Lock()


def rules_of(services: Services) -> RowRules:
    return RowRules(
        default_country_code=services.settings.default_country_code,
        default_currency=services.settings.default_currency,
    )


def earlier_imports(services: Services, record: ImportRecord) -> list[ImportRecord]:
    """Imports of the same bytes that went further than a preview."""
    return [
        r
        for r in services.imports.with_file(record.file_sha256)
        if r.id != record.id and r.state in STARTED_STATES
    ]


def earlier_note(records: list[ImportRecord]) -> str:
    last = records[0]
    when = datetime.fromtimestamp(last.created_at, zone(DEFAULT_TZ)).strftime("%d/%m/%Y %H:%M")
    return f"This file was already imported on {when} ({last.valid_rows:,} rows)."


def start_import(services: Services, job: Job[StartImport]) -> dict[str, Any]:
    """Fetch, then ask (same file again) or check, and post. A retried job (the bot restarted
    half-way) keeps the import and the message the first attempt made (``job.once``)."""
    p = job.payload
    workdir = Path(tempfile.mkdtemp(prefix="telecrm-import-"))
    try:
        try:
            got = download(services.slack, p.file_id, workdir)
        except (SlackFileError, NotATable) as exc:
            why = f":warning: I could not import that file: {mrkdwn_escape(str(exc))} Nothing was sent to TeleCRM."
            job.once("refused", lambda: services.tell(p.channel, p.user, why))
            return {"import": None}
        record_id = job.once("record", lambda: _new_record(services, p, got))
        record = services.imports.get(record_id)
        if record is None or record.state != PREVIEW:
            return {"import": record_id}
        earlier = earlier_imports(services, record)
        if earlier:
            text, blocks = again_question(record.id, got.name, earlier_note(earlier))
        else:
            text, blocks = status_message(got.name, "checking the rows… the preview appears here.")
        posted = _post_once(services, job, text, blocks)
        if posted is None:
            services.imports.move(record.id, to=CANCELLED, only_from=[PREVIEW])
            return {"import": record_id}
        services.imports.set_thread(record.id, channel=posted[0], thread_ts=posted[1])
        if not earlier:
            _check_and_show(services, services.imports.get(record.id) or record, got, mapping=None)
        return {"import": record_id}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _new_record(services: Services, p: StartImport, got: Downloaded) -> str:
    return services.imports.create(
        file_sha256=got.sha256,
        file_name=got.name,
        source=p.source,
        on_existing="update",
        file_id=p.file_id,
        user_id=p.user,
        channel=p.channel,
    ).id


def check_again(services: Services, import_id: str, *, mapping: Mapping_ | None, user: str) -> None:
    """*Check it again* (same file) or a submitted *Change mapping*: fetch the file again by its id,
    check it, and update the preview in place."""
    record = services.imports.get(import_id)
    if record is None or record.state != PREVIEW or not record.file_id:
        return
    with _checking_lock:
        if import_id in _checking:  # a double click: the check under way will show the preview
            return
        _checking.add(import_id)
    workdir = Path(tempfile.mkdtemp(prefix="telecrm-import-"))
    try:
        try:
            got = download(services.slack, record.file_id, workdir)
        except SlackApiError:  # Slack is busy right now: say so rather than leave the click unanswered
            services.tell(
                record.channel,
                user,
                ":hourglass: Slack is busy right now; press the button again in a minute.",
            )
            return
        except (SlackFileError, NotATable) as exc:
            services.tell(
                record.channel,
                user,
                f":warning: I could not read {mrkdwn_escape(record.file_name)} again: {mrkdwn_escape(str(exc))}",
            )
            return
        if got.sha256 != record.file_sha256:  # Slack files cannot change, but say so if one did
            log.warning("import %s: the file's bytes changed since the preview", import_id)
        _check_and_show(services, record, got, mapping=mapping)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        with _checking_lock:
            _checking.discard(import_id)


def _check_and_show(
    services: Services, record: ImportRecord, got: Downloaded, *, mapping: Mapping_ | None
) -> None:
    """Check and show; whatever goes wrong, the import's message says so instead of "checking…"."""
    try:
        _check_and_show_unguarded(services, record, got, mapping=mapping)
    except Exception as exc:
        log.exception("import %s could not be checked", record.id)
        text = explain_error(exc, what=f"the preview of {mrkdwn_escape(got.name)}", doing="read")
        try:
            _update(services, record, "The file could not be checked", [_mrkdwn_section(text)])
        except SlackApiError:
            log.warning("could not say an import preview failed")


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _check_and_show_unguarded(
    services: Services, record: ImportRecord, got: Downloaded, *, mapping: Mapping_ | None
) -> None:
    assert record.channel and record.thread_ts  # set_thread ran before
    schema = services.schema()
    try:
        checked = check_file(
            got.path,
            got.name,
            schema,
            rules_of(services),
            max_rows=services.settings.import_max_rows,
            workdir=got.path.parent,
            mapping=mapping,
        )
    except NotATable as exc:
        services.imports.move(record.id, to=CANCELLED, only_from=[PREVIEW])
        _update(services, record, *status_message(got.name, f"{exc} Nothing was sent to TeleCRM."))
        return
    if not store_checked(services.imports, record.id, checked):
        services.tell(
            record.channel,
            record.user_id or "",
            f":information_source: The import of {mrkdwn_escape(got.name)} has already started; its preview stays as it was.",
        )
        return
    facts = PreviewFacts(
        import_id=record.id,
        file_name=got.name,
        mapping=checked.mapping,
        tally=checked.tally,
        mapping_problems=checked.mapping_problems,
        user=record.user_id,
        earlier_note=earlier_note(earlier) if (earlier := earlier_imports(services, record)) else "",
    )
    _update(services, record, *preview_message(facts))
    _show_details(services, record, facts, checked)


def _show_details(
    services: Services, record: ImportRecord, facts: PreviewFacts, checked: CheckedFile
) -> None:
    assert record.channel and record.thread_ts
    text, blocks = details_message(facts, services.schema())
    metadata = {"event_type": DETAILS_EVENT, "event_payload": {"import_id": record.id}}
    existing = _details_ts(services, record)
    if existing:
        services.slack.chat_update(channel=record.channel, ts=existing, text=text, blocks=blocks)
        if checked.has_problem_rows:
            services.slack.chat_postMessage(
                channel=record.channel,
                thread_ts=record.thread_ts,
                text="The mapping changed: the problem rows under the new mapping are in this file.",
            )
    else:
        services.slack.chat_postMessage(
            channel=record.channel, thread_ts=record.thread_ts, text=text, blocks=blocks, metadata=metadata
        )
    if checked.has_problem_rows:
        upload_problem_rows(
            services.slack,
            checked.problem_csv,
            channel=record.channel,
            thread_ts=record.thread_ts,
            file_name=record.file_name,
            rows=checked.tally.problem_rows,
        )


def _details_ts(services: Services, record: ImportRecord) -> str | None:
    """The ts of the preview's details message in its thread (by its metadata), if posted."""
    try:
        answer = services.slack.conversations_replies(
            channel=record.channel or "", ts=record.thread_ts or "", include_all_metadata=True, limit=200
        )
    except SlackApiError as exc:
        log.info("could not read an import's thread: %s", exc.response.get("error"))
        return None
    for message in answer.get("messages") or []:
        meta = message.get("metadata") or {}
        if (
            meta.get("event_type") == DETAILS_EVENT
            and (meta.get("event_payload") or {}).get("import_id") == record.id
        ):
            return str(message.get("ts"))
    return None


def _post_once(
    services: Services, job: Job[StartImport], text: str, blocks: list[dict[str, Any]]
) -> tuple[str, str] | None:
    """The import's message in its channel, else in the person's DM when the bot cannot post there;
    once across retries and restarts (:func:`kit.job_posts.post_once`)."""
    p = job.payload
    for step, where in (("message", p.channel), ("message in DM", p.user)):
        try:
            answer = post_once(services, job, step, channel=where, text=text, blocks=blocks)
            return answer["channel"], answer["ts"]
        except SlackApiError as exc:
            if is_transient_slack_failure(exc):
                raise  # the job is tried again
            log.warning("could not post an import preview in %s: %s", where, exc.response.get("error"))
    return None


def _update(services: Services, record: ImportRecord, text: str, blocks: list[dict[str, Any]]) -> None:
    services.slack.chat_update(
        channel=record.channel or "", ts=record.thread_ts or "", text=text, blocks=blocks
    )
