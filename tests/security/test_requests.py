"""What a stranger can send to ``/slack/events``: bodies over the limit are refused before they are
read, unsigned requests are refused with 401 whatever their headers, and nothing they send reaches
the log beyond one short, escaped, masked excerpt."""

from __future__ import annotations

import http.client

import pytest

from tests.security.conftest import (
    address,
    assert_acked,
    http_request,
    lead_command,
    post_events,
    send_raw,
    slack_headers,
)

MB = 1024 * 1024
LIMIT = MB  # the documented limit (README, bot/server.py MAX_BODY_BYTES)
EXCERPT = 200  # the most of a refused request's body the log may show
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def more_than_an_excerpt_of(run: str, text: str) -> bool:
    """Whether ``text`` (the log) holds more of a body made of ``run`` than an excerpt."""
    return run * (EXCERPT + 1) in text


@pytest.mark.timeout(30)
def test_a_body_over_the_limit_is_refused_before_it_is_read(shared_bot, log_text):
    # only the headers and the first KB are sent: the answer cannot wait for the other 10 MB
    head = http_request(
        "POST", "/slack/events", {**FORM, "Content-Length": str(10 * MB)}, b"q" * 1024, length=False
    )
    answer = send_raw(shared_bot, head, timeout=5)
    assert answer.status == 413
    assert "qqqq" not in log_text()  # not even an excerpt: the body was never read


@pytest.mark.timeout(30)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_megabytes_of_letters_get_a_quick_answer_and_slack_is_still_acknowledged(
    shared_bot, log_text, chunked
):
    body = b"a" * (10 * MB)
    connection = http.client.HTTPConnection(*address(shared_bot), timeout=10)
    try:
        # a whole body sent by a client that reads the answer only afterwards
        payload = (body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)) if chunked else body
        connection.request("POST", "/slack/events", body=payload, headers=FORM, encode_chunked=chunked)
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    assert_acked(shared_bot)
    assert not more_than_an_excerpt_of("a", log_text())


@pytest.mark.timeout(30)
def test_a_body_at_the_limit_is_read_and_checked(shared_bot, log_text):
    body = b"text=" + b"a" * (LIMIT - 5)
    assert post_events(shared_bot, body, FORM).status == 401
    assert not more_than_an_excerpt_of("a", log_text())


@pytest.mark.timeout(30)
def test_an_unsigned_request_is_logged_as_one_short_escaped_masked_line(shared_bot, log_text):
    forged = "2026-01-01 00:00:00 ERROR   bot.admin: payment approved by U0ADMIN"
    body = (
        f"email=jane.doe%40example.com&phone=%2B919812398765&text=hi\n{forged}\r\n{forged}\x1b[2K&pad=".encode()
        + b"z" * 120_000
    )
    assert post_events(shared_bot, body, FORM).status == 401
    text = log_text()
    refusals = [line for line in text.splitlines() if "refused" in line]
    assert len(refusals) == 1
    assert not any(line.startswith("2026-01-01") for line in text.splitlines())
    assert "\x1b" not in text
    assert "jane.doe" not in text and "9812398765" not in text
    assert not more_than_an_excerpt_of("z", text)


@pytest.mark.timeout(30)
def test_url_encoded_emails_never_reach_the_log(shared_bot, log_text):
    shared_bot.command("/lead", 'name="Mona Mail" phone=919812312345 email=mona.private@example.com')
    body = lead_command('name="Mona Mail" email=mona.private@example.com')
    assert post_events(shared_bot, body, FORM).status == 401
    shared_bot.settle()
    assert "mona.private" not in log_text()


MALFORMED_TIMESTAMPS = [
    "abc",
    "",
    " 1",
    "1e9",
    "+1700000000",
    "-1",
    "1700000000.5",
    "9" * 40,
    "\u00b2",
    "0x10",
]
MALFORMED_SIGNATURES = [None, "", "v0=", "garbage", "v0=\u00e9\u00e9", "v1=" + "0" * 64]


def test_a_malformed_timestamp_is_401_never_500(shared_bot):
    body = lead_command("help")
    answers = {}
    for timestamp in MALFORMED_TIMESTAMPS:
        headers = {**slack_headers(body), "X-Slack-Request-Timestamp": timestamp}
        answers[timestamp] = post_events(shared_bot, body, headers).status
    assert answers == dict.fromkeys(MALFORMED_TIMESTAMPS, 401)


def test_a_missing_or_malformed_signature_is_401_never_500(shared_bot):
    body = lead_command("help")
    answers = {}
    for signature in MALFORMED_SIGNATURES:
        headers = slack_headers(body)
        if signature is None:
            del headers["X-Slack-Signature"]
        else:
            headers["X-Slack-Signature"] = signature
        answers[signature] = post_events(shared_bot, body, headers).status
    assert answers == dict.fromkeys(MALFORMED_SIGNATURES, 401)


def test_a_signed_body_that_is_not_utf8_is_400(shared_bot):
    body = b"command=%2Flead&text=" + b"\xff\xfe\xc3("
    assert post_events(shared_bot, body, slack_headers(body)).status == 400
    assert_acked(shared_bot)


def test_an_unsigned_body_that_is_not_utf8_is_401(shared_bot):
    body = b"command=%2Flead&text=" + b"\xff\xfe\xc3("
    assert post_events(shared_bot, body, slack_headers(body, secret="not-the-secret")).status == 401


def test_http_mode_will_not_start_without_a_signing_secret():
    """Without one, nothing could tell Slack's requests from anyone else's."""
    from slack_bolt import App

    from bot.server import make_wsgi_app

    app = App(token="xoxb-test", token_verification_enabled=False, request_verification_enabled=False)
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        make_wsgi_app(app, dict, signing_secret="")
