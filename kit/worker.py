"""Runs TeleCRM work after Slack has been acknowledged.

Two kinds of work:

* **writes** go through the durable :class:`~storage.outbox.Outbox`: stored first, then run by a pool
  of threads, retried with exponential backoff and jitter on transient failures (network, timeout,
  5xx, 429 honouring ``Retry-After``), given up on permanent ones (4xx), and resumed after a restart;
* **reads** (searches, timelines) run on a plain thread pool: nothing to lose if the process dies.

Slack listener threads never wait on TeleCRM, so acknowledgements stay fast however slow TeleCRM is.

Exactly once, with several processes and crashes:

* a row is leased to this process while it runs, and the lease is renewed every quarter of its
  length; another process takes the row only once the lease has run out, i.e. once this process
  has been dead for longer than a TeleCRM request can take (see ``Worker.lease_for``);
* a failure that leaves the write's outcome unknown (timeout, dropped connection, 5xx, unreadable
  answer) is retried no sooner than ``settle_seconds`` after the attempt began, so a request TeleCRM
  is still working on has landed before the handler reconciles (``Job.is_retry``) and re-sends;
* a job records each finished step (``Job.once``): the TeleCRM write, then each Slack message, so a
  Slack failure (``ratelimited``, 5xx) retries only what is left, and the row is done only when the
  user has been told.

Each job kind is one payload class (:class:`JobPayload`: a frozen dataclass naming its kind once in
``KIND``, stored as the row's JSON) registered with its handlers as a :class:`JobKind`; a handler gets
the payload back typed, as ``job.payload``.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from kit.explain import describe_failure, telecrm_error_in
from kit.slack_errors import slack_failure
from storage.outbox import LeaseLost, Outbox, OutboxItem
from storage.tenancy import team_scope
from telecrm.errors import TeleCRMError, error_class_for

log = logging.getLogger(__name__)

# A Retry-After longer than this is not believed: the write is tried again after an hour anyway
# (TeleCRM's documented rate window is one hour; a broken header must not park a lead for a day).
MAX_RETRY_AFTER_SECONDS = 3600.0
# A wait at least this long is worth telling the user about, with when it will happen.
LONG_WAIT_SECONDS = 300.0
# progress steps the worker itself keeps
_TOLD_LONG_WAIT = "_told_long_wait"
_FAILURE = "_failure"


def _no_checkpoint(step: str, value: Any) -> None:
    return None


class JobPayload(Protocol):
    """What one job kind's outbox row holds: a frozen dataclass that names its kind once.

    ``to_json`` is what is stored; ``from_json`` reads it back, and must keep reading every shape an
    earlier release stored (rows queued before a deploy run after it).
    """

    KIND: ClassVar[str]

    def to_json(self) -> dict[str, Any]: ...

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self: ...


P = TypeVar("P", covariant=True)
K = TypeVar("K", bound=JobPayload)


@dataclass(frozen=True)
class Job(Generic[P]):
    """One attempt at one outbox row, as handed to a handler, with the row's payload read back."""

    key: str
    kind: str
    payload: P
    attempt: int
    created_at: float
    last_error: str | None = None
    # steps finished by earlier attempts (and this one), see ``once``
    progress: dict[str, Any] = field(default_factory=dict)
    save_step: Callable[[str, Any], None] = field(default=_no_checkpoint, repr=False, compare=False)

    @property
    def is_retry(self) -> bool:
        """True when an earlier attempt may have reached TeleCRM (its answer was lost or failed)."""
        return self.attempt > 1

    def once(self, step: str, do: Callable[[], Any]) -> Any:
        """Run ``do`` unless an earlier attempt finished ``step``; either way return what it produced.

        The result is stored (JSON) before the job goes on, so a crash or a Slack failure after this
        point never runs ``do`` again. Steps that talk to TeleCRM or post to Slack go through here.
        """
        if step in self.progress:
            return self.progress[step]
        value = do()
        self.save_step(step, value)
        self.progress[step] = value
        return value


