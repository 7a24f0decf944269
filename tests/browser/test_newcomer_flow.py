"""A newcomer's first minutes, in a real browser against the real bot, emulator and TeleCRM sandbox:
/lead → New lead form → lead card and its thread → Record payment → payment in the thread →
Completed → the status change is announced. `UPDATE_SCREENSHOTS=1` saves the key screens to
docs/screenshots.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Bot

USER = "U0RAHUL"


@pytest.fixture
def ui_bot(bot: Bot) -> Iterator[Bot]:
    """The real bot; the page's held long polls are released before the bot stops."""
    yield bot
    bot.emulator.ui.close()


def field(form: Any, label: str) -> Any:
    """The input labelled `label`, required or "(optional)", as Slack labels them."""
    return form.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$"))


def shot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{name}.png looks empty"


def test_newcomer_creates_a_lead_and_records_a_paid_payment(
    page: Any, ui_bot: Bot, screenshots: Path
) -> None:
    page.goto(f"{ui_bot.emulator.url}/?user={USER}&channel=C0SALES")
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("/lead")
    composer.press("Enter")

    form = page.get_by_role("dialog", name="New lead")
    field(form, "Name").fill("Jane Doe")
    field(form, "Phone").fill("+91 98765 43210")
    field(form, "Status").select_option(label="Fresh")
    shot(page, screenshots, "new-lead-modal")
    form.get_by_role("button", name="Create lead").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    card = page.get_by_test_id("message").filter(has_text="New lead: Jane Doe")
    expect(card.get_by_role("button", name="Record payment")).to_be_visible()
    (lead,) = [lead for lead in ui_bot.sandbox.leads() if lead["fields"].get("name") == "Jane Doe"]
    shot(page, screenshots, "channel-with-lead-card")

    card.get_by_role("button", name="Record payment").click()
    payment = page.get_by_role("dialog", name="Record payment")
    field(payment, "Amount").fill("25000")
    shot(page, screenshots, "payment-modal")
    payment.get_by_role("button", name="Record").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    card.get_by_role("button", name=re.compile(r"\d+ repl")).click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread.get_by_test_id("message").first).to_contain_text("New lead: Jane Doe")
    paid = thread.get_by_test_id("message").filter(has=page.get_by_role("button", name="Completed"))
    expect(paid).to_contain_text("25,000")
    paid.get_by_role("button", name="Completed").click()

    notification = thread.get_by_test_id("message").last
    expect(notification).to_contain_text(re.compile(r"@Rahul Verma marked .*25,000.* COMPLETED"))
    expect(thread.get_by_role("button", name="Completed")).to_have_count(0)
    (recorded,) = [a for a in ui_bot.sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"]
    assert recorded["status"] == "COMPLETED" and float(recorded["amount"]) == 25000
    shot(page, screenshots, "thread-with-payment-and-notification")
