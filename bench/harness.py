"""Running the real bot against the stand-ins, on loopback, and driving it like Slack does.

The Slack emulator and the TeleCRM sandbox run in the benchmark process, each behind a
:class:`SpanRecorder` that notes when its server was busy. The app under test runs in its own
process, started exactly as an operator starts it (``python -m bot.cli serve``, which builds the
:class:`~bot.runtime.Runtime`), so the load generator never competes with it for the GIL and its
resident memory is its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import request_times
from slack_emulator import SlackEmulator, serve_wsgi
from telecrm.sandbox import Sandbox
from telecrm.sandbox import serve_in_thread as serve_sandbox

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# set by ``python -m bench --profile DIR``: every app process started is sampled by py-spy into DIR
PROFILE_DIR: Path | None = None
SIGNING_SECRET = "bench-signing-secret-0123456789"
BOT_TOKEN = "xoxb-bench-bot-token"
USER = "U0RAHUL"
CHANNEL = "C0SALES"
SLACK_ACK_TIMEOUT = 3.0


# --- server-side time of the stand-ins ---------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    path: str
    start: float
    end: float


class SpanRecorder:
    """Wraps a WSGI app and records, per request, when the app started and finished (monotonic)."""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._cond = threading.Condition()

    def wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def timed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            start = time.monotonic()
            try:
                body = app(environ, start_response)
                # werkzeug answers with a list already; materialise anything lazier inside the span
                return body if isinstance(body, list) else list(body)
            finally:
                span = Span(environ.get("PATH_INFO", ""), start, time.monotonic())
                with self._cond:
                    self._spans.append(span)
                    self._cond.notify_all()

        return timed

    def spans(self) -> list[Span]:
        with self._cond:
            return list(self._spans)

    def intervals(self) -> list[tuple[float, float]]:
        return [(s.start, s.end) for s in self.spans()]

    def clear(self) -> None:
        with self._cond:
            self._spans.clear()

    def wait_for(self, path_suffix: str, *, after: float, timeout: float) -> Span:
        """The first request to a path ending in ``path_suffix`` that started at or after ``after``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for span in self._spans:
                    if span.start >= after and span.path.endswith(path_suffix):
                        return span
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no request to {path_suffix} within {timeout:.0f}s")
                self._cond.wait(remaining)


class StandIns:
    """The TeleCRM sandbox and the Slack emulator on loopback, with their busy time recorded."""

    def __init__(self, workspace: dict[str, Any] | None = None) -> None:
        self.sandbox = Sandbox(workspace)
        self.emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
        self.telecrm_time = SpanRecorder()
        self.slack_time = SpanRecorder()
        self._sandbox_server = serve_sandbox(self.telecrm_time.wrap(self.sandbox.wsgi_app))
        self._emulator_server = serve_wsgi(self.slack_time.wrap(self.emulator.wsgi_app), threads=32)
        self.emulator.url = self._emulator_server.url
        self.sandbox_url = self._sandbox_server.url

    def bot_env(self, database_path: str) -> dict[str, str]:
        """The environment an operator would set to point the bot at these stand-ins."""
        return {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.emulator.api_url,
            "TELECRM_ENTERPRISE_ID": self.sandbox.enterprise_id,
            "TELECRM_SYNC_TOKEN": self.sandbox.sync_token,
            "TELECRM_ASYNC_TOKEN": self.sandbox.async_token,
            "TELECRM_API_URL": self.sandbox_url + "/autoupdate/v2",
            "TELECRM_ASYNC_API_URL": self.sandbox_url,
            "TELECRM_LEAD_URL": self.sandbox_url + "/_sandbox/leads/{lead_id}",
            "DATABASE_PATH": database_path,
            "PAYMENT_WATCH_SECONDS": "3600",
        }

    def close(self) -> None:
        for stop in (self._emulator_server.stop, self._sandbox_server.stop, self.emulator.close):
            with contextlib.suppress(Exception):
                stop()
        with contextlib.suppress(Exception):
            self.sandbox.close()

    def __enter__(self) -> StandIns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the app under test, in its own process --------------------------------------------------------------


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_vmrss_kib(status_text: str) -> int:
    """``VmRSS`` from /proc/<pid>/status text, in KiB."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError("no VmRSS line (is the process still alive?)")


# Threads that serve Slack's request until it is acknowledged: waitress's loop (``http`` in the bot, the
# main thread of the bare app) and its request threads, and Bolt's listener threads. Everything else
# (the outbox worker, background reads, periodic tasks) works after the acknowledgement.
ACK_THREADS = frozenset({"MainThread", "http", "waitress", "listener"})


def thread_group(name: str) -> str:
    """``listener_12`` → ``listener``, ``waitress-3`` → ``waitress``: one group per pool."""
    return re.sub(r"[-_]?\d+$", "", name)


def cpu_seconds_from_stat(stat_text: str, ticks_per_second: int) -> float:
    """User + system CPU time from /proc/<pid>/stat text (the command name may contain spaces)."""
    fields = stat_text.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted from 1
    return (utime + stime) / ticks_per_second


def thread_cpu_from_schedstat(text: str) -> float:
    """A thread's time on a CPU from /proc/<pid>/task/<tid>/schedstat (nanoseconds, the first field):
    exact, where /proc's stat counts whole clock ticks (10 ms)."""
    return int(text.split()[0]) / 1e9


