"""Sending a confirmed import: every ``ready`` row becomes one Async request, exactly once, at the
shared pace; then the leads are read back (kit/imports/verify.py) and the thread gets the summary.

**One outbox job per run, rows claimed one at a time with a per-row record.** *Import N valid rows*
(or *Resume*) moves the import to ``sending`` and queues one ``import.send`` outbox job in the same
transaction (:func:`start_sending`). The job (:class:`Sender`) holds the import
(``import_senders``: a lease renewed after every row, so a *Resume* racing the old run, or a second
process, never sends the same import twice at once) and walks the ``ready`` rows in file order. A
job per row would put 200,000 rows in the outbox and make each one a scheduler round-trip; one job
per import keeps the outbox small while the per-row record keeps the guarantee:

1. before a row's request goes out, ``import_row_attempts`` records it (committed);
2. the request (``TeleCRMClient.async_upsert``) is answered ``QUEUED``;
3. the row becomes ``sent`` and its attempt is forgotten, in one transaction.

A ``kill -9`` anywhere leaves the outbox row ``running``; once its lease runs out another process's
worker takes the job and the run continues after the last ``sent`` row. A row killed between 1 and
3 has an unknown outcome. Async is create-or-update, so resending its *fields* is harmless, but a
payment or custom action in its body would be recorded twice. **Such a row is reconciled before it
is resent** (:meth:`Sender.reconcile`): after the Async delay has passed, the lead is read back by
its identifier through the Sync API and each action of the body is looked for on its timeline since
the attempt (kit/reconcile.py); the row is resent with only the actions that did not land (and its
fields), or marked ``sent`` when all did. A row with no actions is simply sent again.

A 429 forgets the attempt (TeleCRM refused it, nothing landed), moves the shared pace past
``Retry-After`` (kit/imports/pacing.py) and the same row is tried again: no row is lost. A lost
answer (timeout, 5xx) ends the run with a retry: the job comes back after the worker's backoff and
reconciles that row first. A 401 pauses the import and says so; any other refusal marks the row
``refused`` (counted in the summary).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self

from kit.imports.pacing import AsyncPacer
from kit.imports.progress import Progress, ProgressThrottle, Summary
from kit.imports.unknown import reconcile_row
from kit.imports.verify import summarize, verify_import
from kit.services import Services
from kit.worker import GiveUp, Job, JobKind, Retry, lease_for
from storage.import_sending import REFUSED, ImportSending
from storage.imports import CANCELLED, DONE, PAUSED, PREVIEW, READY, SENDING, SENT, VERIFYING, ImportRow
from storage.outbox import process_owner
from telecrm.errors import TeleCRMAuthError, TeleCRMError, TeleCRMRateLimited

log = logging.getLogger(__name__)

CHECK_EVERY = 0.5  # seconds between looks at the import's state (Pause/Cancel) and lease renewals
PAGE = 200  # ready rows read at a time: memory stays flat for a 200,000-row import
_NO_ASYNC_TOKEN = (
    "No TeleCRM Async token is configured (TELECRM_ASYNC_TOKEN): imports are sent through TeleCRM's"
    " Async API, so nothing can be sent until an admin sets it."
)


@dataclass(frozen=True)
class SendImport:
    """The ``import.send`` outbox row: which import to send (and verify) to the end."""

    KIND: ClassVar[str] = "import.send"

    import_id: str

    def to_json(self) -> dict[str, Any]:
        return {"import_id": self.import_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(import_id=str(data["import_id"]))


class ImportBusy(Exception):
    """Another live run holds the import."""


def sending_of(services: Services) -> ImportSending:
    return ImportSending(services.store, clock=services.clock)


def has_async_token(services: Services) -> bool:
    return services.telecrm.has_async_token


def start_sending(
    services: Services, import_id: str, *, run: str, only_from: tuple[str, ...], delivery: str | None = None
) -> bool:
    """Move the import from one of ``only_from`` to ``sending`` and queue its job, in one transaction;
    False (and nothing queued) when the import was not in one of those states: a double click or a
    second *Resume* starts nothing. ``run`` makes the job key unique per start (the click's action);
    ``delivery`` is the Slack delivery recorded with it (:func:`kit.context.claim_delivery`)."""
    with services.store.transaction():
        if not services.imports.move(import_id, to=SENDING, only_from=only_from):
            return False
        services.worker.submit(f"import.send:{import_id}:{run}", SendImport(import_id), delivery=delivery)
    return True


class Sender:
    """One run over one import: send the ready rows, then verify and summarise (module docstring)."""

    def __init__(
        self,
        services: Services,
        import_id: str,
        *,
        owner: str,
        on_progress: Callable[[Progress], None],
        stop: threading.Event | None = None,
        progress_every: float | None = None,
    ) -> None:
        self.services = services
        self.import_id = import_id
        self.owner = owner
        self.sending = sending_of(services)
        self.pacer = AsyncPacer(
            self.sending, services.settings.telecrm_async_rate_per_hour, clock=services.clock
        )
        self._on_progress = on_progress
        self._stop = stop or threading.Event()
        self._throttle = (
            ProgressThrottle() if progress_every is None else ProgressThrottle(every=progress_every)
        )
        self._lease = lease_for(services.settings.telecrm_timeout_seconds)
        self._sent = 0
        self._total = 0
        self._run_sent = 0
        self._run_started = services.clock()
        self.summary: Summary | None = None
        self._checked_at = -math.inf
        self._leaving = False
        self._note: str | None = None  # shown with every update of this run (why it paused)

    # -- the run ------------------------------------------------------------------------------------
    def run(self) -> str:
        """Send and verify as far as the import's state allows; returns the state it was left in
        (with :attr:`summary` set when it is ``done`` or ``cancelled``)."""
        record = self.services.imports.get(self.import_id)
        if record is None:
            raise GiveUp(f"import {self.import_id} does not exist")
        if record.state in (DONE, CANCELLED):
            self.summary = summarize(self.services, self.import_id, self.sending)
            return record.state
        if record.state not in (SENDING, VERIFYING):
            return record.state
        if not self.sending.claim(self.import_id, self.owner, lease_seconds=self._lease):
            raise ImportBusy(self.import_id)
        try:
            self.load_counts()
            self.sending.mark_started(self.import_id)
            if record.state == SENDING:
                self._send_all()
            if self.state() == SENDING and not self.services.imports.rows(
                self.import_id, state=READY, limit=1
            ):
                self.services.imports.move(self.import_id, to=VERIFYING, only_from=(SENDING,))
            self.show(force=True)
            if self.state() == VERIFYING and verify_import(
                self.services, self.import_id, self.sending, should_stop=self.should_stop
            ):
                self.services.imports.move(self.import_id, to=DONE, only_from=(VERIFYING,))
            state = self.state()
            if state in (DONE, CANCELLED):
                self.summary = summarize(self.services, self.import_id, self.sending)
            self.show(force=True)
            return state
        finally:
            self.sending.release(self.import_id, self.owner)

    def load_counts(self) -> None:
        counts = self.services.imports.row_counts(self.import_id)
        self._total = sum(counts.values())
        self._sent = self._total - counts[READY]

    def state(self) -> str:
        record = self.services.imports.get(self.import_id)
        return record.state if record is not None else CANCELLED

    def should_stop(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when the run must stop (shutdown, or the import left
        ``sending``/``verifying``: paused or cancelled). Renews the hold on the import meanwhile."""
        if self._stop.wait(max(0.0, seconds)) or self.services.worker.stopping:
            return True
        # the store is asked at most every CHECK_EVERY seconds, not before every row: at 10 rows a
        # second two writes a row fewer keep the sender on time on a busy machine
        now = time.monotonic()
        if now - self._checked_at < CHECK_EVERY:
            return self._leaving
        self._checked_at = now
        if not self.sending.renew(self.import_id, self.owner, lease_seconds=self._lease):
            raise ImportBusy(self.import_id)
        self._leaving = self.state() not in (SENDING, VERIFYING)
        return self._leaving

    def _send_all(self) -> None:
        for attempt in self.sending.unknown_attempts(self.import_id):
            if self.should_stop(0):
                return
            if not reconcile_row(self, attempt):
                return
        after = 0
        while True:
            rows = self.services.imports.rows(self.import_id, state=READY, after=after, limit=PAGE)
            if not rows:
                return
            for row in rows:
                if self.should_stop(0) or not self.send_row(row, row.body):
                    return
                after = row.row_no
                self.show()

    def send_row(self, row: ImportRow, body: Mapping[str, Any]) -> bool:
        """Send one row's body (retrying 429s at the shared pace); False when the run must stop."""
        fields = body.get("fields") or {}
        actions = list(body.get("actions") or [])
        while True:
            if not self.pacer.wait_for_turn(self.should_stop):
                return False
            self.sending.begin_row(self.import_id, row.row_no)
            try:
                self.services.telecrm.async_upsert(fields, actions or None)
            except TeleCRMRateLimited as exc:
                self.sending.forget_attempt(self.import_id, row.row_no)
                wait = exc.retry_after if exc.retry_after is not None else 60.0
                log.warning("import %s: TeleCRM said 429; waiting %.0f s", self.import_id, wait)
                self.pacer.hold_off(wait)
                self.show(force=True, held_off_until=self.services.clock() + wait)
                continue
            except TeleCRMAuthError:
                self.sending.forget_attempt(self.import_id, row.row_no)
                self._pause_refused()
                return False
            except TeleCRMError as exc:
                if exc.transient:  # the answer was lost: the row is reconciled when the job comes back
                    raise Retry(f"import {self.import_id} row {row.row_no}: {exc}") from exc
                log.warning("import %s: TeleCRM refused row %d: %s", self.import_id, row.row_no, exc)
                self.sending.finish_row(self.import_id, row.row_no, to=REFUSED)
                self.counted_sent(sent=False)
                return True
            self.sending.finish_row(self.import_id, row.row_no, to=SENT)
            self.counted_sent()
            return True

    def _pause_refused(self) -> None:
        self.services.imports.move(self.import_id, to=PAUSED, only_from=(SENDING,))
        self._note = "Paused: TeleCRM refused the Async token (401). Fix it, then press Resume."
        self.show(force=True)

    def counted_sent(self, *, sent: bool = True) -> None:
        self._sent += 1
        if sent:
            self._run_sent += 1

    # -- progress -----------------------------------------------------------------------------------
    def progress(self, held_off_until: float | None = None) -> Progress:
        record = self.services.imports.get(self.import_id)
        elapsed = self.services.clock() - self._run_started
        rate = self._run_sent / elapsed * 60 if self._run_sent and elapsed > 0 else None
        left = self._total - self._sent
        eta = left / rate * 60 if rate else None
        return Progress(
            import_id=self.import_id,
            file_name=record.file_name if record else "",
            state=record.state if record else CANCELLED,
            sent=self._sent,
            total=self._total,
            rate_per_minute=rate,
            eta_seconds=eta,
            held_off_until=held_off_until,
        )

    def show(self, *, force: bool = False, held_off_until: float | None = None) -> None:
        if not force and not self._throttle.may_be_due():
            return
        progress = self.progress(held_off_until)
        if not force and not self._throttle.due(progress):
            return
        self._throttle.shown(progress)
        try:
            self._on_progress(replace(progress, note=self._note) if self._note else progress)
        except Exception:  # a progress message is worth a log line, never a stopped import
            log.exception("could not show import %s's progress", self.import_id)


# -- the outbox job and the CLI's engine ----------------------------------------------------------


def run_send_job(services: Services, job: Job[SendImport]) -> dict[str, Any]:
    """The ``import.send`` job: one run; a held import or a lost answer comes back later."""
    from kit.imports.thread import ThreadProgress  # the Slack side, only for the job

    import_id = job.payload.import_id
    thread = ThreadProgress(services, import_id, job)
    if not has_async_token(services):
        services.imports.move(import_id, to=PAUSED, only_from=(SENDING,))
        job.once("no_token", lambda: thread.say(_NO_ASYNC_TOKEN))
        return {"state": PAUSED}
    sender = Sender(services, import_id, owner=services.worker.outbox.owner, on_progress=thread.update)
    sender.load_counts()
    thread.ensure_posted(sender.progress())
    try:
        state = sender.run()
    except ImportBusy as exc:
        raise Retry(f"import {exc} is being sent by another run", retry_after=5.0) from exc
    if state in (SENDING, VERIFYING):  # the bot is stopping: the row waits for the next start
        raise Retry(f"import {import_id}: the bot is stopping; sending resumes at the next start")
    if sender.summary is not None and sender.sending.claim_summary(import_id, job.key):
        thread.post_summary(sender.summary)
    return {"state": state}


def send_job_kind(services: Services) -> JobKind[SendImport]:
    # a run that waits for another (ImportBusy) or for a lost answer retries; never abandon an import
    return JobKind(SendImport, lambda job: run_send_job(services, job), max_attempts=1_000_000)


def send_import(
    services: Services,
    import_id: str,
    *,
    on_progress: Callable[[Progress], None],
    stop: threading.Event | None = None,
    progress_every: float = 0.5,
) -> str:
    """Send an import and verify it to the end, in this process (``telecrm-bot import FILE``).

    Contract: the import must be in ``preview`` (it is moved to ``sending``: the operator confirmed),
    ``sending``, ``paused`` (resumed) or ``verifying`` (verification finishes). ``on_progress`` is
    called with a :class:`~kit.imports.progress.Progress` at most every ``progress_every`` seconds
    and at every change of state (render it with :func:`~kit.imports.progress.progress_text` and
    :func:`~kit.imports.progress.text_bar`); it must not raise. Returns the state the import ended
    in: ``done``, ``cancelled`` (*Cancel* in Slack), ``paused`` (*Pause* in Slack, a 401 from the
    Async API), or — when ``stop`` was set (e.g. Ctrl-C) — the state it stopped in (``sending`` or
    ``verifying``: calling it again carries on from there). Raises :class:`ImportBusy` when another process is
    sending it, and ``TeleCRMAuthError`` when no Async token is configured (nothing is sent). A lost
    answer (timeout, 5xx) is retried here after a pause, reconciling the row first. The bot process
    running in the meantime never sends the same import at once (one lease, ``import_senders``).
    """
    if not has_async_token(services):
        raise TeleCRMAuthError(_NO_ASYNC_TOKEN)
    services.imports.move(import_id, to=SENDING, only_from=(PREVIEW, PAUSED))
    owner = "cli:" + process_owner()
    stop = stop or threading.Event()
    while True:
        sender = Sender(
            services,
            import_id,
            owner=owner,
            on_progress=on_progress,
            stop=stop,
            progress_every=progress_every,
        )
        try:
            state = sender.run()
        except Retry:
            if stop.wait(services.settings.telecrm_timeout_seconds):
                return sender.state()
            continue
        if state in (DONE, CANCELLED, PAUSED) or stop.is_set():
            return state


def import_summary(services: Services, import_id: str) -> Summary:
    """What an import's summary says (``kit.imports.progress.summary_text`` renders it), from what is
    stored: for the CLI to print after :func:`send_import`."""
    return summarize(services, import_id, sending_of(services))
