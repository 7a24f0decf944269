"""The pace of Async requests: a token bucket under ``TELECRM_ASYNC_RATE_PER_HOUR``, shared by every
process on the same database.

TeleCRM allows 18,000 Async requests an hour per token (docs/TELECRM.md) and says nothing of bursts,
so the bucket holds one token and refills every ``3600 / rate`` seconds: requests go out evenly spaced
(5 a second at the default), never in a burst that a sliding-window limiter would answer with 429s.
It refills at 99 % of the setting: a request that leaves on time can arrive a little late and the next
one on time, and 1 % (36 s an hour) is far more than that jitter, so the hour never holds one too many.

The next free turn lives in SQLite (``async_pacing``, storage/import_sending.py), so two imports sent
at once share the one budget, and a process that takes over after a crash keeps the dead one's pace.
A 429 moves the next turn past its ``Retry-After`` for everyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from storage.import_sending import ImportSending

BUCKET = "telecrm-async"
HEADROOM = 0.99  # see the module docstring


class AsyncPacer:
    def __init__(
        self, sending: ImportSending, rate_per_hour: float, *, clock: Callable[[], float] = time.time
    ) -> None:
        if rate_per_hour <= 0:
            raise ValueError(f"an Async rate needs at least 1 request an hour, got {rate_per_hour}")
        self._sending = sending
        self._clock = clock
        self.interval = 3600.0 / (rate_per_hour * HEADROOM)

    def wait_for_turn(self, should_stop: Callable[[float], bool]) -> bool:
        """Take a turn, waiting as long as the bucket says; ``should_stop(seconds)`` waits up to that
        long and says whether to give up (pause, cancel, shutdown). True when the turn was taken."""
        while True:
            wait = self._sending.take_turn(BUCKET, interval=self.interval)
            if wait <= 0:
                return True
            if should_stop(min(wait, 1.0)):
                return False

    def hold_off(self, seconds: float) -> None:
        """TeleCRM said 429: nobody on this database sends for ``seconds``."""
        self._sending.hold_off(BUCKET, until=self._clock() + max(0.0, seconds))
