"""A small real Bolt app used to prove the emulator drives a bot exactly as Slack would."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

LEAD_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "new_lead",
    "title": {"type": "plain_text", "text": "New lead"},
    "submit": {"type": "plain_text", "text": "Create"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "private_metadata": "C0SALES",
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "email",
            "optional": True,
            "label": {"type": "plain_text", "text": "Email"},
            "element": {"type": "email_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "status",
            "label": {"type": "plain_text", "text": "Status"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "Fresh"}, "value": "Fresh"},
                    {"text": {"type": "plain_text", "text": "Won"}, "value": "Won"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "city",
            "optional": True,
            "label": {"type": "plain_text", "text": "City"},
            "element": {"type": "external_select", "action_id": "city_picker", "min_query_length": 1},
        },
        {
            "type": "input",
            "block_id": "amount",
            "optional": True,
            "label": {"type": "plain_text", "text": "Deal size"},
            "element": {"type": "number_input", "action_id": "value", "is_decimal_allowed": True},
        },
        {
            "type": "input",
            "block_id": "follow_up",
            "optional": True,
            "label": {"type": "plain_text", "text": "Follow up on"},
            "element": {"type": "datepicker", "action_id": "value"},
        },
    ],
}

DONE_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "done",
    "title": {"type": "plain_text", "text": "Lead saved"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Saved."}}],
}

# Names typed into the modal that make the test app answer with a given response_action.
RESPONSE_ACTIONS: dict[str, dict[str, Any]] = {
    "update": {"response_action": "update", "view": DONE_MODAL},
    "push": {"response_action": "push", "view": DONE_MODAL},
    "clear": {"response_action": "clear"},
    "wrong block": {"response_action": "errors", "errors": {"no_such_block": "oops"}},
    "bad view": {
        "response_action": "update",
        "view": {**DONE_MODAL, "title": {"type": "plain_text", "text": "x" * 30}},
    },
}

CITIES = ["Mumbai", "Pune", "Delhi", "Chennai", "Kolkata"]


def lead_card(name: str, status: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "block_id": "card", "text": {"type": "mrkdwn", "text": f"*{name}* — {status}"}},
        {
            "type": "actions",
            "block_id": "card_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "record_payment",
                    "text": {"type": "plain_text", "text": "Record payment"},
                    "value": name,
                },
                {
                    "type": "button",
                    "action_id": "timeline",
                    "text": {"type": "plain_text", "text": "Timeline"},
                    "value": name,
                },
            ],
        },
    ]


def build_app(*, signing_secret: str, token: str, api_url: str) -> App:
    app = App(
        signing_secret=signing_secret,
        client=WebClient(token=token, base_url=api_url),
        logger=logging.getLogger("bolt-fixture"),
    )

    @app.command("/lead")
    def lead(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        if body["text"] == "help":
            ack(text="Usage: /lead name=…")
            return
        if body["text"] == "slow":
            time.sleep(0.3)
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=LEAD_MODAL)

    @app.view("new_lead")
    def submit(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        name = values["name"]["value"]["value"]
        status = values["status"]["value"]["selected_option"]["value"]
        if name.lower() == "bad":
            ack(response_action="errors", errors={"name": "That is not a name"})
            return
        if name in RESPONSE_ACTIONS:
            ack(**RESPONSE_ACTIONS[name])
            return
        ack()
        city = (values["city"]["city_picker"]["selected_option"] or {}).get("value", "")
        text = f"New lead {name} ({status}) {city}".strip()
        client.chat_postMessage(channel=view["private_metadata"], text=text, blocks=lead_card(name, status))

    @app.view_closed("new_lead")
    def closed(ack: Ack, client: WebClient, body: dict[str, Any]) -> None:
        ack()
        client.chat_postEphemeral(channel="C0SALES", user=body["user"]["id"], text="Lead discarded")

    @app.action("record_payment")
    def record_payment(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(
            text=f"Payment for {body['actions'][0]['value']}",
            response_type="in_channel",
            thread_ts=body["message"]["ts"],
        )

    @app.options("city_picker")
    def cities(ack: Ack, payload: dict[str, Any]) -> None:
        typed = payload["value"].lower()
        ack(
            options=[
                {"text": {"type": "plain_text", "text": c}, "value": c.lower()}
                for c in CITIES
                if typed in c.lower()
            ]
        )

    @app.action("stage")
    def stage(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        chosen = body["actions"][0]["selected_option"]["value"]
        client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text=f"Stage: {chosen}")

    @app.shortcut("lead_from_message")
    def from_message(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"], view=LEAD_MODAL)

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Recent leads"}}],
            },
        )

    return app
