"""Helpers for the sending tests: an import filled directly through storage (no file is read: the
preview is another part of the feature), its preview message with *Import N valid rows* posted by the
bot in a thread, and the bot (the import feature binds the sending listeners)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from commands.lead_import.sending_listeners import ACT_IMPORT_CONFIRM
from storage.imports import CheckedRow
from tests.conftest import CHANNEL, USER, Bot


def phone(n: int) -> str:
    return f"9198{n:08d}"


def lead_body(n: int, *, payment: str | None = None, name: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"fields": {"phone": phone(n), "name": name or f"Imported {n}"}}
    if payment is not None:
        body["actions"] = [{"type": "PAYMENT", "amount": payment, "currency": "INR", "status": "COMPLETED"}]
    return body


@dataclass
class Preview:
    import_id: str
    thread_ts: str  # the channel message the import's thread hangs under
    preview_ts: str  # the preview message with the button, in the thread


def make_import(
    bot: Bot,
    bodies: Iterable[dict[str, Any]],
    *,
    problem_rows: int = 0,
    file_name: str = "leads.csv",
) -> Preview:
    """An import in ``preview`` with these valid rows, and its preview in a thread of #sales."""
    services = bot.services
    rows = [CheckedRow(n + 2, body["fields"]["phone"], body) for n, body in enumerate(bodies)]
    record = services.imports.create(
        file_sha256=hashlib.sha256(repr(rows).encode()).hexdigest(),
        file_name=file_name,
        source="slack",
        on_existing="update",
        user_id=USER,
        channel=CHANNEL,
    )
    services.imports.replace_rows(
        record.id,
        mapping={"Phone": "phone", "Name": "name"},
        total_rows=len(rows) + problem_rows,
        problems={"phone is not a phone number": problem_rows} if problem_rows else {},
        problem_rows=problem_rows,
        rows=rows,
    )
    parent = services.slack.chat_postMessage(channel=CHANNEL, text=f"Import of {file_name}")
    preview = services.slack.chat_postMessage(
        channel=CHANNEL,
        thread_ts=parent["ts"],
        text="Preview",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{len(rows)} valid rows"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": f"Import {len(rows)} valid rows"},
                        "action_id": ACT_IMPORT_CONFIRM,
                        "value": record.id,
                        "style": "primary",
                    }
                ],
            },
        ],
    )
    services.imports.set_thread(record.id, channel=CHANNEL, thread_ts=parent["ts"])
    return Preview(record.id, parent["ts"], preview["ts"])


def confirm(bot: Bot, preview: Preview, user: str = USER) -> Any:
    delivery = bot.emulator.click_button(
        user=user, action_id=ACT_IMPORT_CONFIRM, channel=CHANNEL, message_ts=preview.preview_ts
    )
    assert delivery.status == 200, delivery.body
    return delivery


def thread_texts(bot: Bot, preview: Preview) -> list[str]:
    return [m.get("text", "") for m in bot.replies(preview.thread_ts)]


def progress_message(bot: Bot, preview: Preview) -> dict[str, Any] | None:
    record = bot.services.imports.get(preview.import_id)
    if record is None or not record.progress_ts:
        return None
    return next((m for m in bot.replies(preview.thread_ts) if m["ts"] == record.progress_ts), None)


def summary(bot: Bot, preview: Preview, timeout: float = 60.0) -> str:
    """The summary message, once the import has one."""

    def found(_: Any) -> str | None:
        return next((t for t in thread_texts(bot, preview) if t.startswith("*Import of")), None)

    return bot.wait(found, timeout=timeout)


def click(bot: Bot, preview: Preview, action_id: str, user: str = USER) -> Any:
    record = bot.services.imports.get(preview.import_id)
    assert record is not None and record.progress_ts
    delivery = bot.emulator.click_button(
        user=user, action_id=action_id, channel=CHANNEL, message_ts=record.progress_ts
    )
    assert delivery.status == 200, delivery.body
    return delivery


@pytest.fixture
def sending_bot(make_bot: Callable[..., Bot]) -> Callable[..., Bot]:
    """A bot with the sending listeners (commands/lead_import/__init__.py binds them at merge), a fast
    pace and a short verify window unless a test says otherwise."""

    def factory(**kw: Any) -> Bot:
        settings = {
            "telecrm_async_rate_per_hour": 36_000,
            "import_verify_wait_seconds": 3.0,
            **kw.pop("settings", {}),
        }
        return make_bot(**settings, **kw)

    return factory
