"""The page shows an image a bot uploaded (files.getUploadURLExternal → bytes →
files.completeUploadExternal) and named in an image block with ``slack_file``, as Slack's client does."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from slack_sdk import WebClient

from slack_emulator import SlackEmulator
from tests.browser.test_page import open_page
from tests.emulator.test_files import tiny_png


def test_an_uploaded_chart_is_shown_in_the_message(
    page: Any, ui_emulator: SlackEmulator, web: WebClient
) -> None:
    file = web.files_upload_v2(content=tiny_png(64, 32), filename="pipeline.png", title="Pipeline")["file"]
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Pipeline · Last 7 days*"}},
        {
            "type": "image",
            "slack_file": {"id": file["id"]},
            "alt_text": "New leads per day",
            "title": {"type": "plain_text", "text": "Chart"},
        },
    ]
    web.chat_postMessage(channel="C0SALES", text="Pipeline", blocks=blocks)
    open_page(page, ui_emulator)
    image = page.get_by_test_id("message").first.get_by_role("img", name="New leads per day")
    expect(image).to_be_visible()
    expect(image).to_have_js_property("naturalWidth", 64)