class Retry(Exception):
    """Raised by a handler for a transient failure: try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GiveUp(Exception):
    """Raised by a handler for a permanent failure it has already explained to the user."""


@dataclass(frozen=True)
class JobKind(Generic[K]):
    """A job kind: its payload class (whose ``KIND`` names it) and the handlers of its jobs."""

    payload: type[K]
    handle: Callable[[Job[K]], dict[str, Any] | None]
    # called once when the first attempt fails transiently (with that failure and when the next try
    # is), so the user hears it is queued and why
    on_queued: Callable[[Job[K], BaseException, float], None] | None = None
    # called when the job is abandoned (permanent error or too many attempts)
    on_failed: Callable[[Job[K], BaseException], None] | None = None
    max_attempts: int = 12


@dataclass(frozen=True)
class Backoff:
    base: float = 2.0
    cap: float = 300.0
    jitter: float = 0.25

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        raw = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        raw *= 1 + random.uniform(-self.jitter, self.jitter)
        if retry_after is not None:
            raw = max(raw, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        return max(0.0, raw)


@dataclass(frozen=True)
class Failure:
    """How a handler's exception is treated."""

    transient: bool
    retry_after: float | None = None
    # no answer came, yet the request may have been sent: TeleCRM may still be working on it
    may_still_run: bool = False
    # a Slack step failed: the user has not been told yet, and cannot be told about the wait either
    slack: bool = False


def classify(error: BaseException) -> Failure:
    """How to treat any exception a handler lets escape."""
    if isinstance(error, Retry):
        return Failure(True, error.retry_after)
    slack = slack_failure(error)
    if slack is not None:
        return Failure(slack[0], slack[1], slack=True)
    found = telecrm_error_in(error)  # also behind e.g. "the schema could not be fetched"
    if found is not None:
        return Failure(found.transient, found.retry_after, found.status is None and found.may_have_landed)
    return Failure(False)


def _failure_record(error: BaseException) -> dict[str, Any] | None:
    """A TeleCRM refusal as JSON, so telling the user about it can be retried in a later attempt."""
    found = telecrm_error_in(error)
    if found is None:
        return None
    return {"message": found.message, "status": found.status, "code": found.code, "details": found.details}


def _reason(error: BaseException) -> str:
    """A failure for a log line: TeleCRM's in words (:func:`kit.explain.describe_failure`), else as raised."""
    if telecrm_error_in(error) is not None:
        return describe_failure(error)
    return str(error) or error.__class__.__name__


