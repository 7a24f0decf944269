"""Which activity types this workspace's timelines actually hold, counted as the bot reads them.

TeleCRM has two dozen built-in types, many of them one telephony provider's calls; a workspace uses
a handful. The `/timeline` form lists the types seen here first and leaves out provider-specific
types never seen (they can still be typed: ``/timeline <lead> <type>``). Counted per Slack workspace
(storage/tenancy.py): each has its own TeleCRM.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from kit.services import Services
from storage.dialect import BotStore
from storage.tenancy import team_key


class SeenActionTypes:
    """Uses of each action type (built-in code or custom action code) on timelines read so far."""

    def __init__(self, store: BotStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def record(self, types: Iterable[str]) -> None:
        """Count the types of one page of a timeline."""
        counts: dict[str, int] = {}
        for kind in types:
            if kind:
                counts[kind[:100]] = counts.get(kind[:100], 0) + 1
        if not counts:
            return
        now = self._clock()
        with self._store.transaction() as db:
            for kind, n in counts.items():
                db.execute(
                    "INSERT INTO action_types_seen (team_id, type, uses, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (team_id, type) DO UPDATE SET uses = action_types_seen.uses + excluded.uses,"
                    " updated_at = excluded.updated_at",
                    [team_key(), kind, n, now],
                )

    def counts(self) -> dict[str, int]:
        """Uses by type, most used first."""
        rows = self._store.db.query(
            "SELECT type, uses FROM action_types_seen WHERE team_id = ? ORDER BY uses DESC, type",
            [team_key()],
        )
        return {r["type"]: int(r["uses"]) for r in rows}


def seen_types_of(services: Services) -> SeenActionTypes:
    """The seen-types table of the bot's store, on the bot's clock."""
    return SeenActionTypes(services.store, clock=services.clock)
