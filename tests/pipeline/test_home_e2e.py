"""App Home shows the week's pipeline: the team's to admins and MANAGER_USERS, a rep's own to a rep,
and counts again at most every few minutes however often the tab is opened."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import ADMIN, USER
from tests.pipeline.conftest import PRIYA, ROHAN, Seed, block_texts, image_of, ist_day, workspace_with

DAY = 24 * 3600


class MovableClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def week_workspace() -> dict[str, Any]:
    today = ist_day(time.time())
    return workspace_with(
        [
            Seed(600, "Fresh", PRIYA, "Website", follow_up=today),
            Seed(DAY + 600, "Contacted", ROHAN, "Referral"),
            Seed(2 * DAY + 600, "Won", PRIYA, "Website"),
            Seed(30 * DAY, "Lost", ROHAN),
        ]
    )


def home_of(bot: Any, user: str) -> dict[str, Any]:
    bot.emulator.app_home_opened(user)
    bot.settle()
    view = bot.emulator.home_view(user)
    assert view is not None
    return view


def test_admins_and_managers_see_the_teams_week_with_its_chart(make_bot: Any) -> None:
    bot = make_bot(workspace=week_workspace(), manager_users=("U0ANITA",))
    for user in (ADMIN, "U0ANITA"):
        view = home_of(bot, user)
        text = block_texts(view["blocks"])
        assert "Pipeline · Last 7 days" in text
        assert "*New leads:* 3 — by rep: Priya Sharma 2 · Rohan Iyer 1" in text
        assert "*Pipeline now:* 4 leads — Fresh 1 · Contacted 1 · Won 1 · Lost 1" in text
        image = image_of(view)
        assert image is not None and bot.emulator.ws.files.by_id[image["slack_file"]["id"]].is_image
    assert not bot.emulator.failed_calls()


def test_a_rep_sees_their_own_week_and_an_unlinked_user_is_told_why_not(make_bot: Any) -> None:
    bot = make_bot(workspace=week_workspace())
    bot.emulator.ws.users[USER]["profile"]["email"] = ROHAN
    text = block_texts(home_of(bot, USER)["blocks"])
    assert "Pipeline · Last 7 days, " in text and "· Rohan Iyer" in text
    assert "*New leads:* 1 — by contact source: Referral 1" in text
    assert "*Pipeline now:* 2 leads — Contacted 1 · Lost 1" in text
    text = block_texts(home_of(bot, "U0OMAR")["blocks"])
    assert "not linked to a TeleCRM team member yet" in text and "Pipeline ·" not in text


def test_the_home_pipeline_is_counted_again_at_most_every_five_minutes(make_bot: Any) -> None:
    clock = MovableClock()
    bot = make_bot(workspace=week_workspace(), clock=clock)
    home_of(bot, ADMIN)
    searches = len(bot.sandbox.request_log)
    uploads = len(bot.emulator.calls_to("files.completeUploadExternal"))
    clock.now += 120
    home_of(bot, ADMIN)
    assert len(bot.sandbox.request_log) == searches
    assert len(bot.emulator.calls_to("files.completeUploadExternal")) == uploads
    clock.now += 240  # six minutes after the first count
    home_of(bot, ADMIN)
    assert len(bot.sandbox.request_log) > searches
    assert len(bot.emulator.calls_to("files.completeUploadExternal")) == uploads + 1
