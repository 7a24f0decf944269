"""What /lead keeps between two Slack gestures, in SQLite (tables of migration 3).

* **drafts**: values that must outlive one request — the "More fields" page of the New lead modal
  (keyed by the root view id), the baseline of an Edit modal (keyed by its view id), and the values
  offered by a duplicate-lead reply (keyed by the token in its button). Slack's ``private_metadata``
  and button values only carry these keys.
* **field usage**: how often each field was filled in on created leads, so the modal shows the
  most-used fields first when a workspace has more fields than one Slack view can hold.

Both are the current Slack workspace's (storage/tenancy.py).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from kit.services import Services
from storage.dialect import BotStore
from storage.tenancy import team_key

DRAFT_RETENTION_SECONDS = 14 * 24 * 3600

MORE_FIELDS = "more_fields"
EDIT = "edit"
DUPLICATE = "duplicate"


def new_token() -> str:
    """A short unguessable key for a draft that a button refers to."""
    return secrets.token_urlsafe(12)


class LeadDrafts:
    """Keyed JSON drafts of one ``kind``, pruned after :data:`DRAFT_RETENTION_SECONDS`."""

    def __init__(self, store: BotStore, *, clock: Callable[[], float] = time.time) -> None:
        """Drafts in ``store``; ``clock`` dates them for pruning."""
        self._store = store
        self._clock = clock

    def put(self, key: str, kind: str, data: dict[str, Any], *, user: str | None = None) -> None:
        """Store (or replace) a draft; old drafts are pruned on the way."""
        now = self._clock()
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO lead_drafts (team_id, key, kind, user_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (team_id, key) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id,"
                " data = excluded.data, created_at = excluded.created_at",
                [team_key(), key, kind, user, json.dumps(data, default=str), now],
            )
            # every workspace's old drafts
            db.execute("DELETE FROM lead_drafts WHERE created_at < ?", [now - DRAFT_RETENTION_SECONDS])

    def get(self, key: str, kind: str) -> dict[str, Any] | None:
        """The draft stored under ``key`` for ``kind``; ``None`` when absent, of another kind or unreadable."""
        rows = list(
            self._store.db.query(
                "SELECT data FROM lead_drafts WHERE team_id = ? AND key = ? AND kind = ?",
                [team_key(), key, kind],
            )
        )
        if not rows:
            return None
        try:
            data = json.loads(rows[0]["data"])
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def owner(self, key: str) -> str | None:
        """Who stored the draft (``None`` when nobody did or it is gone)."""
        rows = list(
            self._store.db.query(
                "SELECT user_id FROM lead_drafts WHERE team_id = ? AND key = ?", [team_key(), key]
            )
        )
        return rows[0]["user_id"] if rows else None

    def delete(self, key: str) -> None:
        """Forget a draft once its form is submitted or its job has used it."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM lead_drafts WHERE team_id = ? AND key = ?", [team_key(), key])


class FieldUsage:
    """How often each lead field was filled in on created leads (ranks the New lead form's fields)."""

    def __init__(self, store: BotStore, *, clock: Callable[[], float] = time.time) -> None:
        """Usage counts in ``store``; ``clock`` stamps each update."""
        self._store = store
        self._clock = clock

    def record(self, api_names: Iterable[str]) -> None:
        """Count one more use of each field filled in on a created lead."""
        names = sorted(set(api_names))
        if not names:
            return
        now = self._clock()
        with self._store.transaction() as db:
            for name in names:
                db.execute(
                    "INSERT INTO field_usage (team_id, api_name, uses, updated_at) VALUES (?, ?, 1, ?)"
                    " ON CONFLICT (team_id, api_name) DO UPDATE SET uses = field_usage.uses + 1,"
                    " updated_at = excluded.updated_at",
                    [team_key(), name, now],
                )

    def counts(self) -> dict[str, int]:
        """Uses by field API name (fields never used are absent)."""
        rows = self._store.db.query("SELECT api_name, uses FROM field_usage WHERE team_id = ?", [team_key()])
        return {r["api_name"]: int(r["uses"]) for r in rows}


def drafts_of(services: Services) -> LeadDrafts:
    """The drafts table of the bot's store, on the bot's clock (cheap: it holds two references)."""
    return LeadDrafts(services.store, clock=services.clock)


def usage_of(services: Services) -> FieldUsage:
    """The field usage table of the bot's store, on the bot's clock."""
    return FieldUsage(services.store, clock=services.clock)
