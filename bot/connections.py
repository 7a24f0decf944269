"""waitress, hardened against clients that hold connections without finishing a request.

waitress reads each request completely before a worker thread sees it, so a slow client costs a
connection, not a thread. But out of the box it has only an *inactivity* timeout: a client that
drips one byte every few seconds is never idle and keeps its connection forever, and once
``connection_limit`` connections are open waitress stops accepting, so a few hundred such clients
lock Slack (and the load balancer's health check) out. Two changes close that:

* **a deadline per request**: a request that has not fully arrived ``request_deadline`` seconds after
  its first byte is dropped, however busily its bytes trickle in (Slack sends a whole request at
  once and gives up on an answer after 3 s, so nothing legitimate comes close);
* **at the limit, make room instead of refusing**: when every connection slot is taken, the
  connections that have waited longest without a complete request (slow senders, idle keep-alives)
  are closed so the new one is accepted. A request from Slack arrives whole within milliseconds and
  is then being served (never a candidate), so it would take an attacker more new connections per
  millisecond than there are slots to crowd it out.
"""

from __future__ import annotations

import heapq
import logging
import socket
import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, TransferEncodingNotImplemented
from waitress.server import TcpWSGIServer

try:
    import resource
except ImportError:  # not on Windows: there is no open-files limit to raise there
    resource = None  # type: ignore[assignment]  # the module is absent there, so the name is None

log = logging.getLogger(__name__)

# file descriptors kept for everything else the process opens (SQLite, HTTP clients, log files)
_FD_RESERVE = 128
_LIMIT_LOG_INTERVAL = 60.0
# How long a connection answered early (a 413) may keep sending before it is closed: enough for a
# client to finish sending a few MB and read the answer, short enough to hold a slot briefly.
LINGER_SECONDS = 5.0


class StrictParser(HTTPRequestParser):
    """waitress's request parser, answering every malformed request with a 400: a 5xx should mean
    the bot is at fault. waitress answers an unknown Transfer-Encoding with 501, and drops the
    connection with an error in the log when a Content-Length of thousands of digits makes ``int()``
    raise."""

    def parse_header(self, header_plus: bytes) -> None:
        try:
            super().parse_header(header_plus)
        except (ValueError, TransferEncodingNotImplemented) as exc:
            raise ParsingError("invalid request header") from exc


class DeadlineChannel(HTTPChannel):
    """waitress's connection, remembering when the request it is receiving began, and closing
    gently after an early answer (see :meth:`handle_close`)."""

    parser_class = StrictParser
    request_began: float | None = None  # time.time() of the first byte of an incomplete request
    lingering_until: float | None = None  # set while draining before a close
    _response_closes = False

    def received(self, data: bytes) -> bool:
        receiving = self.request
        result = super().received(data)
        if self.request is None:  # every request in ``data`` is complete
            self.request_began = None
        elif self.request is not receiving or self.request_began is None:  # a new request began
            self.request_began = time.time()
        return result

    def waiting_since(self) -> float:
        """Since when this connection has been waiting for a complete request (lingering: forever)."""
        if self.lingering_until is not None:
            return 0.0
        return self.request_began if self.request_began is not None else self.last_activity

    def overdue(self, now: float, deadline: float) -> bool:
        """A request begun more than ``deadline`` seconds ago and still incomplete, or a linger over."""
        if self.lingering_until is not None:
            return self.lingering_until < now
        return self.request_began is not None and self.request_began < now - deadline and self.evictable()

    def evictable(self) -> bool:
        """Not serving a request and not already closing."""
        return not (self.requests or self.will_close or self.close_when_flushed)

    # -- closing after an early answer ---------------------------------------------------------
    def handle_write(self) -> None:
        if self.lingering_until is not None:  # only asked to write when told to close
            super().handle_close()
            return
        # waitress closes from here once the answer that ends the connection has been sent
        self._response_closes = self.close_when_flushed and not self.will_close
        try:
            super().handle_write()
        finally:
            self._response_closes = False

    def handle_close(self) -> None:
        """After an answer that ends the connection, stop sending and drain what the client is still
        sending for a moment before closing. An answer can come before the request has been read
        (413 for a body over the limit): closing a socket with unread data resets the connection, and
        a client still busy sending its body then gets the reset instead of the answer."""
        if self._response_closes and not self.close_when_flushed and self.lingering_until is None:
            self._linger()
        else:
            super().handle_close()

    def _linger(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            super().handle_close()
            return
        self.lingering_until = time.time() + LINGER_SECONDS
        self.will_close = False
        self.request = None
        self.request_began = None

    def readable(self) -> bool:
        return True if self.lingering_until is not None else super().readable()

    def writable(self) -> bool:
        return self.will_close if self.lingering_until is not None else super().writable()

    def handle_read(self) -> None:
        if self.lingering_until is None:
            super().handle_read()
            return
        try:
            self.recv(self.adj.recv_bytes)  # discarded; at the end of the stream recv() closes
        except OSError:
            super().handle_close()


class GuardedServer(TcpWSGIServer):
    """waitress's TCP server with a per-request deadline and eviction at the connection limit."""

    channel_class = DeadlineChannel
    next_channel_cleanup: float  # set by waitress (untyped) in its __init__

    def __init__(self, *args: Any, request_deadline: float, **kw: Any) -> None:
        self.request_deadline = request_deadline
        self._evicted_since_log = 0
        self._next_limit_log = 0.0
        super().__init__(*args, **kw)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections: channel_timeout
        for channel in list(self.active_channels.values()):
            if isinstance(channel, DeadlineChannel) and channel.overdue(now, self.request_deadline):
                channel.will_close = True

    def readable(self) -> bool:
        """Called by the event loop before each poll: periodic maintenance, then whether to accept.
        Replaces waitress's version, which stops accepting at the limit."""
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        return bool(self.accepting) and self._make_room()

    def _make_room(self) -> bool:
        """True when one more connection fits, after closing the longest-waiting ones if needed."""
        if len(self._map) < self.adj.connection_limit:  # the usual case, checked on every loop pass
            return True
        channels = list(self.active_channels.values())
        closing = sum(1 for c in channels if c.will_close or c.close_when_flushed)
        excess = len(self._map) - closing - self.adj.connection_limit + 1
        if excess <= 0:
            return True
        candidates = [c for c in channels if isinstance(c, DeadlineChannel) and c.evictable()]
        victims = heapq.nsmallest(excess, candidates, key=DeadlineChannel.waiting_since)
        for channel in victims:
            channel.will_close = True  # closed by the event loop on its next pass
        if victims:
            self._note_evictions(len(victims))
        return len(victims) >= excess

    def _note_evictions(self, count: int) -> None:
        """A warning at most once a minute, so that a flood of connections cannot flood the log."""
        self._evicted_since_log += count
        now = time.monotonic()
        if now >= self._next_limit_log:
            self._next_limit_log = now + _LIMIT_LOG_INTERVAL
            log.warning(
                "connection limit (%d) reached: closed %d connection(s) that waited longest for a "
                "complete request",
                self.adj.connection_limit,
                self._evicted_since_log,
            )
            self._evicted_since_log = 0


def connection_budget(wanted: int) -> int:
    """How many connections the process can hold: ``wanted``, unless the open-files limit is lower.

    Raises the soft limit towards the hard one when needed. Each connection may use two descriptors
    (the socket, and a temporary file for a request body that outgrows memory)."""
    if resource is None:
        return wanted
    needed = 2 * wanted + _FD_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    budget = max(16, (soft - _FD_RESERVE) // 2)
    log.warning("open-files limit %d allows %d connections instead of %d", soft, budget, wanted)
    return budget
