"""The emulator's OAuth v2 is as strict as Slack documents it (oauth.v2.access, the authorize page)."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_emulator import SlackEmulator

from .conftest import FakeClock

CLIENT_ID = "1111.2222"
SECRET = "client-secret"
REDIRECT = "https://bot.example/slack/oauth_redirect"


@pytest.fixture
def oauth(emulator: SlackEmulator) -> SlackEmulator:
    emulator.configure_oauth(client_id=CLIENT_ID, client_secret=SECRET, redirect_urls=[REDIRECT])
    return emulator


def approve(emulator: SlackEmulator, team: str = "T0SECOND", **fields: str) -> httpx.Response:
    form = {"client_id": CLIENT_ID, "scope": "commands,chat:write", "state": "s1", **fields}
    form.update(team=team, user="U0PRIYA")
    return httpx.post(f"{emulator.url}/oauth/v2/authorize", data=form)


def code_of(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    location = httpx.URL(answer.headers["location"])
    assert str(location).startswith(REDIRECT)
    assert location.params["state"] == "s1"
    return location.params["code"]


def client(emulator: SlackEmulator, token: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=emulator.api_url)


def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as refused:
        call()  # type: ignore[operator]
    return str(refused.value.response["error"])


def test_a_code_is_traded_once_for_a_token_of_the_approving_team(oauth: SlackEmulator) -> None:
    code = code_of(approve(oauth))
    answer = client(oauth).oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code=code)
    assert answer["token_type"] == "bot" and answer["access_token"].startswith("xoxb-")
    assert answer["team"] == {"id": "T0SECOND", "name": "Second Sales Team"}
    assert answer["authed_user"] == {"id": "U0PRIYA"}
    assert answer["scope"] == "chat:write,commands"
    assert answer["is_enterprise_install"] is False and answer["enterprise"] is None
    assert answer["bot_user_id"] and answer["app_id"]
    who = client(oauth, answer["access_token"]).auth_test()
    assert (who["team_id"], who["team"]) == ("T0SECOND", "Second Sales Team")
    again = error_of(
        lambda: client(oauth).oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code=code)
    )
    assert again == "invalid_code"


def test_client_credentials_by_form_parameters_work_too(oauth: SlackEmulator) -> None:
    code = code_of(approve(oauth))
    answer = httpx.post(
        f"{oauth.url}/api/oauth.v2.access",
        data={"client_id": CLIENT_ID, "client_secret": SECRET, "code": code},
    ).json()
    assert answer["ok"] is True


def test_wrong_client_credentials_are_refused(oauth: SlackEmulator) -> None:
    code = code_of(approve(oauth))
    api = client(oauth)
    assert error_of(lambda: api.oauth_v2_access(client_id=CLIENT_ID, client_secret="nope", code=code)) == (
        "bad_client_secret"
    )
    assert error_of(lambda: api.oauth_v2_access(client_id="9.9", client_secret=SECRET, code=code)) == (
        "invalid_client_id"
    )
    # a refused attempt does not use the code up
    assert api.oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code=code)["ok"]


def test_an_expired_or_unknown_code_is_invalid(oauth: SlackEmulator, clock: FakeClock) -> None:
    code = code_of(approve(oauth))
    clock.advance(601)
    api = client(oauth)
    assert error_of(lambda: api.oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code=code)) == (
        "invalid_code"
    )
    assert error_of(lambda: api.oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code="x")) == (
        "invalid_code"
    )


def test_the_redirect_uri_must_be_the_apps_and_repeated(oauth: SlackEmulator) -> None:
    refused = approve(oauth, redirect_uri="https://evil.example/steal")
    assert refused.status_code == 400 and "bad_redirect_uri" in refused.text
    code = code_of(approve(oauth, redirect_uri=REDIRECT))
    api = client(oauth)
    assert error_of(lambda: api.oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code=code)) == (
        "bad_redirect_uri"
    )
    assert api.oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code=code, redirect_uri=REDIRECT)[
        "ok"
    ]


def test_the_page_refuses_an_unknown_app_and_scopes_beyond_the_manifest(oauth: SlackEmulator) -> None:
    page = httpx.get(f"{oauth.url}/oauth/v2/authorize", params={"client_id": "9.9", "scope": "commands"})
    assert "invalid_client_id" in page.text and "<form" not in page.text
    assert approve(oauth, scope="admin").status_code == 400
    shown = httpx.get(
        f"{oauth.url}/oauth/v2/authorize",
        params={"client_id": CLIENT_ID, "scope": "commands", "state": '"><script>alert(1)</script>'},
    )
    assert "<script>alert" not in shown.text and "Second Sales Team" in shown.text


def test_cancelling_sends_access_denied(oauth: SlackEmulator) -> None:
    form = {"client_id": CLIENT_ID, "scope": "commands", "state": "s1", "deny": "1"}
    answer = httpx.post(f"{oauth.url}/oauth/v2/authorize", data=form)
    assert answer.status_code == 302
    assert httpx.URL(answer.headers["location"]).params["error"] == "access_denied"


def test_a_revoked_token_stops_working(oauth: SlackEmulator) -> None:
    code = code_of(approve(oauth))
    token = client(oauth).oauth_v2_access(client_id=CLIENT_ID, client_secret=SECRET, code=code)[
        "access_token"
    ]
    oauth.oauth.revoke("T0SECOND")
    assert error_of(lambda: client(oauth, token).auth_test()) == "token_revoked"


def test_without_oauth_settings_nothing_is_granted(emulator: SlackEmulator) -> None:
    api = client(emulator)
    assert (
        error_of(lambda: api.oauth_v2_access(client_id="", client_secret="", code="x")) == "invalid_client_id"
    )


def test_uninstall_events_go_only_to_an_app_that_subscribes(oauth: SlackEmulator) -> None:
    oauth.bot_events = {"app_home_opened"}
    assert oauth.uninstall("T0SECOND") is None
    assert oauth.revoke_tokens("T0SECOND") is None
