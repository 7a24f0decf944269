"""Forged interactions: requests correctly signed, but not what Slack would send for this installation.

A valid signature only proves the sender knows the signing secret. These tests sign requests the
way Slack does and check that the bot still refuses: user ids that differ only in case, another
workspace or app, a form (view) the bot never opened, and a ``response_url`` off Slack's hooks host.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.guard import Installation, RequestGuard, is_hook_url
from commands.payment.access import PaymentAccess
from kit import ids
from kit.config import ConfigError, Settings, load_settings
from kit.view_context import ViewContext, ViewSeal
from slack_emulator import sign_request
from slack_emulator.directory import APP_ID
from tests.conftest import ADMIN, CHANNEL, SIGNING_SECRET, USER, Bot

TEAM = "T0EMULATOR"
OTHER_CHANNEL = "C0PAYMENTS"


# --- sending what Slack would send, signed ------------------------------------------------------------


def _post(bot: Bot, body: str) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_request(SIGNING_SECRET, body)}
    return httpx.post(bot.runtime.http.events_url, content=body, headers=headers, timeout=10)


def slash(
    bot: Bot,
    command: str,
    text: str,
    *,
    user: str = USER,
    team: str = TEAM,
    app: str = APP_ID,
    response_url: str | None = None,
) -> httpx.Response:
    form = {
        "token": "x",
        "team_id": team,
        "channel_id": CHANNEL,
        "user_id": user,
        "command": command,
        "text": text,
        "api_app_id": app,
        "response_url": response_url or f"{bot.emulator.url}/response/forged",
        "trigger_id": f"1.2.{command}.{text}",
    }
    answer = _post(bot, urllib.parse.urlencode(form))
    bot.settle()
    return answer


def submit(bot: Bot, view: dict[str, Any], *, user: str = USER) -> httpx.Response:
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "telecrm-demo"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": APP_ID,
        "trigger_id": "1.2.forged-view",
        "view": view,
    }
    answer = _post(bot, urllib.parse.urlencode({"payload": json.dumps(payload)}))
    bot.settle()
    return answer


def new_lead_submission(metadata: str, *, view_id: str = "VFORGED0001", phone: str = "9876500901") -> dict:
    """A New lead form as Slack would send it back: only the identifier filled in."""
    return {
        "id": view_id,
        "type": "modal",
        "callback_id": ids.VIEW_LEAD_CREATE,
        "private_metadata": metadata,
        "blocks": [{"type": "input", "block_id": "phone", "element": {"type": "plain_text_input"}}],
        "state": {"values": {"phone": {ids.ACT_FIELD_VALUE: {"type": "plain_text_input", "value": phone}}}},
    }


def nothing_happened(bot: Bot, writes_before: int) -> None:
    assert bot.telecrm_writes() == writes_before
    assert bot.messages(CHANNEL) == [] and bot.messages(OTHER_CHANNEL) == []


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server standing for an attacker's host: it must receive nothing."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/commands/T0EMULATOR/1/x", received
    server.shutdown()
    server.server_close()


# --- payment permission -------------------------------------------------------------------------------


def test_payment_permission_compares_user_ids_exactly() -> None:
    access = PaymentAccess(["U0PRIYA", "<@U0OMAR>"], slack=None)  # type: ignore[arg-type]
    assert access.allows("U0PRIYA") and access.allows("U0OMAR")
    assert not access.allows("u0priya") and not access.allows("U0Priya") and not access.allows("u0omar")


def test_a_lower_case_user_id_does_not_pass_as_an_allowed_one(make_bot: Any) -> None:
    bot = make_bot(payment_allowed_users=(ADMIN,))
    phone = "919876500902"
    assert bot.services.telecrm.create_lead({"phone": phone, "name": "Jane"}).lead_id
    writes = bot.telecrm_writes()

    assert slash(bot, "/payment", f"{phone} 5000", user=ADMIN.lower()).status_code == 200

    assert bot.telecrm_writes() == writes
    assert bot.services.payments.for_lead(bot.sandbox.find_lead(phone)["id"]) == []


# --- team and app ---------------------------------------------------------------------------------------


def test_a_request_for_another_workspace_is_ignored(bot: Bot) -> None:
    writes = bot.telecrm_writes()
    answer = slash(bot, "/lead", "name=Eve phone=9876500903", team="T0ELSEWHERE")
    assert answer.status_code == 200 and answer.text == ""
    nothing_happened(bot, writes)
    assert bot.sandbox.find_lead("919876500903") is None


def test_a_request_for_another_app_is_ignored_when_the_app_id_is_known(make_bot: Any) -> None:
    bot = make_bot(slack_app_id=APP_ID)
    writes = bot.telecrm_writes()
    assert slash(bot, "/lead", "name=Eve phone=9876500904", app="A0OTHERAPP").status_code == 200
    nothing_happened(bot, writes)

    bot.command("/lead", "name=Jane phone=9876500905")  # Slack's own request for this app still works
    bot.settle()
    assert bot.sandbox.find_lead("919876500905") is not None


def test_the_guard_reads_the_team_where_each_payload_type_puts_it() -> None:
    guard = RequestGuard(Installation("T1", app_id="A1"), "https://hooks.slack.com/")
    ok = {"api_app_id": "A1"}
    assert guard.refusal({**ok, "team_id": "T1", "command": "/lead"}) is None
    assert guard.refusal({**ok, "type": "block_actions", "team": {"id": "T1"}}) is None
    assert guard.refusal({**ok, "type": "view_submission", "team": None, "user": {"team_id": "T1"}}) is None
    shortcut = {"type": "message_action", "team": {"id": "T1"}}  # shortcuts carry no app id
    assert guard.refusal(shortcut) is None
    assert guard.refusal({**ok, "team_id": "T2"}) is not None
    assert guard.refusal({**ok, "type": "block_actions", "team": {"id": "T2"}}) is not None
    org_wide = {**ok, "type": "view_submission", "team": None}
    assert guard.refusal({**org_wide, "user": {"team_id": "T2"}}) is not None
    assert guard.refusal({**ok, "type": "block_actions"}) is not None  # no team at all
    guest = {**ok, "type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1", "team_id": "T2"}}
    assert guard.refusal(guest) is not None
    assert guard.refusal({"type": "block_actions", "team": {"id": "T1"}, "api_app_id": "A2"}) is not None
    assert guard.refusal({"type": "block_actions", "team": {"id": "T1"}}) is not None
    unknown_app = RequestGuard(Installation("T1"), "https://hooks.slack.com/")
    assert unknown_app.refusal({"team_id": "T1", "api_app_id": "A2"}) is None


def test_the_app_id_comes_from_the_setting_or_from_auth_test() -> None:
    assert Installation.from_auth_test({"team_id": "T1", "app_id": "A1"}).app_id == "A1"
    assert Installation.from_auth_test({"team_id": "T1"}, app_id="A9").app_id == "A9"
    assert Installation.from_auth_test({"team_id": "T1"}).app_id is None
    assert load_settings({"SLACK_APP_ID": "A0X"}, dotenv_path=None).slack_app_id == "A0X"


# --- forged views ---------------------------------------------------------------------------------------


def test_a_view_the_bot_never_opened_creates_nothing(bot: Bot) -> None:
    writes = bot.telecrm_writes()
    forged = new_lead_submission(json.dumps({"channel": OTHER_CHANNEL, "c": OTHER_CHANNEL}))
    answer = submit(bot, forged)
    assert answer.status_code == 200
    assert answer.json()["response_action"] == "update"
    assert "could not be verified" in json.dumps(answer.json()["view"])
    nothing_happened(bot, writes)
    assert bot.sandbox.find_lead("919876500901") is None


def test_a_real_forms_metadata_does_not_work_for_someone_else_or_once_changed(bot: Bot) -> None:
    bot.command("/lead")
    (opened,) = bot.wait(lambda e: e.open_views(USER))
    sealed = opened["private_metadata"]
    assert ViewContext.from_metadata(sealed) == ViewContext(channel=CHANNEL)
    writes = bot.telecrm_writes()

    # the same sealed metadata, submitted by another person
    answer = submit(bot, new_lead_submission(sealed, view_id=opened["id"]), user=ADMIN)
    assert answer.json()["response_action"] == "update"
    # the sealed context edited to point at another channel
    envelope = json.loads(sealed)
    envelope["d"] = ViewContext(channel=OTHER_CHANNEL).to_metadata()
    answer = submit(bot, new_lead_submission(json.dumps(envelope), view_id=opened["id"]))
    assert answer.json()["response_action"] == "update"
    nothing_happened(bot, writes)

    # the form the bot opened, submitted by the person it was opened for, works
    bot.emulator.submit_view(user=USER, values={"phone": "9876500906"})
    bot.settle()
    assert bot.sandbox.find_lead("919876500906") is not None
    assert len(bot.messages(CHANNEL)) == 1


def test_sealed_metadata_is_bound_to_the_form_the_person_and_the_key() -> None:
    seal = ViewSeal(b"k" * 32)
    view = {"callback_id": "lead_create", "private_metadata": ViewContext(channel="C1").to_metadata()}
    sealed = seal.seal(view, user="U1")
    assert seal.open(sealed, user="U1") == ViewContext(channel="C1")
    assert seal.seal(sealed, user="U1") == sealed  # re-sealing a view as received changes nothing
    assert seal.open(sealed, user="U2") is None
    assert seal.open({**sealed, "callback_id": "payment_record"}, user="U1") is None
    assert ViewSeal(b"x" * 32).open(sealed, user="U1") is None
    assert seal.open(view, user="U1") is None  # never sealed
    assert seal.open({"callback_id": "lead_create", "private_metadata": "not json"}, user="U1") is None
    key_a = ViewSeal.from_settings(Settings(slack_signing_secret="s", slack_bot_token="xoxb-a"))
    key_b = ViewSeal.from_settings(Settings(slack_signing_secret="s", slack_bot_token="xoxb-b"))
    assert key_b.open(key_a.seal(view, user="U1"), user="U1") is None


# --- response_url ---------------------------------------------------------------------------------------


def test_a_forged_response_url_gets_no_request(bot: Bot, listener: tuple[str, list[str]]) -> None:
    url, received = listener
    answer = slash(bot, "/payment", "help", response_url=url)
    assert answer.status_code == 200
    assert received == []
    # the same command with Slack's own response_url is answered there
    before = len(bot.emulator.calls_to("response_url"))
    bot.command("/payment", "help")
    bot.settle()
    assert len(bot.emulator.calls_to("response_url")) == before + 1


def test_only_slacks_hooks_host_is_a_response_url() -> None:
    hooks = "https://hooks.slack.com/"
    assert is_hook_url("https://hooks.slack.com/commands/T1/1/abc", hooks)
    assert is_hook_url("https://HOOKS.slack.com:443/actions/T1/1/abc", hooks)
    for url in (
        "http://hooks.slack.com/commands/T1/1/abc",
        "https://hooks.slack.com.evil.example/commands/T1",
        "https://evil.example/commands/T1",
        "https://hooks.slack.com:8443/commands/T1",
        "https://user@evil.example/commands",
        "https://hooks.slack.com@evil.example/commands",
        "https://hooks.slack.com\\@evil.example/commands",
        "https://hooks.slack.com#@evil.example/commands",
        "https://hooks.slack.com?@evil.example/commands",
        "https://hooks.slack.com:notaport/x",
        "file:///etc/passwd",
        "",
    ):
        assert not is_hook_url(url, hooks), url


def _on_hooks_host_parsed(url: str, hooks: str) -> bool:
    """The check spelled out with a full parse, as the guard's slow path does it."""
    parts, base = urllib.parse.urlsplit(url), urllib.parse.urlsplit(hooks)
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return False
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port) == (
        "https",
        "hooks.slack.com",
        443,
    ) and parts.path.startswith(base.path or "/")


