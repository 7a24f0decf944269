"""From *Import N valid rows* on, end to end through the real app, the Slack emulator and the
TeleCRM sandbox: the rows reach TeleCRM once each, the progress message is updated in place, and the
summary says what was verified."""

from __future__ import annotations

from kit.imports.progress import ACT_CANCEL_SENDING, ACT_PAUSE, ACT_RESUME
from storage.imports import CANCELLED, DONE, PAUSED
from tests.import_sending.conftest import (
    click,
    confirm,
    lead_body,
    make_import,
    phone,
    progress_message,
    summary,
)


def test_confirm_sends_every_row_once_and_the_summary_says_all_were_verified(sending_bot):
    bot = sending_bot()
    existing = bot.sandbox.find_lead("919812345670")  # a demo lead: updated, not created
    assert existing is not None
    bodies = [lead_body(n, payment="500" if n % 5 == 0 else None) for n in range(20)]
    bodies.append({"fields": {"phone": "919812345670", "name": "Renamed by import"}})
    preview = make_import(bot, bodies, problem_rows=3)
    confirm(bot, preview)

    text = summary(bot, preview)
    assert "21 rows sent" in text
    assert "All 21 rows sent were read back: 21 found (20 created, 1 updated), 0 not found" in text
    assert "3 rows were skipped for the problems the preview lists" in text
    for n in range(20):
        lead = bot.sandbox.find_lead(phone(n))
        assert lead is not None and lead["fields"]["name"] == f"Imported {n}"
        payments = [a for a in bot.sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"]
        assert len(payments) == (1 if n % 5 == 0 else 0)
    assert bot.sandbox.find_lead("919812345670")["fields"]["name"] == "Renamed by import"
    # the leads read back are in the index /lead find searches by part of a value
    assert bot.services.lead_index.get(bot.sandbox.find_lead(phone(7))["id"]) is not None
    progress = progress_message(bot, preview)
    assert progress is not None and "21 of 21 rows sent" in progress["text"]
    assert not [b for b in progress["blocks"] if b["type"] == "actions"]  # no buttons once done
    bot.settle()
    assert bot.services.imports.get(preview.import_id).state == DONE


def test_a_double_click_starts_one_send(sending_bot):
    bot = sending_bot()
    preview = make_import(bot, [lead_body(n, payment="100") for n in range(5)])
    confirm(bot, preview)
    confirm(bot, preview)
    summary(bot, preview)
    bot.settle()
    for n in range(5):
        lead = bot.sandbox.find_lead(phone(n))
        assert [a["amount"] for a in bot.sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"] == ["100"]
    replies = bot.replies(preview.thread_ts)
    assert sum(1 for m in replies if m.get("text", "").startswith("*Import of")) == 1
    progress = [
        m for m in replies if any(b.get("block_id") == "import_progress" for b in m.get("blocks") or [])
    ]
    assert len(progress) == 1
    assert any("already" in e.get("text", "") for e in bot.ephemerals())


def test_rows_telecrm_never_applies_are_reported_missing_with_a_csv(sending_bot):
    bot = sending_bot()
    bodies = [lead_body(n) for n in range(4)] + [{"fields": {"phone": "99999", "name": "No country code"}}]
    preview = make_import(bot, bodies)
    confirm(bot, preview)
    text = summary(bot, preview)
    assert "4 found" in text and "1 not found after the waiting time" in text
    bot.settle()
    files = [f for m in bot.replies(preview.thread_ts) for f in m.get("files") or []]
    assert [f["name"] for f in files] == ["leads-not-found.csv"]


def test_pause_resume_and_cancel(sending_bot):
    # slow enough to press the buttons while it sends: 1 row a second
    bot = sending_bot(settings={"telecrm_async_rate_per_hour": 3_600})
    preview = make_import(bot, [lead_body(n) for n in range(40)])
    confirm(bot, preview)
    bot.wait(
        lambda _: (
            (m := progress_message(bot, preview))
            and "ACT" not in m["text"]
            and m["blocks"][-1]["type"] == "actions"
        )
    )
    click(bot, preview, ACT_PAUSE)
    bot.wait(lambda _: "Resume" in str(progress_message(bot, preview)["blocks"]))
    assert bot.services.imports.get(preview.import_id).state == PAUSED
    bot.settle()  # the run ended: nothing is sent while paused
    sent_when_paused = len(
        [lead for lead in bot.sandbox.leads() if lead["fields"].get("name", "").startswith("Imported")]
    )
    assert sent_when_paused < 40
    click(bot, preview, ACT_RESUME)
    bot.wait(lambda _: "Pause" in str(progress_message(bot, preview)["blocks"]))
    click(bot, preview, ACT_CANCEL_SENDING)
    text = summary(bot, preview)
    bot.settle()
    record = bot.services.imports.get(preview.import_id)
    assert record.state == CANCELLED
    counts = bot.services.imports.row_counts(preview.import_id)
    sent = 40 - counts["ready"]
    assert (
        f"{sent:,} rows were" if sent != 1 else "1 row was"
    ) + f" sent before it stopped; {40 - sent:,} were not sent" in text
    bot.sandbox.drain_async()
    imported = [lead for lead in bot.sandbox.leads() if lead["fields"].get("name", "").startswith("Imported")]
    assert len(imported) == sent < 40


def test_no_async_token_is_a_clear_answer_and_nothing_is_sent(sending_bot):
    bot = sending_bot(settings={"telecrm_async_token": ""})
    bot.services.telecrm._transport._async_token = None  # as a live workspace without one
    preview = make_import(bot, [lead_body(1)])
    confirm(bot, preview)
    bot.settle()
    assert any("no Async token is configured" in e.get("text", "") for e in bot.ephemerals())
    assert bot.services.imports.get(preview.import_id).state == "preview"
    assert bot.sandbox.find_lead(phone(1)) is None


def test_the_cli_engine_sends_and_verifies_an_import_to_the_end_with_progress(sending_bot):
    from kit.imports.progress import progress_text, summary_text
    from kit.imports.sending import import_summary, send_import
    from storage.imports import CheckedRow

    bot = sending_bot()
    services = bot.services
    record = services.imports.create(
        file_sha256="c" * 64, file_name="ops.csv", source="cli", on_existing="update"
    )
    bodies = [lead_body(n, payment="10") for n in range(8)]
    services.imports.replace_rows(
        record.id,
        mapping={"Phone": "phone"},
        total_rows=8,
        problems={},
        problem_rows=0,
        rows=[CheckedRow(n + 2, b["fields"]["phone"], b) for n, b in enumerate(bodies)],
    )
    seen = []
    state = send_import(services, record.id, on_progress=seen.append)
    assert state == DONE
    assert seen[-1].sent == 8 and seen[-1].state == DONE
    assert any(p.state == "verifying" for p in seen)
    assert progress_text(seen[-1]) == "Done: 8 of 8 rows sent"
    assert services.imports.row_counts(record.id)["verified"] == 8
    assert summary_text(import_summary(services, record.id)).startswith(
        "*Import of ops.csv finished.* 8 rows sent"
    )
    for n in range(8):
        assert bot.sandbox.find_lead(phone(n)) is not None


def test_a_lead_with_a_card_gets_its_card_redrawn_after_the_import_changed_it(sending_bot):
    import json

    bot = sending_bot()
    bot.command("/lead", f'name="Before Import" phone={phone(3)}')
    bot.settle()

    def card_with(name: str):
        def found(_):
            return next((m for m in bot.messages() if name in json.dumps(m.get("blocks") or [])), None)

        return found

    bot.wait(card_with("Before Import"))
    preview = make_import(bot, [lead_body(n) for n in range(5)])  # row 3 renames that lead
    confirm(bot, preview)
    summary(bot, preview)
    card = bot.wait(card_with("Imported 3"), timeout=30)
    assert "Before Import" not in json.dumps(card["blocks"])
