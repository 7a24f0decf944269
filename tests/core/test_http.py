"""HTTP mode: health check, and requests not signed by Slack are refused with 401 and do nothing."""

from __future__ import annotations

import time
import urllib.parse

import httpx

from slack_emulator import sign_request
from tests.conftest import CHANNEL, SIGNING_SECRET, USER


def _command_body(text: str = "name=Mallory phone=919811111111") -> str:
    return urllib.parse.urlencode(
        {
            "token": "x",
            "team_id": "T0EMULATOR",
            "channel_id": CHANNEL,
            "user_id": USER,
            "command": "/lead",
            "text": text,
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.forged",
        }
    )


def test_healthz_reports_status(bot):
    answer = httpx.get(bot.runtime.http.url + "/healthz")
    assert answer.status_code == 200
    status = answer.json()
    assert status["ok"] is True
    assert status["telecrm"] == "sandbox" and status["slack"] == "emulator"
    assert status["cache"]["fields"] > 10


def test_events_path_needs_post(bot):
    assert httpx.get(bot.runtime.http.events_url).status_code == 405


def _post(bot, body: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        bot.runtime.http.events_url,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )


def test_unsigned_forged_and_stale_requests_get_401_and_no_side_effects(bot):
    body = _command_body()
    writes_before = bot.telecrm_writes()
    requests_before = len(bot.sandbox.request_log)
    calls_before = len(bot.emulator.calls)

    assert _post(bot, body, {}).status_code == 401
    bad = sign_request("not-the-secret", body)
    assert _post(bot, body, bad).status_code == 401
    stale = sign_request(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)
    assert _post(bot, body, stale).status_code == 401
    tampered = sign_request(SIGNING_SECRET, body)
    assert _post(bot, body.replace("Mallory", "Eve"), tampered).status_code == 401

    bot.settle()
    assert bot.telecrm_writes() == writes_before
    assert len(bot.sandbox.request_log) == requests_before
    assert len(bot.emulator.calls) == calls_before


def test_correctly_signed_request_is_accepted(bot):
    body = _command_body("help")
    answer = _post(bot, body, sign_request(SIGNING_SECRET, body))
    assert answer.status_code == 200
