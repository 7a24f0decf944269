"""The driver against a real Bolt app over HTTP: what Slack sends, and what Slack does with the answers."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from slack_sdk import WebClient

from slack_emulator import ClientValidationError, SlackEmulator, sign_request

from .conftest import SIGNING_SECRET, FakeClock

pytestmark = pytest.mark.usefixtures("bolt")

USER = "U0RAHUL"


def test_slash_command_is_signed_form_encoded_and_opens_the_modal(emulator: SlackEmulator) -> None:
    delivery = emulator.slash_command("/lead", user=USER, channel="C0SALES")

    assert delivery.status == 200 and not delivery.problems
    assert delivery.elapsed < 3 and not delivery.timed_out
    assert set(delivery.payload) >= {
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    }  # fmt: skip
    views = emulator.wait_for(lambda e: e.open_views(USER))
    assert views[0]["callback_id"] == "new_lead"
    assert emulator.calls_to("views.open")[0]["ok"]
    assert emulator.calls_to("auth.test")  # Bolt checked its token against the emulator


def test_command_answer_becomes_an_ephemeral_message(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", "help", user=USER)

    (reply,) = emulator.ephemerals(USER)
    assert reply["text"].startswith("Usage") and reply["channel"] == "C0SALES"


def test_bad_signature_is_refused_by_the_bot(emulator: SlackEmulator) -> None:
    delivery = emulator.slash_command("/lead", user=USER, headers={"X-Slack-Signature": "v0=" + "0" * 64})

    assert delivery.status == 401
    assert delivery.problems
    assert not emulator.calls_to("views.open")


def test_sign_request_matches_what_bolt_verifies() -> None:
    headers = sign_request(SIGNING_SECRET, "a=b", timestamp=1_700_000_000)
    assert headers["X-Slack-Request-Timestamp"] == "1700000000"
    assert headers["X-Slack-Signature"].startswith("v0=") and len(headers["X-Slack-Signature"]) == 67


def test_submission_with_errors_keeps_the_modal_open_with_the_errors(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", user=USER)
    (view,) = emulator.wait_for(lambda e: e.open_views(USER))

    delivery = emulator.submit_view(user=USER, values={"name": "bad", "status": "Fresh"})

    assert delivery.json == {"response_action": "errors", "errors": {"name": "That is not a name"}}
    (still_open,) = emulator.open_views(USER)
    assert still_open["id"] == view["id"]
    assert still_open["errors"] == {"name": "That is not a name"}
    sent_values = delivery.payload["view"]["state"]["values"]
    assert sent_values["name"]["value"] == {"type": "plain_text_input", "value": "bad"}
    assert sent_values["status"]["value"]["selected_option"]["value"] == "Fresh"
    assert sent_values["email"]["value"] == {"type": "email_text_input", "value": None}
    assert sent_values["follow_up"]["value"] == {"type": "datepicker", "selected_date": None}


def test_good_submission_closes_the_modal_and_the_bot_posts(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", user=USER)
    emulator.wait_for(lambda e: e.open_views(USER))
    emulator.block_suggestion(
        user=USER, action_id="city_picker", value="pu", view_id=emulator.open_views(USER)[0]["id"]
    )

    delivery = emulator.submit_view(
        user=USER,
        values={
            "name": "Jane Doe",
            "status": "Won",
            "city": "pune",
            "amount": 5000.5,
            "follow_up": "2026-04-30",
        },
    )

    assert delivery.status == 200 and delivery.body == ""
    assert emulator.open_views(USER) == []
    values = delivery.payload["view"]["state"]["values"]
    assert values["city"]["city_picker"]["selected_option"]["text"]["text"] == "Pune"
    assert values["amount"]["value"] == {"type": "number_input", "value": "5000.5"}
    assert values["follow_up"]["value"] == {"type": "datepicker", "selected_date": "2026-04-30"}
    (card,) = emulator.wait_for(lambda e: e.messages("C0SALES"))
    assert card["text"] == "New lead Jane Doe (Won) pune"
    assert card["bot_id"] and card["blocks"][1]["elements"][0]["action_id"] == "record_payment"


def test_client_side_validation_blocks_a_bad_submission(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", user=USER)
    emulator.wait_for(lambda e: e.open_views(USER))

    with pytest.raises(ClientValidationError) as info:
        emulator.submit_view(user=USER, values={"email": "not-an-email"})

    assert set(info.value.errors) == {"name", "status", "email"}
    with pytest.raises(LookupError):
        emulator.submit_view(user=USER, values={"status": "Lost"})  # not an offered option


def test_button_click_sends_block_actions_and_respond_posts_in_thread(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", user=USER)
    emulator.wait_for(lambda e: e.open_views(USER))
    emulator.submit_view(user=USER, values={"name": "Jane", "status": "Fresh"})
    (card,) = emulator.wait_for(lambda e: e.messages("C0SALES"))

    delivery = emulator.click_button(
        user=USER, action_id="record_payment", channel="C0SALES", message_ts=card["ts"]
    )

    payload = delivery.payload
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": "C0SALES",
        "is_ephemeral": False,
    }
    assert payload["actions"][0]["value"] == "Jane" and payload["actions"][0]["block_id"] == "card_actions"
    assert payload["message"]["ts"] == card["ts"] and payload["response_url"] and payload["trigger_id"]
    (reply,) = emulator.wait_for(lambda e: e.replies("C0SALES", card["ts"]))
    assert reply["text"] == "Payment for Jane"
    assert emulator.messages("C0SALES")[0]["reply_count"] == 1


def test_clicking_a_button_that_is_not_there_is_an_error(emulator: SlackEmulator) -> None:
    ts = emulator.post_user_message(user=USER, channel="C0SALES", text="hello")
    with pytest.raises(LookupError, match="no element"):
        emulator.click_button(user=USER, action_id="record_payment", channel="C0SALES", message_ts=ts)


def test_block_suggestion_returns_validated_options(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", user=USER)
    (view,) = emulator.wait_for(lambda e: e.open_views(USER))

    delivery = emulator.block_suggestion(user=USER, view_id=view["id"], action_id="city_picker", value="a")

    assert delivery.payload["type"] == "block_suggestion" and delivery.payload["block_id"] == "city"
    assert [o["value"] for o in delivery.options or []] == ["mumbai", "chennai", "kolkata"]
    assert not delivery.problems


def test_view_closed_only_when_notify_on_close(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", user=USER)
    emulator.wait_for(lambda e: e.open_views(USER))

    delivery = emulator.close_view(user=USER)

    assert delivery is not None and delivery.payload["type"] == "view_closed"
    assert emulator.open_views(USER) == []
    emulator.wait_for(lambda e: e.ephemerals(USER))


def test_message_shortcut_payload_and_modal(emulator: SlackEmulator) -> None:
    ts = emulator.post_user_message(user=USER, channel="C0SALES", text="Call Jane 9999999999")

    delivery = emulator.message_shortcut(
        user=USER, callback_id="lead_from_message", channel="C0SALES", message_ts=ts
    )

    assert delivery.payload["type"] == "message_action"
    assert delivery.payload["message"]["text"] == "Call Jane 9999999999"
    emulator.wait_for(lambda e: e.open_views(USER))


def test_app_home_opened_event(emulator: SlackEmulator) -> None:
    delivery = emulator.app_home_opened(USER)

    assert delivery.status == 200
    assert delivery.payload["type"] == "event_callback" and delivery.payload["event_id"].startswith("Ev")
    home = emulator.wait_for(lambda e: e.home_view(USER))
    assert home["type"] == "home"


def test_retry_headers_are_sent(emulator: SlackEmulator) -> None:
    delivery = emulator.slash_command("/lead", "help", user=USER, retry_num=1)
    assert delivery.status == 200  # Bolt accepts retried commands; the header reached it
    assert emulator.deliveries[-1] is delivery


def test_slow_ack_is_marked_timed_out(emulator: SlackEmulator) -> None:
    emulator.ack_timeout = 0.2
    delivery = emulator.slash_command("/lead", "slow", user=USER)
    assert delivery.timed_out and delivery.elapsed > 0.2 and delivery.status == 200


def test_expired_trigger_is_refused(
    emulator: SlackEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot that opens its modal too late gets expired_trigger_id, like on Slack."""
    emulator.ack_timeout = 10
    original = emulator.ws.new_trigger

    def stale_trigger(user: str) -> str:
        tid = original(user)
        clock.advance(3.5)
        return tid

    monkeypatch.setattr(emulator.ws, "new_trigger", stale_trigger)
    emulator.slash_command("/lead", user=USER)
    call = emulator.wait_for(lambda e: e.calls_to("views.open"))[0]
    assert call["error"] == "expired_trigger_id"


