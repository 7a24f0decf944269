"""A whole import as people do it, end to end through the real bot, the Slack emulator and the TeleCRM
sandbox: a person shares a spreadsheet (or picks one in the form), the preview is posted, *Import N
valid rows* sends through the Async API, and the summary proves every row landed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kit import ids
from storage.imports import DONE
from tests.conftest import CHANNEL, USER, Bot
from tests.lead_import.test_preview_e2e import buttons, text_of, the_preview

VISITORS = (
    "Name,Phone,E-mail,Payment amount,Payment currency,Payment status\n"
    "Asha Rao,98450 11111,asha@example.in,2500,INR,COMPLETED\n"
    "Bilal Khan,9845011112,bilal@example.in,,,\n"
    "Chen Li,9845011113,,,,\n"
    "No Phone,,nobody@example.in,,,\n"
)


def fast_bot(make_bot: Callable[..., Bot]) -> Bot:
    return make_bot(telecrm_async_rate_per_hour=36_000, import_verify_wait_seconds=3.0)


def summary_of(bot: Bot, thread_ts: str) -> str:
    def found(e: Any) -> str | None:
        return next(
            (text_of(m) for m in e.replies(CHANNEL, thread_ts) if "*Import of" in (m.get("text") or "")), None
        )

    return bot.wait(found, timeout=60)


def test_a_file_a_person_shares_becomes_leads_and_the_summary_proves_it(make_bot: Callable[..., Bot]) -> None:
    bot = fast_bot(make_bot)
    _file_id, ts = bot.emulator.share_file(USER, CHANNEL, "visitors.csv", VISITORS.encode(), "from the expo")
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    preview = the_preview(bot)
    assert "4 rows" in text_of(preview) and "3 ready to import" in text_of(preview)
    confirm = buttons(preview)[ids.ACT_IMPORT_CONFIRM]
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_IMPORT_CONFIRM, channel=CHANNEL, message_ts=preview["ts"]
    )

    said = summary_of(bot, preview["ts"])
    assert "Import of visitors.csv finished." in said and "3 rows sent to TeleCRM" in said
    assert "All 3 rows sent were read back: 3 found (3 created, 0 updated), 0 not found" in said
    assert "1 row was skipped for the problems the preview lists" in said
    record = bot.services.imports.get(confirm["value"])
    assert record is not None and record.state == DONE
    for phone, name in (
        ("919845011111", "Asha Rao"),
        ("919845011112", "Bilal Khan"),
        ("919845011113", "Chen Li"),
    ):
        lead = bot.sandbox.find_lead(phone)
        assert lead is not None and lead["fields"]["name"] == name
    payments = [
        a for a in bot.sandbox.find_lead("919845011111").get("actions", []) if a.get("type") == "PAYMENT"
    ]
    assert len(payments) <= 1  # the payment, once (when the sandbox lists actions on the lead)
    assert "Asha Rao" in text_of({"blocks": [], "text": _found(bot, "asha")})  # in the find index


def test_a_file_picked_in_the_import_form_is_previewed_and_sent(make_bot: Callable[..., Bot]) -> None:
    bot = fast_bot(make_bot)
    bot.command("/lead", "import")
    bot.wait(lambda e: next(iter(e.open_views(USER)), None))
    answer = bot.emulator.submit_view_with_files(
        user=USER,
        files={ids.BLOCK_IMPORT_FILE: [("team.csv", b"phone;name\n9845022221;Divya\n9845022222;Esha\n")]},
        values={"import_channel": CHANNEL},
    )
    assert answer.status == 200 and not (answer.json or {}).get("errors")
    preview = the_preview(bot)
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_IMPORT_CONFIRM, channel=CHANNEL, message_ts=preview["ts"]
    )
    said = summary_of(bot, preview["ts"])
    assert "2 rows sent to TeleCRM" in said and "2 found" in said
    assert (
        bot.sandbox.find_lead("919845022221") is not None
        and bot.sandbox.find_lead("919845022222") is not None
    )


def _found(bot: Bot, typed: str) -> str:
    bot.command("/lead", f"find {typed}")
    bot.settle()
    return json.dumps(bot.ephemerals(USER)[-1], ensure_ascii=False)


def test_a_file_accepted_while_slack_is_busy_is_previewed_once_when_it_answers(
    make_bot: Callable[..., Bot],
) -> None:
    """The preview is an outbox job stored before the acknowledgement: Slack refusing the file's
    details for a moment (or the bot restarting) delays it, never loses or doubles it."""
    bot = fast_bot(make_bot)
    _file_id, ts = bot.emulator.share_file(USER, CHANNEL, "later.csv", b"phone,name\n9845033331,Gita\n")
    bot.emulator.web_faults.fail_next("files.info", 2, error="ratelimited", retry_after=0)
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_IMPORT_FROM_FILE, channel=CHANNEL, message_ts=ts
    )
    preview = the_preview(bot)
    assert "later.csv" in text_of(preview) and "1 ready to import" in text_of(preview)
    bot.settle()
    previews = [m for m in bot.messages(CHANNEL) if "later.csv" in json.dumps(m) and m.get("blocks")]
    assert len(previews) == 1  # one message, one import, however many attempts it took
    assert len([c for c in bot.emulator.calls if c["method"] == "files.info"]) >= 3
    assert not [m for m in bot.ephemerals(USER) if "could not import" in json.dumps(m)]
