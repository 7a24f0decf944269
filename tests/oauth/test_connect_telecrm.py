"""Each Slack workspace connects its own TeleCRM from App Home, and is told to before it has: the real
bot in OAuth mode, the Slack emulator's App Home and modals, TeleCRM sandboxes behind real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from commands.home.connection import ACT_CONNECT, ACT_DISCONNECT, ASYNC_BLOCK, SYNC_BLOCK, WORKSPACE_BLOCK
from storage.tenancy import team_key
from telecrm.sandbox import Sandbox
from tests.conftest import ADMIN, CHANNEL, USER, Bot
from tests.oauth.conftest import TEAM_A, TEAM_B, Enterprises, connect, install, oauth_settings

WRONG_TOKEN = "not-the-sync-token-1234"


def connection(bot: Bot, team: str) -> Any:
    return bot.services.team_telecrms.connections.find(team)


def home_text(bot: Bot, user: str) -> str:
    return json.dumps(bot.emulator.home_view(user) or {})


def open_home(bot: Bot, user: str) -> dict[str, Any]:
    bot.emulator.app_home_opened(user)
    bot.settle()
    view = bot.emulator.home_view(user)
    assert view is not None
    return view


def fill_connect_form(bot: Bot, values: dict[str, str]) -> Any:
    home = open_home(bot, ADMIN)
    bot.emulator.click_button(user=ADMIN, action_id=ACT_CONNECT, view_id=home["id"])
    bot.settle()
    form = bot.emulator.open_views(ADMIN)[-1]
    assert all(
        "initial_value" not in json.dumps(b) for b in form["blocks"] if b.get("block_id") != WORKSPACE_BLOCK
    )
    delivery = bot.emulator.submit_view(user=ADMIN, values=values)
    bot.settle()
    return delivery


def told_to_connect(bot: Bot, user: str = USER) -> list[dict[str, Any]]:
    return [m for m in bot.ephemerals(user) if "Connect TeleCRM" in m["text"] and "Home" in m["text"]]


def test_a_command_before_connecting_is_told_how_to_connect_and_nothing_is_queued(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    with oauth_bot.emulator.as_team(TEAM_A):
        oauth_bot.command("/lead", 'name="Jane Doe" phone=9876543210')
        oauth_bot.emulator.global_shortcut(user=USER, callback_id="create_lead_from_message")
    oauth_bot.settle()
    assert len(told_to_connect(oauth_bot)) == 1
    assert oauth_bot.wait(lambda em: [c for c in em.calls if "Connect TeleCRM" in str(c["args"])])
    assert not oauth_bot.emulator.calls_to("views.open")
    assert oauth_bot.services.worker.outbox.pending() == []
    assert oauth_bot.telecrm_writes() == 0


def test_an_admin_connects_telecrm_from_app_home_and_commands_then_work(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    with oauth_bot.emulator.as_team(TEAM_A):
        assert "Connect TeleCRM" in json.dumps(open_home(oauth_bot, ADMIN))
        sandbox = oauth_bot.sandbox
        delivery = fill_connect_form(
            oauth_bot,
            {
                WORKSPACE_BLOCK: sandbox.enterprise_id,
                SYNC_BLOCK: sandbox.sync_token,
                ASYNC_BLOCK: sandbox.async_token,
            },
        )
        assert delivery.json["response_action"] == "update"
        assert "Checking" in json.dumps(delivery.json["view"])
        done = oauth_bot.emulator.open_views(ADMIN)[-1]
        assert "Connected to TeleCRM workspace" in json.dumps(done)
        saved = connection(oauth_bot, TEAM_A)
        assert saved.workspace_id == sandbox.enterprise_id and saved.connected_by == ADMIN
        assert saved.async_token == sandbox.async_token
        home = home_text(oauth_bot, ADMIN)
        assert sandbox.enterprise_id in home and ADMIN in home and ACT_DISCONNECT in home
        oauth_bot.command("/lead", 'name="Jane Doe" phone=9876543210')
        oauth_bot.settle()
    assert sandbox.find_lead("9876543210") is not None
    assert not told_to_connect(oauth_bot)


def test_wrong_credentials_keep_the_form_with_the_reason_and_save_nothing(
    oauth_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    install(oauth_bot, TEAM_A)
    caplog.set_level(logging.DEBUG)
    with oauth_bot.emulator.as_team(TEAM_A):
        fill_connect_form(
            oauth_bot, {WORKSPACE_BLOCK: oauth_bot.sandbox.enterprise_id, SYNC_BLOCK: WRONG_TOKEN}
        )
    form = oauth_bot.emulator.open_views(ADMIN)[-1]
    shown = json.dumps(form)
    assert "the token or the workspace id is wrong" in shown
    assert form["submit"]  # the form again, to correct
    assert WRONG_TOKEN not in shown and WRONG_TOKEN not in caplog.text
    assert connection(oauth_bot, TEAM_A) is None
    assert "Connect TeleCRM" in home_text(oauth_bot, ADMIN)


def test_values_of_the_wrong_shape_are_named_under_their_fields(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    with oauth_bot.emulator.as_team(TEAM_A):
        delivery = fill_connect_form(oauth_bot, {WORKSPACE_BLOCK: "ws/../x", SYNC_BLOCK: "short"})
    assert delivery.json["response_action"] == "errors"
    assert set(oauth_bot.emulator.open_views(ADMIN)[-1]["errors"]) == {WORKSPACE_BLOCK, SYNC_BLOCK}
    assert connection(oauth_bot, TEAM_A) is None


def test_someone_who_is_not_an_admin_is_told_whom_to_ask(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(cold=True, admin_users=("U0OMAR",), **oauth_settings())
    install(bot, TEAM_A)
    with bot.emulator.as_team(TEAM_A):
        home = json.dumps(open_home(bot, USER))
    assert "ask <@U0OMAR>" in home
    assert ACT_CONNECT not in home


def test_disconnecting_makes_commands_explain_again(oauth_bot: Bot) -> None:
    install(oauth_bot, TEAM_A)
    connect(oauth_bot, TEAM_A)
    with oauth_bot.emulator.as_team(TEAM_A):
        home = open_home(oauth_bot, ADMIN)
        oauth_bot.emulator.click_button(user=ADMIN, action_id=ACT_DISCONNECT, view_id=home["id"])
        oauth_bot.settle()
        assert "TeleCRM is disconnected" in home_text(oauth_bot, ADMIN)
        oauth_bot.command("/lead", 'name="Jane Doe" phone=9876543210')
        oauth_bot.settle()
    assert connection(oauth_bot, TEAM_A) is None
    assert told_to_connect(oauth_bot)
    assert oauth_bot.telecrm_writes() == 0


def test_uninstalling_deletes_the_workspaces_telecrm_connection(oauth_bot: Bot) -> None:
    for team in (TEAM_A, TEAM_B):
        install(oauth_bot, team)
        connect(oauth_bot, team)
    oauth_bot.emulator.uninstall(TEAM_B)
    oauth_bot.settle()
    assert connection(oauth_bot, TEAM_B) is None
    assert connection(oauth_bot, TEAM_A) is not None


def test_two_workspaces_each_write_to_their_own_telecrm(make_bot: Callable[..., Bot]) -> None:
    first = Sandbox()
    second = Sandbox(
        enterprise_id="7770b2d3f5c1e4a2b3c4d5e6", sync_token="second-sync-token", async_token="second-async"
    )
    bot = make_bot(cold=True, sandbox=Enterprises(first, second), **oauth_settings())
    for team, sandbox in ((TEAM_A, first), (TEAM_B, second)):
        install(bot, team)
        connect(bot, team, sandbox)
    for team, name, phone in ((TEAM_A, "Ravi Kumar", "9876500001"), (TEAM_B, "Jane Doe", "9876500002")):
        with bot.emulator.as_team(team):
            bot.command("/lead", f'name="{name}" phone={phone}')
        bot.settle()
    assert first.find_lead("9876500001") is not None and first.find_lead("9876500002") is None
    assert second.find_lead("9876500002") is not None and second.find_lead("9876500001") is None
    posts = bot.emulator.calls_to("chat.postMessage")
    assert {c["team_id"] for c in posts if "Ravi Kumar" in str(c["args"])} == {TEAM_A}
    assert {c["team_id"] for c in posts if "Jane Doe" in str(c["args"])} == {TEAM_B}
    assert any("Jane Doe" in m.get("text", "") for m in bot.messages(CHANNEL))


def test_ready_in_oauth_mode_without_any_workspace_schema(oauth_bot: Bot) -> None:
    answer = httpx.get(oauth_bot.runtime.http.url + "/readyz")
    assert answer.status_code == 200
    assert answer.json()["ready"] is True
    assert "ready when the store is writable" in answer.json()["note"]
    health = httpx.get(oauth_bot.runtime.http.url + "/healthz").json()
    assert health["ok"] is True and health["schema"] == "per workspace"


def test_periodic_work_runs_once_for_each_connected_workspace(oauth_bot: Bot) -> None:
    for team in (TEAM_A, TEAM_B):
        install(oauth_bot, team)
        connect(oauth_bot, team)
    seen: list[str] = []

    def task() -> None:
        seen.append(team_key())
        fields = len(oauth_bot.services.cache.get().fields)  # the workspace's own schema
        assert fields > 0
        if team_key() == TEAM_A:
            raise RuntimeError("one workspace's failure")

    oauth_bot.runtime.every("per-team probe", 3600, task)
    oauth_bot.runtime.periodics[-1].fn()  # one pass, as its loop would run it
    assert sorted(seen) == [TEAM_A, TEAM_B]  # B's pass ran although A's failed


def test_each_workspaces_pipeline_counts_its_own_telecrms_leads(make_bot: Callable[..., Bot]) -> None:
    """…and shows its chart, uploaded with that workspace's token."""
    from tests.pipeline.conftest import PRIYA, Seed, block_texts, image_of, workspace_with

    two = workspace_with([Seed(60, "Fresh", PRIYA), Seed(120, "Won", PRIYA)])
    five = workspace_with([Seed(60 * n, "Fresh", PRIYA) for n in range(1, 6)])
    first = Sandbox(two)
    second = Sandbox(five, enterprise_id="7770b2d3f5c1e4a2b3c4d5e6", sync_token="second-sync-token")
    bot = make_bot(cold=True, sandbox=Enterprises(first, second), **oauth_settings())
    reports = {}
    for team, sandbox in ((TEAM_A, first), (TEAM_B, second)):
        install(bot, team)
        connect(bot, team, sandbox)
        before = len(bot.ephemerals(USER))
        with bot.emulator.as_team(team):
            bot.command("/pipeline", "week")
        bot.settle()
        report = bot.ephemerals(USER)[before:][-1]
        assert image_of(report) is not None, block_texts(report.get("blocks") or [])
        reports[team] = block_texts(report.get("blocks") or [])
    assert "*Pipeline now:* 2 leads" in reports[TEAM_A]
    assert "*Pipeline now:* 5 leads" in reports[TEAM_B]


