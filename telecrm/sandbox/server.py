"""Serving the sandbox with waitress, in a background thread (tests, embedded use) or blocking (CLI).

The server's connections can be aborted from inside the WSGI app (`ABORT_KEY` in the environ),
which is how `Faults.reset_next` produces a connection closed without any HTTP answer.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask

log = logging.getLogger(__name__)

#: environ key holding a callable that drops the client connection without an answer.
ABORT_KEY = "telecrm_sandbox.abort_connection"
# How long the server's loop waits for socket activity before looking again (so a stop is noticed
# within this long). Passed to waitress's loop directly: its ``asyncore_loop_timeout`` setting is
# converted with ``int()``, which turns 0.05 into 0, and a loop polling with no timeout spins a core.
LOOP_TIMEOUT_SECONDS = 0.05


class _AbortableTask(WSGITask):
    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[ABORT_KEY] = self._abort_connection
        return environ

    def _abort_connection(self) -> None:
        sock = self.channel.socket
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)


class _AbortableChannel(HTTPChannel):
    task_class = _AbortableTask


def _wsgi_of(app_or_sandbox: Any) -> Callable[..., Any]:
    app = getattr(app_or_sandbox, "wsgi_app", app_or_sandbox)
    if not callable(app):
        raise TypeError("expected a WSGI callable or an object with a wsgi_app attribute")
    return app


def _make_server(app: Callable[..., Any], host: str, port: int, threads: int) -> Any:
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="telecrm-sandbox",
        connection_limit=max(100, threads * 4),
        channel_timeout=60,
    )
    server.channel_class = _AbortableChannel
    return server


class RunningServer:
    """A server running in a daemon thread; `url` has no trailing slash."""

    def __init__(
        self, server: Any, thread: threading.Thread, url: str, release: Callable[[], None] | None = None
    ) -> None:
        self._server = server
        self._thread = thread
        self._release = release
        self._stopped = False
        self.url = url

    def stop(self) -> None:
        """Close the listening socket and all connections, then wait for the loop thread."""
        if self._stopped:
            return
        self._stopped = True
        if self._release is not None:  # requests held by injected latency answer now
            self._release()
        server = self._server
        server.was_shutdown = True
        while server._map:
            for dispatcher in list(server._map.values()):
                with contextlib.suppress(Exception):
                    dispatcher.close()
        server.task_dispatcher.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _loop(server: Any) -> None:
    """waitress's ``server.run()``, with a poll timeout that is not rounded down to 0."""
    wasyncore.loop(timeout=LOOP_TIMEOUT_SECONDS, map=server._map, use_poll=server.adj.asyncore_use_poll)


def _run_loop(server: Any) -> None:
    try:
        _loop(server)
    except (OSError, ValueError):
        if not getattr(server, "was_shutdown", False):
            log.exception("sandbox server loop failed")


def serve_in_thread(
    app_or_sandbox: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 64
) -> RunningServer:
    """Start waitress on `host:port` (0 = a free port) in a daemon thread; returns once listening."""
    server = _make_server(_wsgi_of(app_or_sandbox), host, port, threads)
    url_host = f"[{server.effective_host}]" if ":" in str(server.effective_host) else server.effective_host
    url = f"http://{url_host}:{server.effective_port}"
    thread = threading.Thread(target=_run_loop, args=(server,), name=f"telecrm-sandbox {url}", daemon=True)
    thread.start()
    faults = getattr(app_or_sandbox, "faults", None)
    return RunningServer(server, thread, url, release=getattr(faults, "release", None))


def serve_forever(sandbox: Any, host: str, port: int) -> None:
    """Serve until interrupted (the `telecrm-bot sandbox` command)."""
    server = _make_server(_wsgi_of(sandbox), host, port, threads=16)
    log.info("TeleCRM sandbox listening on http://%s:%s", server.effective_host, server.effective_port)
    try:
        server.run()  # waitress's own loop timeout (1 s) here: nothing stops it but Ctrl-C
    finally:
        close = getattr(sandbox, "close", None)
        if callable(close):
            close()
