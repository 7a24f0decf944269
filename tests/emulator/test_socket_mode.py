"""Socket Mode in the emulator: `apps.connections.open`, the WebSocket protocol as slack_sdk speaks it,
and the driver delivering over the socket to a real Bolt app (SocketModeHandler)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from slack_emulator import SlackEmulator, directory

from .bolt_fixture_app import build_app
from .conftest import BOT_TOKEN, SIGNING_SECRET, FakeClock

USER = "U0RAHUL"


def ws_url(emulator: SlackEmulator) -> str:
    return WebClient(base_url=emulator.api_url).apps_connections_open(app_token=emulator.app_token)["url"]


@pytest.fixture
def raw_app(emulator: SlackEmulator) -> Iterator[ClientConnection]:
    """A bare WebSocket client standing in for the app, past its `hello`."""
    with connect(ws_url(emulator), open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        yield ws


def next_envelope(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=5))


def ack(ws: ClientConnection, envelope: dict[str, Any], payload: dict[str, Any] | None = None) -> None:
    message: dict[str, Any] = {"envelope_id": envelope["envelope_id"]}
    if payload is not None:
        message["payload"] = payload
    ws.send(json.dumps(message))


def close_from_slacks_side(emulator: SlackEmulator, handler: SocketModeHandler) -> None:
    """Stop a SocketModeHandler quickly: its own close() waits out the client's 3 s blocking read
    unless Slack has closed the connection. The reading thread is joined before close() because two
    disconnects at once race inside slack_sdk's builtin client."""
    handler.client.auto_reconnect_enabled = False
    emulator.socket.drop()
    emulator.wait_for(lambda e: e.socket.open_connections == 0)
    handler.client.current_session_runner.shutdown()
    handler.close()


# --- apps.connections.open ------------------------------------------------------------------------


def test_connections_open_hands_out_a_websocket_url_for_the_app_token(emulator: SlackEmulator) -> None:
    url = ws_url(emulator)

    assert url.startswith("ws://127.0.0.1:") and "/link/?ticket=" in url
    assert f"app_id={directory.APP_ID}" in url
    assert ws_url(emulator) != url  # a fresh ticket each time


@pytest.mark.parametrize(
    ("token", "error"),
    [(BOT_TOKEN, "not_allowed_token_type"), ("xapp-1-A0TELECRMAPP-wrong", "invalid_auth")],
)
def test_connections_open_refuses_other_tokens(emulator: SlackEmulator, token: str, error: str) -> None:
    with pytest.raises(SlackApiError) as info:
        WebClient(base_url=emulator.api_url).apps_connections_open(app_token=token)
    assert info.value.response["error"] == error


def test_the_app_token_only_counts_in_the_authorization_header(emulator: SlackEmulator) -> None:
    answer = httpx.post(emulator.api_url + "apps.connections.open", data={"token": emulator.app_token})
    assert answer.json() == {"ok": False, "error": "not_authed"}
    assert not emulator.socket.running


