"""What each command answers when TeleCRM refuses the token (401), rate-limits the bot (429 with
Retry-After) or does not answer at all — through the real app, the Slack emulator and the sandbox.

Every answer says what happened, what became of the request (nothing saved, queued, nothing
changed) and what to do; none is "something went wrong". Also on a first start with nothing cached,
and the log keeps one line per failure rather than a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from kit import ids
from tests.conftest import CHANNEL, USER, Bot
from tests.timeline.conftest import make_lead

PHONE = "919812399001"
NOTE = "activity:1001:note"


def _token_refused(faults: Any) -> None:
    faults.fail_next(100_000, status=401)


def _rate_limited(faults: Any) -> None:
    faults.fail_next(100_000, status=429, retry_after=30)


def _not_answering(faults: Any) -> None:
    faults.latency = 2  # TELECRM_TIMEOUT_SECONDS is 1 here: every request times out


FAULTS: dict[str, Callable[[Any], None]] = {
    "401": _token_refused,
    "429": _rate_limited,
    "unreachable": _not_answering,
}

# what the answer must say, for a read (nothing to keep) and for a write (queued when it may pass)
READ_WORDS = {
    "401": ["refused the bot's token (401)", "TELECRM_SYNC_TOKEN", "Nothing was changed"],
    "429": ["(429 Too many requests)", "asked the bot to wait 30 s", "Try again in 30 s"],
    "unreachable": [
        "TeleCRM is not answering (timed out after 1 s)",
        "Try again in a minute",
        "TELECRM_API_URL",
    ],
}
WRITE_WORDS = {
    "401": ["refused the bot's token (401)", "TELECRM_SYNC_TOKEN", "Nothing was saved"],
    "429": ["(429 Too many requests)", "asked the bot to wait 30 s", "will be sent automatically"],
    "unreachable": ["TeleCRM is not answering (timed out after 1 s)", "will be sent automatically"],
}
COMMANDS = ["/payment typed", "/payment form", "/timeline", "/lead find", "Log activity"]
WRITES = {"/payment typed", "/payment form", "Log activity"}


def answers(bot: Bot, thread_ts: str | None = None) -> list[str]:
    """What the person was told: messages only they see, and the lead's thread."""
    said = [e["text"] + json.dumps(e.get("blocks") or [], ensure_ascii=False) for e in bot.ephemerals(USER)]
    if thread_ts:
        said += [r.get("text", "") for r in bot.replies(thread_ts)]
    return said


def told_about_telecrm(bot: Bot, thread_ts: str | None = None) -> str:
    hit = bot.wait(lambda e: [a for a in answers(bot, thread_ts) if "TeleCRM" in a], timeout=20)
    return hit[0]


def run(bot: Bot, command: str, arm: Callable[[Any], None], lead_id: str, card_ts: str | None) -> None:
    """Make the gesture with TeleCRM's fault armed (after any form it needs is open)."""
    emulator = bot.emulator
    if command == "/payment typed":
        arm(bot.sandbox.faults)
        bot.command("/payment", f"{PHONE} 5000")
    elif command == "/payment form":
        bot.command("/payment")
        bot.wait(lambda e: e.open_views(USER))
        arm(bot.sandbox.faults)
        emulator.submit_view(user=USER, values={"lead": PHONE, "amount": "5000"})
    elif command == "/timeline":
        arm(bot.sandbox.faults)
        bot.command("/timeline", PHONE)
    elif command == "/lead find":
        arm(bot.sandbox.faults)
        bot.command("/lead", f"find {PHONE}")
    else:
        assert card_ts is not None
        emulator.click_button(
            user=USER, action_id=ids.ACT_CARD_ACTIVITY, channel=CHANNEL, message_ts=card_ts, value=lead_id
        )
        (view,) = bot.wait(lambda e: e.open_views(USER))
        emulator.select_option(user=USER, action_id=ids.ACT_ACTIVITY_PICK, value="1001", view_id=view["id"])
        bot.wait(lambda e: [v for v in e.open_views(USER) if NOTE in json.dumps(v["blocks"])])
        arm(bot.sandbox.faults)
        emulator.submit_view(user=USER, values={NOTE: "Called back"})


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_says_what_happened_and_what_to_do(make_bot, command, fault):
    bot = make_bot(telecrm_timeout_seconds=1, payment_watch_seconds=0)
    lead = make_lead(bot, PHONE, with_card=command == "Log activity")
    run(bot, command, FAULTS[fault], lead.id, lead.thread_ts)
    said = told_about_telecrm(bot, lead.thread_ts)
    for words in (WRITE_WORDS if command in WRITES else READ_WORDS)[fault]:
        assert words in said, said
    assert "went wrong" not in said
    bot.sandbox.faults.clear()


@pytest.mark.parametrize("fault", ["401", "unreachable"])
@pytest.mark.parametrize("command", ["/payment typed", "/timeline", "/lead find"])
def test_on_a_cold_start_typed_commands_say_the_same(make_bot, command, fault):
    """Nothing cached: the command needs the workspace first, and TeleCRM cannot give it."""
    made: list[str] = []

    def prepare(runtime: Any) -> None:
        made.append(runtime.services.telecrm.create_lead({"phone": PHONE, "name": "Jane"}).lead_id)
        FAULTS[fault](runtime.sandbox.faults)

    bot = make_bot(cold=True, prepare=prepare, telecrm_timeout_seconds=1, payment_watch_seconds=0)
    run(bot, command, lambda faults: None, made[0], None)
    said = told_about_telecrm(bot)
    for words in (WRITE_WORDS if command in WRITES else READ_WORDS)[fault]:
        assert words in said, said
    assert "went wrong" not in said


def test_background_failures_log_one_line_each_not_a_traceback(make_bot, caplog):
    made: list[str] = []

    def prepare(runtime: Any) -> None:
        made.append(runtime.services.telecrm.create_lead({"phone": PHONE, "name": "Jane"}).lead_id)
        _not_answering(runtime.sandbox.faults)

    caplog.set_level(logging.INFO)
    bot = make_bot(cold=True, prepare=prepare, telecrm_timeout_seconds=1, payment_watch_seconds=0)
    bot.command("/payment", f"{PHONE} 5000")
    told_about_telecrm(bot)
    bot.command("/lead", f"find {PHONE}")
    bot.wait(lambda e: len([a for a in answers(bot) if "TeleCRM" in a]) >= 2, timeout=20)
    bot.settle()
    retries = [r.getMessage() for r in caplog.records if "payment.record job" in r.getMessage()]
    assert retries and "TeleCRM not reached (timeout after 1 s); retry in" in retries[0]
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]
    assert tracebacks == []
