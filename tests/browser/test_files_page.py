"""Files on the page: attaching a file in the composer shares it (the bot can then read it), a message
with a file shows its name, type, size and a download link, and a modal's file_input is a file picker
whose files reach the app in Slack's state shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from slack_sdk import WebClient

from slack_emulator import SlackEmulator
from tests.browser.test_page import RAHUL, last_delivery, open_page


@pytest.fixture(autouse=True)
def files_read(ui_emulator: SlackEmulator) -> None:
    """``files:read``, which the manifest gains with the bulk import (tests/emulator/conftest.py)."""
    assert ui_emulator.bot_scopes is not None
    ui_emulator.bot_scopes.add("files:read")


CSV = b"name,phone\nJane Doe,919999999999\n"


def test_attach_a_file_in_the_composer_and_see_it_in_the_channel(
    page: Any, ui_emulator: SlackEmulator, web: WebClient
) -> None:
    open_page(page, ui_emulator)
    page.get_by_role("textbox", name="Message").fill("March leads")
    page.get_by_label("Attach a file").first.set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    card = page.get_by_test_id("file").first
    expect(card).to_contain_text("leads.csv")
    expect(card).to_contain_text(f"CSV · {len(CSV)} B")
    expect(page.get_by_test_id("message").first).to_contain_text("March leads")
    (message,) = ui_emulator.messages("C0SALES")
    assert (message["subtype"], message["user"], message["text"]) == ("file_share", RAHUL, "March leads")
    file_id = message["files"][0]["id"]
    link = card.get_by_role("link", name="Download leads.csv").get_attribute("href")
    assert httpx.get(f"{ui_emulator.url}{link}").content == CSV
    assert web.files_info(file=file_id)["file"]["name"] == "leads.csv"  # the bot can read it


def test_pick_a_file_in_a_modal_and_submit_it(page: Any, ui_emulator: SlackEmulator, web: WebClient) -> None:
    open_page(page, ui_emulator)
    view = {
        "type": "modal",
        "callback_id": "every_element",
        "title": {"type": "plain_text", "text": "Import leads"},
        "submit": {"type": "plain_text", "text": "Preview"},
        "blocks": [
            {
                "type": "input",
                "block_id": "import_file",
                "label": {"type": "plain_text", "text": "Spreadsheet"},
                "element": {
                    "type": "file_input",
                    "action_id": "file",
                    "filetypes": ["csv", "xlsx"],
                    "max_files": 1,
                },
            }
        ],
    }
    web.views_open(trigger_id=ui_emulator.new_trigger_id(RAHUL), view=view)
    dialog = page.get_by_role("dialog", name="Import leads")
    dialog.get_by_label("Spreadsheet").set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    expect(dialog.get_by_test_id("picked-file")).to_contain_text("leads.csv")
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog).to_be_hidden()
    state = last_delivery(ui_emulator, "view_submission").payload["view"]["state"]["values"]
    (sent,) = state["import_file"]["file"]["files"]
    assert (sent["name"], sent["filetype"]) == ("leads.csv", "csv")
    assert web.files_info(file=sent["id"])["file"]["size"] == len(CSV)
