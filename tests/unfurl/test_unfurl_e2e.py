"""Lead links pasted in Slack unfurl into a compact, current lead card: a person's message → the
emulator's signed ``link_shared`` event → the bot reads the lead from the sandbox → ``chat.unfurl``."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError

from telecrm.sandbox.workspace import demo_workspace
from tests.conftest import ADMIN, CHANNEL, USER, Bot
from tests.lead.conftest import text_of, with_rahul

LEAD_URL = "https://next.telecrm.in/{enterprise_id}/views/all-leads-v2/overlay/l/{lead_id}"


@pytest.fixture
def bot(make_bot: Any) -> Bot:
    return make_bot(workspace=with_rahul(demo_workspace()))


def create_lead(bot: Bot, phone: str, name: str = "Jane Doe") -> str:
    """A lead typed with /lead by Rahul (so the bot has its thread); its id."""
    bot.command("/lead", f'name="{name}" phone={phone} status=Fresh')
    bot.settle()
    found = bot.sandbox.find_lead(phone)
    assert found is not None
    return str(found["id"])


def paste(bot: Bot, text: str, *, channel: str = CHANNEL, user: str = ADMIN) -> str:
    """A person posts ``text``; returns the message's ts once the bot has done what it will."""
    ts = bot.emulator.post_user_message(user=user, channel=channel, text=text)
    bot.settle()
    return ts


