"""The page's HTTP side without a browser: static files, the long-polled state, the user's gestures,
and the pure helpers (manifest reading, composer parsing, Slack's words for failures)."""

from __future__ import annotations

import builtins
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from slack_emulator import SlackEmulator
from slack_emulator.emulator import Delivery
from slack_emulator.web import delivery_problems, parse_composer, permalink_target, read_app_features

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def ui(emulator: SlackEmulator, path: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{emulator.url}{path}", json={"user": "U0RAHUL", **body})


def test_page_and_static_files_are_served(ui_emulator: SlackEmulator) -> None:
    page = httpx.get(ui_emulator.url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js">' in page.text
    script = httpx.get(ui_emulator.url + "/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert httpx.get(ui_emulator.url + "/static/../web.py").status_code == 404
    assert httpx.get(ui_emulator.url + "/static/nope.js").status_code == 404
    assert httpx.get(ui_emulator.url + "/healthz").json()["emulator"] == "slack"


def test_permalinks_open_the_page_on_the_thread(ui_emulator: SlackEmulator, web: WebClient) -> None:
    parent = web.chat_postMessage(channel="C0SALES", text="card")["ts"]
    reply = web.chat_postMessage(channel="C0SALES", text="paid", thread_ts=parent)["ts"]
    link = web.chat_getPermalink(channel="C0SALES", message_ts=reply)["permalink"]

    answer = httpx.get(link)

    assert answer.status_code == 302
    assert answer.headers["location"] == f"/?channel=C0SALES&thread={parent}"
    assert permalink_target("/archives/C0SALES/p1700000000000100", None) == ("C0SALES", "1700000000.000100")
    assert permalink_target("/archives/C0SALES/nope", None) is None


def test_state_is_what_one_user_sees_in_one_channel(ui_emulator: SlackEmulator, web: WebClient) -> None:
    web.chat_postMessage(channel="C0SALES", text="card")
    parent = web.chat_postMessage(channel="C0SALES", text="lead")["ts"]
    web.chat_postMessage(channel="C0SALES", text="paid", thread_ts=parent)
    web.chat_postEphemeral(channel="C0SALES", user="U0RAHUL", text="for Rahul")
    web.chat_postMessage(channel="U0PRIYA", text="a DM to Priya")

    rahul = httpx.get(ui_emulator.url + "/ui/state", params={"user": "U0RAHUL", "channel": "C0SALES"}).json()
    priya = httpx.get(ui_emulator.url + "/ui/state", params={"user": "U0PRIYA", "channel": "C0SALES"}).json()

    assert [m["text"] for m in rahul["messages"]] == ["card", "lead"]
    assert [m["text"] for m in rahul["replies"][parent]] == ["paid"]
    assert [e["text"] for e in rahul["ephemerals"]] == ["for Rahul"] and priya["ephemerals"] == []
    assert "D0PRIYA" not in {c["id"] for c in rahul["channels"]}
    assert "D0PRIYA" in {c["id"] for c in priya["channels"]}
    assert [c["command"] for c in rahul["app"]["commands"]] == ["/lead", "/payment", "/timeline", "/pipeline"]
    unknown = httpx.get(ui_emulator.url + "/ui/state", params={"user": "U0NOBODY"})
    assert unknown.status_code == 400


def test_long_poll_wakes_on_a_change_and_is_released_on_close(
    ui_emulator: SlackEmulator, web: WebClient
) -> None:
    version = ui_emulator.ws.version
    woke: list[int] = []
    waiter = threading.Thread(target=lambda: woke.append(ui_emulator.ui.wait_for_change(version, 20)))
    waiter.start()
    web.chat_postMessage(channel="C0SALES", text="hello")
    waiter.join(5)
    assert woke and woke[0] > version

    unchanged = ui_emulator.ws.version
    assert ui_emulator.ui.wait_for_change(unchanged, 0.05) == unchanged  # times out, answers anyway

    held = threading.Thread(target=lambda: woke.append(ui_emulator.ui.wait_for_change(unchanged, 20)))
    held.start()
    ui_emulator.ui.close()
    held.join(5)
    assert not held.is_alive()
    assert httpx.get(ui_emulator.url + "/ui/state").status_code == 503


def test_composer_posts_messages_and_sends_commands(ui_emulator: SlackEmulator) -> None:
    answer = ui(ui_emulator, "/ui/send", channel="C0SALES", text="hello team").json()
    assert answer["ok"] and ui_emulator.messages("C0SALES")[-1]["text"] == "hello team"

    answer = ui(ui_emulator, "/ui/send", channel="C0SALES", text="/lead help").json()
    assert answer == {"ok": True, "problems": []}
    assert ui_emulator.ephemerals("U0RAHUL")[-1]["text"].startswith("Usage")
    assert ui_emulator.deliveries[-1].payload["text"] == "help"

    # /pipeline is declared with should_escape: a member's @handle arrives as a mention, as from Slack
    ui(ui_emulator, "/ui/send", channel="C0SALES", text="/pipeline week @priya @nobody")
    assert ui_emulator.deliveries[-1].payload["text"] == "week <@U0PRIYA|priya> @nobody"

    in_thread = ui(
        ui_emulator, "/ui/send", channel="C0SALES", text="/lead", thread_ts=answer.get("ts", "1.0")
    )
    assert in_thread.status_code == 400 and "not supported in threads" in in_thread.json()["error"]
    unknown = ui(ui_emulator, "/ui/send", channel="C0SALES", text="/leads")
    assert "/leads is not a valid command" in unknown.json()["error"]
    assert ui(ui_emulator, "/ui/send", channel="C0SALES", text="  ").status_code == 400
    assert (
        ui(ui_emulator, "/ui/send", channel="C0NOPE", text="hi").json()["error"].startswith("unknown channel")
    )


def test_submit_shows_what_the_slack_client_refuses_without_sending(ui_emulator: SlackEmulator) -> None:
    ui(ui_emulator, "/ui/send", channel="C0SALES", text="/lead")
    (view,) = ui_emulator.wait_for(lambda e: e.open_views("U0RAHUL"))
    sent = len(ui_emulator.deliveries)

    answer = ui(ui_emulator, "/ui/submit", view_id=view["id"], values={"email": "nope"}).json()

    assert set(answer["client_errors"]) == {"name", "status", "email"}
    assert ui_emulator.open_views("U0RAHUL")[0]["errors"]["email"] == "Enter an email address."
    assert len(ui_emulator.deliveries) == sent

    answer = ui(
        ui_emulator, "/ui/submit", view_id=view["id"], values={"name": "Jane", "status": "Won", "email": ""}
    ).json()
    assert answer == {"ok": True, "problems": []}
    assert ui_emulator.open_views("U0RAHUL") == []


def test_buttons_on_a_modal_carry_what_was_typed(ui_emulator: SlackEmulator, web: WebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": "Form"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "action_id": "more", "text": {"type": "plain_text", "text": "More"}}
                ],
            },
        ],
    }
    opened = web.views_open(trigger_id=ui_emulator.new_trigger_id("U0RAHUL"), view=view)["view"]

    ui(
        ui_emulator,
        "/ui/action",
        view_id=opened["id"],
        action_id="more",
        kind="button",
        inputs={"name": "Jane"},
    )

    payload = ui_emulator.deliveries[-1].payload
    assert payload["actions"][0]["action_id"] == "more"
    assert payload["view"]["state"]["values"]["name"]["v"]["value"] == "Jane"
    gone = ui(ui_emulator, "/ui/action", channel="C0SALES", message_ts="1.0", action_id="x", kind="button")
    assert gone.status_code == 400 and "no message" in gone.json()["error"]


