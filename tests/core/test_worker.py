"""The outbox worker: exactly once per key, retries with backoff on transient errors, none on 4xx,
and work left running by a dead process resumes."""

from __future__ import annotations

import threading

import pytest

from bot.worker import Backoff, GiveUp, Job, JobKind, Retry, Worker
from storage.db import Store
from storage.outbox import DONE, FAILED, PENDING, Outbox
from telecrm.errors import TeleCRMBadRequest, TeleCRMRateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "bot.sqlite3")
    yield s
    s.close()


def make_worker(store: Store, clock=None, **kw) -> Worker:
    clock = clock or Clock()
    return Worker(Outbox(store, clock=clock), threads=2, clock=clock, backoff=Backoff(base=2, jitter=0), **kw)


def test_same_key_runs_once(store):
    calls: list[Job] = []
    worker = make_worker(store)
    worker.register("demo", JobKind(handle=lambda job: calls.append(job) or {"ok": 1}))
    worker.start()
    try:
        _, first = worker.submit("k1", "demo", {"n": 1})
        _, second = worker.submit("k1", "demo", {"n": 2})
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert (first, second) == (True, False)
    assert [c.payload for c in calls] == [{"n": 1}]
    assert worker.outbox.get("k1").state == DONE
    assert worker.outbox.get("k1").result == {"ok": 1}


def test_transient_failure_is_retried_with_retry_after_and_user_told_once(store):
    clock = Clock()
    attempts: list[int] = []
    queued: list[str] = []

    def handle(job: Job) -> dict:
        attempts.append(job.attempt)
        if job.attempt < 3:
            raise TeleCRMRateLimited("slow down", status=429, code="RATE_LIMITED", retry_after=30)
        return {"done": True}

    worker = make_worker(store, clock)
    worker.register("demo", JobKind(handle=handle, on_queued=lambda job, reason, when: queued.append(reason)))
    worker.start()
    try:
        worker.submit("k", "demo", {})
        assert worker.wait_idle(5)
        item = worker.outbox.get("k")
        assert item.state == PENDING and item.next_attempt_at >= clock.now + 30
        clock.now += 31
        worker.wake()
        assert worker.wait_idle(5)
        clock.now += 31
        worker.wake()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert attempts == [1, 2, 3]
    assert len(queued) == 1
    assert worker.outbox.get("k").state == DONE


def test_permanent_failure_is_not_retried(store):
    failed: list[BaseException] = []
    attempts: list[int] = []

    def handle(job: Job) -> None:
        attempts.append(job.attempt)
        raise TeleCRMBadRequest("Invalid filter", status=400, code="BAD_REQUEST")

    worker = make_worker(store)
    worker.register("demo", JobKind(handle=handle, on_failed=lambda job, exc: failed.append(exc)))
    worker.start()
    try:
        worker.submit("k", "demo", {})
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert attempts == [1]
    assert worker.outbox.get("k").state == FAILED
    assert "Invalid filter" in worker.outbox.get("k").last_error
    assert len(failed) == 1


def test_give_up_and_retry_exceptions(store):
    clock = Clock()
    seen: list[int] = []

    def handle(job: Job) -> None:
        seen.append(job.attempt)
        if job.attempt == 1:
            raise Retry("later", retry_after=5)
        raise GiveUp("explained to the user")

    worker = make_worker(store, clock)
    worker.register("demo", JobKind(handle=handle))
    worker.start()
    try:
        worker.submit("k", "demo", {})
        assert worker.wait_idle(5)
        clock.now += 6
        worker.wake()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert seen == [1, 2]
    assert worker.outbox.get("k").state == FAILED


def test_interrupted_write_resumes_after_restart(tmp_path):
    path = tmp_path / "bot.sqlite3"
    store = Store(path)
    outbox = Outbox(store)
    outbox.add("k", "demo", {"lead": "x"})
    claimed = outbox.claim(lease_seconds=600)  # a process took it, then died
    assert claimed is not None and claimed.attempts == 1
    store.close()

    store2 = Store(path)
    done = threading.Event()
    worker = make_worker(store2)
    jobs: list[Job] = []
    worker.register("demo", JobKind(handle=lambda job: (jobs.append(job), done.set())[1]))
    worker.start()
    try:
        assert done.wait(5)
        assert worker.wait_idle(5)
    finally:
        worker.stop()
        store2.close()
    assert jobs[0].attempt == 2 and jobs[0].is_retry


def test_backoff_grows_and_honours_retry_after():
    b = Backoff(base=2, cap=60, jitter=0)
    assert [b.delay(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert b.delay(10) == 60
    assert b.delay(1, retry_after=30) == 30
