"""The emulator's web page in a real browser, against the emulator and a small Bolt app.

What a newcomer sees and does: Block Kit messages rendered like Slack, the composer sending slash
commands, modals as forms (errors under the right field, type-ahead, push / back / cancel), threads,
ephemerals only for their recipient, the Home tab, shortcuts, and Slack's words when something fails.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from slack_sdk import WebClient

from slack_emulator import SlackEmulator

pytestmark = pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")

RAHUL, PRIYA = "U0RAHUL", "U0PRIYA"


def open_page(page: Any, emulator: SlackEmulator, user: str = RAHUL, channel: str = "C0SALES") -> None:
    page.goto(f"{emulator.url}/?user={user}&channel={channel}")
    expect(
        page.get_by_role("heading", name=f"#{emulator.ws.channels[channel]['name']}").first
    ).to_be_visible()


def last_delivery(emulator: SlackEmulator, kind: str) -> Any:
    return [d for d in emulator.deliveries if d.kind == kind][-1]


def type_command(page: Any, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


CARD = [
    {"type": "header", "text": {"type": "plain_text", "text": ":moneybag: New lead: Jane Doe"}},
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Jane* _Doe_ ~old~ `L-42` <https://crm.example/leads/42|Open in TeleCRM> for <@U0RAHUL> :warning: a &lt;b&gt; &amp; c",
        },
        "fields": [
            {"type": "mrkdwn", "text": "*Phone*\n+91 98765 43210"},
            {"type": "mrkdwn", "text": "*Status*\nFresh"},
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Created by <@U0PRIYA>"}]},
    {"type": "divider"},
    {
        "type": "actions",
        "block_id": "card_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "record_payment",
                "text": {"type": "plain_text", "text": "Record payment"},
                "value": "Jane",
                "style": "primary",
            },
            {
                "type": "static_select",
                "action_id": "stage",
                "placeholder": {"type": "plain_text", "text": "Stage"},
                "options": [
                    {"text": {"type": "plain_text", "text": "Won"}, "value": "won"},
                    {"text": {"type": "plain_text", "text": "Lost"}, "value": "lost"},
                ],
            },
        ],
    },
]


def test_block_kit_message_is_rendered_like_slack(
    page: Any, ui_emulator: SlackEmulator, web: WebClient
) -> None:
    web.chat_postMessage(channel="C0SALES", text="New lead Jane Doe", blocks=CARD)
    web.chat_postEphemeral(channel="C0SALES", user=RAHUL, text="Only for *Rahul*")
    open_page(page, ui_emulator)

    card = page.get_by_test_id("message").first
    expect(card.locator(".b-header")).to_have_text("💰 New lead: Jane Doe")
    expect(card.locator("b", has_text="Jane")).to_be_visible()
    expect(card.locator("i", has_text="Doe")).to_be_visible()
    expect(card.locator("s", has_text="old")).to_be_visible()
    expect(card.locator("code", has_text="L-42")).to_be_visible()
    expect(card.get_by_role("link", name="Open in TeleCRM")).to_have_attribute(
        "href", "https://crm.example/leads/42"
    )
    expect(card.locator(".mention", has_text="@Rahul Verma")).to_be_visible()
    expect(card.locator(".b-text")).to_contain_text("⚠️ a <b> & c")
    expect(card.locator(".b-fields")).to_contain_text("Phone")
    expect(card.locator(".b-context")).to_have_text("Created by @Priya Sharma")
    expect(card.get_by_role("button", name="Record payment")).to_have_class("btn primary")
    expect(card.locator(".author")).to_have_text("TeleCRM")

    mine = page.get_by_test_id("ephemeral")
    expect(mine).to_contain_text("Only visible to you")
    expect(mine.locator("b", has_text="Rahul")).to_be_visible()

    page.get_by_label("You are").select_option(PRIYA)
    expect(page.get_by_test_id("message")).to_have_count(1)
    expect(page.get_by_test_id("ephemeral")).to_have_count(0)


def test_a_select_on_a_message_sends_the_choice_and_the_update_shows(
    page: Any, ui_emulator: SlackEmulator, web: WebClient
) -> None:
    web.chat_postMessage(channel="C0SALES", text="New lead Jane Doe", blocks=CARD)
    open_page(page, ui_emulator)

    page.get_by_role("combobox", name="Stage").select_option(label="Won")

    expect(page.get_by_test_id("message")).to_contain_text("(edited)")
    action = last_delivery(ui_emulator, "block_actions").payload["actions"][0]
    assert action["action_id"] == "stage" and action["selected_option"]["value"] == "won"
    assert ui_emulator.messages("C0SALES")[0]["text"] == "Stage: won"


def test_lead_modal_from_the_composer_with_errors_type_ahead_and_thread(
    page: Any, ui_emulator: SlackEmulator
) -> None:
    open_page(page, ui_emulator)
    box = page.get_by_role("textbox", name="Message")
    box.fill("/le")
    expect(page.get_by_role("option", name="/lead")).to_be_visible()
    box.press("Tab")
    expect(box).to_have_value("/lead ")
    box.press("Enter")

    modal = page.get_by_role("dialog", name="New lead")
    modal.get_by_role("button", name="Create").click()
    expect(modal.locator('[data-block-id="name"] .input-error')).to_have_text("Please fill out this field.")
    expect(modal.locator('[data-block-id="status"] .input-error')).to_be_visible()

    modal.get_by_label("Name").fill("bad")
    modal.get_by_label("Status").select_option(label="Fresh")
    modal.get_by_role("button", name="Create").click()
    expect(modal.locator('[data-block-id="name"] .input-error')).to_have_text("That is not a name")
    expect(modal.locator('[data-block-id="status"] .input-error')).to_have_count(0)
    expect(modal.get_by_label("Status")).to_have_value("Fresh")

    modal.get_by_label("Name").fill("Jane Doe")
    modal.get_by_label("City").fill("Mu")
    modal.get_by_role("option", name="Mumbai").click()
    expect(modal.locator(".chip")).to_have_text("Mumbai×")
    modal.get_by_label("Deal size").fill("5000.5")
    modal.get_by_label("Follow up on").fill("2026-04-30")
    modal.get_by_role("button", name="Create").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    card = page.get_by_test_id("message")
    expect(card.locator("b", has_text="Jane Doe")).to_be_visible()
    submitted = last_delivery(ui_emulator, "view_submission").payload["view"]["state"]["values"]
    assert submitted["city"]["city_picker"]["selected_option"]["value"] == "mumbai"
    assert submitted["amount"]["value"]["value"] == "5000.5"
    assert submitted["follow_up"]["value"]["selected_date"] == "2026-04-30"

    card.get_by_role("button", name="Record payment").click()
    card.get_by_role("button", name="1 reply").click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread.get_by_test_id("message").nth(1)).to_contain_text("Payment for Jane Doe")

    reply = thread.get_by_role("textbox", name="Reply in thread")
    reply.fill("/payment 500")
    reply.press("Enter")
    expect(page.locator(".toast")).to_contain_text("/payment is not supported in threads")
    reply.fill("Customer will pay on Friday")
    reply.press("Enter")
    expect(thread.get_by_test_id("message").nth(2)).to_contain_text("Customer will pay on Friday")
    expect(thread.get_by_test_id("message").nth(2).locator(".author")).to_have_text("Rahul Verma")


def test_pushed_modal_back_and_cancel_with_notify_on_close(page: Any, ui_emulator: SlackEmulator) -> None:
    open_page(page, ui_emulator)
    type_command(page, "/lead")
    modal = page.get_by_role("dialog", name="New lead")
    modal.get_by_label("Name").fill("push")
    modal.get_by_label("Status").select_option(label="Won")
    modal.get_by_role("button", name="Create").click()

    pushed = page.get_by_role("dialog", name="Lead saved")
    expect(pushed).to_contain_text("Saved.")
    pushed.get_by_role("button", name="Back").click()

    modal = page.get_by_role("dialog", name="New lead")
    expect(modal.get_by_label("Name")).to_have_value("push")
    modal.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("ephemeral")).to_contain_text("Lead discarded")


def test_views_update_replaces_the_modal(page: Any, ui_emulator: SlackEmulator) -> None:
    open_page(page, ui_emulator)
    type_command(page, "/lead")
    modal = page.get_by_role("dialog", name="New lead")
    modal.get_by_label("Name").fill("update")
    modal.get_by_label("Status").select_option(label="Won")
    modal.get_by_role("button", name="Create").click()

    done = page.get_by_role("dialog", name="Lead saved")
    expect(done.get_by_role("button", name="Back")).to_have_count(0)
    done.get_by_role("button", name="Close", exact=True).first.click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_every_input_element_reaches_the_bot(page: Any, ui_emulator: SlackEmulator, web: WebClient) -> None:
    open_page(page, ui_emulator)
    web.views_open(trigger_id=ui_emulator.new_trigger_id(RAHUL), view=EVERY_ELEMENT_MODAL)
    modal = page.get_by_role("dialog", name="Every element")

    modal.get_by_label("Notes").fill("line one\nline two")
    modal.get_by_label("Email").fill("jane@example.com")
    modal.get_by_label("Website").fill("https://jane.example")
    modal.get_by_label("Budget").fill("12")
    modal.get_by_label("Source").select_option(label="Referral")
    modal.get_by_label("Tags").select_option(["hot", "vip"])
    modal.get_by_label("Owner").select_option(label="Anita Desai")
    modal.get_by_label("Call at").fill("2026-05-01T10:30")
    modal.get_by_label("Rating").get_by_text("Good").check()
    modal.get_by_label("Flags").get_by_text("Do not call").check()
    modal.get_by_role("button", name="Save").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    values = last_delivery(ui_emulator, "view_submission").payload["view"]["state"]["values"]
    assert values["notes"]["v"]["value"] == "line one\nline two"
    assert values["email"]["v"]["value"] == "jane@example.com"
    assert values["site"]["v"]["value"] == "https://jane.example"
    assert values["budget"]["v"]["value"] == "12"
    assert values["source"]["v"]["selected_option"]["value"] == "referral"
    assert [o["value"] for o in values["tags"]["v"]["selected_options"]] == ["hot", "vip"]
    assert values["owner"]["v"]["selected_user"] == "U0ANITA"
    assert values["call"]["v"]["selected_date_time"] == 1777611600  # 10:30 in Asia/Kolkata
    assert values["rating"]["v"]["selected_option"]["value"] == "good"
    assert [o["value"] for o in values["flags"]["v"]["selected_options"]] == ["dnc"]


def test_home_tab_and_message_shortcut(page: Any, ui_emulator: SlackEmulator) -> None:
    ui_emulator.ui.app["shortcuts"] = [
        {"name": "Create lead from message", "type": "message", "callback_id": "lead_from_message"}
    ]
    open_page(page, ui_emulator)
    type_command(page, "Call Jane on 9999999999")
    message = page.get_by_test_id("message")
    expect(message).to_contain_text("Call Jane on 9999999999")

    message.hover()
    message.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Create lead from message").click()
    expect(page.get_by_role("dialog", name="New lead")).to_be_visible()
    assert (
        last_delivery(ui_emulator, "message_action").payload["message"]["text"] == "Call Jane on 9999999999"
    )
    page.get_by_role("dialog").get_by_role("button", name="Close").click()

    page.get_by_role("navigation").get_by_role("link", name="TeleCRM").click()
    expect(page.get_by_role("tab", name="Home")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".home-view")).to_contain_text("Recent leads")


def test_what_slack_refuses_is_said_in_words(page: Any, ui_emulator: SlackEmulator, web: WebClient) -> None:
    web.chat_postMessage(
        channel="C0SALES",
        text="card",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "nobody_listens",
                        "text": {"type": "plain_text", "text": "Timeline"},
                    }
                ],
            }
        ],
    )
    open_page(page, ui_emulator)

    type_command(page, "/nope")
    expect(page.locator(".toast").first).to_contain_text("/nope is not a valid command")

    page.get_by_role("button", name="Timeline").click()
    expect(page.locator(".toast").last).to_contain_text('failed with the error "dispatch_failed"')


EVERY_ELEMENT_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "every_element",
    "title": {"type": "plain_text", "text": "Every element"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": block_id,
            "optional": True,
            "label": {"type": "plain_text", "text": label},
            "element": {"action_id": "v", **element},
        }
        for block_id, label, element in [
            ("notes", "Notes", {"type": "plain_text_input", "multiline": True}),
            ("email", "Email", {"type": "email_text_input"}),
            ("site", "Website", {"type": "url_text_input"}),
            ("budget", "Budget", {"type": "number_input", "is_decimal_allowed": False}),
            (
                "source",
                "Source",
                {
                    "type": "static_select",
                    "option_groups": [
                        {
                            "label": {"type": "plain_text", "text": "Inbound"},
                            "options": [
                                {"text": {"type": "plain_text", "text": "Website"}, "value": "web"},
                                {"text": {"type": "plain_text", "text": "Referral"}, "value": "referral"},
                            ],
                        },
                        {
                            "label": {"type": "plain_text", "text": "Outbound"},
                            "options": [
                                {"text": {"type": "plain_text", "text": "Cold call"}, "value": "cold"}
                            ],
                        },
                    ],
                },
            ),
            (
                "tags",
                "Tags",
                {
                    "type": "multi_static_select",
                    "options": [
                        {"text": {"type": "plain_text", "text": t.upper()}, "value": t}
                        for t in ("hot", "cold", "vip")
                    ],
                },
            ),
            ("owner", "Owner", {"type": "users_select"}),
            ("call", "Call at", {"type": "datetimepicker"}),
            (
                "rating",
                "Rating",
                {
                    "type": "radio_buttons",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Good"}, "value": "good"},
                        {"text": {"type": "plain_text", "text": "Bad"}, "value": "bad"},
                    ],
                },
            ),
            (
                "flags",
                "Flags",
                {
                    "type": "checkboxes",
                    "options": [{"text": {"type": "mrkdwn", "text": "Do not call"}, "value": "dnc"}],
                },
            ),
        ]
    ],
}


def test_a_message_link_opens_its_thread(page: Any, ui_emulator: SlackEmulator, web: WebClient) -> None:
    parent = web.chat_postMessage(channel="C0PAYMENTS", text="Lead card for Jane")["ts"]
    web.chat_postMessage(channel="C0PAYMENTS", text="Payment of 500 recorded", thread_ts=parent)
    link = web.chat_getPermalink(channel="C0PAYMENTS", message_ts=parent)["permalink"]
    web.chat_postMessage(channel="C0SALES", text=f"Recorded; see <{link}|the lead's thread>.")
    open_page(page, ui_emulator)
    tabs = len(page.context.pages)

    page.get_by_role("link", name="the lead's thread").click()

    expect(page.get_by_role("heading", name="#payments")).to_be_visible()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread).to_contain_text("Payment of 500 recorded")
    assert len(page.context.pages) == tabs


MRKDWN_CASES = [
    ("*bold* _it_ ~gone~ `x*y*`", "<b>bold</b> <i>it</i> <s>gone</s> <code>x*y*</code>"),
    ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
    ("&lt;img src=x onerror=alert(1)&gt; &amp;", "&lt;img src=x onerror=alert(1)&gt; &amp;"),
    ("<javascript:alert(1)|click>", "click"),
    (
        "<mailto:jane@example.com|Jane>",
        '<a href="mailto:jane@example.com" target="_blank" rel="noopener">Jane</a>',
    ),
    (
        "<https://x.example/?a=1&amp;b=2>",
        '<a href="https://x.example/?a=1&amp;b=2" target="_blank" rel="noopener">https://x.example/?a=1&amp;b=2</a>',
    ),
    ("> quoted\nafter", "<blockquote>quoted</blockquote>after"),
    (
        "<!here> <@U0NOBODY|someone>",
        '<span class="mention">@here</span> <span class="mention">@someone</span>',
    ),
    ("<!date^0^{date_num}|then>", "1970-01-01"),
    ("```a <b>\n*c*```", "<pre>a &lt;b&gt;\n*c*</pre>"),
    (":warning: :no_such_emoji:", '<span class="emoji" title=":warning:">⚠️</span> :no_such_emoji:'),
]


def test_mrkdwn_is_formatted_and_escaped(page: Any, ui_emulator: SlackEmulator) -> None:
    open_page(page, ui_emulator)
    rendered = page.evaluate("cases => cases.map(text => Mrkdwn.mrkdwn(text))", [c[0] for c in MRKDWN_CASES])
    assert list(zip((c[0] for c in MRKDWN_CASES), rendered, strict=True)) == MRKDWN_CASES


TYPING_MODAL = {
    "type": "modal",
    "callback_id": "every_element",
    "title": {"type": "plain_text", "text": "Typing"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "city",
            "label": {"type": "plain_text", "text": "City"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
    ],
}


def test_a_views_update_while_typing_keeps_the_field_and_the_caret(
    page: Any, ui_emulator: SlackEmulator, web: WebClient
) -> None:
    open_page(page, ui_emulator)
    web.views_open(trigger_id=ui_emulator.new_trigger_id(RAHUL), view=TYPING_MODAL)
    modal = page.get_by_role("dialog", name="Typing")
    city = modal.get_by_label("City")
    city.click()
    page.keyboard.type("Pun")
    (view,) = ui_emulator.open_views(RAHUL)
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": "Saved a draft"}]}
    web.views_update(view_id=view["id"], view={**TYPING_MODAL, "blocks": [note, *TYPING_MODAL["blocks"]]})
    expect(modal).to_contain_text("Saved a draft")
    page.keyboard.type("e")  # still in the same field, the caret after what was typed
    expect(city).to_have_value("Pune")
    expect(city).to_be_focused()


def test_a_thread_in_the_apps_messages_tab_opens_like_a_channel_thread(
    page: Any, ui_emulator: SlackEmulator, web: WebClient
) -> None:
    card = web.chat_postMessage(channel=RAHUL, text="New lead: Jane Doe")  # a card sent to a DM
    web.chat_postMessage(channel=card["channel"], thread_ts=card["ts"], text="Payment of ₹5,000 recorded")
    open_page(page, ui_emulator)
    page.get_by_role("navigation").get_by_role("link", name="TeleCRM").click()
    page.get_by_role("tab", name="Messages").click()
    page.get_by_role("button", name="1 reply").click()
    expect(page.locator("#thread-pane")).to_be_visible()
    expect(page.locator("#thread-pane")).to_contain_text("Payment of ₹5,000 recorded")
