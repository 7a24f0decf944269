"""Finished work is deleted after ``RETENTION_DAYS``, so personal data does not pile up for ever.

Outbox payloads, form drafts and import rows carry names, phone numbers and emails. Once their work
is over they are only history, so :meth:`Retention.prune` (every :data:`PASS_SECONDS`, scheduled by bot/runtime.py) deletes:

* outbox rows that are ``done`` or ``failed`` and finished more than the retention ago — never a row
  that is ``pending`` or ``running``, however old: that is a write still owed to TeleCRM;
* lead form drafts (``lead_drafts``) stored more than the retention ago;
* imports that are ``done`` or ``cancelled`` and last changed more than the retention ago, with their rows;
* Slack deliveries seen more than a day ago (storage/deliveries.py's window, whatever the retention:
  Slack redelivers within minutes; a delivery holds no personal data, only a request's key).

The pass works across every Slack workspace's rows (their ages are what counts, not whose they are):
a batch names each row by its team and key, so another workspace's row with the same key is never
taken along.

``RETENTION_DAYS=0`` keeps everything but deliveries. Every delete is a batch of at most
:data:`BATCH` rows in its own transaction, so a first pass over months of history never holds the
write lock for long: Slack's listeners (storage/db.py's write gate lets them go first) and the worker
get it between two batches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from storage.deliveries import RETENTION_SECONDS as DELIVERY_WINDOW_SECONDS
from storage.imports import CANCELLED
from storage.imports import DONE as IMPORT_DONE
from storage.outbox import DONE, FAILED

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600
BATCH = 500  # rows a transaction deletes: a few milliseconds of the write lock
# How often a pass runs. Hourly rather than daily: each pass then deletes about an hour's worth, and a
# bot restarted more often than once a day (the first pass comes one period after the start) still
# prunes. With nothing old enough a pass is a few index look-ups.
PASS_SECONDS = 3600.0

# Finished outbox rows by their finishing time: a row's next_attempt_at is set to "now" when it is
# finished (storage/outbox.py, _finish) and never changes after, so the (state, next_attempt_at)
# index finds them; updated_at, equal to it, keeps the condition exact should that ever change.
_OUTBOX = (
    "DELETE FROM outbox WHERE (team_id, key) IN (SELECT team_id, key FROM outbox WHERE state IN (?, ?)"
    " AND next_attempt_at < ? AND updated_at < ? LIMIT ?)"
)
_DRAFTS = (
    "DELETE FROM lead_drafts WHERE (team_id, key) IN"
    " (SELECT team_id, key FROM lead_drafts WHERE created_at < ? LIMIT ?)"
)
_DELIVERIES = "DELETE FROM deliveries WHERE (team_id, key) IN (SELECT team_id, key FROM deliveries WHERE seen_at < ? LIMIT ?)"
_FINISHED_IMPORTS = (
    "SELECT team_id, id FROM imports WHERE state IN (?, ?) AND updated_at < ? ORDER BY updated_at LIMIT ?"
)
_IMPORT_ROWS = (
    "DELETE FROM import_rows WHERE team_id = ? AND import_id = ? AND row_no IN"
    " (SELECT row_no FROM import_rows WHERE team_id = ? AND import_id = ? LIMIT ?)"
)


@dataclass(frozen=True)
class Pruned:
    """How many rows of each kind one pass deleted."""

    outbox: int = 0
    drafts: int = 0
    imports: int = 0
    import_rows: int = 0
    deliveries: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


class Retention:
    """Deletes finished work older than ``days`` (0: keep it) from ``store``."""

    def __init__(
        self,
        store: Any,
        *,
        days: int,
        clock: Callable[[], float] = time.time,
        batch: int = BATCH,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """``stopping``: asked between batches, so a long first pass does not hold up a shutdown."""
        self._store = store
        self.days = days
        self._clock = clock
        self._batch = batch
        self._stopping = stopping

    def prune(self) -> Pruned:
        """One pass; what is left (a stop between batches) goes at the next."""
        now = self._clock()
        deliveries = self._delete_all(_DELIVERIES, [now - DELIVERY_WINDOW_SECONDS])
        if self.days <= 0:
            return Pruned(deliveries=deliveries)
        cutoff = now - self.days * DAY_SECONDS
        pruned = Pruned(
            outbox=self._delete_all(_OUTBOX, [DONE, FAILED, cutoff, cutoff]),
            drafts=self._delete_all(_DRAFTS, [cutoff]),
            deliveries=deliveries,
            **self._prune_imports(cutoff),
        )
        if pruned.total:
            log.info(
                "retention (%d days): deleted %d finished writes, %d form drafts, %d imports with %d rows, "
                "%d Slack deliveries seen",
                self.days,
                pruned.outbox,
                pruned.drafts,
                pruned.imports,
                pruned.import_rows,
                pruned.deliveries,
            )
        return pruned

    def _delete_all(self, sql: str, args: list[Any]) -> int:
        """Run a ``… LIMIT ?`` delete batch after batch until it deletes less than a batch."""
        deleted = 0
        while not self._stopping():
            with self._store.transaction() as db:
                count = int(db.execute(sql, [*args, self._batch]).rowcount)
            deleted += count
            if count < self._batch:
                break
        return deleted

    def _prune_imports(self, cutoff: float) -> dict[str, int]:
        """Finished imports, oldest first: their rows in batches, then the import itself (``done`` and
        ``cancelled`` are final, storage/imports.py). A stop half-way leaves a finished import with
        fewer rows, which the next pass finishes deleting."""
        imports = rows = 0
        while not self._stopping():
            found = [
                (r["team_id"], r["id"])
                for r in self._store.db.query(
                    _FINISHED_IMPORTS, [IMPORT_DONE, CANCELLED, cutoff, self._batch]
                )
            ]
            deleted = 0
            for team, import_id in found:
                rows += self._delete_all(_IMPORT_ROWS, [team, import_id, team, import_id])
                if self._stopping():
                    break
                with self._store.transaction() as db:
                    deleted += db.execute(
                        "DELETE FROM imports WHERE team_id = ? AND id = ?", [team, import_id]
                    ).rowcount
            imports += deleted
            if len(found) < self._batch or not deleted:
                break
        return {"imports": imports, "import_rows": rows}
