"""One status change or status check per payment at a time.

The status job (``commands/payment/jobs.py``) holds it while it changes a payment in TeleCRM and in
the ``payments`` table; the watcher (``commands/payment/watcher.py``) skips a payment whose lock is
taken. So the watcher never reads TeleCRM between the bot's own write and its compare-and-set, and
never mistakes that change for one made in TeleCRM.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kit.services import Services

_locks_guard = threading.Lock()
# per bot (tests run several in one process) and payment; a lock is small and payments are few
_locks: dict[tuple[int, str], threading.Lock] = {}


@contextmanager
def payment_lock(services: Services, action_id: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold the payment's lock; yields False (holding nothing) when ``wait`` is off and it is busy."""
    with _locks_guard:
        lock = _locks.setdefault((id(services), action_id), threading.Lock())
    got = lock.acquire(blocking=wait)
    try:
        yield got
    finally:
        if got:
            lock.release()
