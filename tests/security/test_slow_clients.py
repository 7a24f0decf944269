"""Clients that hold connections without finishing a request (slow-loris): each request has a
deadline however busily its bytes trickle in, and when every connection slot is taken the
longest-waiting connections make room, so Slack's requests and ``/healthz`` are still answered."""

from __future__ import annotations

import contextlib
import resource
import select
import socket
import time
from collections.abc import Iterator

import pytest

from tests.security.conftest import address, assert_acked, http_request, lead_command, post_events, send_raw
from tests.security.conftest import slack_headers as signed

BEGUN = (
    b"POST /slack/events HTTP/1.1\r\nHost: bot.test\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4096\r\n\r\nc"
)


@contextlib.contextmanager
def slow_senders(bot, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that have each begun a request and do not finish it."""
    connections: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(address(bot), timeout=5)
            sock.sendall(BEGUN)
            connections.append(sock)
        yield connections
    finally:
        for sock in connections:
            sock.close()


def closed_by_server(sock: socket.socket, *, within: float, drip_every: float = 0.2) -> bool:
    """Drip a byte whenever the connection has been quiet for ``drip_every`` seconds, until the
    server closes it (True) or ``within`` seconds have passed (False)."""
    give_up = time.monotonic() + within
    while time.monotonic() < give_up:
        readable, _, _ = select.select([sock], [], [], drip_every)
        try:
            if readable:
                if sock.recv(4096) == b"":
                    return True
            else:
                sock.send(b"c")
        except (BrokenPipeError, ConnectionResetError):
            return True
    return False


def healthz_answers(bot) -> bool:
    return send_raw(bot, http_request("GET", "/healthz"), timeout=3).status == 200


def signed_lead_acked(bot) -> bool:
    body = lead_command("help")
    answer = post_events(bot, body, signed(body), timeout=3)
    return answer.status == 200 and answer.elapsed < 3


@pytest.mark.timeout(30)
def test_a_request_that_trickles_in_is_dropped_at_its_deadline(make_bot):
    from bot.server import HTTPLimits

    bot = make_bot(http_limits=HTTPLimits(request_deadline=1))
    with slow_senders(bot, 1) as (sock,):
        began = time.monotonic()
        assert closed_by_server(sock, within=8)
        assert time.monotonic() - began < 4  # the deadline is checked every second
    assert_acked(bot)


@pytest.mark.timeout(30)
def test_more_slow_senders_than_connection_slots_do_not_starve_slack_or_healthz(make_bot):
    from bot.server import HTTPLimits

    # a deadline far away: only making room at the limit can let Slack in
    bot = make_bot(http_limits=HTTPLimits(connection_limit=16, request_deadline=60))
    with slow_senders(bot, 48) as connections:
        assert healthz_answers(bot)
        assert signed_lead_acked(bot)
        assert_acked(bot)
        assert closed_by_server(connections[0], within=3)  # the longest-waiting made room


@pytest.mark.timeout(60)
def test_520_slow_senders_do_not_starve_slack_with_the_default_limits(shared_bot):
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 1_400:
        pytest.skip(f"needs ~1,100 open files for both ends of 520 connections (limit {soft})")
    with slow_senders(shared_bot, 520):
        assert healthz_answers(shared_bot)
        assert signed_lead_acked(shared_bot)
        assert_acked(shared_bot)