@given(
    st.sampled_from(
        ["https://hooks.slack.com", "https://HOOKS.slack.com:443", "https://hooks.slack.com.evil", ""]
    ).flatmap(lambda start: st.text("/@\\#?:.a%", max_size=12).map(lambda rest: start + rest))
)
def test_the_quick_hooks_check_answers_as_a_full_parse_does(url: str) -> None:
    """The guard accepts a URL that starts with the hooks URL without parsing it: that shortcut
    must never accept what parsing the URL would refuse (``hooks.slack.com@evil``, ``…#@evil``)."""
    assert is_hook_url(url, "https://hooks.slack.com/") == _on_hooks_host_parsed(
        url, "https://hooks.slack.com/"
    )


def test_the_hooks_host_is_configurable_and_follows_a_local_slack() -> None:
    assert Settings().hooks_url == "https://hooks.slack.com/"
    assert Settings(slack_api_url="http://127.0.0.1:3001/api/").hooks_url == "http://127.0.0.1:3001/"
    assert Settings(slack_api_url="https://slack.example/api/").hooks_url == "https://hooks.slack.com/"
    configured = load_settings({"SLACK_HOOKS_URL": "https://hooks.example"}, dotenv_path=None)
    assert configured.hooks_url == "https://hooks.example/"
    with pytest.raises(ConfigError, match="SLACK_HOOKS_URL"):
        load_settings({"SLACK_HOOKS_URL": "hooks.example"}, dotenv_path=None)
