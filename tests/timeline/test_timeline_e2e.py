"""/timeline end to end: the real app behind HTTP, the Slack emulator and the TeleCRM sandbox."""

from __future__ import annotations

from commands.timeline.form import BLOCK_FROM, BLOCK_LEAD, BLOCK_TO, BLOCK_TYPE
from commands.timeline.query import PAGE_SIZE
from kit import ids
from kit.format import format_when
from tests.conftest import ADMIN, USER, Bot

from .conftest import PHONE, PRIYA_EMAIL, answered, click, ist_ms, make_lead, seed_history, texts, timeline


def _sandbox_calls(bot: Bot) -> int:
    return len(bot.sandbox.request_log)


def _only_ephemeral(bot: Bot, user: str = USER) -> dict:
    messages = bot.ephemerals(user)
    assert len(messages) == 1, [m["text"] for m in messages]
    return messages[0]


def test_history_is_shown_readably_to_the_caller_only_when_the_bot_has_no_thread(bot: Bot) -> None:
    lead = make_lead(bot)
    seed_history(bot, lead)

    timeline(bot, PHONE)

    shown = texts(_only_ephemeral(bot))
    assert "Timeline: Jane Doe" in shown
    assert "📲 *Outgoing call*" in shown and "by Priya Sharma" in shown and "*Duration:* 3m 05s" in shown
    assert "💬 *Incoming WhatsApp message*" in shown and "Is the 5 kW plan available?" in shown
    # custom action by its display name from the cache, with its fields by label
    assert "*Site Visit*" in shown and "*Visit notes:* Roof is south facing" in shown
    assert "*Outcome:* Interested" in shown and "1001" not in shown
    assert "💰 *Payment* · *₹5,000.00* · ✅ Completed" in shown
    # newest first
    order = [shown.index(s) for s in ("*Payment*", "*Site Visit*", "WhatsApp", "*Outgoing call*")]
    assert order == sorted(order)
    assert bot.messages() == [] and bot.ephemerals(ADMIN) == []
    assert bot.emulator.failed_calls() == []


