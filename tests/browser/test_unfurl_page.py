"""A lead link typed in the page's composer shows the bot's unfurl under the message, in a real
browser against the real bot, emulator and TeleCRM sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Bot

USER = "U0PRIYA"


@pytest.fixture
def ui_bot(bot: Bot) -> Iterator[Bot]:
    yield bot
    bot.emulator.ui.close()


def test_a_pasted_lead_link_shows_its_card_under_the_message(page: Any, ui_bot: Bot) -> None:
    lead_id = ui_bot.services.telecrm.create_lead({"phone": "919812300007", "name": "Kiran Rao"}).lead_id
    page.goto(f"{ui_bot.emulator.url}/?user={USER}&channel=C0SALES")

    composer = page.get_by_role("textbox", name="Message")
    composer.fill(f"Who calls {ui_bot.settings.lead_url(lead_id)} today?")
    composer.press("Enter")

    message = page.get_by_test_id("message").filter(has_text="Who calls")
    unfurl = message.get_by_test_id("unfurl")
    expect(unfurl).to_contain_text("Kiran Rao")
    expect(unfurl).to_contain_text("Open in TeleCRM")
    expect(message.get_by_role("link", name=ui_bot.settings.lead_url(lead_id))).to_be_visible()
