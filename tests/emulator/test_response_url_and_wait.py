"""response_url rules (5 uses, 30 minutes, replace/delete original) and wait_for."""

from __future__ import annotations

import threading

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from slack_emulator import SlackEmulator
from slack_emulator.state import ResponseUrl

from .blocks import input_block, section
from .conftest import FakeClock

USER = "U0RAHUL"


def response_url(emulator: SlackEmulator, **kw: object) -> str:
    return emulator._response_url(
        ResponseUrl(channel="C0SALES", user=USER, created_at=emulator.clock(), **kw)
    )  # type: ignore[arg-type]


def test_ephemeral_and_in_channel_replies(emulator: SlackEmulator) -> None:
    hook = WebhookClient(response_url(emulator))
    assert hook.send(text="just you").status_code == 200
    assert hook.send(text="everyone", response_type="in_channel").status_code == 200
    assert [m["text"] for m in emulator.ephemerals(USER)] == ["just you"]
    assert [m["text"] for m in emulator.messages("C0SALES")] == ["everyone"]


def test_five_uses_then_used_url(emulator: SlackEmulator) -> None:
    hook = WebhookClient(response_url(emulator))
    assert [hook.send(text=str(i)).status_code for i in range(5)] == [200] * 5
    refused = hook.send(text="sixth")
    assert refused.status_code == 404 and "used_url" in refused.body
    assert emulator.failed_calls()[-1]["error"] == "used_url"


def test_expires_after_thirty_minutes(emulator: SlackEmulator, clock: FakeClock) -> None:
    url = response_url(emulator)
    clock.advance(30 * 60 + 1)
    assert "expired_url" in WebhookClient(url).send(text="late").body


def test_replace_and_delete_original(client: WebClient, emulator: SlackEmulator) -> None:
    ts = client.chat_postMessage(channel="C0SALES", text="Record payment?", blocks=[section("pending")])["ts"]
    url = response_url(emulator, message_ts=ts)
    WebhookClient(url).send(text="Recorded", replace_original=True)
    (msg,) = emulator.messages("C0SALES")
    assert msg["text"] == "Recorded" and "blocks" not in msg and msg["edited"]
    WebhookClient(url).send(text="", delete_original=True)
    assert emulator.messages("C0SALES") == []


def test_response_url_blocks_are_validated(emulator: SlackEmulator) -> None:
    answer = httpx.post(response_url(emulator), json={"text": "x", "blocks": [input_block()]})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_blocks"
    assert httpx.post(response_url(emulator), json={}).json()["error"] == "no_text"


def test_reply_in_thread(client: WebClient, emulator: SlackEmulator) -> None:
    parent = client.chat_postMessage(channel="C0SALES", text="card")["ts"]
    WebhookClient(response_url(emulator)).send_dict(
        {"text": "in thread", "response_type": "in_channel", "thread_ts": parent}
    )
    assert [m["text"] for m in emulator.replies("C0SALES", parent)] == ["in thread"]


def test_wait_for_wakes_on_a_change_from_another_thread(client: WebClient, emulator: SlackEmulator) -> None:
    threading.Timer(0.05, lambda: client.chat_postMessage(channel="C0SALES", text="later")).start()
    (msg,) = emulator.wait_for(lambda e: e.messages("C0SALES"), timeout=5)
    assert msg["text"] == "later"


def test_wait_for_timeout_describes_the_state(client: WebClient, emulator: SlackEmulator) -> None:
    client.chat_postMessage(channel="C0SALES", text="something else")
    with pytest.raises(TimeoutError) as info:
        emulator.wait_for(lambda e: e.ephemerals(USER), timeout=0.05, description="an ephemeral for Rahul")
    text = str(info.value)
    assert "an ephemeral for Rahul" in text and "something else" in text and "chat.postMessage=ok" in text
