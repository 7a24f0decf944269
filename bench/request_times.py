"""How long the app under test spends on each Slack request, from inside its process.

The latency the benchmarks measure is Slack's view: from sending a request to reading its answer,
taken in the benchmark process, which also runs the stand-ins. Under 10 or 50 concurrent commands
the two cores are saturated and that time is mostly queueing — for a core, for the benchmark's own
interpreter, for waitress's loop — so it says little about the app's own share. This module times
the app's share: ``bench.named_threads`` installs it when ``BENCH_REQUEST_TIMES`` names a file, and
every request to the events path appends its start and end (``time.monotonic()``, seconds) there, from
the moment the WSGI app is called to the moment it returns its answer. Both apps (the bot and the
bare Bolt app) build their WSGI app with ``bot.server.make_wsgi_app``, which is what is wrapped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ENV = "BENCH_REQUEST_TIMES"
EVENTS_PATH = "/slack/events"


Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def timed(wsgi: Wsgi, record: Callable[[float, float], None]) -> Wsgi:
    """``wsgi``, calling ``record(start, end)`` for each events request it answers."""

    def timed_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != EVENTS_PATH:
            return wsgi(environ, start_response)
        started = time.monotonic()
        answer = wsgi(environ, start_response)
        record(started, time.monotonic())
        return answer

    return timed_wsgi


def install(path: str) -> None:
    """Wrap ``bot.server.make_wsgi_app`` so that each app it makes records its events requests in
    ``path`` (before the app's module is run: bot/runtime.py and bench/bare_app.py import the name)."""
    import bot.server

    make = bot.server.make_wsgi_app
    out = open(path, "a", buffering=1, encoding="ascii")  # noqa: SIM115  # open for the process's life
    lock = threading.Lock()

    def record(started: float, ended: float) -> None:
        with lock:
            out.write(f"{started:.6f} {ended:.6f}\n")

    def timed_make(*args: Any, **kwargs: Any) -> Wsgi:
        return timed(make(*args, **kwargs), record)

    bot.server.make_wsgi_app = timed_make  # type: ignore[assignment]  # the benchmark's own probe


def take(path: Path) -> list[float]:
    """The durations recorded since the last call (seconds); the file is emptied."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="ascii").splitlines()
    path.write_text("", encoding="ascii")
    durations = []
    for line in lines:
        start, _, end = line.partition(" ")
        if end:
            durations.append(float(end) - float(start))
    return durations