def test_an_app_token_cannot_call_bot_methods(emulator: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as info:
        WebClient(token=emulator.app_token, base_url=emulator.api_url).chat_postMessage(
            channel="C0SALES", text="hi"
        )
    assert info.value.response["error"] == "not_allowed_token_type"


# --- the WebSocket protocol -----------------------------------------------------------------------


def test_hello_on_connect_tickets_are_single_use_and_pings_are_answered(emulator: SlackEmulator) -> None:
    url = ws_url(emulator)
    with connect(url, open_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello == {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {
                "host": "applink-emulator",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": directory.APP_ID},
        }
        assert ws.ping(b"session:1").wait(5)
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=5)
        assert refused.value.response.status_code == 401
        with connect(ws_url(emulator), open_timeout=5) as second:
            assert json.loads(second.recv(timeout=5))["num_connections"] == 2


def test_slash_command_envelope_and_an_ack_with_payload_becomes_the_answer(
    emulator: SlackEmulator, raw_app: ClientConnection
) -> None:
    with ThreadPoolExecutor(1) as pool:
        sent = pool.submit(emulator.slash_command, "/lead", "help", user=USER, channel="C0SALES")
        envelope = next_envelope(raw_app)
        ack(raw_app, envelope, {"text": "Usage: /lead name=…"})
        delivery = sent.result(5)

    assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
    assert "retry_attempt" not in envelope
    assert envelope["payload"]["command"] == "/lead" and envelope["payload"]["text"] == "help"
    assert envelope["payload"]["trigger_id"] and envelope["payload"]["response_url"]
    assert delivery.status == 200 and not delivery.timed_out and not delivery.problems
    assert delivery.json == {"text": "Usage: /lead name=…"}
    assert delivery.envelope_id == envelope["envelope_id"] and delivery.elapsed < 3
    (reply,) = emulator.ephemerals(USER)
    assert reply["text"] == "Usage: /lead name=…" and reply["channel"] == "C0SALES"


def test_events_carry_retry_fields_and_interactions_without_a_response_ignore_payloads(
    emulator: SlackEmulator, raw_app: ClientConnection
) -> None:
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(emulator.app_home_opened, USER)
        event = next_envelope(raw_app)
        ack(raw_app, event)
        retried = pool.submit(emulator.send_event, {"type": "app_home_opened", "user": USER}, retry_num=1)
        retry = next_envelope(raw_app)
        ack(raw_app, retry)
        shortcut = pool.submit(emulator.global_shortcut, user=USER, callback_id="new_lead")
        interactive = next_envelope(raw_app)
        ack(raw_app, interactive, {"text": "not wanted"})
        deliveries = [first.result(5), retried.result(5), shortcut.result(5)]

    assert event["type"] == "events_api" and event["accepts_response_payload"] is False
    assert (event["retry_attempt"], event["retry_reason"]) == (0, "")
    assert (
        event["payload"]["type"] == "event_callback"
        and event["payload"]["event"]["type"] == "app_home_opened"
    )
    assert (retry["retry_attempt"], retry["retry_reason"]) == (1, "timeout")
    assert interactive["type"] == "interactive" and interactive["accepts_response_payload"] is False
    assert interactive["payload"]["type"] == "shortcut"
    assert [d.status for d in deliveries] == [200, 200, 200]
    assert deliveries[2].body == "" and "does not accept" in deliveries[2].problems[0]


def test_no_ack_within_the_deadline_times_out_and_a_late_ack_is_refused(
    emulator: SlackEmulator, raw_app: ClientConnection
) -> None:
    emulator.ack_timeout = 0.2
    delivery = emulator.slash_command("/lead", "help", user=USER)
    envelope = next_envelope(raw_app)
    ack(raw_app, envelope, {"text": "too late"})

    assert delivery.timed_out and delivery.status == 0 and delivery.elapsed >= 0.2
    assert "did not acknowledge" in delivery.problems[0]
    assert emulator.wait_for(lambda e: e.socket.problems)[0].startswith(
        "ack for an envelope Slack already gave up on"
    )
    assert emulator.ephemerals(USER) == []


def test_refresh_sends_disconnect_then_closes(emulator: SlackEmulator, raw_app: ClientConnection) -> None:
    assert emulator.socket.refresh(grace=0.2) == 1

    assert json.loads(raw_app.recv(timeout=5)) == {
        "type": "disconnect",
        "reason": "refresh_requested",
        "debug_info": {"host": "applink-emulator"},
    }
    assert emulator.socket.connection_count == 0  # Slack stops sending on a connection it asked to go
    with pytest.raises(ConnectionClosed) as closed:
        raw_app.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_without_a_connection_socket_mode_deliveries_fail_like_slack(clock: FakeClock) -> None:
    emulator = SlackEmulator(
        signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, clock=clock, socket_mode=True
    )
    delivery = emulator.slash_command("/lead", user=USER)
    assert delivery.status == 0 and "dispatch_failed" in delivery.problems[0]

    emulator.socket_mode = None  # automatic: neither a Request URL nor a connection
    with pytest.raises(RuntimeError, match="app_url"):
        emulator.slash_command("/lead", user=USER)
    emulator.close()


# --- a real Bolt app through slack_sdk's SocketModeHandler -----------------------------------------


@pytest.fixture
def bolt_socket(emulator: SlackEmulator) -> Iterator[tuple[SocketModeHandler, list[dict[str, Any]]]]:
    """The test Bolt app connected in Socket Mode (the same app the HTTP driver tests use)."""
    app = build_app(signing_secret=SIGNING_SECRET, token=BOT_TOKEN, api_url=emulator.api_url)
    handler = SocketModeHandler(app, emulator.app_token, ping_interval=0.5)
    received: list[dict[str, Any]] = []
    handler.client.message_listeners.append(lambda _client, message, _raw: received.append(message))
    handler.connect()
    emulator.wait_for(lambda e: e.socket.connection_count == 1)
    yield handler, received
    close_from_slacks_side(emulator, handler)


def test_bolt_app_over_socket_mode_gets_hello_commands_modals_and_options(
    emulator: SlackEmulator, bolt_socket: tuple[SocketModeHandler, list[dict[str, Any]]]
) -> None:
    _handler, received = bolt_socket
    assert emulator.delivers_over_socket

    help_answer = emulator.slash_command("/lead", "help", user=USER)
    assert help_answer.status == 200 and emulator.ephemerals(USER)[0]["text"].startswith("Usage")
    opened = emulator.slash_command("/lead", user=USER)
    assert opened.status == 200 and opened.body == ""
    (view,) = emulator.wait_for(lambda e: e.open_views(USER))
    assert not emulator.failed_calls()  # views.open made it inside the trigger's 3 seconds

    options = emulator.block_suggestion(user=USER, view_id=view["id"], action_id="city_picker", value="pu")
    assert [o["value"] for o in options.options] == ["pune"]

    refused = emulator.submit_view(user=USER, values={"name": "bad", "status": "Fresh"})
    assert refused.json == {"response_action": "errors", "errors": {"name": "That is not a name"}}
    (still_open,) = emulator.open_views(USER)
    assert still_open["errors"] == {"name": "That is not a name"}

    accepted = emulator.submit_view(user=USER, values={"name": "Jane", "status": "Won", "city": "pune"})
    assert accepted.status == 200 and accepted.body == "" and emulator.open_views(USER) == []
    (card,) = emulator.wait_for(lambda e: e.messages("C0SALES"))
    assert card["text"] == "New lead Jane (Won) pune"
    assert received[0]["type"] == "hello" and received[0]["connection_info"]["app_id"] == directory.APP_ID
    assert {d.kind for d in emulator.deliveries} >= {"slash_command", "block_suggestion", "view_submission"}
    assert all(d.envelope_id for d in emulator.deliveries)


def test_bolt_app_reconnects_after_a_refresh_and_after_a_dropped_connection(
    emulator: SlackEmulator, bolt_socket: tuple[SocketModeHandler, list[dict[str, Any]]]
) -> None:
    emulator.socket.refresh()
    emulator.wait_for(lambda e: e.socket.opened == 2 and e.socket.open_connections == 1)
    assert emulator.slash_command("/lead", "help", user=USER).status == 200

    emulator.socket.drop()
    emulator.wait_for(lambda e: e.socket.opened == 3 and e.socket.connection_count == 1)
    assert emulator.slash_command("/lead", "help", user=USER).status == 200

    assert [m["text"][:5] for m in emulator.ephemerals(USER)] == ["Usage", "Usage"]
    assert len(emulator.calls_to("apps.connections.open")) == 3