def _failure_from(record: dict[str, Any]) -> TeleCRMError:
    status = record.get("status")
    cls = error_class_for(status) if isinstance(status, int) else TeleCRMError
    return cls(
        str(record.get("message") or ""),
        status=status,
        code=record.get("code"),
        details=record.get("details"),
    )


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that knows when it is idle: Bolt runs listeners here, and tests (and a graceful
    shutdown) need to know when the work a listener continues after its ``ack()`` has finished."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn`` in the submitter's context (its context variables, e.g. the Slack workspace of
        the request, kit/workspace_client.py), as a thread of its own would not."""
        with self._idle:
            self._busy += 1
        try:
            future = super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future | None) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


# How long after its owner's last sign of life a running row stays leased, beyond TeleCRM's timeout.
SETTLE_MARGIN_SECONDS = 2.0


def lease_for(request_timeout: float) -> float:
    """A lease long enough that, when it runs out, every request its dead owner sent has finished.

    The owner renews every quarter lease, so it died at most a quarter lease before the lease was
    last extended, and its last request ends at most ``request_timeout`` after that:
    ``lease ≥ lease/4 + request_timeout + margin`` holds for twice (timeout + margin).
    """
    return 2 * (request_timeout + SETTLE_MARGIN_SECONDS)


class Worker:
    def __init__(
        self,
        outbox: Outbox,
        *,
        threads: int = 8,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 120.0,
        settle_seconds: float = 0.0,
    ) -> None:
        self.outbox = outbox
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._lease = lease_seconds
        # an unanswered write is retried no sooner than this after it was sent (see module doc)
        self._settle = settle_seconds
        self._kinds: dict[str, JobKind[Any]] = {}
        self._threads = threads
        self._writes = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self._reads = ThreadPoolExecutor(max_workers=threads * 2, thread_name_prefix="reads")
        self._slots = threading.Semaphore(threads)
        self._cond = threading.Condition()
        self._running = 0
        self._inflight_reads = 0
        self._stopping = False
        self._scheduler: threading.Thread | None = None
        self._renewer: threading.Thread | None = None
        self._renewer_stop = threading.Event()
        self._outbox_trouble = False

    # -- registration and submission ------------------------------------------------------------
    def register(self, job_kind: JobKind[K]) -> None:
        """Handle the jobs whose payload is ``job_kind.payload`` (the kind is its ``KIND``)."""
        kind = job_kind.payload.KIND
        known = self._kinds.get(kind)
        if known is not None and known.payload is not job_kind.payload:
            raise ValueError(f"job kind {kind!r} is {known.payload.__qualname__} already")
        self._kinds[kind] = job_kind

    def submit(
        self, key: str, payload: JobPayload, *, delivery: str | None = None, wake: bool = True
    ) -> tuple[OutboxItem, bool]:
        """Persist a write (idempotent on ``key`` within the current Slack workspace, which the row
        carries and the job runs in) and wake the scheduler. Returns (row, created).

        ``delivery``: the Slack delivery that asked for it (:func:`kit.context.claim_delivery`),
        recorded in the same statement. ``wake=False``: the caller wakes the worker itself
        (:meth:`wake`) once it has acknowledged Slack, so the worker's claim does not compete with
        the acknowledgement for the interpreter and the write lock."""
        kind = payload.KIND
        known = self._kinds.get(kind)
        if known is None or not isinstance(payload, known.payload):
            raise KeyError(f"no handler registered for job kind {kind!r}")
        item, created = self.outbox.add(key, kind, payload.to_json(), delivery=delivery)
        if created and wake:
            self.wake()
        return item, created

    def background(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run a read (or any non-durable work) off the listener threads; errors are logged."""

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                name = getattr(fn, "__qualname__", fn)
                if telecrm_error_in(exc) is not None:  # TeleCRM's trouble, not a bug: one line
                    log.warning("background task %s: %s", name, describe_failure(exc))
                else:
                    log.exception("background task %s failed", name)
                raise
            finally:
                with self._cond:
                    self._inflight_reads -= 1
                    self._cond.notify_all()

        with self._cond:
            self._inflight_reads += 1
        # in the caller's context: a read for a Slack request calls Slack for that request's workspace
        return self._reads.submit(contextvars.copy_context().run, run)

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called: a long job (an import's send) ends its run and raises
        :class:`Retry`, so its row waits in SQLite and resumes at the next start."""
        return self._stopping

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        resumed = self.outbox.resume_waiting()
        if resumed:
            log.warning("resuming %d queued write(s) now", resumed)
        self._stopping = False
        self._renewer_stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="outbox-leases", daemon=True)
        self._renewer.start()
        self._scheduler = threading.Thread(target=self._loop, name="outbox-scheduler", daemon=True)
        self._scheduler.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish in-flight work; anything not started stays queued in SQLite for the next start."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._scheduler is not None:
            self._scheduler.join(timeout)
        self._writes.shutdown(wait=True, cancel_futures=False)
        self._reads.shutdown(wait=True, cancel_futures=True)
        self._renewer_stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout)

    def _renew_loop(self) -> None:
        """Keep this process's leases alive while it works (a quarter lease between renewals)."""
        while not self._renewer_stop.wait(self._lease / 4):
            try:
                self.outbox.renew(lease_seconds=self._lease)
            except Exception as exc:  # the next renewal may work; a lost lease is detected by its row
                log.warning("could not renew the outbox leases: %s", exc.__class__.__name__)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until nothing is running and nothing is due now (work scheduled later does not count)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                due = self.outbox.next_due_at()
                idle = (
                    self._running == 0 and self._inflight_reads == 0 and (due is None or due > self._clock())
                )
                if idle:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))

    # -- scheduling ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
            if not self._slots.acquire(timeout=0.5):
                continue
            with self._cond:
                self._running += 1  # counted before the claim, so wait_idle never sees a claimed row as idle
            try:
                item = self.outbox.claim(lease_seconds=self._lease)
                self._outbox_readable(None)
            except Exception as exc:
                self._outbox_readable(exc)
                item = None
            if item is None:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
                self._slots.release()
                due = None
                try:
                    due = self.outbox.next_due_at()
                except Exception as exc:
                    self._outbox_readable(exc)
                wait = 1.0 if due is None else max(0.0, min(1.0, due - self._clock()))
                with self._cond:
                    if not self._stopping and wait > 0:
                        self._cond.wait(wait)
                continue
            self._writes.submit(self._run, item)

    def _outbox_readable(self, error: Exception | None) -> None:
        """One log line when the outbox stops being usable (e.g. the disk is full) and one when it
        is usable again, rather than a traceback every second in between."""
        if error is not None and not self._outbox_trouble:
            log.error(
                "could not use the outbox (%s: %s); writes wait until it works again",
                type(error).__name__,
                error,
            )
        elif error is None and self._outbox_trouble:
            log.warning("the outbox works again; queued writes resume")
        self._outbox_trouble = error is not None

    def _run(self, item: OutboxItem) -> None:
        try:
            # the job's reads, writes, Slack calls and the jobs it queues: its workspace's
            with team_scope(item.team or None):
                self._attempt(item)
        except LeaseLost:
            log.warning("write %s was taken over by another process; leaving it to that one", item.key)
        except Exception:
            log.exception("write %s could not be finished; it stays queued", item.key)
        finally:
            self._slots.release()
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def _job(self, item: OutboxItem, kind: JobKind[K]) -> Job[K]:
        return Job(
            item.key,
            item.kind,
            kind.payload.from_json(item.payload),
            item.attempts,
            item.created_at,
            item.last_error,
            progress=dict(item.progress or {}),
            save_step=lambda step, value: self.outbox.checkpoint(item.key, step, value, team=item.team),
        )

    def _attempt(self, item: OutboxItem) -> None:
        started = self._clock()
        kind = self._kinds.get(item.kind)
        if kind is None:
            self.outbox.give_up(item.key, f"no handler for {item.kind!r}")
            log.error("dropping write %s: no handler for kind %s", item.key, item.kind)
            return
        try:
            job = self._job(item, kind)
        except Exception as exc:  # a row no release of this code could have written
            self.outbox.give_up(item.key, f"unreadable {item.kind!r} payload: {exc!r}")
            log.error("dropping write %s: its %s payload cannot be read: %r", item.key, item.kind, exc)
            return
        if _FAILURE in job.progress:  # refused earlier; telling the user is what is left
            self._fail(kind, job, _failure_from(job.progress[_FAILURE]))
            return
        try:
            result = kind.handle(job)
        except GiveUp as exc:
            self.outbox.give_up(item.key, str(exc) or "given up")
            return
        except LeaseLost:
            raise
        except Exception as exc:
            self._after_failure(kind, job, exc, started)
            return
        if not self.outbox.succeed(item.key, result if isinstance(result, dict) else None):
            raise LeaseLost(item.key)

    def _after_failure(self, kind: JobKind[K], job: Job[K], exc: Exception, started: float) -> None:
        failure = classify(exc)
        if failure.transient and job.attempt < kind.max_attempts:
            self._retry_later(kind, job, failure, exc, started)
            return
        if not failure.transient:
            log.info("%s job %s: %s; not retried", job.kind, job.key, _reason(exc))
        else:
            log.error(
                "%s job %s: %s; abandoned after %d attempts", job.kind, job.key, _reason(exc), job.attempt
            )
        record = _failure_record(exc)
        if record is not None and kind.on_failed is not None:
            job.save_step(_FAILURE, record)  # so telling the user can be retried if Slack fails
        self._fail(kind, job, exc)

    def _retry_later(
        self, kind: JobKind[K], job: Job[K], failure: Failure, error: Exception, started: float
    ) -> None:
        now = self._clock()
        when = now + self.backoff.delay(job.attempt, failure.retry_after)
        if failure.may_still_run:
            when = max(when, started + self._settle)
        tell = kind.on_queued is not None and not failure.slack
        long_wait = tell and when - now >= LONG_WAIT_SECONDS and _TOLD_LONG_WAIT not in job.progress
        if long_wait:  # noted while the row is still ours, so the user hears of a long wait once
            job.save_step(_TOLD_LONG_WAIT, True)
        if not self.outbox.retry_at(job.key, when, str(error) or error.__class__.__name__):
            raise LeaseLost(job.key)
        # one line per failed attempt, never a traceback: the failure is TeleCRM's or Slack's, not a bug
        log.warning(
            "%s job %s: %s; retry in %.0f s (attempt %d failed)",
            job.kind,
            job.key,
            _reason(error),
            when - now,
            job.attempt,
        )
        if kind.on_queued is not None and tell and (job.attempt == 1 or long_wait):
            self._notify(kind.on_queued, job, error, when)
        self.wake()

    def _fail(self, kind: JobKind[K], job: Job[K], error: BaseException) -> None:
        """Tell the user the write failed, then mark it failed; if Slack is down, try again later."""
        if kind.on_failed is not None:
            try:
                kind.on_failed(job, error)
            except Exception as exc:
                failure = slack_failure(exc)
                if failure is not None and failure[0]:
                    when = self._clock() + self.backoff.delay(job.attempt, failure[1])
                    if not self.outbox.retry_at(job.key, when, f"telling the user: {exc}"):
                        raise LeaseLost(job.key) from exc
                    return
                log.exception("could not tell the user about a failed write")
        if not self.outbox.give_up(job.key, str(error) or error.__class__.__name__):
            raise LeaseLost(job.key)

    @staticmethod
    def _notify(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("could not tell the user about a queued write")