def test_manifest_is_read_with_or_without_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    text = MANIFEST.read_text()
    with_yaml = read_app_features(text)
    real_import = builtins.__import__

    def no_yaml(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "yaml":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yaml)
    assert read_app_features(text) == with_yaml
    assert with_yaml["name"] == "TeleCRM"
    assert {s["callback_id"] for s in with_yaml["shortcuts"]} == {
        "create_lead_from_message",
        "record_payment_on_card",
        "import_leads_from_file",
    }
    assert with_yaml["commands"][0]["usage_hint"].startswith('[name="Jane Doe"')


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("/lead", ("/lead", "")),
        ('  /LEAD name="Jane Doe" phone=9999  ', ("/lead", 'name="Jane Doe" phone=9999')),
        ("/payment 42\n500 INR", ("/payment", "42\n500 INR")),
        ("hello /lead", None),
        ("/", None),
        ("//lead", None),
    ],
)
def test_parse_composer(typed: str, parsed: tuple[str, str] | None) -> None:
    assert parse_composer(typed) == parsed


def delivery(**kw: Any) -> Delivery:
    base: dict[str, Any] = {"kind": "slash_command", "payload": {}, "status": 200, "body": "", "headers": {}}
    return Delivery(**{**base, "elapsed": 0.1, **kw})


def test_failures_are_put_in_slacks_words() -> None:
    assert delivery_problems("/lead", delivery()) == []
    assert "dispatch_failed" in delivery_problems("/lead", delivery(status=0))[0]
    assert "HTTP 500" in delivery_problems("/lead", delivery(status=500))[0]
    assert "operation_timeout" in delivery_problems("/lead", delivery(timed_out=True, elapsed=3.4))[0]
    warned = delivery(problems=["warning: missing text", "the answer was refused"])
    assert delivery_problems("/lead", warned) == ["the answer was refused"]
