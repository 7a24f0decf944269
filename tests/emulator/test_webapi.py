"""Web API methods over real HTTP with slack_sdk's WebClient: shapes, errors and the call log."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_emulator import SlackEmulator

from .blocks import actions, button, input_block, modal, section
from .conftest import FakeClock

USER = "U0PRIYA"

pytestmark = pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")


def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as info:
        call()  # type: ignore[operator]
    return str(info.value.response["error"])


def test_auth_errors_and_unknown_method(emulator: SlackEmulator) -> None:
    assert error_of(lambda: WebClient(base_url=emulator.api_url).auth_test()) == "not_authed"
    assert (
        error_of(lambda: WebClient(token="xoxb-wrong", base_url=emulator.api_url).auth_test())
        == "invalid_auth"
    )
    answer = httpx.post(emulator.api_url + "chat.nope", data={"token": "xoxb-emulator-token"}).json()
    assert answer == {"ok": False, "error": "unknown_method", "req_method": "chat.nope"}
    assert [c["error"] for c in emulator.failed_calls()] == ["not_authed", "invalid_auth", "unknown_method"]


def test_auth_test_shape(client: WebClient) -> None:
    answer = client.auth_test()
    assert answer["team_id"] == "T0EMULATOR" and answer["user_id"] and answer["bot_id"]


def test_post_message_thread_and_broadcast(client: WebClient, emulator: SlackEmulator) -> None:
    parent = client.chat_postMessage(channel="C0SALES", text="Lead card", blocks=[section("*Jane*")])
    assert parent["channel"] == "C0SALES" and parent["message"]["text"] == "Lead card"
    reply = client.chat_postMessage(channel="C0SALES", text="paid", thread_ts=parent["ts"])
    client.chat_postMessage(channel="C0SALES", text="shout", thread_ts=parent["ts"], reply_broadcast=True)

    top = emulator.messages("C0SALES")
    assert [m["text"] for m in top] == ["Lead card", "shout"]
    assert top[0]["reply_count"] == 2 and top[0]["thread_ts"] == parent["ts"]
    assert top[1]["subtype"] == "thread_broadcast"
    assert [m["ts"] for m in emulator.replies("C0SALES", parent["ts"])][0] == reply["ts"]
    assert top[0]["blocks"][0]["block_id"]  # Slack fills in block ids


def test_post_message_errors(client: WebClient, emulator: SlackEmulator) -> None:
    assert error_of(lambda: client.chat_postMessage(channel="C0NOPE", text="x")) == "channel_not_found"
    assert error_of(lambda: client.chat_postMessage(channel="C0RANDOM", text="x")) == "not_in_channel"
    assert error_of(lambda: client.chat_postMessage(channel="C0SALES")) == "no_text"
    assert error_of(lambda: client.chat_postMessage(channel="C0SALES", text="x" * 40_001)) == "msg_too_long"
    assert (
        error_of(lambda: client.chat_postMessage(channel="C0SALES", text="x", thread_ts="1.2"))
        == "thread_not_found"
    )
    assert client.chat_postMessage(channel="C0SALES", text="x" * 40_000)["ok"]


def test_invalid_blocks_are_refused_with_messages(client: WebClient, emulator: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0SALES", text="x", blocks=[input_block()])
    assert info.value.response["error"] == "invalid_blocks"
    assert info.value.response["response_metadata"]["messages"] == [
        "[ERROR] block type `input` is not allowed in a message [json-pointer:/blocks/0/type]"
    ]
    call = emulator.calls_to("chat.postMessage")[0]
    assert not call["ok"] and call["messages"] and emulator.messages("C0SALES") == []


def test_blocks_without_text_are_accepted_with_a_warning(client: WebClient, emulator: SlackEmulator) -> None:
    answer = client.chat_postMessage(channel="C0SALES", blocks=[section()])
    assert answer["ok"]
    assert emulator.calls_to("chat.postMessage")[0]["warnings"] == ["missing_text_or_fallback_or_attachments"]


def test_form_encoded_call_with_json_string_blocks(emulator: SlackEmulator) -> None:
    answer = httpx.post(
        emulator.api_url + "chat.postMessage",
        data={"channel": "C0SALES", "text": "hi", "blocks": '[{"type": "divider"}]'},
        headers={"Authorization": "Bearer xoxb-emulator-token"},
    ).json()
    assert answer["ok"] and answer["message"]["blocks"][0]["type"] == "divider"
    bad = httpx.post(
        emulator.api_url + "chat.postMessage",
        data={"token": "xoxb-emulator-token", "channel": "C0SALES", "blocks": "[{"},
    ).json()
    assert bad["error"] == "invalid_blocks_format"


def test_update_delete_permalink(client: WebClient, emulator: SlackEmulator) -> None:
    ts = client.chat_postMessage(channel="C0SALES", text="PENDING")["ts"]
    updated = client.chat_update(channel="C0SALES", ts=ts, text="COMPLETED", blocks=[section("done")])
    assert updated["ts"] == ts and emulator.messages("C0SALES")[0]["edited"]
    reply_ts = client.chat_postMessage(channel="C0SALES", text="r", thread_ts=ts)["ts"]
    link = client.chat_getPermalink(channel="C0SALES", message_ts=reply_ts)["permalink"]
    assert link == f"{emulator.url}/archives/C0SALES/p{reply_ts.replace('.', '')}?thread_ts={ts}&cid=C0SALES"
    user_ts = emulator.post_user_message(user=USER, channel="C0SALES", text="mine")
    assert (
        error_of(lambda: client.chat_update(channel="C0SALES", ts=user_ts, text="x")) == "cant_update_message"
    )
    assert (
        error_of(lambda: client.chat_update(channel="C0SALES", ts="1.000001", text="x"))
        == "message_not_found"
    )
    assert (
        error_of(lambda: client.chat_update(channel="C0SALES", ts=ts, blocks=[{"type": "bogus"}]))
        == "invalid_blocks"
    )
    client.chat_delete(channel="C0SALES", ts=ts)
    assert [m["text"] for m in emulator.messages("C0SALES")] == ["mine"]


def test_post_ephemeral(client: WebClient, emulator: SlackEmulator) -> None:
    answer = client.chat_postEphemeral(channel="C0SALES", user=USER, text="only you", thread_ts="123.456")
    assert answer["message_ts"]
    assert emulator.ephemerals(USER) == [
        {
            "ts": answer["message_ts"],
            "channel": "C0SALES",
            "user": USER,
            "text": "only you",
            "blocks": [],
            "thread_ts": "123.456",
        }
    ]
    assert emulator.ephemerals("U0RAHUL") == []
    assert (
        error_of(lambda: client.chat_postEphemeral(channel="C0SALES", user="U0NOBODY", text="x"))
        == "user_not_found"
    )


def test_users(client: WebClient) -> None:
    user = client.users_info(user=USER)["user"]
    assert user["tz"] == "Asia/Kolkata" and user["tz_offset"] == 19800 and user["is_admin"]
    assert client.users_lookupByEmail(email="rahul@telecrm-demo.example")["user"]["id"] == "U0RAHUL"
    assert error_of(lambda: client.users_lookupByEmail(email="nobody@example.com")) == "users_not_found"
    assert error_of(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"
    first = client.users_list(limit=2)
    rest = client.users_list(cursor=first["response_metadata"]["next_cursor"])
    assert len(first["members"]) == 2 and len(first["members"]) + len(rest["members"]) == 6


def test_conversations(client: WebClient, emulator: SlackEmulator) -> None:
    assert client.conversations_info(channel="C0SALES")["channel"]["name"] == "sales-leads"
    parent = client.chat_postMessage(channel="C0SALES", text="p")["ts"]
    client.chat_postMessage(channel="C0SALES", text="r1", thread_ts=parent)
    client.chat_postMessage(channel="C0SALES", text="second")
    thread = client.conversations_replies(channel="C0SALES", ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["p", "r1"]
    history = client.conversations_history(channel="C0SALES", limit=1)
    assert [m["text"] for m in history["messages"]] == ["second"] and history["has_more"]
    assert error_of(lambda: client.conversations_replies(channel="C0SALES", ts="1.5")) == "thread_not_found"


def test_usergroups(client: WebClient) -> None:
    (group,) = client.usergroups_list(include_users=True)["usergroups"]
    assert group["handle"] == "sales-managers" and "U0PRIYA" in group["users"]
    assert client.usergroups_users_list(usergroup=group["id"])["users"] == group["users"]
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0NOPE")) == "no_such_subteam"


def test_views_open_trigger_rules(client: WebClient, emulator: SlackEmulator, clock: FakeClock) -> None:
    trigger = emulator.new_trigger_id(USER)
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"] and view["hash"]
    assert view["state"] == {"values": {}} and view["app_id"] and view["bot_id"]
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=modal())) == "exchanged_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="1.2.nope", view=modal())) == "invalid_trigger_id"
    late = emulator.new_trigger_id(USER)
    clock.advance(3.01)
    assert error_of(lambda: client.views_open(trigger_id=late, view=modal())) == "expired_trigger_id"
    in_time = emulator.new_trigger_id(USER)
    clock.advance(2.9)
    assert client.views_open(trigger_id=in_time, view=modal())["ok"]


def test_views_open_invalid_view(client: WebClient, emulator: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as info:
        client.views_open(
            trigger_id=emulator.new_trigger_id(USER),
            view=modal(title={"type": "plain_text", "text": "x" * 25}),
        )
    assert info.value.response["error"] == "invalid_arguments"
    assert "json-pointer:/view/title/text" in info.value.response["response_metadata"]["messages"][0]
    assert emulator.open_views(USER) == []


def test_views_push_limit(client: WebClient, emulator: SlackEmulator) -> None:
    client.views_open(trigger_id=emulator.new_trigger_id(USER), view=modal())
    second = client.views_push(trigger_id=emulator.new_trigger_id(USER), view=modal(callback_id="two"))[
        "view"
    ]
    client.views_push(trigger_id=emulator.new_trigger_id(USER), view=modal(callback_id="three"))
    assert (
        error_of(lambda: client.views_push(trigger_id=emulator.new_trigger_id(USER), view=modal()))
        == "push_limit_reached"
    )
    stack = emulator.open_views(USER)
    assert [v["callback_id"] for v in stack] == ["cb", "two", "three"]
    assert stack[2]["previous_view_id"] == second["id"] and stack[2]["root_view_id"] == stack[0]["id"]


def test_views_update_hash_conflict_and_external_id(client: WebClient, emulator: SlackEmulator) -> None:
    view = client.views_open(trigger_id=emulator.new_trigger_id(USER), view=modal(external_id="lead-1"))[
        "view"
    ]
    updated = client.views_update(
        view_id=view["id"], hash=view["hash"], view=modal([section("loading done")], external_id="lead-1")
    )["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert (
        error_of(lambda: client.views_update(view_id=view["id"], hash=view["hash"], view=modal()))
        == "hash_conflict"
    )
    by_external = client.views_update(external_id="lead-1", view=modal(external_id="lead-1"))["view"]
    assert by_external["id"] == view["id"]
    assert error_of(lambda: client.views_update(view_id="V0NOPE", view=modal())) == "not_found"
    assert (
        error_of(
            lambda: client.views_open(
                trigger_id=emulator.new_trigger_id("U0RAHUL"), view=modal(external_id="lead-1")
            )
        )
        == "duplicate_external_id"
    )


def test_views_update_keeps_input_with_same_ids(client: WebClient, emulator: SlackEmulator) -> None:
    view = client.views_open(
        trigger_id=emulator.new_trigger_id(USER), view=modal([input_block(dispatch_action=True)])
    )["view"]
    emulator.ws.views[view["id"]].inputs[("name", "value")] = {"type": "plain_text_input", "value": "Jane"}
    client.views_update(view_id=view["id"], view=modal([input_block(), section("extra")]))
    assert emulator.open_views(USER)[0]["state"]["values"]["name"]["value"]["value"] == "Jane"


def test_views_publish_home(client: WebClient, emulator: SlackEmulator) -> None:
    home = {"type": "home", "blocks": [section("Recent leads"), actions(button("Refresh", "refresh"))]}
    first = client.views_publish(user_id=USER, view=home)["view"]
    second = client.views_publish(user_id=USER, view=home, hash=first["hash"])["view"]
    assert second["id"] == first["id"]
    assert (
        error_of(lambda: client.views_publish(user_id=USER, view=home, hash=first["hash"])) == "hash_conflict"
    )
    assert error_of(lambda: client.views_publish(user_id=USER, view=modal())) == "invalid_arguments"
    assert emulator.home_view(USER)["blocks"][0]["text"]["text"] == "Recent leads"  # type: ignore[index]


def test_get_requests_with_token_param(emulator: SlackEmulator) -> None:
    answer = httpx.get(
        emulator.api_url + "users.info", params={"token": "xoxb-emulator-token", "user": USER}
    ).json()
    assert answer["ok"] and answer["user"]["id"] == USER
    assert "token" not in emulator.calls_to("users.info")[0]["args"]


def test_posting_to_a_user_id_lands_in_the_app_dm(client: WebClient, emulator: SlackEmulator) -> None:
    answer = client.chat_postMessage(channel=USER, text="Your lead was created")
    assert answer["channel"] == "D0PRIYA"
    assert [m["text"] for m in emulator.messages("D0PRIYA")] == ["Your lead was created"]
    assert client.conversations_info(channel="D0PRIYA")["channel"]["is_im"]
