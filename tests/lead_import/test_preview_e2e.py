"""Import previews end to end: the real bot, the Slack emulator and the TeleCRM sandbox.

Here the file is put in the channel by the bot's own upload (``files.getUploadURLExternal`` /
``completeUploadExternal``): Slack then shows it in a message of the channel, and ``files.info`` / the
download work as for any file the bot can see. tests/lead_import/test_whole_import_e2e.py has a person
share it, and pick it in the form.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import openpyxl

from kit import ids
from storage.imports import CANCELLED, PREVIEW
from tests.conftest import CHANNEL, USER, Bot

GOOD_AND_BAD = (
    "Name,Phone,Email,Rating,Status,City\n"
    "Jane Doe,9876543210,jane@example.com,5,Fresh,Mumbai\n"
    "Bad Phone,12345,bad@example.com,3,Fresh,Pune\n"
    "Bad Email,9876543211,jane@,,Fresh,\n"
    "Jane Again,+91 98765 43210,,,,\n"
    "Ravi,9876543212,ravi@example.com,,Contacted,Delhi\n"
)


def share_file(bot: Bot, name: str, content: bytes | str) -> tuple[str, dict[str, Any]]:
    """A message in the channel carrying the file: (its ts, the file object Slack shows)."""
    data = content.encode() if isinstance(content, str) else content
    bot.services.slack.files_upload_v2(content=data, filename=name, channel=CHANNEL)
    message = bot.wait(lambda e: next((m for m in e.messages(CHANNEL) if m.get("files")), None))
    return message["ts"], message["files"][0]


def the_preview(bot: Bot) -> dict[str, Any]:
    """The import's message once it is a preview (it carries the Import/Cancel buttons)."""

    def found(e: Any) -> dict[str, Any] | None:
        for m in e.messages(CHANNEL):
            if any(b.get("block_id") == "import_preview_buttons" for b in m.get("blocks") or []):
                return m
        return None

    return bot.wait(found, timeout=20)


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        e["action_id"]: e
        for b in message.get("blocks") or []
        if b.get("type") == "actions"
        for e in b["elements"]
    }


def text_of(message: dict[str, Any]) -> str:
    parts = [message.get("text") or ""]
    for b in message.get("blocks") or []:
        if b.get("text"):
            parts.append(b["text"]["text"])
        for e in b.get("elements") or []:
            if isinstance(e, dict) and e.get("text") and isinstance(e["text"], str):
                parts.append(e["text"])
    return "\n".join(parts)


def problem_csv(bot: Bot, thread_ts: str) -> list[dict[str, str]]:
    reply = bot.wait(lambda e: next((m for m in e.replies(CHANNEL, thread_ts) if m.get("files")), None))
    url = reply["files"][0]["url_private_download"]
    got = httpx.get(url, headers={"Authorization": f"Bearer {bot.settings.slack_bot_token}"})
    assert got.status_code == 200
    return list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))


def test_shortcut_previews_a_file_in_its_thread(bot: Bot) -> None:
    ts, _ = share_file(bot, "leads.csv", GOOD_AND_BAD)
    writes = bot.telecrm_writes()
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    preview = the_preview(bot)
    text = text_of(preview)
    assert "leads.csv" in text and "5 rows" in text and "2 ready to import" in text
    confirm = buttons(preview)[ids.ACT_IMPORT_CONFIRM]
    assert confirm["text"]["text"] == "Import 2 valid rows"
    record = bot.services.imports.get(confirm["value"])
    assert record is not None and record.state == PREVIEW and record.source == "shortcut"
    assert (record.total_rows, record.valid_rows, record.problem_rows) == (5, 2, 3)
    assert record.thread_ts == preview["ts"] and record.channel == CHANNEL
    rows = bot.services.imports.rows(record.id)
    assert [r.body for r in rows] == [
        {
            "fields": {
                "name": "Jane Doe",
                "phone": "919876543210",
                "email": "jane@example.com",
                "rating": 5,
                "status": "Fresh",
                "city": "Mumbai",
            }
        },
        {
            "fields": {
                "name": "Ravi",
                "phone": "919876543212",
                "email": "ravi@example.com",
                "status": "Contacted",
                "city": "Delhi",
            }
        },
    ]
    details = bot.wait(
        lambda e: next((m for m in e.replies(CHANNEL, preview["ts"]) if "Columns" in text_of(m)), None)
    )
    details_text = text_of(details)
    assert "`Phone` → *Phone*" in details_text
    assert "Phone: is not a phone number" in details_text and "row 3" in details_text
    assert "Repeated identifier" in details_text and "repeats row 2" in details_text
    reasons = {r["row"]: r["reason"] for r in problem_csv(bot, preview["ts"])}
    assert set(reasons) == {"3", "4", "5"}
    assert reasons["4"].startswith("Email: “jane@” is not an email address")
    bot.settle()
    assert bot.telecrm_writes() == writes  # a preview sends nothing


