"""Chaos: two ``telecrm-bot serve`` processes on one PostgreSQL behind a round-robin load balancer,
one TeleCRM sandbox and one Slack emulator. Inline ``/lead`` creates go through the balancer; midway
one replica is killed with ``kill -9`` and started again. Every lead is created in TeleCRM exactly
once and gets one card in Slack.

Smaller than the full scenario so it runs in ``make test`` on a 2-core machine: 300 creates, no modal
submissions (not yet part of this test). A request the killed replica never answered is re-sent by
the balancer to the other replica with Slack's retry mark, as Slack redelivers an unanswered request.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import harness
from bench.throughput import exactly_once
from bench.workspaces import inline_create_text, next_phone
from slack_emulator import serve_wsgi

CREATES = 300
CONCURRENCY = 8
_HOP = {"host", "content-length", "connection", "transfer-encoding"}


class Balancer:
    """A loopback load balancer: each request to the next backend in turn, the next one on failure."""

    def __init__(self) -> None:
        self.backends: list[str] = []
        self._turn = itertools.count()
        self._http = httpx.Client(timeout=10.0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers = {k: v for k, v in headers.items() if k not in _HOP}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        start = next(self._turn)
        for attempt in range(len(self.backends) * 2):
            backend = self.backends[(start + attempt) % len(self.backends)]
            sent = headers if attempt == 0 else {**headers, "x-slack-retry-num": str(attempt)}
            try:
                r = self._http.post(backend + environ["PATH_INFO"], content=body, headers=sent)
            except httpx.HTTPError:
                continue
            start_response(
                f"{r.status_code} X", [("Content-Type", r.headers.get("content-type", "text/plain"))]
            )
            return [r.content]
        start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
        return [b"no backend answered"]


@pytest.fixture
def stand_ins() -> Iterator[harness.StandIns]:
    with harness.StandIns() as s:
        yield s


def test_two_replicas_one_killed_midway_create_every_lead_once(
    stand_ins: harness.StandIns, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    first = harness.start_bot(stand_ins, tmp_path, name="first")
    second = harness.start_bot(stand_ins, tmp_path, name="second")
    balancer = Balancer()
    balancer.backends = [first.url, second.url]
    front = serve_wsgi(balancer, threads=16)
    emulator, sandbox = stand_ins.emulator, stand_ins.sandbox
    seeded = collections.Counter(str(lead["fields"].get("phone")) for lead in sandbox.leads())
    phones = [next_phone() for _ in range(CREATES)]
    half = CREATES // 2
    restarted: list[harness.AppProcess] = []
    try:
        burst = harness.fire(
            emulator, front.url + "/slack/events", [inline_create_text(p) for p in phones[:half]], CONCURRENCY
        )
        # the second half starts; the first replica dies while it is being served
        killer = threading.Thread(target=first.proc.kill)
        fired: dict[str, harness.Burst] = {}
        sender = threading.Thread(
            target=lambda: fired.update(
                rest=harness.fire(
                    emulator,
                    front.url + "/slack/events",
                    [inline_create_text(p) for p in phones[half:]],
                    CONCURRENCY,
                )
            )
        )
        sender.start()
        harness.wait_until(
            lambda: len(sandbox.leads()) >= len(seeded) + half + 20, timeout=60, what="creates under way"
        )
        killer.start()
        killer.join()
        first.proc.wait(10)
        sender.join()
        again = harness.start_bot(stand_ins, tmp_path, name="first-again")
        restarted.append(again)
        balancer.backends = [again.url, second.url]
        harness.wait_until(
            lambda: len(sandbox.leads()) >= len(seeded) + CREATES and harness.outbox_idle(second),
            timeout=120,
            interval=0.1,
            what="every lead in TeleCRM and the outbox drained",
        )
        failures = burst.failures + fired["rest"].failures
        stored = collections.Counter(str(lead["fields"].get("phone")) for lead in sandbox.leads())
        cards = emulator.messages(harness.CHANNEL)
    finally:
        front.stop()
        for bot in (first, second, *restarted):
            bot.stop()
    assert failures == []
    assert exactly_once(phones, list((stored - seeded).elements())) == []
    per_phone = collections.Counter(p for p in phones for c in cards if p[-6:] in c.get("text", ""))
    assert len(cards) == CREATES and set(per_phone.values()) == {1}
