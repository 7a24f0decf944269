"""Lean listeners (bot/listener_calls.py) find and call the same listener with the same arguments as
Bolt would, for every kind of request the bot takes."""

from __future__ import annotations

import json
import threading
import urllib.parse
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.kwargs_injection import build_required_kwargs
from slack_bolt.listener.custom_listener import CustomListener
from slack_sdk import WebClient

from bot.listener_calls import (
    ARGUMENTS,
    ON_REQUEST_THREAD_AT_MOST,
    LeanListener,
    make_listeners_lean,
    run_marked_listeners_on_request_thread,
)
from kit.request_thread import acks_on_request_thread, runs_on_request_thread

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


def _threaded_app(errors: list[str]) -> App:
    """As the bot's app is built: listeners on a pool, the marked ones on the request's thread."""
    app = App(
        signing_secret="s",
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T0ACME", bot_token="xoxb-1", bot_user_id="U0BOT"
        ),
        request_verification_enabled=False,
        process_before_response=False,
    )

    @app.error
    def on_error(error: Exception) -> None:
        errors.append(str(error))

    return app


def _serve(app: App, listener: Any) -> tuple[Any, list[str]]:
    """Dispatch a ``/lead`` request to ``listener``; the response and where the listener ran."""
    ran: list[str] = []

    def recorded(ack: Any, body: Any) -> None:
        ran.append(threading.current_thread().name)
        listener(ack, body)

    if runs_on_request_thread(listener):
        acks_on_request_thread(recorded)
    app.command("/lead")(recorded)
    make_listeners_lean(app)
    run_marked_listeners_on_request_thread(app)
    response = app.dispatch(_request(COMMAND))
    app.listener_runner.listener_executor.shutdown(wait=True)  # type: ignore[attr-defined]
    return response, ran


@pytest.mark.parametrize("marked", [True, False])
def test_a_marked_listener_answers_on_the_requests_thread_with_the_same_answer(marked: bool) -> None:
    def listener(ack: Any, body: Any) -> None:
        ack(text=f"Got {body['text']}")

    response, ran = _serve(_threaded_app([]), acks_on_request_thread(listener) if marked else listener)
    assert (response.status, response.body) == (200, "Got phone=+919812345678 name=Asha")
    assert (ran == [threading.current_thread().name]) is marked


def test_a_marked_listener_failing_after_its_ack_still_answers_and_the_error_is_handled() -> None:
    """(Bolt's own runner drops the acknowledgement then: Slack waits 3 s and gets a 404.)"""

    def listener(ack: Any, body: Any) -> None:
        ack(text="Saved")
        raise RuntimeError("after the ack")

    errors: list[str] = []
    response, _ = _serve(_threaded_app(errors), acks_on_request_thread(listener))
    assert (response.status, response.body) == (200, "Saved")
    assert errors == ["after the ack"]


def test_a_marked_listener_failing_before_its_ack_is_answered_as_bolt_answers_it() -> None:
    def listener(ack: Any, body: Any) -> None:
        raise RuntimeError("before the ack")

    answers = []
    for marked in (True, False):
        errors: list[str] = []
        response, _ = _serve(_threaded_app(errors), acks_on_request_thread(listener) if marked else listener)
        answers.append((response.status, errors))
    assert answers[0] == answers[1] and answers[0][1] == ["before the ack"]


def test_a_marked_listener_goes_to_the_pool_while_many_requests_are_being_answered() -> None:
    app = _threaded_app([])
    started, go_on = threading.Semaphore(0), threading.Event()
    ran: list[str] = []
    here = threading.current_thread().name

    def slow(ack: Any) -> None:  # answered once go_on is set
        started.release()
        go_on.wait(10)
        ack()

    @acks_on_request_thread
    def quick(ack: Any, body: Any) -> None:
        ran.append(threading.current_thread().name)
        ack(text="quick")

    app.command("/slow")(slow)
    app.command("/lead")(quick)
    make_listeners_lean(app)
    run_marked_listeners_on_request_thread(app)
    slow_requests: list[threading.Thread] = []

    def start_slow() -> None:
        request = _request(COMMAND.replace("%2Flead", "%2Fslow"))
        slow_requests.append(threading.Thread(target=app.dispatch, args=(request,)))
        slow_requests[-1].start()
        assert started.acquire(timeout=10)

    for _ in range(ON_REQUEST_THREAD_AT_MOST - 1):
        start_slow()
    assert app.dispatch(_request(COMMAND)).body == "quick"
    assert ran[-1] == here  # with it, as many as the bound: still on the request's thread
    start_slow()
    response = app.dispatch(_request(COMMAND))
    go_on.set()
    for t in slow_requests:
        t.join()
    assert (response.status, response.body) == (200, "quick")
    assert ran[-1] != here  # one more than the bound: Bolt's pool
    assert app.dispatch(_request(COMMAND)).body == "quick"  # few again: on this thread
    assert ran[-1] == here
