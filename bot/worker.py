"""Runs TeleCRM work after Slack has been acknowledged.

Two kinds of work:

* **writes** go through the durable :class:`~storage.outbox.Outbox`: stored first, then run by a pool
  of threads, retried with exponential backoff and jitter on transient failures (network, timeout,
  5xx, 429 honouring ``Retry-After``), given up on permanent ones (4xx), and resumed after a restart;
* **reads** (searches, timelines) run on a plain thread pool: nothing to lose if the process dies.

Slack listener threads never wait on TeleCRM, so acknowledgements stay fast however slow TeleCRM is.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from storage.outbox import Outbox, OutboxItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One attempt at one outbox row, as handed to a handler."""

    key: str
    kind: str
    payload: dict[str, Any]
    attempt: int
    created_at: float
    last_error: str | None = None

    @property
    def is_retry(self) -> bool:
        """True when an earlier attempt may have reached TeleCRM (its answer was lost or failed)."""
        return self.attempt > 1


class Retry(Exception):
    """Raised by a handler for a transient failure: try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GiveUp(Exception):
    """Raised by a handler for a permanent failure it has already explained to the user."""


@dataclass(frozen=True)
class JobKind:
    handle: Callable[[Job], dict[str, Any] | None]
    # called once when the first attempt fails transiently, so the user hears it is queued
    on_queued: Callable[[Job, str, float], None] | None = None
    # called when the job is abandoned (permanent error or too many attempts)
    on_failed: Callable[[Job, BaseException], None] | None = None
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
            raw = max(raw, retry_after)
        return max(0.0, raw)


def classify(error: BaseException) -> tuple[bool, float | None]:
    """(transient?, retry_after) for any exception a handler lets escape."""
    if isinstance(error, Retry):
        return True, error.retry_after
    transient = getattr(error, "transient", None)
    if transient is not None:
        return bool(transient), getattr(error, "retry_after", None)
    return False, None


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that knows when it is idle: Bolt runs listeners here, and tests (and a graceful
    shutdown) need to know when the work a listener continues after its ``ack()`` has finished."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._idle:
            self._busy += 1
        try:
            future = super().submit(fn, *args, **kwargs)
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


class Worker:
    def __init__(
        self,
        outbox: Outbox,
        *,
        threads: int = 8,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 120.0,
    ) -> None:
        self.outbox = outbox
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._lease = lease_seconds
        self._kinds: dict[str, JobKind] = {}
        self._threads = threads
        self._writes = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self._reads = ThreadPoolExecutor(max_workers=threads * 2, thread_name_prefix="reads")
        self._slots = threading.Semaphore(threads)
        self._cond = threading.Condition()
        self._running = 0
        self._inflight_reads = 0
        self._stopping = False
        self._scheduler: threading.Thread | None = None

    # -- registration and submission ------------------------------------------------------------
    def register(self, kind: str, job_kind: JobKind) -> None:
        self._kinds[kind] = job_kind

    def submit(self, key: str, kind: str, payload: dict[str, Any]) -> tuple[OutboxItem, bool]:
        """Persist a write (idempotent on ``key``) and wake the scheduler. Returns (row, created)."""
        if kind not in self._kinds:
            raise KeyError(f"no handler registered for job kind {kind!r}")
        item, created = self.outbox.add(key, kind, payload)
        if created:
            self.wake()
        return item, created

    def background(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run a read (or any non-durable work) off the listener threads; errors are logged."""

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception:
                log.exception("background task %s failed", getattr(fn, "__name__", fn))
                raise
            finally:
                with self._cond:
                    self._inflight_reads -= 1
                    self._cond.notify_all()

        with self._cond:
            self._inflight_reads += 1
        return self._reads.submit(run)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        released = self.outbox.release_running()
        if released:
            log.warning("resuming %d write(s) interrupted by the last shutdown", released)
        self._stopping = False
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
            except Exception:
                log.exception("could not read the outbox")
                item = None
            if item is None:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
                self._slots.release()
                due = None
                try:
                    due = self.outbox.next_due_at()
                except Exception:
                    log.exception("could not read the outbox")
                wait = 1.0 if due is None else max(0.0, min(1.0, due - self._clock()))
                with self._cond:
                    if not self._stopping and wait > 0:
                        self._cond.wait(wait)
                continue
            self._writes.submit(self._run, item)

    def _run(self, item: OutboxItem) -> None:
        try:
            self._attempt(item)
        finally:
            self._slots.release()
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def _attempt(self, item: OutboxItem) -> None:
        kind = self._kinds.get(item.kind)
        job = Job(item.key, item.kind, item.payload, item.attempts, item.created_at, item.last_error)
        if kind is None:
            self.outbox.give_up(item.key, f"no handler for {item.kind!r}")
            log.error("dropping write %s: no handler for kind %s", item.key, item.kind)
            return
        try:
            result = kind.handle(job)
        except GiveUp as exc:
            self.outbox.give_up(item.key, str(exc) or "given up")
            return
        except Exception as exc:
            transient, retry_after = classify(exc)
            reason = str(exc) or exc.__class__.__name__
            if transient and job.attempt < kind.max_attempts:
                delay = self.backoff.delay(job.attempt, retry_after)
                when = self._clock() + delay
                self.outbox.retry_at(item.key, when, reason)
                log.warning(
                    "write %s (%s) failed transiently, retry %d in %.1fs: %s",
                    item.key,
                    item.kind,
                    job.attempt,
                    delay,
                    reason,
                )
                if job.attempt == 1 and kind.on_queued is not None:
                    self._notify(kind.on_queued, job, reason, when)
                self.wake()
                return
            if not transient:
                log.info("write %s (%s) refused: %s", item.key, item.kind, reason)
            else:
                log.error(
                    "write %s (%s) abandoned after %d attempts: %s", item.key, item.kind, job.attempt, reason
                )
            self.outbox.give_up(item.key, reason)
            if kind.on_failed is not None:
                self._notify(kind.on_failed, job, exc)
            return
        self.outbox.succeed(item.key, result if isinstance(result, dict) else None)

    @staticmethod
    def _notify(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("could not tell the user about a queued or failed write")