class AppProcess:
    """A child process serving Slack's Request URL; stopped with SIGTERM like an operator would."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str],
        workdir: Path,
        port: int,
        *,
        time_requests: bool = False,
    ) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.events_url = self.url + "/slack/events"
        self.log_path = workdir / f"{name}.log"
        # each request's time inside the app (bench/request_times.py), when asked for
        self.request_times_path = workdir / f"{name}.request-times" if time_requests else None
        full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        full_env.pop(request_times.ENV, None)
        if self.request_times_path is not None:
            full_env[request_times.ENV] = str(self.request_times_path)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            list(argv), env=full_env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._http = httpx.Client(timeout=5.0)
        self._profiling = contextlib.ExitStack()

    def profile(self) -> None:
        """Sample this process with py-spy until it stops (into ``PROFILE_DIR/<name>.txt``)."""
        if PROFILE_DIR is not None:
            from bench.profile import sampling

            PROFILE_DIR.mkdir(parents=True, exist_ok=True)
            self._profiling.enter_context(sampling(self.proc.pid, PROFILE_DIR / f"{self.name}.txt"))

    def health(self) -> dict[str, Any]:
        return self._http.get(self.url + "/healthz").json()

    def wait_ready(
        self, ready: Callable[[dict[str, Any]], bool] = lambda h: True, timeout: float = 60
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError, ValueError):
                if ready(self.health()):
                    return
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (all threads, user + system)."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        return cpu_seconds_from_stat(stat, os.sysconf("SC_CLK_TCK"))

    def thread_cpu_seconds(self) -> dict[str, float]:
        """CPU time so far per thread group (:func:`thread_group` of each OS thread's name; the app
        runs under ``bench.named_threads``, which names them)."""
        groups: dict[str, float] = {}
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):  # a thread that ended in between
                name = thread_group((task / "comm").read_text().strip())
                groups[name] = groups.get(name, 0.0) + thread_cpu_from_schedstat(
                    (task / "schedstat").read_text()
                )
        return groups

    def ack_cpu_seconds(self) -> float:
        """CPU time so far of the threads that serve a request until its acknowledgement."""
        return sum(cpu for group, cpu in self.thread_cpu_seconds().items() if group in ACK_THREADS)

    def take_request_times(self) -> list[float]:
        """Seconds inside the app for each events request since the last call (``time_requests``)."""
        if self.request_times_path is None:
            raise RuntimeError(f"{self.name} was started without time_requests")
        return request_times.take(self.request_times_path)

    def rss_kib(self) -> int:
        return read_vmrss_kib(Path(f"/proc/{self.proc.pid}/status").read_text())

    def stop(self, timeout: float = 40) -> None:
        self._profiling.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._http.close()
        self._log.close()

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_bot(
    stand_ins: StandIns,
    workdir: Path,
    *,
    name: str = "bot",
    database_url: str | None = None,
    time_requests: bool = False,
) -> AppProcess:
    """``telecrm-bot serve`` against the stand-ins, ready once the workspace schema is cached; on
    ``database_url`` when given (else the SQLite file named after it in ``workdir``)."""
    port = free_port()
    env = stand_ins.bot_env(str(workdir / f"{name}.sqlite3"))
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    argv = [sys.executable, "-m", "bench.named_threads", "bot.cli", "--env-file", os.devnull]
    argv += ["--log-level", "INFO", "serve", "--host", "127.0.0.1", "--port", str(port)]
    bot = AppProcess(name, argv, env, workdir, port, time_requests=time_requests)
    try:
        bot.wait_ready(lambda h: h.get("ok") and (h.get("cache") or {}).get("fields", 0) > 0)
    except BaseException:
        bot.stop()
        raise
    bot.profile()
    return bot


def start_bare(stand_ins: StandIns, workdir: Path, *, time_requests: bool = False) -> AppProcess:
    port = free_port()
    argv = [sys.executable, "-m", "bench.named_threads", "bench.bare_app", "--port", str(port)]
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": stand_ins.emulator.api_url,
    }
    bare = AppProcess("bare", argv, env, workdir, port, time_requests=time_requests)
    try:
        bare.wait_ready()
    except BaseException:
        bare.stop()
        raise
    bare.profile()
    return bare


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as d:
        yield Path(d)


# --- playing Slack ----------------------------------------------------------------------------------------


@dataclass
class Burst:
    """What Slack saw for a batch of slash commands: per-command ack time, and the batch's wall time."""

    elapsed: list[float] = field(default_factory=list)
    wall: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return len(self.elapsed) / self.wall if self.wall > 0 else 0.0


