"""Mention and link injection: hostile values from people and from TeleCRM never become live mrkdwn.

One end-to-end run (real app, Slack emulator, TeleCRM sandbox) seeds hostile values everywhere they
can come from — lead names and fields, field and activity labels, team member names, the workspace
name, timeline rows, TeleCRM's remarks and error messages, typed command text — drives every flow
the bot has, then inspects everything the emulator recorded: every Web API call, every response_url
answer, every acknowledgement body, the messages, ephemerals, open modals and the Home tab. In no
``text`` or mrkdwn field may a ``<!channel>``, ``<!here>``, a ``<@U…>`` the bot did not mean, or a link
to anywhere but TeleCRM and Slack itself appear.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from commands.payment.watcher import check_open_payments
from kit import ids
from kit.grammar import slack_escape
from telecrm.models import Remark, WriteResult
from telecrm.sandbox.workspace import demo_workspace
from tests.conftest import ADMIN, CHANNEL, USER, Bot
from tests.lead.conftest import with_rahul

# What an attacker puts in a lead's name (or TeleCRM hands back): a channel ping, a spoofed link,
# a mention of someone else, and a bare ampersand.
EVIL = "<!channel> <https://evil.example|Verify your account> <@U0EVIL> <!here> R&D"

MALLORY_PHONE = "919800000666"
NEW_PHONE = "9876500777"
MODAL_PHONE = "9876500778"
SHORTCUT_PHONE = "9876500779"
FAILING_PHONE = "9876500780"

# the people who act in this test: mentions of them are the bot's own
ACTORS = {USER, ADMIN}
KNOWN_CHANNELS = {CHANNEL}


def evil(tag: str) -> str:
    return f"{tag} {EVIL}"


def hostile_workspace() -> dict[str, Any]:
    """The demo workspace with hostile text wherever TeleCRM's admin (or an API client) can put it."""
    ws = with_rahul(demo_workspace())
    ws["enterprise"]["name"] = evil("Corp")
    for f in ws["fields"]:
        if f["apiName"] == "phone":
            f["name"] = "Phone <!here>"  # the identifier's label shows up in many sentences
        if f["apiName"] == "notes":
            f["name"] = evil("Notes")
    site_visit = next(a for a in ws["custom_actions"] if a["code"] == "ACTION_1001")
    site_visit["displayName"] = evil("Visit")
    site_visit["fieldSchema"]["note"]["label"] = evil("Visit notes")
    for member in ws["team_members"]:
        if member["email"].startswith(("priya.", "rahul@")):
            member["name"] = evil(member["name"])
    for stage in ws["pipeline"]["leadStages"]:
        for status in stage.get("activeStatuses", []):
            if status["label"] == "Negotiation":
                status["label"] = "Negotiation <!here>"
    for lead in ws["leads"]:
        if lead["fields"].get("status") == "Negotiation":
            lead["fields"]["status"] = "Negotiation <!here>"
    priya = next(m["email"] for m in ws["team_members"] if m["email"].startswith("priya."))
    ws["leads"].append(
        {
            "created_on": "-3d",
            "fields": {
                "name": evil("Mallory"),
                "phone": MALLORY_PHONE,
                "company": evil("Company"),
                "notes": evil("Old note"),
                "status": "Negotiation <!here>",
            },
            "actions": [
                {
                    "type": "INCOMING_CALL",
                    "created_on": "-2d",
                    "performed_by": priya,
                    "feedback": evil("Said"),
                },
                {
                    "type": "1001",
                    "created_on": "-1d",
                    "performed_by": priya,
                    "fields": {"note": evil("Roof"), "outcome": "Interested"},
                },
            ],
        }
    )
    return ws


def typed(text: str) -> str:
    """Command text as Slack sends what a person typed: ``&``, ``<`` and ``>`` escaped."""
    return slack_escape(text)


# --- what TeleCRM says back ------------------------------------------------------------------------------