def test_form_payload_is_url_encoded_json(emulator: SlackEmulator) -> None:
    emulator.slash_command("/lead", user=USER)
    (view,) = emulator.wait_for(lambda e: e.open_views(USER))
    delivery = emulator.block_suggestion(user=USER, view_id=view["id"], action_id="city_picker", value="d")
    roundtrip = json.loads(
        urllib.parse.unquote_plus(urllib.parse.urlencode({"payload": json.dumps(delivery.payload)})[8:])
    )
    assert roundtrip == delivery.payload


def open_lead_modal(emulator: SlackEmulator) -> dict[str, object]:
    emulator.slash_command("/lead", user=USER)
    return emulator.wait_for(lambda e: e.open_views(USER))[0]


def test_view_submission_payload_fields(emulator: SlackEmulator) -> None:
    view = open_lead_modal(emulator)
    delivery = emulator.submit_view(
        user=USER, view_id=str(view["id"]), values={"name": "bad", "status": "Won"}
    )
    assert set(delivery.payload) >= {
        "type",
        "team",
        "user",
        "api_app_id",
        "token",
        "trigger_id",
        "view",
        "response_urls",
    }
    sent = delivery.payload["view"]
    assert set(sent) >= {
        "id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state", "hash", "title", "close",
        "submit", "previous_view_id", "root_view_id", "app_id", "external_id", "notify_on_close", "bot_id",
    }  # fmt: skip
    assert "errors" not in sent and sent["private_metadata"] == "C0SALES"


