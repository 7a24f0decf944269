"""Slow clients against the real bot process: hundreds of connections that each begin a request and
then send one byte every few seconds, never finishing it (a slow-loris), while Slack keeps sending
signed ``/lead`` commands and a load balancer polls ``/healthz``.

A connection the bot closes is opened again at once, so the pressure stays at ``connections`` for the
whole run. Everything is on loopback and bounded (connections, seconds); the run stops by itself.

``python -m soak.slow_clients [--connections 520] [--drip 5] [--seconds 60]`` prints the numbers as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import select
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import percentile
from soak.processes import BotProcess, World, world

CHANNEL = "C0SALES"
USER = "U0RAHUL"
SLACK_ACK_TIMEOUT = 3.0
ACK_INTERVAL = 0.5  # a signed /lead every half second
HEALTHZ_INTERVAL = 1.0
# each slow connection begins a request and never ends its headers
BEGIN = b"POST /slack/events HTTP/1.1\r\nHost: soak.test\r\nX-Padding: "


@dataclass
class SlowClients:
    """``count`` connections that each send one more byte every ``drip`` seconds; one the bot closes
    is replaced at once (an attacker keeps the pressure up)."""

    address: tuple[str, int]
    count: int
    drip: float
    opened: int = 0
    closed_by_bot: int = 0
    connect_failures: int = 0
    _next_drip: dict[socket.socket, float] = field(default_factory=dict)

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self._top_up()
                self._notice_closed(timeout=0.2)
                self._drip_due()
        finally:
            for sock in self._next_drip:
                sock.close()

    def _top_up(self) -> None:
        while len(self._next_drip) < self.count:
            try:
                sock = socket.create_connection(self.address, timeout=2)
                sock.sendall(BEGIN)
            except OSError:
                self.connect_failures += 1
                return
            sock.setblocking(False)
            self.opened += 1
            self._next_drip[sock] = time.monotonic() + self.drip

    def _notice_closed(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the bot to answer or close any of them (poll(): no 1,024 limit)."""
        poller = select.poll()
        by_fd = {sock.fileno(): sock for sock in self._next_drip}
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll(timeout * 1000):
            sock = by_fd[fd]
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:  # an answer is followed by a close; either way this one is done
                self._drop(sock)

    def _drip_due(self) -> None:
        now = time.monotonic()
        for sock, due in list(self._next_drip.items()):
            if due <= now:
                try:
                    sock.send(b"a")
                    self._next_drip[sock] = now + self.drip
                except OSError:
                    self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        self._next_drip.pop(sock, None)
        sock.close()
        self.closed_by_bot += 1


@dataclass
class Probe:
    """Latencies (seconds) of requests that got their answer in time, and how many were sent."""

    sent: int = 0
    answered: list[float] = field(default_factory=list)

    def summary(self, name: str) -> dict[str, Any]:
        times = self.answered or [0.0]
        return {
            f"{name}_sent": self.sent,
            f"{name}_answered": len(self.answered),
            f"{name}_p50_ms": round(percentile(times, 50) * 1000, 1),
            f"{name}_p95_ms": round(percentile(times, 95) * 1000, 1),
            f"{name}_max_ms": round(max(times) * 1000, 1),
        }


def _poll_healthz(address: tuple[str, int], probe: Probe, stop: threading.Event) -> None:
    """A load balancer's health check: a new connection every second."""
    while not stop.wait(HEALTHZ_INTERVAL):
        probe.sent += 1
        start = time.monotonic()
        connection = http.client.HTTPConnection(*address, timeout=SLACK_ACK_TIMEOUT)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                probe.answered.append(time.monotonic() - start)
        except OSError:
            pass
        finally:
            connection.close()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _allow_open_files(count: int) -> None:
    """This process holds ``count`` sockets of its own, plus the stand-ins' and Slack's."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard)
        )


def run(connections: int = 520, drip: float = 5.0, seconds: float = 60.0) -> dict[str, Any]:
    _allow_open_files(connections)
    with tempfile.TemporaryDirectory(prefix="soak-slow-") as tmp, world(Path(tmp)) as w:
        bot = w.bot()
        bot.start()
        try:
            return _under_slow_clients(w, bot, connections, drip, seconds)
        finally:
            bot.terminate()


def _under_slow_clients(
    w: World, bot: BotProcess, connections: int, drip: float, seconds: float
) -> dict[str, Any]:
    """Slack's acknowledgements and the health check, measured while the slow clients hold on."""
    assert bot.proc is not None
    address = ("127.0.0.1", bot.port)
    rss = [_rss_mib(bot.proc.pid)]
    slow, acks, healthz = SlowClients(address, connections, drip), Probe(), Probe()
    stop = threading.Event()
    threads = [
        threading.Thread(target=slow.run, args=(stop,), name="slow-clients", daemon=True),
        threading.Thread(target=_poll_healthz, args=(address, healthz, stop), name="healthz", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        ends = time.monotonic() + seconds
        while not stop.wait(ACK_INTERVAL) and time.monotonic() < ends:
            acks.sent += 1
            delivery = w.emulator.slash_command("/lead", "help", user=USER, channel=CHANNEL)
            if delivery.status == 200 and delivery.elapsed <= SLACK_ACK_TIMEOUT:
                acks.answered.append(delivery.elapsed)
            rss.append(_rss_mib(bot.proc.pid))
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    failures = (acks.sent - len(acks.answered)) + (healthz.sent - len(healthz.answered))
    return {
        "slow_connections": connections,
        "drip_seconds": drip,
        "seconds": seconds,
        "slow_connections_opened": slow.opened,
        "slow_connections_closed_by_bot": slow.closed_by_bot,
        "slow_connect_failures": slow.connect_failures,
        **acks.summary("ack"),
        **healthz.summary("healthz"),
        "bot_rss_mib_before": rss[0],
        "bot_rss_mib_max": max(rss),
        "failures": failures,  # acknowledgements or health checks not answered in time
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak.slow_clients")
    parser.add_argument("--connections", type=int, default=520)
    parser.add_argument("--drip", type=float, default=5.0, help="seconds between a connection's bytes")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = run(args.connections, args.drip, args.seconds)
    print(json.dumps(result, indent=2))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
