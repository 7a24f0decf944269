"""Run a module with every Python thread's name given to the OS thread, so the benchmarks can read
each thread's CPU time from outside (``/proc/<pid>/task/<tid>/comm`` and ``stat``).

``python -m bench.named_threads bot.cli serve …`` runs ``python -m bot.cli serve …``; the only
difference is one ``prctl(PR_SET_NAME)`` per thread start (Python 3.11 leaves every OS thread named
after the executable). Linux only; elsewhere the module runs unchanged.

With ``BENCH_REQUEST_TIMES`` set it also records each Slack request's time inside the app
(:mod:`bench.request_times`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import runpy
import sys
import threading
from typing import Any

from bench import request_times

PR_SET_NAME = 15
COMM_MAX = 15  # the kernel keeps 15 bytes of a thread's name


def _namer() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl = getattr(libc, "prctl", None)
    if prctl is None:
        return None

    def name_this_thread(name: str) -> None:
        prctl(PR_SET_NAME, ctypes.c_char_p(name.encode("ascii", "replace")[:COMM_MAX]), 0, 0, 0)

    return name_this_thread


def install() -> None:
    """Every thread started from now on names its OS thread after ``Thread.name``; so does this one."""
    name_this_thread = _namer()
    if name_this_thread is None or not sys.platform.startswith("linux"):
        return
    original = threading.Thread._set_native_id  # type: ignore[attr-defined]  # CPython's thread start-up hook

    def set_native_id(self: threading.Thread) -> None:
        original(self)
        name_this_thread(self.name)

    threading.Thread._set_native_id = set_native_id  # type: ignore[attr-defined]  # see above
    name_this_thread("MainThread")


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m bench.named_threads MODULE [ARG …]")
    install()
    if os.environ.get(request_times.ENV):
        request_times.install(os.environ[request_times.ENV])
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
