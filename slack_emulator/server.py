"""Serving WSGI apps (the emulator, or a bot under test) on loopback with waitress in a daemon thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.server import create_server

if TYPE_CHECKING:
    from .emulator import SlackEmulator

logger = logging.getLogger(__name__)


@dataclass
class RunningServer:
    """A live loopback server; `stop()` asks its loop thread to close everything and waits for it."""

    url: str
    _stopping: threading.Event
    _thread: threading.Thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)


def _serve(server: Any, stopping: threading.Event) -> None:
    """waitress's loop, one short poll at a time, so sockets are closed by the thread that polls them."""
    socket_map = server._map
    try:
        while not stopping.is_set():
            wasyncore.loop(timeout=0.05, map=socket_map, use_poll=server.adj.asyncore_use_poll, count=1)
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(socket_map)


def serve_wsgi(
    app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0, threads: int = 32
) -> RunningServer:
    """Serve any WSGI app in a daemon thread; port 0 picks a free port."""
    server = create_server(app, host=host, port=port, threads=threads)
    stopping = threading.Event()
    thread = threading.Thread(
        target=_serve, args=(server, stopping), name=f"waitress-{host}:{server.effective_port}", daemon=True
    )
    thread.start()
    url = f"http://{host}:{server.effective_port}"
    logger.info("serving %s on %s", getattr(app, "__name__", type(app).__name__), url)
    return RunningServer(url=url, _stopping=stopping, _thread=thread)


def serve_in_thread(
    emulator: SlackEmulator, host: str = "127.0.0.1", port: int = 0, threads: int = 32
) -> RunningServer:
    """Serve the emulator's Web API and response_urls; sets `emulator.url`."""
    running = serve_wsgi(emulator.wsgi_app, host=host, port=port, threads=threads)
    emulator.url = running.url
    return running
