"""The outbox worker: exactly once per key, retries with backoff on transient errors, none on 4xx,
work left running by a dead process resumes once its lease runs out (never while its owner lives),
and a job continues after its last finished step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from kit.worker import MAX_RETRY_AFTER_SECONDS, Backoff, GiveUp, Job, JobKind, Retry, Worker
from storage.db import Store
from storage.outbox import DONE, FAILED, PENDING, LeaseLost, Outbox
from storage.tenancy import team_key, team_scope
from telecrm.errors import TeleCRMBadRequest, TeleCRMNotReached, TeleCRMRateLimited, TeleCRMUnavailable


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


@dataclass(frozen=True)
class Demo:
    """The payload of the ``demo`` job kind these tests register."""

    KIND: ClassVar[str] = "demo"
    n: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {} if self.n is None else {"n": self.n}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Demo:
        return cls(data.get("n"))


def make_worker(store: Store, clock=None, **kw) -> Worker:
    clock = clock or Clock()
    return Worker(Outbox(store, clock=clock), threads=2, clock=clock, backoff=Backoff(base=2, jitter=0), **kw)


def test_same_key_runs_once(store):
    calls: list[Job] = []
    worker = make_worker(store)
    worker.register(JobKind(Demo, handle=lambda job: calls.append(job) or {"ok": 1}))
    worker.start()
    try:
        _, first = worker.submit("k1", Demo(n=1))
        _, second = worker.submit("k1", Demo(n=2))
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert (first, second) == (True, False)
    assert [c.payload for c in calls] == [Demo(n=1)]
    assert worker.outbox.get("k1").state == DONE
    assert worker.outbox.get("k1").result == {"ok": 1}


@dataclass(frozen=True)
class Strict:
    """A payload that needs its ``n``: a row without one cannot be read."""

    KIND: ClassVar[str] = "strict"
    n: int

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Strict:
        return cls(int(data["n"]))


@dataclass(frozen=True)
class NotDemo(Strict):
    KIND: ClassVar[str] = "demo"


def test_a_kind_is_named_by_its_payload_class_and_only_its_payloads_are_queued(store):
    worker = make_worker(store)
    with pytest.raises(KeyError):
        worker.submit("k", Demo())
    worker.register(JobKind(Demo, handle=lambda job: None))
    worker.register(JobKind(Demo, handle=lambda job: {"again": True}))  # the same class again
    with pytest.raises(ValueError, match="demo"):
        worker.register(JobKind(NotDemo, handle=lambda job: None))
    with pytest.raises(KeyError):
        worker.submit("k", NotDemo(1))
    assert worker.outbox.get("k") is None
    _, created = worker.submit("k", Demo(n=3))
    assert created and (worker.outbox.get("k").kind, worker.outbox.get("k").payload) == ("demo", {"n": 3})


def test_a_row_whose_payload_cannot_be_read_is_given_up_without_running(store):
    ran: list[Job] = []
    worker = make_worker(store)
    worker.register(JobKind(Strict, handle=lambda job: ran.append(job) or {}))
    worker.outbox.add("k", "strict", {"m": 1})
    worker.start()
    try:
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert ran == []
    assert worker.outbox.get("k").state == FAILED
    assert "unreadable 'strict' payload" in worker.outbox.get("k").last_error


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
    worker.register(JobKind(Demo, handle=handle, on_queued=lambda job, reason, when: queued.append(reason)))
    worker.start()
    try:
        worker.submit("k", Demo())
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
    worker.register(JobKind(Demo, handle=handle, on_failed=lambda job, exc: failed.append(exc)))
    worker.start()
    try:
        worker.submit("k", Demo())
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
    worker.register(JobKind(Demo, handle=handle))
    worker.start()
    try:
        worker.submit("k", Demo())
        assert worker.wait_idle(5)
        clock.now += 6
        worker.wake()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert seen == [1, 2]
    assert worker.outbox.get("k").state == FAILED


def test_interrupted_write_resumes_once_the_dead_owners_lease_runs_out(tmp_path):
    path = tmp_path / "bot.sqlite3"
    clock = Clock()
    store = Store(path)
    outbox = Outbox(store, clock=clock)
    outbox.add("k", "demo", {"lead": "x"})
    claimed = outbox.claim(lease_seconds=60)  # a process took it, then died
    assert claimed is not None and claimed.attempts == 1
    store.close()

    store2 = Store(path)
    jobs: list[Job] = []
    worker = make_worker(store2, clock)
    worker.register(JobKind(Demo, handle=lambda job: jobs.append(job)))
    worker.start()
    try:
        assert worker.wait_idle(5)
        assert jobs == [], "a row under a live lease was taken"
        clock.now += 61
        worker.wake()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
        store2.close()
    assert [job.attempt for job in jobs] == [2] and jobs[0].is_retry


def test_a_row_another_process_holds_is_never_taken_while_it_renews(store):
    clock = Clock()
    other = Outbox(store, clock=clock, owner="other-process")
    other.add("k", "demo", {})
    assert other.claim(lease_seconds=30) is not None
    mine = Outbox(store, clock=clock, owner="this-process")
    for _ in range(10):  # the other process keeps working, renewing its lease
        clock.now += 20
        assert other.renew(lease_seconds=30) == 1
        assert mine.claim(lease_seconds=30) is None
    assert other.succeed("k", {"ok": True})
    assert mine.get("k").state == DONE


def test_a_process_whose_lease_was_taken_over_changes_nothing(store):
    clock = Clock()
    slow = Outbox(store, clock=clock, owner="slow")
    slow.add("k", "demo", {})
    slow.claim(lease_seconds=30)
    clock.now += 31  # the slow process stopped renewing (e.g. frozen); another took the row
    fast = Outbox(store, clock=clock, owner="fast")
    assert fast.claim(lease_seconds=30).attempts == 2
    assert not slow.succeed("k", {"from": "slow"})
    with pytest.raises(LeaseLost):
        slow.checkpoint("k", "telecrm", {"lead_id": "x"})
    assert fast.succeed("k", {"from": "fast"})
    assert store_result(fast, "k") == {"from": "fast"}


def store_result(outbox: Outbox, key: str) -> dict:
    return outbox.get(key).result


def test_a_finished_step_is_not_redone_when_a_later_step_fails(store):
    """TeleCRM wrote; Slack answered ratelimited: the retry posts, it does not write again."""
    clock = Clock()
    writes: list[int] = []
    posts: list[int] = []

    def handle(job: Job) -> dict:
        lead = job.once("telecrm", lambda: writes.append(job.attempt) or {"lead_id": "L1"})
        if job.attempt == 1:
            raise slack_error("ratelimited", status=429, retry_after="7")
        posts.append(job.attempt)
        return lead

    queued: list[str] = []
    worker = make_worker(store, clock)
    worker.register(JobKind(Demo, handle=handle, on_queued=lambda job, reason, when: queued.append(reason)))
    worker.start()
    try:
        worker.submit("k", Demo())
        assert worker.wait_idle(5)
        item = worker.outbox.get("k")
        assert item.state == PENDING and item.next_attempt_at >= clock.now + 7
        clock.now += 8
        worker.wake()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert writes == [1] and posts == [2]
    assert queued == [], "the user cannot be told through Slack that Slack is failing"
    assert worker.outbox.get("k").state == DONE
    assert worker.outbox.get("k").result == {"lead_id": "L1"}


def slack_error(error: str, *, status: int = 200, retry_after: str | None = None) -> SlackApiError:
    headers = {"Retry-After": retry_after} if retry_after else {}
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://127.0.0.1/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers,
        status_code=status,
    )
    return SlackApiError(f"The request to the Slack API failed. ({error})", response)


def test_an_unanswered_write_is_not_reconciled_before_telecrm_could_have_finished_it(store):
    clock = Clock()
    worker = Worker(
        Outbox(store, clock=clock),
        threads=1,
        clock=clock,
        backoff=Backoff(base=1, jitter=0),
        settle_seconds=12,
    )

    def handle(job: Job) -> None:
        raise TeleCRMUnavailable("TeleCRM did not answer in time (ReadTimeout).")

    worker.register(JobKind(Demo, handle=handle))
    worker.start()
    try:
        started = clock.now
        worker.submit("k", Demo())
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert worker.outbox.get("k").next_attempt_at >= started + 12


def test_a_refused_connection_is_retried_without_waiting_to_settle(store):
    clock = Clock()
    worker = Worker(
        Outbox(store, clock=clock),
        threads=1,
        clock=clock,
        backoff=Backoff(base=1, jitter=0),
        settle_seconds=12,
    )
    worker.register(JobKind(Demo, handle=lambda job: (_ for _ in ()).throw(TeleCRMNotReached("refused"))))
    worker.start()
    try:
        worker.submit("k", Demo())
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert worker.outbox.get("k").next_attempt_at == clock.now + 1


def test_an_absurd_retry_after_is_capped_and_the_user_hears_how_long(store):
    clock = Clock()
    told: list[float] = []

    def handle(job: Job) -> None:
        raise TeleCRMRateLimited("slow down", status=429, retry_after=100_000)

    worker = make_worker(store, clock)
    worker.register(JobKind(Demo, handle=handle, on_queued=lambda job, reason, when: told.append(when)))
    worker.start()
    try:
        worker.submit("k", Demo())
        assert worker.wait_idle(5)
        item = worker.outbox.get("k")
        assert item.next_attempt_at == clock.now + MAX_RETRY_AFTER_SECONDS
        clock.now = item.next_attempt_at + 1
        worker.wake()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert told == [clock.now - 1], "told once, with the time of the next try, not again at every try"


def test_telling_the_user_about_a_refusal_is_retried_while_slack_is_down(store):
    clock = Clock()
    attempts: list[int] = []
    told: list[BaseException] = []

    def handle(job: Job) -> None:
        attempts.append(job.attempt)
        raise TeleCRMBadRequest("Invalid phone", status=400, code="BAD_REQUEST")

    def on_failed(job: Job, error: BaseException) -> None:
        if len(told) == 0:
            told.append(error)
            raise slack_error("service_unavailable", status=503)
        told.append(error)

    worker = make_worker(store, clock)
    worker.register(JobKind(Demo, handle=handle, on_failed=on_failed))
    worker.start()
    try:
        worker.submit("k", Demo())
        assert worker.wait_idle(5)
        assert worker.outbox.get("k").state == PENDING
        clock.now += 10
        worker.wake()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert attempts == [1], "the refused write is not sent again"
    assert [str(e) for e in told] == ["[400 BAD_REQUEST] Invalid phone"] * 2
    assert isinstance(told[1], TeleCRMBadRequest)
    assert worker.outbox.get("k").state == FAILED


def test_backoff_grows_and_honours_retry_after():
    b = Backoff(base=2, cap=60, jitter=0)
    assert [b.delay(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert b.delay(10) == 60
    assert b.delay(1, retry_after=30) == 30
    assert b.delay(1, retry_after=10**9) == MAX_RETRY_AFTER_SECONDS


def test_a_new_outbox_row_is_returned_as_it_is_stored(store):
    outbox = Outbox(store, clock=Clock())
    added, created = outbox.add("k", "demo", {"lead": "x", "n": [1, 2]}, delivery="trigger:t1")
    again, created_again = outbox.add("k", "demo", {"lead": "other"})
    assert created and not created_again
    assert added == again == outbox.get("k")


def test_a_job_runs_in_the_workspace_that_queued_it_and_what_it_queues_stays_there(store):
    """OAuth mode: the job's Slack calls, reads and the jobs it queues are its workspace's."""
    seen: list[tuple[int | None, str]] = []
    worker = make_worker(store)

    def handle(job: Job) -> None:
        seen.append((job.payload.n, team_key()))
        if job.payload.n == 1:
            worker.submit(f"follow-on:{job.key}", Demo(n=2))

    worker.register(JobKind(Demo, handle=handle))
    worker.start()
    try:
        with team_scope("T0AAAAAAA"):
            worker.submit("k", Demo(n=1))
        worker.submit("k", Demo(n=3))  # single-workspace mode: the same key is another row
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert sorted(seen, key=lambda s: s[0] or 0) == [(1, "T0AAAAAAA"), (2, "T0AAAAAAA"), (3, "")]
    with team_scope("T0AAAAAAA"):
        assert worker.outbox.get("follow-on:k").state == DONE
    assert worker.outbox.get("follow-on:k") is None
