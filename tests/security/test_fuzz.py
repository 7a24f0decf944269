"""Property tests over the raw HTTP layer: whatever arrives on the socket (methods, paths, headers,
bodies, signed or not, well framed or not), the server answers with something other than a 5xx or
closes the connection, never crashes, and keeps answering Slack and ``/healthz``."""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import assert_acked, http_request, send_raw, slack_headers

TOKEN = st.text(
    alphabet="!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    min_size=1,
    max_size=12,
)
# header values as waitress reads them: any latin-1 character but CR and LF (those would end the header)
HEADER_VALUE = st.text(alphabet=st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=40)
METHODS = st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]) | TOKEN
PATHS = st.sampled_from(
    [
        "/slack/events",
        "/healthz",
        "/",
        "/slack/events/",
        "/slack/events?retry=1",
        "//slack/events",
        "/%2e%2e/x",
    ]
) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/%._-?=&", max_size=30).map(lambda p: "/" + p)
# half of the requests go where Slack's do, the others anywhere
TARGETS = st.one_of(st.just(("POST", "/slack/events")), st.tuples(METHODS, PATHS))
# Slack's signature headers, present or not, with any value (or a plausible timestamp)
SIGNATURE_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-Slack-Request-Timestamp": HEADER_VALUE | st.integers(-(10**12), 10**12).map(str),
        "X-Slack-Signature": HEADER_VALUE | st.just("v0=" + "0" * 64),
    },
)
HEADER_NAMES = (
    st.sampled_from(
        [
            "Content-Type",
            "X-Slack-Signature",
            "X-Slack-Request-Timestamp",
            "X-Slack-Retry-Num",
            "X-Slack-Retry-Reason",
            "Expect",
            "Transfer-Encoding",
            "Accept",
            "User-Agent",
        ]
    )
    | TOKEN
)
SLACK_LIKE = st.sampled_from(
    [
        b"command=%2Flead&text=help&user_id=U0RAHUL&channel_id=C0SALES",
        b"payload=%7B%22type%22%3A%22block_actions%22%7D",
        b"payload=not-json",
        b'{"type": "url_verification", "challenge": "x"}',
        b'{"type": "event_callback", "event": {}}',
        b"",
    ]
)
BODIES = SLACK_LIKE | st.binary(max_size=600) | st.text(max_size=300).map(str.encode)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
SLACK_FIELDS = st.dictionaries(
    st.sampled_from(
        ["type", "command", "text", "user_id", "channel_id", "team_id", "trigger_id", "response_url"]
        + ["view", "actions", "event", "challenge", "token", "api_app_id", "callback_id", "ssl_check"]
    ),
    JSONISH,
    max_size=6,
)


def _form(fields: dict) -> bytes:
    return urllib.parse.urlencode(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    ).encode()


SLACK_BODIES = (
    SLACK_FIELDS.map(lambda d: urllib.parse.urlencode({"payload": json.dumps(d)}).encode())
    | SLACK_FIELDS.map(_form)
    | SLACK_FIELDS.map(lambda d: json.dumps(d).encode())
    | BODIES
)
CONTENT_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data", ""]
)


def healthz_answers(bot) -> bool:
    return send_raw(bot, http_request("GET", "/healthz"), timeout=5).status == 200


def read_answer(data: bytes, bot) -> int | None:
    """The status of the answer to ``data``, or None when the server closed without one."""
    try:
        return send_raw(bot, data, timeout=10).status
    except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine):
        return None


@pytest.mark.timeout(120)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=TARGETS,
    headers=st.dictionaries(HEADER_NAMES, HEADER_VALUE, max_size=5),
    signature=SIGNATURE_HEADERS,
    body=BODIES,
    signed=st.booleans(),
    framing=st.sampled_from(["length", "none", "chunked"]),
)
def test_any_request_gets_an_answer_that_is_not_a_server_error(
    shared_bot, target, headers, signature, body, signed, framing
):
    method, path = target
    headers = {**headers, **signature}
    if signed:  # past the signature check: Bolt itself meets the odd body
        headers = {**headers, **slack_headers(body)}
    if framing == "chunked":
        headers = {**headers, "Transfer-Encoding": "chunked"}
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n") if body else b"0\r\n\r\n"
    headers.pop("Content-Length", None)
    data = http_request(method, path, headers, body, length=framing == "length")
    status = read_answer(data, shared_bot)
    assert status is None or status < 500, status
    assert healthz_answers(shared_bot)


@pytest.mark.timeout(120)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=SLACK_BODIES, content_type=CONTENT_TYPES, retry=st.sampled_from([None, "1", "x"]))
def test_any_signed_slack_request_gets_an_answer_that_is_not_a_server_error(
    shared_bot, body, content_type, retry
):
    headers = {**slack_headers(body), "Content-Type": content_type}
    if retry is not None:
        headers["X-Slack-Retry-Num"] = retry
    status = read_answer(http_request("POST", "/slack/events", headers, body), shared_bot)
    assert status is not None and status < 500, status
    assert healthz_answers(shared_bot)


MALFORMED = {
    "huge length": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n",
    "negative length": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "two lengths": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
    "unknown encoding": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    "bad chunk": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "long header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 40_000 + b"\r\n\r\n",
    "tls hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n",
}


def test_malformed_framing_is_always_a_client_error(shared_bot):
    statuses = {name: read_answer(raw, shared_bot) for name, raw in MALFORMED.items()}
    assert all(status is not None and 400 <= status < 500 for status in statuses.values()), statuses
    assert healthz_answers(shared_bot)
    assert_acked(shared_bot)