def test_a_token_telecrm_stops_accepting_is_blamed_on_the_connection_not_on_settings(oauth_bot: Bot) -> None:
    """The token was revoked in TeleCRM after the admin connected: the rep is told what failed and
    that an admin reconnects in App Home — not to check TELECRM_* settings, which this mode ignores."""
    install(oauth_bot, TEAM_A)
    connect(oauth_bot, TEAM_A)
    oauth_bot.sandbox.sync_token = "rotated-in-telecrm-5678"  # the old token is no longer accepted
    with oauth_bot.emulator.as_team(TEAM_A):
        oauth_bot.command("/lead", 'name="Jane Doe" phone=9876543210')
        oauth_bot.settle()
    # the answer, whichever of it and the acknowledgement's "loading the fields" Slack showed first
    told = json.dumps(
        [m for m in oauth_bot.ephemerals(USER) if "TeleCRM" in m["text"] and "401" in m["text"]]
    )
    assert "reconnects TeleCRM in the app's Home tab" in told, oauth_bot.ephemerals(USER)
    assert "TELECRM_SYNC_TOKEN" not in told and "TELECRM_ENTERPRISE_ID" not in told
    assert oauth_bot.sandbox.find_lead("9876543210") is None


def test_work_left_for_a_workspace_disconnected_since_is_explained_as_that() -> None:
    """A job queued just before an admin clicked Disconnect finds no connection: the rep is told the
    workspace is not connected and how to connect it, not that TeleCRM refused a token."""
    from kit.explain import explain_error
    from kit.team_telecrm import TelecrmNotConnected

    told = explain_error(TelecrmNotConnected(TEAM_A), what="the lead")
    assert f"This Slack workspace ({TEAM_A}) is not connected to TeleCRM." in told
    assert "Nothing was saved." in told and "connects TeleCRM in the app's Home tab" in told
    assert "401" not in told and "TELECRM_" not in told