def test_lead_import_opens_the_form_and_previews_the_file(bot: Bot) -> None:
    bot.command("/lead", "import")
    view = bot.wait(lambda e: next(iter(e.open_views(USER)), None))
    file_block = next(b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_IMPORT_FILE)
    assert file_block["element"]["type"] == "file_input"
    assert file_block["element"]["filetypes"] == ["csv", "xlsx"] and file_block["element"]["max_files"] == 1
    assert "update that lead" in text_of({"blocks": view["blocks"]})
    bot.emulator.submit_view_with_files(  # picked from the person's computer in the form
        user=USER,
        files={ids.BLOCK_IMPORT_FILE: [("team.csv", b"phone;name\n9876543210;Asha\n9876543211;Ravi\n")]},
        values={"import_channel": CHANNEL},
    )
    preview = the_preview(bot)
    assert buttons(preview)[ids.ACT_IMPORT_CONFIRM]["text"]["text"] == "Import 2 valid rows"
    record = bot.services.imports.get(buttons(preview)[ids.ACT_IMPORT_CONFIRM]["value"])
    assert (
        record is not None
        and record.source == "modal"
        and record.mapping == {"phone": "phone", "name": "name"}
    )


def test_cancel_in_preview(bot: Bot) -> None:
    ts, _ = share_file(bot, "leads.csv", GOOD_AND_BAD)
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    preview = the_preview(bot)
    import_id = buttons(preview)[ids.ACT_IMPORT_CONFIRM]["value"]
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_IMPORT_PREVIEW_CANCEL, channel=CHANNEL, message_ts=preview["ts"]
    )
    cancelled = bot.wait(
        lambda e: next(
            (m for m in e.messages(CHANNEL) if m["ts"] == preview["ts"] and "cancelled" in text_of(m)), None
        )
    )
    assert "Nothing was sent to TeleCRM" in text_of(cancelled) and not buttons(cancelled)
    record = bot.services.imports.get(import_id)
    assert record is not None and record.state == CANCELLED


def test_change_mapping_checks_again_in_place(bot: Bot) -> None:
    ts, _ = share_file(bot, "mobiles.csv", "Name,Mobile\nAsha,9876543210\nRavi,9876543211\n")
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    preview = the_preview(bot)
    assert ids.ACT_IMPORT_CONFIRM not in buttons(preview)  # no column is the identifier: nothing to import
    assert "No column is mapped to Phone" in text_of(preview)
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_IMPORT_CHANGE_MAPPING, channel=CHANNEL, message_ts=preview["ts"]
    )
    view = bot.wait(lambda e: next(iter(e.open_views(USER)), None))
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["Name", "Mobile"]
    bot.emulator.submit_view(user=USER, values={"col:1": "phone"})
    updated = bot.wait(
        lambda e: next(
            (
                m
                for m in e.messages(CHANNEL)
                if m["ts"] == preview["ts"] and ids.ACT_IMPORT_CONFIRM in buttons(m)
            ),
            None,
        ),
        timeout=20,
    )
    assert buttons(updated)[ids.ACT_IMPORT_CONFIRM]["text"]["text"] == "Import 2 valid rows"
    bot.settle()
    details = [m for m in bot.replies(preview["ts"]) if "Columns" in text_of(m)]
    assert len(details) == 1 and "`Mobile` → *Phone*" in text_of(details[0])  # updated in place