def test_reply_goes_to_the_lead_thread_when_the_bot_knows_it(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    seed_history(bot, lead)

    timeline(bot, lead.id)

    replies = bot.replies(lead.thread_ts)
    assert len(replies) == 1 and "*Site Visit*" in texts(replies[0])
    pointer = _only_ephemeral(bot)["text"]
    assert "Posted the timeline of Jane Doe" in pointer and "its thread" in pointer

    click(bot, ids.ACT_CARD_TIMELINE, lead.thread_ts, user=ADMIN)
    assert len(bot.replies(lead.thread_ts)) == 2
    assert bot.emulator.failed_calls() == []


def test_type_filter_accepts_builtin_codes_and_custom_display_names(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    seed_history(bot, lead)

    for text in (f"{PHONE} outgoing-call", f'{PHONE} "site visit"', f"{PHONE} PAYMENT"):
        timeline(bot, text)

    calls, visits, payments = (texts(m) for m in bot.replies(lead.thread_ts))
    assert "*Outgoing call*" in calls and "Site Visit" not in calls and "1–1 of 1" in calls
    assert "*Site Visit*" in visits and "Outgoing call" not in visits.split("\n", 2)[-1]
    assert "*Payment*" in payments and "*Site Visit*" not in payments


def test_date_range_keeps_both_days_whole_in_the_users_time_zone(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    seed_history(bot, lead)  # 28 Mar call, 2 Apr message, 30 Apr 23:30 IST visit, payment today
    bot.sandbox.add_builtin_action(lead.id, "MISSED_CALL", created_on_ms=ist_ms(2026, 5, 1, 0, 30))

    timeline(bot, f"{PHONE} 01/04/2026..30/04/2026")

    shown = texts(bot.replies(lead.thread_ts)[-1])
    assert "WhatsApp" in shown and "*Site Visit*" in shown and "1–2 of 2" in shown
    assert "Outgoing call" not in shown and "Missed call" not in shown and "Payment" not in shown
    assert "1 Apr 2026 – 30 Apr 2026" in shown


def test_bad_filters_are_explained_before_any_telecrm_call(bot: Bot) -> None:
    lead = make_lead(bot)
    seed_history(bot, lead)
    before = _sandbox_calls(bot)

    for text in (f"{PHONE} VISITED", f"{PHONE} 31/04/2026", f"{PHONE} 30/04/2026..01/04/2026", "not-a-phone"):
        timeline(bot, text)

    unknown_type, bad_date, reversed_range, bad_lead = (m["text"] for m in bot.ephemerals())
    assert "“VISITED” is not an activity type" in unknown_type and "Site Visit" in unknown_type
    assert "“31/04/2026” is not a date" in bad_date and "DD/MM/YYYY" in bad_date
    assert "ends (01/04/2026) before it starts (30/04/2026)" in reversed_range
    assert "“not-a-phone” is not a lead id" in bad_lead and "Phone" in bad_lead
    assert _sandbox_calls(bot) == before


def test_unknown_lead_gets_a_clear_answer(bot: Bot) -> None:
    for text in ("919900000001", "0123456789abcdef01234567"):
        timeline(bot, text)

    by_phone, by_id = (m["text"] for m in bot.ephemerals())
    assert "TeleCRM has no lead with phone 919900000001" in by_phone
    assert "TeleCRM has no lead with id `0123456789abcdef01234567`" in by_id


def test_times_are_shown_in_each_users_time_zone(bot: Bot) -> None:
    lead = make_lead(bot)
    when = ist_ms(2026, 4, 10, 9, 15)
    bot.sandbox.add_builtin_action(lead.id, "INCOMING_CALL", created_on_ms=when)

    for user in (USER, "U0OMAR"):
        timeline(bot, PHONE, user=user)

    assert "10 Apr 2026, 9:15 AM IST" in texts(bot.ephemerals(USER)[0])
    dubai = texts(bot.ephemerals("U0OMAR")[0])
    assert format_when(when, "Asia/Dubai") in dubai and "7:45 AM" in dubai and "Asia/Dubai" in dubai


def test_older_and_newer_page_through_the_history_in_place(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    for n in range(45):
        bot.sandbox.add_builtin_action(
            lead.id, "OUTGOING_CALL", created_on_ms=ist_ms(2026, 4, 1) + n * 60_000
        )

    timeline(bot, PHONE)
    (page,) = bot.replies(lead.thread_ts)
    assert f"1–{PAGE_SIZE} of 45" in texts(page) and "12:44 PM" in texts(page)

    click(bot, ids.ACT_TIMELINE_OLDER, page["ts"])
    (page,) = bot.replies(lead.thread_ts)
    assert "21–40 of 45" in texts(page) and "12:24 PM" in texts(page) and "12:44 PM" not in texts(page)

    click(bot, ids.ACT_TIMELINE_OLDER, page["ts"])
    (page,) = bot.replies(lead.thread_ts)
    assert "41–45 of 45" in texts(page) and "12:00 PM" in texts(page)
    buttons = [e["action_id"] for b in page["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [ids.ACT_TIMELINE_NEWER]

    click(bot, ids.ACT_TIMELINE_NEWER, page["ts"])
    assert "21–40 of 45" in texts(bot.replies(lead.thread_ts)[0])
    assert bot.emulator.failed_calls() == []


def test_older_on_a_callers_only_page_replaces_it(bot: Bot) -> None:
    lead = make_lead(bot)
    for n in range(25):
        bot.sandbox.add_builtin_action(lead.id, "MISSED_CALL", created_on_ms=ist_ms(2026, 4, 1) + n * 60_000)

    timeline(bot, PHONE)
    page = _only_ephemeral(bot)
    click(bot, ids.ACT_TIMELINE_OLDER, page["ts"])
    shown = texts(_only_ephemeral(bot))
    assert "21–25 of 25" in shown and "Timeline: Jane Doe" in shown


def test_three_hundred_actions_stay_within_slack_message_limits(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    long_text = "Customer asked about net metering, subsidy and EMI options. " * 40
    for n in range(300):
        kind = ("OUTGOING_CALL", "INCOMING_WHATSAPP_MSG", "SYSTEM_NOTE")[n % 3]
        bot.sandbox.add_builtin_action(
            lead.id,
            kind,
            created_on_ms=ist_ms(2026, 1, 1) + n * 3_600_000,
            performed_by=PRIYA_EMAIL,
            message=long_text,
            note=long_text,
            summary=long_text,
        )

    timeline(bot, PHONE)
    seen = 0
    while True:
        (page,) = bot.replies(lead.thread_ts)
        assert len(page["blocks"]) <= 50 and len(page["text"]) <= 40_000
        sections = [b for b in page["blocks"] if b["type"] == "section"]
        assert all(len(b["text"]["text"]) <= 3000 for b in sections)
        seen += len(sections)
        older = [
            e for b in page["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == ids.ACT_TIMELINE_OLDER
        ]  # fmt: skip
        if not older:
            break
        click(bot, ids.ACT_TIMELINE_OLDER, page["ts"])
    assert seen == 300
    assert bot.emulator.failed_calls() == []


def test_timeline_alone_opens_a_form_that_checks_its_filters(bot: Bot) -> None:
    lead = make_lead(bot, with_card=True)
    seed_history(bot, lead)

    bot.command("/timeline", "")
    (view,) = bot.wait(lambda emulator: emulator.open_views(USER))
    assert view["callback_id"] == ids.VIEW_TIMELINE
    type_select = next(b for b in view["blocks"] if b["block_id"] == BLOCK_TYPE)["element"]
    groups = {
        g["label"]["text"]: [o["text"]["text"] for o in g["options"]] for g in type_select["option_groups"]
    }
    assert "📲 Outgoing call" in groups["Built-in"]
    assert "📌 Site Visit" in groups["Custom activities"]
    before = _sandbox_calls(bot)

    bot.emulator.submit_view(
        user=USER, values={BLOCK_LEAD: "nope", BLOCK_FROM: "2026-04-30", BLOCK_TO: "2026-04-01"}
    )
    (view,) = bot.emulator.open_views(USER)
    assert set(view["errors"]) == {BLOCK_LEAD, BLOCK_TO}
    assert "not a lead id" in view["errors"][BLOCK_LEAD]
    assert "before the start date" in view["errors"][BLOCK_TO]
    assert _sandbox_calls(bot) == before

    answered(
        bot,
        lambda: bot.emulator.submit_view(
            user=USER,
            values={BLOCK_LEAD: PHONE, BLOCK_TYPE: "1001", BLOCK_FROM: "2026-04-01", BLOCK_TO: "2026-04-30"},
        ),
    )
    assert bot.emulator.open_views(USER) == []
    shown = texts(bot.replies(lead.thread_ts)[-1])
    assert "*Site Visit*" in shown and "1–1 of 1" in shown and "Payment" not in shown
    assert bot.emulator.failed_calls() == []


def test_the_form_lists_the_types_this_workspace_uses_first(bot: Bot) -> None:
    lead = make_lead(bot)
    seed_history(bot, lead)
    timeline(bot, PHONE)  # reading a timeline teaches the bot which types the workspace uses

    bot.command("/timeline", "")
    (view,) = bot.wait(lambda emulator: emulator.open_views(USER))
    element = next(b for b in view["blocks"] if b["block_id"] == BLOCK_TYPE)["element"]
    first = element["option_groups"][0]
    assert first["label"]["text"] == "Used in this workspace"
    assert {o["value"] for o in first["options"]} == {
        "PAYMENT",
        "1001",
        "INCOMING_WHATSAPP_MSG",
        "OUTGOING_CALL",
    }
    offered = [o["value"] for g in element["option_groups"] for o in g["options"]]
    assert not any(v.startswith(("MAQSAM_", "KNOWLARITY_")) for v in offered)