def test_an_answer_faster_than_the_acknowledgement_still_replaces_checking(oauth_bot: Bot) -> None:
    """TeleCRM can answer before Slack has shown "Checking…" (the acknowledgement leaves a moment
    after ``ack()``): the answer waits for that view instead of being overwritten by it."""
    import threading

    from commands.home.connect_listeners import _replace_checking
    from commands.home.connection import message_view
    from storage.tenancy import team_scope

    install(oauth_bot, TEAM_A)
    answer = message_view("answer")
    with oauth_bot.emulator.as_team(TEAM_A), team_scope(TEAM_A):
        replacing = threading.Thread(
            target=_replace_checking, args=(oauth_bot.services, "connect-check-late", answer)
        )
        replacing.start()
        oauth_bot.wait(
            lambda e: [c for c in e.calls if c["method"] == "views.update" and c.get("error") == "not_found"]
        )
        checking = {**message_view("Checking…"), "external_id": "connect-check-late"}  # Slack shows it now
        oauth_bot.services.slack.views_open(
            trigger_id=oauth_bot.emulator.ws.new_trigger(ADMIN), view=checking
        )
        replacing.join(10)
    assert not replacing.is_alive()
    assert "answer" in json.dumps(oauth_bot.emulator.open_views(ADMIN)[-1])


def test_who_someone_is_in_telecrm_is_not_decided_before_telecrm_is_connected(oauth_bot: Bot) -> None:
    """A rep who opened the app before the admin connected TeleCRM is matched to their TeleCRM
    account by email once it is connected, not remembered as nobody."""
    from storage.tenancy import team_scope

    install(oauth_bot, TEAM_A)
    member = oauth_bot.sandbox.team_members()[0]
    oauth_bot.emulator.ws.users[USER]["profile"]["email"] = member["email"]
    with team_scope(TEAM_A):
        assert oauth_bot.services.member_for(USER) == (None, member["email"])  # nothing to look in yet
        connect(oauth_bot, TEAM_A)
        found, _ = oauth_bot.services.member_for(USER)
    assert found is not None and found.email == member["email"]