def test_a_message_without_a_file_and_a_file_that_is_not_a_table(bot: Bot) -> None:
    posted = bot.services.slack.chat_postMessage(channel=CHANNEL, text="no file here")
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=posted["ts"]
    )
    bot.wait(lambda e: any("no CSV or XLSX file" in m["text"] for m in e.ephemerals(USER)))
    ts, _ = share_file(bot, "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    refused = bot.wait(
        lambda e: next((m for m in e.messages(CHANNEL) if "binary file" in text_of(m)), None), timeout=20
    )
    assert "Nothing was sent to TeleCRM" in text_of(refused)
    assert bot.services.imports.in_state(PREVIEW) == []


def test_the_same_file_again_asks_first(bot: Bot) -> None:
    ts, _ = share_file(bot, "leads.csv", GOOD_AND_BAD)
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    first = buttons(the_preview(bot))[ids.ACT_IMPORT_CONFIRM]["value"]
    # the sending engine's import_confirm moves it on; here its state stands in for that
    assert bot.services.imports.move(first, to="done", only_from=[PREVIEW])
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    question = bot.wait(
        lambda e: next((m for m in e.messages(CHANNEL) if "already imported on" in text_of(m)), None),
        timeout=20,
    )
    assert "(2 rows). Import it again?" in text_of(question)
    assert ids.ACT_IMPORT_CONFIRM not in buttons(question)
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_IMPORT_AGAIN, channel=CHANNEL, message_ts=question["ts"]
    )
    again = bot.wait(
        lambda e: next(
            (
                m
                for m in e.messages(CHANNEL)
                if m["ts"] == question["ts"] and ids.ACT_IMPORT_CONFIRM in buttons(m)
            ),
            None,
        ),
        timeout=20,
    )
    assert buttons(again)[ids.ACT_IMPORT_CONFIRM]["value"] != first
    assert "already imported on" in text_of(again)


def test_xlsx_and_names_that_would_ping(bot: Bot) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "<!channel>"])
    sheet.append(["<!here> Jane", 919876543210, "x"])
    sheet.append(["Bad", 12, "y"])
    buffer = io.BytesIO()
    book.save(buffer)
    ts, _ = share_file(bot, "<!channel>.xlsx", buffer.getvalue())
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    preview = the_preview(bot)
    assert buttons(preview)[ids.ACT_IMPORT_CONFIRM]["text"]["text"] == "Import 1 valid row"
    record = bot.services.imports.get(buttons(preview)[ids.ACT_IMPORT_CONFIRM]["value"])
    assert record is not None
    assert [r.body for r in bot.services.imports.rows(record.id)] == [
        {"fields": {"name": "<!here> Jane", "phone": "919876543210"}}
    ]
    bot.settle()
    everything = [preview, *bot.replies(preview["ts"])]
    for message in everything:
        assert "<!channel>" not in text_of(message) and "<!here>" not in text_of(message)
    assert "&lt;!channel&gt;" in text_of(preview)


def test_over_the_row_limit_nothing_is_kept(make_bot: Any) -> None:
    bot = make_bot(import_max_rows=3)
    ts, _ = share_file(bot, "four.csv", "phone\n9876543210\n9876543211\n9876543212\n9876543213\n")
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    refused = bot.wait(
        lambda e: next((m for m in e.messages(CHANNEL) if "more than 3 rows" in text_of(m)), None), timeout=20
    )
    assert "IMPORT_MAX_ROWS" in text_of(refused) and "Nothing was sent to TeleCRM" in text_of(refused)
    assert bot.services.imports.in_state(PREVIEW) == []
