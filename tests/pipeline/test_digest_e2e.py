"""The morning digest end to end, on a clock the test moves: at DIGEST_TIME in DIGEST_TZ yesterday's
report lands in DIGEST_CHANNEL with each rep's follow-ups due today in its thread; once per day across
ticks, restarts and a second process on the same database; skipped on a day with nothing to say."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

from tests.conftest import CHANNEL
from tests.pipeline.conftest import IST, PRIYA, ROHAN, Seed, block_texts, image_of, workspace_with


class TeamClock:
    """09:31 in India on the latest day that has reached it: the bot's clock, moved by the test."""

    def __init__(self) -> None:
        now = time.time()
        moment = datetime.combine(datetime.fromtimestamp(now, IST).date(), clock_time(9, 31), IST)
        if moment.timestamp() > now:
            moment -= timedelta(days=1)
        self.start = moment.timestamp()
        self.now = self.start
        self.today = moment.date()

    def __call__(self) -> float:
        return self.now


def ago(clock: TeamClock, day_offset: int, hour: int) -> float:
    """Seconds before the clock's start of ``hour``:00 on today + ``day_offset``."""
    moment = datetime.combine(clock.today + timedelta(days=day_offset), clock_time(hour), IST)
    return clock.start - moment.timestamp()


def tick(bot: Any) -> Any:
    periodic = next(p for p in bot.runtime.periodics if p.name == "pipeline-digest")
    return periodic.fn()


def busy_yesterday(clock: TeamClock) -> dict[str, Any]:
    today = clock.today
    return workspace_with(
        [
            Seed(ago(clock, -1, 10), "Fresh", PRIYA, "Website"),
            Seed(ago(clock, -1, 17), "Contacted", ROHAN, "Referral"),
            Seed(ago(clock, -5, 12), "Qualified", PRIYA, follow_up=today),
            Seed(ago(clock, -9, 12), "Negotiation", PRIYA, follow_up=today),
            Seed(ago(clock, -9, 13), "Proposal Sent", ROHAN, follow_up=today),
            Seed(ago(clock, -12, 12), "Fresh", follow_up=today),
            Seed(ago(clock, -12, 13), "Fresh", PRIYA, follow_up=today + timedelta(days=1)),
        ],
        now=clock.start,
    )


def test_digest_posts_yesterday_at_digest_time_once_with_followups_by_rep(make_bot: Any) -> None:
    clock = TeamClock()
    bot = make_bot(workspace=busy_yesterday(clock), clock=clock, digest_channel=CHANNEL)
    bot.emulator.ws.users["U0PRIYA"]["profile"]["email"] = PRIYA
    clock.now = clock.start - 120  # 09:29: not yet
    assert tick(bot) is None
    clock.now = clock.start
    assert tick(bot) == (clock.today - timedelta(days=1)).isoformat()
    bot.settle()
    (digest,) = bot.messages(CHANNEL)
    text = block_texts(digest["blocks"])
    yesterday = clock.today - timedelta(days=1)
    assert f"Pipeline · Yesterday, {yesterday:%a %-d %b %Y}" in text
    assert "*New leads:* 2 — by rep: Priya Sharma 1 · Rohan Iyer 1" in text
    assert "*Follow-ups due today:* 4" in text
    assert image_of(digest) is not None
    (thread,) = bot.replies(digest["ts"])
    lines = thread["text"].splitlines()
    assert lines[0] == f"*Follow-ups due today* (leads whose Follow-up Date is {clock.today:%d/%m/%Y}):"
    assert lines[1].startswith("• <@U0PRIYA> — 2: <")
    assert lines[2].startswith("• Rohan Iyer — 1: <") and lines[3].startswith("• Unassigned — 1: <")
    # later ticks the same day, a restart and a second process on the same database post nothing more
    clock.now += 3 * 3600
    assert tick(bot) is None
    second = make_bot(
        workspace=busy_yesterday(clock),
        clock=clock,
        digest_channel=CHANNEL,
        database_path=bot.settings.database_path,
    )
    assert tick(second) is None
    bot.settle()
    second.settle()
    assert len(bot.messages(CHANNEL)) == 1 and len(bot.replies(digest["ts"])) == 1
    # the one refusal: Rohan has no Slack account, so he is named rather than mentioned
    assert [(c["method"], c["error"]) for c in bot.emulator.failed_calls()] == [
        ("users.lookupByEmail", "users_not_found")
    ]


def test_a_day_with_nothing_to_say_is_skipped(make_bot: Any) -> None:
    clock = TeamClock()
    quiet = workspace_with([Seed(ago(clock, -20, 12), "Fresh", PRIYA)], now=clock.start)
    bot = make_bot(workspace=quiet, clock=clock, digest_channel=CHANNEL)
    assert tick(bot) is not None
    bot.settle()
    assert bot.messages(CHANNEL) == []
    assert tick(bot) is None  # the day was claimed, and stays skipped


def test_telecrm_down_at_digest_time_is_tried_again_then_said(make_bot: Any) -> None:
    clock = TeamClock()
    bot = make_bot(workspace=busy_yesterday(clock), clock=clock, digest_channel=CHANNEL)
    bot.sandbox.faults.fail_next(10_000, status=503, path_contains="/lead/search")
    assert tick(bot) is not None
    for _attempt in range(4):
        bot.settle()
        if bot.messages(CHANNEL):
            break
        clock.now += 600  # past the worker's back-off
        bot.services.worker.wake()
    (digest,) = bot.messages(CHANNEL)
    text = block_texts(digest["blocks"])
    assert "Missing from this report:* new leads, leads by status, follow-ups due today" in text
    assert image_of(digest) is None and bot.replies(digest["ts"]) == []
    assert bot.services.worker.outbox.get(f"pipeline.digest:{clock.today - timedelta(days=1)}").attempts == 4


def test_no_digest_without_a_channel(make_bot: Any) -> None:
    bot = make_bot(workspace=busy_yesterday(TeamClock()))
    assert not [p for p in bot.runtime.periodics if p.name == "pipeline-digest"]
