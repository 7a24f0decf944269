"""Lean listeners (bot/listener_calls.py) find and call the same listener with the same arguments as
Bolt would, for every kind of request the bot takes."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.listener.custom_listener import CustomListener
from slack_sdk import WebClient

from bot.listener_calls import ARGUMENTS, LeanListener, make_listeners_lean

COMMAND = urllib.parse.urlencode(
    {
        "command": "/lead",
        "text": "phone=+919812345678 name=Asha",
        "team_id": "T0ACME",
        "user_id": "U0RAHUL",
        "channel_id": "C0SALES",
        "trigger_id": "1.2.abc",
        "response_url": "https://hooks.slack.com/commands/T0ACME/1/abc",
    }
)
ACTION = {
    "type": "block_actions",
    "team": {"id": "T0ACME"},
    "user": {"id": "U0RAHUL", "team_id": "T0ACME"},
    "trigger_id": "1.2.def",
    "actions": [{"action_id": "lead_open", "block_id": "b", "type": "button", "value": "42"}],
}
VIEW = {
    "type": "view_submission",
    "team": {"id": "T0ACME"},
    "user": {"id": "U0RAHUL", "team_id": "T0ACME"},
    "view": {
        "id": "V1",
        "type": "modal",
        "callback_id": "lead_new",
        "state": {"values": {}},
        "private_metadata": "",
    },
}
EVENT = {
    "type": "event_callback",
    "team_id": "T0ACME",
    "event_id": "Ev1",
    "event": {"type": "app_home_opened", "user": "U0RAHUL", "channel": "D1", "tab": "home"},
}


def _request(body: dict[str, Any] | str) -> BoltRequest:
    if isinstance(body, str):
        return BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})
    if body.get("type") == "event_callback":
        return BoltRequest(body=json.dumps(body), headers={"content-type": ["application/json"]})
    form = urllib.parse.urlencode({"payload": json.dumps(body)})
    return BoltRequest(body=form, headers={"content-type": ["application/x-www-form-urlencoded"]})


def _app(calls: list[tuple[str, dict[str, Any]]]) -> App:
    app = App(
        signing_secret="s",
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T0ACME", bot_token="xoxb-1", bot_user_id="U0BOT"
        ),
        request_verification_enabled=False,
        process_before_response=True,  # the listener runs before dispatch returns
    )

    def record(name: str) -> Any:
        def listener(
            ack: Any, body: Any, context: Any, action: Any, view: Any, event: Any, command: Any
        ) -> None:
            ack()
            calls.append(
                (name, {"body": body, "action": action, "view": view, "event": event, "command": command})
            )

        return listener

    app.action("never_sent")(record("never"))  # checked and passed over first
    app.command("/lead")(record("command"))
    app.action("lead_open")(record("action"))
    app.view("lead_new")(record("view"))
    app.event("app_home_opened")(record("event"))
    return app


@pytest.mark.parametrize(
    ("body", "expected"), [(COMMAND, "command"), (ACTION, "action"), (VIEW, "view"), (EVENT, "event")]
)
def test_a_lean_app_calls_the_listener_bolt_calls_with_the_same_arguments(
    body: dict[str, Any] | str, expected: str
) -> None:
    as_bolt: list[tuple[str, dict[str, Any]]] = []
    as_lean: list[tuple[str, dict[str, Any]]] = []
    _app(as_bolt).dispatch(_request(body))
    lean = _app(as_lean)
    listeners = make_listeners_lean(lean)
    assert all(isinstance(listener, LeanListener) for listener in listeners)
    lean.dispatch(_request(body))
    assert [name for name, _ in as_lean] == [name for name, _ in as_bolt] == [expected]
    assert as_lean == as_bolt


@pytest.mark.parametrize("body", [COMMAND, ACTION, VIEW, EVENT])
def test_every_lean_argument_is_what_bolts_builder_makes(body: dict[str, Any] | str) -> None:
    request = _request(body)
    request.context["client"] = WebClient(token="xoxb-1")
    listener = CustomListener(
        app_name="t", ack_function=lambda: None, lazy_functions=[], matchers=[], middleware=[]
    )
    bolt = build_required_kwargs(
        logger=listener.logger, required_arg_names=list(ARGUMENTS), request=request, response=None
    )
    for name, make in ARGUMENTS.items():
        lean = make(listener, request)
        if name in {"ack", "say", "respond"}:  # made anew on each access, by the same context
            assert type(lean) is type(bolt[name]), name
        else:
            assert lean == bolt[name] or lean is bolt[name], name


def test_a_listener_that_asks_for_more_keeps_bolts_way() -> None:
    app = _app([])

    @app.action("other")
    def needs_the_request(ack: Any, req: Any) -> None:
        ack()

    listeners = make_listeners_lean(app)
    assert not isinstance(listeners[-1], LeanListener)