def fire(
    emulator: SlackEmulator,
    app_url: str,
    texts: Sequence[str],
    concurrency: int,
    *,
    command: str = "/lead",
    expect_empty_ack: bool = True,
) -> Burst:
    """Send one slash command per text from ``concurrency`` users-at-once; collect Slack's view of it."""
    emulator.app_url = app_url
    results: list[tuple[int, float, str] | None] = [None] * len(texts)
    pending = iter(range(len(texts)))
    lock = threading.Lock()

    def typist() -> None:
        while True:
            with lock:
                i = next(pending, None)
            if i is None:
                return
            d = emulator.slash_command(command, texts[i], user=USER, channel=CHANNEL)
            results[i] = (d.status, d.elapsed, d.body)

    threads = [threading.Thread(target=typist, daemon=True) for _ in range(min(concurrency, len(texts)))]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    burst = Burst(wall=time.monotonic() - start)
    for r in results:
        assert r is not None
        status, elapsed, body = r
        burst.elapsed.append(elapsed)
        if status == 0:
            burst.failures.append(f"no answer after {elapsed:.1f}s (connection failed or timed out)")
        elif status != 200:
            burst.failures.append(f"HTTP {status}")
        elif elapsed > SLACK_ACK_TIMEOUT:
            burst.failures.append(f"acknowledged after {elapsed:.1f}s; Slack gives up after 3 s")
        elif expect_empty_ack and body.strip():
            burst.failures.append(f"answered instead of queueing: {body[:160]}")
    return burst


def wait_until(
    predicate: Callable[[], Any], *, timeout: float, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until truthy (benchmarks observe another process; there is no event to wait on)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f}s")
        time.sleep(interval)


def outbox_idle(bot: AppProcess) -> bool:
    """True when the bot has no write waiting or running (its /healthz reports the outbox)."""
    counts = bot.health().get("outbox") or {}
    return not counts.get("pending") and not counts.get("running")
