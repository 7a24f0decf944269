"""A bot whose clock the test moves (reminders are due in days, not in test time), and people who
are both Slack users and TeleCRM team members."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from slack_emulator.directory import DEFAULT_USERS
from telecrm.sandbox.workspace import demo_workspace
from tests.conftest import Bot
from tests.lead.conftest import with_rahul

IST = ZoneInfo("Asia/Kolkata")
DUBAI = ZoneInfo("Asia/Dubai")
OMAR = "U0OMAR"  # a rep in Dubai, who is the TeleCRM member Karthik Nair's Slack account
OMAR_EMAIL = "karthik.nair@suryodayasolar.in"
OMAR_DM = "D0OMAR"
# Monday 4 January 2027, 09:00 in India: the bot's "now" when a test starts
START = datetime(2027, 1, 4, 9, 0, tzinfo=IST).timestamp()


class MovableClock:
    """Time that passes as usual from ``START`` and that a test moves on (``advance``, ``set``)."""

    def __init__(self, start: float = START) -> None:
        self._offset = start - time.time()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def set(self, when: float) -> None:
        with self._lock:
            self._offset = when - time.time()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def users() -> list[dict[str, Any]]:
    people = copy.deepcopy(DEFAULT_USERS)
    for person in people:
        if person["id"] == OMAR:
            person["profile"]["email"] = OMAR_EMAIL
    return people


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def start(make_bot: Callable[..., Bot], clock: MovableClock) -> Callable[..., Bot]:
    """Start a bot on the moved clock (the emulator's too), the demo workspace with Rahul in it."""

    def starting(**kw: Any) -> Bot:
        kw.setdefault("workspace", with_rahul(demo_workspace()))
        bot = make_bot(clock=clock, emulator_kwargs={"clock": clock, "users": users()}, **kw)
        # the test looks for due reminders itself (remind_due), at the moments it chooses
        for periodic in bot.runtime.periodics:
            if periodic.name == "follow-ups":
                periodic.stop()
        return bot

    return starting


@pytest.fixture
def bot(start: Callable[..., Bot]) -> Bot:
    """A bot Omar has used before (so it knows his Slack account is Karthik Nair's TeleCRM one)."""
    bot = start()
    met(bot, OMAR)
    return bot


def met(bot: Bot, user: str) -> None:
    """The bot links a person's Slack and TeleCRM accounts the first time they use it (a form, /lead)."""
    member, _ = bot.services.member_for(user)
    assert member is not None


def at(day: int, hour: int, minute: int = 0, tz: ZoneInfo = IST, month: int = 1) -> float:
    return datetime(2027, month, day, hour, minute, tzinfo=tz).timestamp()


def new_lead(bot: Bot, phone: str, text: str = "", *, name: str = "Meena Iyer") -> str:
    """A lead typed by Rahul with ``/lead``; its id once the bot has finished with it."""
    bot.command("/lead", f'name="{name}" phone={phone} {text}')
    bot.settle()
    found = bot.sandbox.find_lead(phone)
    assert found is not None, bot.ephemerals()
    return str(found["id"])


def reminders(bot: Bot, dm: str = OMAR_DM) -> list[dict[str, Any]]:
    """Follow-up reminders the bot posted in a DM (answered ones too)."""
    return [m for m in bot.emulator.messages(dm) if (m.get("text") or "").startswith("Time to follow up")]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["text"]["text"], e["action_id"])
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]
