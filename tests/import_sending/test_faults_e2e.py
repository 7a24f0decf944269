"""Sending under TeleCRM's trouble: a storm of 429s loses no row, an answer lost after TeleCRM took
the request never records a payment twice, and a large import is verified on a sample."""

from __future__ import annotations

from tests.import_sending.conftest import confirm, lead_body, make_import, phone, summary


def payments_of(bot, n: int) -> list[str]:
    lead = bot.sandbox.find_lead(phone(n))
    assert lead is not None, f"row {n} never became a lead"
    return [a["amount"] for a in bot.sandbox.actions(lead["id"]) if a["type"] == "PAYMENT"]


def test_a_storm_of_429s_loses_no_row_and_sends_none_twice(sending_bot):
    bot = sending_bot()
    preview = make_import(bot, [lead_body(n, payment=str(100 + n)) for n in range(12)])
    # eight refusals in a row, each asking for a second's wait: the pace is held off for everyone
    # after each, and the rows they hit are sent again, once
    bot.sandbox.faults.fail_next(8, 429, retry_after=1, path_contains="autoupdatelead")
    confirm(bot, preview)
    text = summary(bot, preview, timeout=90)
    assert "12 rows sent" in text and "12 found" in text
    bot.settle()
    for n in range(12):
        assert payments_of(bot, n) == [str(100 + n)]
    async_posts = [r for r in bot.sandbox.request_log if "autoupdatelead" in r.path]
    assert sum(1 for r in async_posts if r.status == 429) == 8
    assert sum(1 for r in async_posts if r.status == 200) == 12


def test_an_answer_lost_after_telecrm_took_the_row_records_its_payment_once(sending_bot):
    bot = sending_bot()
    preview = make_import(bot, [lead_body(n, payment="250") for n in range(4)])
    # the second row reaches TeleCRM, but its answer is a 503: its outcome is unknown to the bot
    bot.sandbox.faults.fail_after_write_next(1, 503, path_contains="autoupdatelead")
    confirm(bot, preview)
    text = summary(bot, preview, timeout=90)
    assert "4 rows sent" in text and "4 found" in text
    bot.settle()
    for n in range(4):
        assert payments_of(bot, n) == ["250"]


def test_an_answer_lost_before_telecrm_applied_anything_is_sent_again(sending_bot):
    bot = sending_bot()
    preview = make_import(bot, [lead_body(n, payment="75") for n in range(3)])
    bot.sandbox.faults.fail_next(1, 503, path_contains="autoupdatelead")  # refused, nothing applied
    confirm(bot, preview)
    text = summary(bot, preview, timeout=90)
    assert "3 rows sent" in text and "3 found" in text
    bot.settle()
    for n in range(3):
        assert payments_of(bot, n) == ["75"]


def test_a_large_import_is_verified_on_a_random_sample_of_400(sending_bot):
    bot = sending_bot(settings={"telecrm_async_rate_per_hour": 1_000_000, "import_verify_all_max": 100})
    preview = make_import(bot, [lead_body(n) for n in range(450)])
    confirm(bot, preview)
    text = summary(bot, preview, timeout=120)
    assert "450 rows sent" in text
    assert "A random sample of 400 of the 450 rows sent was read back: 400 found" in text
    counts = bot.services.imports.row_counts(preview.import_id)
    assert counts["verified"] == 400 and counts["sent"] == 50


def test_a_refused_async_token_pauses_the_import_and_says_so_and_resume_finishes_it(sending_bot):
    from kit.imports.progress import ACT_RESUME
    from tests.import_sending.conftest import click, progress_message

    bot = sending_bot()
    preview = make_import(bot, [lead_body(n) for n in range(4)])
    bot.sandbox.faults.fail_next(1, 401, path_contains="autoupdatelead")
    confirm(bot, preview)
    bot.settle()
    message = progress_message(bot, preview)
    assert "refused the Async token" in message["blocks"][0]["text"]["text"]
    assert "Resume" in str(message["blocks"])
    assert bot.services.imports.get(preview.import_id).state == "paused"
    click(bot, preview, ACT_RESUME)
    text = summary(bot, preview)
    assert "4 rows sent" in text and "4 found" in text


def test_cancel_while_paused_posts_the_summary_once(sending_bot):
    from kit.imports.progress import ACT_CANCEL_SENDING, ACT_PAUSE
    from tests.import_sending.conftest import click, progress_message

    bot = sending_bot(settings={"telecrm_async_rate_per_hour": 3_600})
    preview = make_import(bot, [lead_body(n) for n in range(30)])
    confirm(bot, preview)
    bot.wait(lambda _: "Pause" in str((progress_message(bot, preview) or {}).get("blocks")))
    click(bot, preview, ACT_PAUSE)
    bot.settle()
    click(bot, preview, ACT_CANCEL_SENDING)
    text = summary(bot, preview)
    bot.settle()
    sent = 30 - bot.services.imports.row_counts(preview.import_id)["ready"]
    assert (
        f"{sent:,} rows were sent before it stopped" if sent != 1 else "1 row was sent before it stopped"
    ) in text
    replies = bot.replies(preview.thread_ts)
    assert sum(1 for m in replies if m.get("text", "").startswith("*Import of")) == 1
    assert "Cancelled" in progress_message(bot, preview)["text"]
