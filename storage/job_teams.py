"""Which Slack workspace asked for each queued job (OAuth mode, many workspaces).

A job's payload says what to do, not for which workspace; the worker (kit/worker.py) records the
workspace of the request that queued a job here, keyed like the outbox row, and runs the job with
that workspace's token. Rows are pruned after :data:`RETENTION_SECONDS`, longer than any job waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

RETENTION_SECONDS = 30 * 24 * 3600
PRUNE_EVERY = 500  # remembered jobs between two prunes


def create_job_teams_table(db: Any) -> None:
    """Migration step: the ``job_teams`` table."""
    db.execute(
        "CREATE TABLE job_teams (key TEXT PRIMARY KEY, team_id TEXT NOT NULL, created_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX job_teams_created ON job_teams (created_at)")


class JobTeams:
    def __init__(self, store: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._store, self._clock = store, clock
        self._since_prune = 0

    def remember(self, key: str, team_id: str) -> None:
        """The job ``key`` is for ``team_id`` (the first workspace to queue a key keeps it)."""
        now = self._clock()
        self._store.write(
            "INSERT INTO job_teams (key, team_id, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
            [key, team_id, now],
        )
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            self._store.write("DELETE FROM job_teams WHERE created_at < ?", [now - RETENTION_SECONDS])

    def team_of(self, key: str) -> str | None:
        row = self._store.db.execute("SELECT team_id FROM job_teams WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else None