def unfurls_of(bot: Bot, ts: str, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """The app unfurls shown under a message (in the channel or in one of its threads)."""
    top = bot.emulator.messages(channel)
    replies = [r for m in top if m.get("reply_count") for r in bot.emulator.replies(channel, m["ts"])]
    message = next(m for m in top + replies if m["ts"] == ts)
    return [a for a in message.get("attachments") or [] if a.get("is_app_unfurl")]


def link_shared_events(bot: Bot) -> list[dict[str, Any]]:
    return [
        d.payload["event"]
        for d in bot.emulator.deliveries
        if d.kind == "event_callback" and d.payload["event"]["type"] == "link_shared"
    ]


def on_telecrm_web_host(bot: Bot) -> None:
    """Lead links as in production (next.telecrm.in with the enterprise id), registered in Slack."""
    bot.services.settings = bot.services.settings.with_overrides(telecrm_lead_url=LEAD_URL)
    bot.emulator.unfurl_domains = ["next.telecrm.in"]


def test_a_pasted_lead_link_unfurls_into_the_lead_as_telecrm_holds_it_now(bot: Bot) -> None:
    lead_id = create_lead(bot, "919812300001")
    thread = bot.services.threads.get(lead_id)
    bot.services.telecrm.update_lead(lead_id, {"status": "Qualified"})  # changed since its card
    link = bot.settings.lead_url(lead_id)

    ts = paste(bot, f"Can someone call her back? <{link}>")

    (event,) = link_shared_events(bot)
    assert event["links"] == [{"domain": "127.0.0.1", "url": link}]
    assert (event["channel"], event["message_ts"], event["user"]) == (CHANNEL, ts, ADMIN)
    assert event["is_bot_user_member"] is True and event["source"] == "conversations_history"
    (call,) = bot.emulator.calls_to("chat.unfurl")
    assert call["ok"], call
    (unfurl,) = unfurls_of(bot, ts)
    assert unfurl["app_unfurl_url"] == link
    shown = text_of(unfurl)
    for expected in ("Jane Doe", "Qualified", "Rahul V", "919812300001", lead_id, "Open in TeleCRM"):
        assert expected in shown, expected
    assert "Fresh" not in shown
    permalink = bot.services.slack.chat_getPermalink(channel=thread.channel, message_ts=thread.ts)[
        "permalink"
    ]
    assert f"<{permalink}|Open thread>" in shown
    assert not any(b["type"] == "actions" for b in unfurl["blocks"])


def test_a_lead_the_bot_has_no_thread_for_unfurls_without_open_thread(bot: Bot) -> None:
    lead_id = bot.services.telecrm.create_lead({"phone": "919812300002", "name": "Arun Rao"}).lead_id
    assert lead_id and bot.services.threads.get(lead_id) is None

    ts = paste(bot, f"{bot.settings.lead_url(lead_id)} is hot", user=USER)

    (unfurl,) = unfurls_of(bot, ts)
    shown = text_of(unfurl)
    assert "Arun Rao" in shown and "Open in TeleCRM" in shown and "Open thread" not in shown


def test_unknown_leads_and_foreign_links_get_no_unfurl_at_all(bot: Bot) -> None:
    on_telecrm_web_host(bot)
    lead_id = create_lead(bot, "919812300003")
    enterprise = bot.settings.telecrm_enterprise_id
    ours = LEAD_URL.format(enterprise_id=enterprise, lead_id=lead_id)
    texts = [
        LEAD_URL.format(enterprise_id=enterprise, lead_id="0123456789abcdef01234567"),  # no such lead
        LEAD_URL.format(enterprise_id="another-workspace", lead_id=lead_id),  # another enterprise
        ours.replace("next.telecrm.in", "www.next.telecrm.in"),  # a subdomain: Slack sends it, not ours
        ours.replace("/overlay/l/", "/overlay/x/"),  # another page of the web app
        ours.replace("next.telecrm.in", "evil.example"),  # another host: Slack does not even send it
    ]
    for text in texts:
        paste(bot, f"<{text}>")
    paste(bot, f"<{ours}>", channel="C0RANDOM")  # the bot is not in #random

    assert len(link_shared_events(bot)) == 5
    assert link_shared_events(bot)[-1]["is_bot_user_member"] is False
    assert bot.emulator.calls_to("chat.unfurl") == []

    ts = paste(bot, f"the real one: <{ours}>")  # the same link where the bot is: unfurled
    (unfurl,) = unfurls_of(bot, ts)
    assert "Jane Doe" in text_of(unfurl)


def test_telecrm_down_posts_nothing_and_logs_one_line(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    lead_id = create_lead(bot, "919812300004")
    bot.sandbox.faults.fail_next(5, status=503, path_contains=lead_id)

    with caplog.at_level(logging.INFO, logger="commands.unfurl.listeners"):
        ts = paste(bot, f"<{bot.settings.lead_url(lead_id)}> and <{bot.settings.lead_url(lead_id)}/>")

    assert bot.emulator.calls_to("chat.unfurl") == []
    assert unfurls_of(bot, ts) == []
    lines = [r for r in caplog.records if r.name == "commands.unfurl.listeners"]
    assert len(lines) == 1 and "TeleCRM did not answer" in lines[0].getMessage()


def test_links_in_a_thread_reply_unfurl_and_the_emulator_holds_chat_unfurl_to_slacks_rules(bot: Bot) -> None:
    lead_id = create_lead(bot, "919812300005")
    thread = bot.services.threads.get(lead_id)
    link = bot.settings.lead_url(lead_id)

    reply = bot.emulator.post_user_message(user=ADMIN, channel=CHANNEL, text=f"<{link}>", thread_ts=thread.ts)
    bot.settle()

    assert link_shared_events(bot)[-1]["thread_ts"] == thread.ts
    assert bot.wait(lambda e: unfurls_of(bot, reply))
    slack = bot.services.slack
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    for args, error in [
        ({"ts": reply, "unfurls": {link: {"blocks": blocks}}}, "missing_channel"),
        ({"channel": CHANNEL, "unfurls": {link: {"blocks": blocks}}}, "missing_ts"),
        ({"channel": CHANNEL, "ts": reply}, "missing_unfurls"),
        ({"channel": CHANNEL, "ts": reply, "unfurls": "[1]"}, "invalid_unfurls_format"),
        ({"channel": "C0NOPE", "ts": reply, "unfurls": {link: {"blocks": blocks}}}, "cannot_find_channel"),
        (
            {"channel": CHANNEL, "ts": "1.000001", "unfurls": {link: {"blocks": blocks}}},
            "cannot_find_message",
        ),
        (
            {"channel": CHANNEL, "ts": reply, "unfurls": {link + "9": {"blocks": blocks}}},
            "cannot_unfurl_message",
        ),
        (
            {"channel": CHANNEL, "ts": thread.ts, "unfurls": {link: {"blocks": blocks}}},
            "cannot_unfurl_message",
        ),
        (
            {"channel": CHANNEL, "ts": reply, "unfurls": {link: {"blocks": [{"type": "nope"}]}}},
            "cannot_parse_attachment",
        ),
        (
            {"unfurl_id": "C0SALES.1.x", "source": "conversations_history", "unfurls": {link: {}}},
            "cannot_unfurl_url",
        ),
        ({"unfurl_id": "C0SALES.1.x", "unfurls": {link: {"blocks": blocks}}}, "invalid_arguments"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            slack.api_call("chat.unfurl", json=args)  # as a raw call: the SDK's own checks aside
        assert refused.value.response["error"] == error, args
    # by unfurl_id + source it replaces the unfurl of that link rather than adding one
    unfurl_id = link_shared_events(bot)[-1]["unfurl_id"]
    slack.chat_unfurl(unfurl_id=unfurl_id, source="conversations_history", unfurls={link: {"blocks": blocks}})
    (unfurl,) = unfurls_of(bot, reply)
    assert text_of(unfurl).strip() == "hi"


def test_the_web_page_composer_posts_a_link_and_shows_its_unfurl(bot: Bot) -> None:
    lead_id = create_lead(bot, "919812300006")
    link = bot.settings.lead_url(lead_id)

    answer = httpx.post(
        f"{bot.emulator.url}/ui/send", json={"user": ADMIN, "channel": CHANNEL, "text": f"see {link}."}
    ).json()
    bot.settle()

    assert answer["ok"], answer
    state = httpx.get(f"{bot.emulator.url}/ui/state", params={"user": ADMIN, "channel": CHANNEL}).json()
    (posted,) = [m for m in state["messages"] if m["ts"] == answer["ts"]]
    assert posted["text"] == f"see <{link}>."  # the Slack client sends typed addresses as links
    (unfurl,) = posted["attachments"]
    assert unfurl["is_app_unfurl"] and "Jane Doe" in text_of(unfurl)