@pytest.mark.parametrize(
    ("name", "callback_ids"),
    [("update", ["done"]), ("push", ["new_lead", "done"]), ("clear", [])],
)
def test_response_actions_change_the_stack_like_slack(
    emulator: SlackEmulator, name: str, callback_ids: list[str]
) -> None:
    view = open_lead_modal(emulator)
    delivery = emulator.submit_view(user=USER, values={"name": name, "status": "Fresh"})
    assert not delivery.problems
    stack = emulator.open_views(USER)
    assert [v["callback_id"] for v in stack] == callback_ids
    if name == "update":
        assert stack[0]["id"] == view["id"] and stack[0]["hash"] != view["hash"]


@pytest.mark.parametrize("name", ["wrong block", "bad view"])
def test_invalid_response_actions_are_reported_and_the_modal_stays(
    emulator: SlackEmulator, name: str
) -> None:
    view = open_lead_modal(emulator)
    delivery = emulator.submit_view(user=USER, values={"name": name, "status": "Fresh"})
    assert delivery.problems
    assert [v["id"] for v in emulator.open_views(USER)] == [view["id"]]


def test_select_in_a_message_dispatches_and_input_in_a_modal_does_not(
    client: WebClient, emulator: SlackEmulator
) -> None:
    menu = {"type": "static_select", "action_id": "stage", "options": [
        {"text": {"type": "plain_text", "text": "Won"}, "value": "won"},
        {"text": {"type": "plain_text", "text": "Lost"}, "value": "lost"},
    ]}  # fmt: skip
    ts = client.chat_postMessage(
        channel="C0SALES", text="Stage?", blocks=[{"type": "actions", "elements": [menu]}]
    )["ts"]

    delivery = emulator.select_option(
        user=USER, action_id="stage", value="won", channel="C0SALES", message_ts=ts
    )

    assert delivery is not None
    assert delivery.payload["actions"][0]["selected_option"]["value"] == "won"
    emulator.wait_for(lambda e: e.messages("C0SALES")[0]["text"] == "Stage: won")
    view = open_lead_modal(emulator)
    assert (
        emulator.select_option(
            user=USER, action_id="value", block_id="status", value="Won", view_id=str(view["id"])
        )
        is None
    )
    assert (
        emulator.open_views(USER)[0]["state"]["values"]["status"]["value"]["selected_option"]["value"]
        == "Won"
    )