def hostile_remarks(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """TeleCRM's IGNORED remarks quote hostile text (as a real workspace's validation messages may)."""
    client = bot.services.telecrm
    create_lead, create_actions = client.create_lead, client.create_actions

    def with_remarks(result: WriteResult, field: str) -> WriteResult:
        extra = Remark(field=field, status="IGNORED", remark=evil("Rejected"))
        return WriteResult(result.lead_id, list(result.actions), [*result.remarks, extra])

    monkeypatch.setattr(
        client, "create_lead", lambda *a, **k: with_remarks(create_lead(*a, **k), "fields.notes")
    )
    monkeypatch.setattr(
        client,
        "create_actions",
        lambda *a, **k: with_remarks(create_actions(*a, **k), "actions[0].fields.note"),
    )


def hostile_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Injected TeleCRM errors carry hostile messages and details (TeleCRM may echo a value)."""
    from telecrm.sandbox import Sandbox
    from telecrm.sandbox.responses import json_response

    def answer(rule: Any) -> Any:
        body = {
            "error": {
                "code": "BAD_REQUEST",
                "message": evil("Bad"),
                "details": [{"field": "name", "message": EVIL}],
            }
        }
        return json_response(rule.status, body)

    monkeypatch.setattr(Sandbox, "_fault_response", staticmethod(answer))


# --- the flows --------------------------------------------------------------------------------------------


def card_of(bot: Bot, phone: str) -> dict[str, Any]:
    lead = bot.sandbox.find_lead(phone)
    assert lead is not None, phone
    thread = bot.wait(lambda _: bot.services.threads.get(lead["id"]))
    return next(m for m in bot.messages(thread.channel) if m["ts"] == thread.ts)


def lead_flows(bot: Bot) -> None:
    bot.command("/lead", "help")
    bot.command(
        "/lead", typed(f'name="{evil("New")}" phone={NEW_PHONE} notes="{evil("Note")}" company="A&B"')
    )
    bot.settle()
    card_of(bot, NEW_PHONE)
    # a duplicate of the hostile lead, then "Update existing lead with these values"
    bot.command("/lead", typed(f'name="Someone" phone={MALLORY_PHONE} company="{evil("Dup")}"'))
    bot.settle()
    offer = bot.wait(
        lambda _: next((m for m in bot.ephemerals(USER) if ids.ACT_UPDATE_EXISTING in str(m)), None)
    )
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_UPDATE_EXISTING, channel=offer["channel"], message_ts=offer["ts"]
    )
    bot.settle()
    bot.command("/lead", typed(f"find {MALLORY_PHONE}"))
    bot.command("/lead", typed(f"find {EVIL}"))
    bot.command("/lead", typed(f'update {MALLORY_PHONE} notes="{evil("Newer note")}"'))
    bot.command("/lead", typed(f"update {EVIL} notes=x"))
    bot.command("/lead", typed(f'phone=12ab name="{EVIL}" {EVIL}=1'))
    bot.settle()


def edit_flow(bot: Bot) -> None:
    card = card_of(bot, MALLORY_PHONE)
    bot.emulator.click_button(user=USER, action_id=ids.ACT_CARD_EDIT, channel=CHANNEL, message_ts=card["ts"])
    bot.settle()
    bot.wait(lambda e: any(v.get("submit") for v in e.open_views(USER)))
    bot.emulator.submit_view(user=USER, values={"company": evil("Edited")})
    bot.settle()


def modal_flows(bot: Bot) -> None:
    bot.command("/lead")
    bot.wait(lambda e: e.open_views(USER))
    bot.emulator.submit_view(user=USER, values={"phone": MODAL_PHONE, "name": evil("Modal")})
    bot.settle()
    card_of(bot, MODAL_PHONE)
    posted = bot.emulator.post_user_message(
        user=USER, channel=CHANNEL, text=f"name: Shortcut &lt;!channel&gt; call {SHORTCUT_PHONE} today"
    )
    bot.emulator.message_shortcut(
        user=USER, callback_id=ids.SHORTCUT_LEAD_FROM_MESSAGE, channel=CHANNEL, message_ts=posted
    )
    bot.wait(lambda e: e.open_views(USER))
    bot.emulator.submit_view(user=USER, values={"phone": SHORTCUT_PHONE, "name": evil("Shortcut")})
    bot.settle()
    card_of(bot, SHORTCUT_PHONE)


def payment_flows(bot: Bot) -> None:
    bot.command("/payment", f"{MALLORY_PHONE} 5000")
    bot.settle()
    thread = bot.services.threads.get(bot.sandbox.find_lead(MALLORY_PHONE)["id"])
    message = bot.wait(
        lambda _: next((r for r in bot.replies(thread.ts) if "payment_actions" in str(r)), None)
    )
    bot.emulator.click_button(
        user=ADMIN, action_id=f"{ids.ACT_PAYMENT_STATUS}:COMPLETED", channel=CHANNEL, message_ts=message["ts"]
    )
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_PAYMENT_AMOUNT_HELP, channel=CHANNEL, message_ts=message["ts"]
    )
    bot.settle()
    # the card's Record payment button, then a change made in TeleCRM that the watcher notices
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_CARD_PAYMENT, channel=CHANNEL, message_ts=thread.ts
    )
    bot.wait(lambda e: e.open_views(USER))
    bot.emulator.submit_view(user=USER, values={"amount": "700"})
    bot.settle()
    lead_id = thread.lead_id
    pending = [p for p in bot.services.payments.for_lead(lead_id) if p.status == "PENDING"]
    assert pending, "the second payment was not recorded"
    bot.services.telecrm.update_action(lead_id, pending[0].action_id, {"type": "PAYMENT", "status": "FAILED"})
    assert check_open_payments(bot.services) == 1
    bot.command("/payment", typed(f"{EVIL} 5000"))
    bot.command("/payment", "9800000999 100")
    bot.command("/payment", "help")
    bot.settle()


def timeline_flows(bot: Bot) -> None:
    lead_id = bot.sandbox.find_lead(MALLORY_PHONE)["id"]
    bot.sandbox.add_builtin_action(
        lead_id,
        evil("ODD_TYPE"),
        performed_by=evil("Somebody"),
        message=evil("Hi"),
        **{"free text": evil("Value")},
    )
    bot.sandbox.add_builtin_action(lead_id, "PAYMENT", status=evil("paid"), amount=evil("5"), paymentid=EVIL)
    bot.command("/timeline", MALLORY_PHONE)
    bot.command("/timeline", typed(f"{EVIL} NOT_A_TYPE"))
    bot.settle()
    card = card_of(bot, MALLORY_PHONE)
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_CARD_TIMELINE, channel=CHANNEL, message_ts=card["ts"]
    )
    bot.settle()
    bot.command("/timeline")
    bot.wait(lambda e: e.open_views(USER))
    bot.emulator.submit_view(user=USER, values={"timeline_lead": MALLORY_PHONE})
    bot.settle()


def activity_flow(bot: Bot) -> None:
    card = card_of(bot, MALLORY_PHONE)
    bot.emulator.click_button(
        user=USER, action_id=ids.ACT_CARD_ACTIVITY, channel=CHANNEL, message_ts=card["ts"]
    )
    (view,) = bot.wait(lambda e: e.open_views(USER))
    bot.emulator.select_option(user=USER, action_id=ids.ACT_ACTIVITY_PICK, value="1001", view_id=view["id"])
    bot.wait(lambda e: any(len(v["blocks"]) > 2 for v in e.open_views(USER)))
    bot.emulator.submit_view(user=USER, values={"activity:1001:note": evil("Visited")})
    bot.settle()


def error_flow(bot: Bot) -> None:
    bot.sandbox.faults.fail_next(1, status=400, path_contains="/lead")
    bot.command("/lead", f"phone={FAILING_PHONE} name=Failing")
    bot.settle()


def home_flow(bot: Bot) -> None:
    bot.emulator.app_home_opened(USER)
    bot.settle()
    bot.wait(lambda e: e.home_view(USER))


# --- inspecting what Slack received ---------------------------------------------------------------------

_LIVE = re.compile(r"<([!@#]|https?:|mailto:|tel:)[^>]*>", re.IGNORECASE)
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
# a date the bot shows in each reader's zone (kit/format.py slack_date): digits and its own wording only
_BOT_DATE = re.compile(r"<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[\w ,:]+>")


def _decoded(value: Any) -> Any:
    """Web API arguments may carry blocks or a view as a JSON string."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def mrkdwn_texts(node: Any, *, parent_plain: bool = False) -> Iterator[str]:
    """Every string Slack parses as mrkdwn: ``text`` values outside ``plain_text`` objects.

    Modal error messages, option values, metadata and button values are not parsed by Slack.
    """
    node = _decoded(node)
    if isinstance(node, dict):
        plain = node.get("type") == "plain_text"
        for key, value in node.items():
            if key in ("errors", "private_metadata", "value", "state", "response_url", "trigger_id"):
                continue
            if key == "text" and isinstance(value, str):
                if not plain:
                    yield value
            else:
                yield from mrkdwn_texts(value, parent_plain=plain)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def problems_in(text: str, allowed_links: tuple[str, ...]) -> list[str]:
    found = []
    for match in _LIVE.finditer(text):
        token = match.group(0)
        if token.startswith("<@") and token[2:-1] in ACTORS:
            continue
        if token.startswith("<#") and token[2:-1] in KNOWN_CHANNELS:
            continue
        if _BOT_DATE.fullmatch(token):
            continue
        if token.startswith("<http") and token[1:].startswith(allowed_links):
            continue
        found.append(token)
    found.extend(
        f"bare & near {text[m.start() - 10 : m.start() + 10]!r}" for m in _BARE_AMPERSAND.finditer(text)
    )
    return found


def everything_slack_received(bot: Bot) -> Iterator[tuple[str, Any]]:
    emulator = bot.emulator
    for call in emulator.calls:
        if call["method"] in ("chat.getPermalink", "users.info", "auth.test", "conversations.info"):
            continue
        yield call["method"], call["args"]
    for delivery in emulator.deliveries:
        yield f"ack of {delivery.kind}", delivery.json
    for channel in [c["id"] for c in emulator.channels()]:
        for message in emulator.messages(channel):
            yield f"message in {channel}", message
            for reply in emulator.replies(channel, message["ts"]):
                yield f"reply in {channel}", reply
    yield "ephemerals", emulator.ephemerals()
    for user in ACTORS:
        yield f"views of {user}", emulator.open_views(user)
        yield f"home of {user}", emulator.home_view(user)


# --- the test ---------------------------------------------------------------------------------------------


def test_no_hostile_value_becomes_a_mention_or_a_link_anywhere(
    make_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot(workspace=hostile_workspace(), payment_allowed_users=(USER, ADMIN))
    hostile_remarks(bot, monkeypatch)
    hostile_errors(monkeypatch)

    lead_flows(bot)
    edit_flow(bot)
    modal_flows(bot)
    payment_flows(bot)
    timeline_flows(bot)
    activity_flow(bot)
    error_flow(bot)
    home_flow(bot)

    allowed = (bot.settings.lead_url("").rsplit("/", 1)[0], bot.emulator.url)
    seen: list[str] = []
    bad: list[str] = []
    for where, payload in everything_slack_received(bot):
        for text in mrkdwn_texts(copy.deepcopy(payload)):
            seen.append(text)
            bad.extend(f"{where}: {p}  in  {text[:160]!r}" for p in problems_in(text, allowed))
    assert not bad, "live mentions or links in what the bot sent:\n" + "\n".join(dict.fromkeys(bad))

    # the hostile values did reach every surface, escaped: the test inspected what it meant to
    shown = "\n".join(seen)
    for expected in (
        "New &lt;!channel&gt;",  # card and its notification text
        "Mallory &lt;!channel&gt;",  # find results, duplicate answer, payment, timeline
        "Rejected &lt;!channel&gt;",  # TeleCRM's remarks
        "Bad &lt;!channel&gt;",  # TeleCRM's error message
        "Said &lt;!channel&gt;",  # a timeline row
        "Visit &lt;!channel&gt;",  # a custom activity's name
        "Corp &lt;!channel&gt;",  # the workspace name in /lead help
        "Priya Sharma &lt;!channel&gt;",  # a team member's name
        "Edited &lt;!channel&gt;",  # an Edit
        "Negotiation &lt;!here&gt;",  # a status label
        "A&amp;B",
    ):
        assert expected in shown, f"{expected!r} was never shown"
    assert bot.emulator.home_view(USER) is not None
