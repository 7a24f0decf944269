"""What the bot last saw of each lead that has a Slack thread, and the lead watcher's own state.

``lead_watch`` has one row per lead thread (made on first use): the lead's fields as the bot last
saw them (the *snapshot* the watcher compares TeleCRM against), the newest timeline action already
accounted for (``activity_on`` plus the ids of actions the bot wrote itself or has shown), when the
lead was last checked and last seen to change (recently changed leads are checked first), whether a
write by the bot is in flight (``held_until``: the watcher leaves the lead alone meanwhile), whether
the lead is gone from TeleCRM, and the sequence numbers that coalesce card refreshes.

Every change bumps ``version``, so the watcher records what it found only if nothing else touched the
row since it read it (compare-and-set): a change the bot made itself is never reported as made in
TeleCRM. ``watch_runs`` holds one row per watcher: which process runs it (a lease), the times of the
requests it sent in the last minute (so a process taking over keeps within the budget) and a pause
asked for by TeleCRM (``Retry-After``). Both are per Slack workspace (storage/tenancy.py): each
workspace's watcher reads its own TeleCRM.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from storage.dialect import dialect_of
from storage.tenancy import team_key

Clock = Callable[[], float]

#: how many action ids a row remembers (the newest; older actions are behind ``activity_on`` anyway)
KNOWN_ACTIONS_KEPT = 100


def create_lead_watch_tables(db: Any) -> None:
    """Migration step: ``lead_watch`` (one row per watched lead) and ``watch_runs``."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS lead_watch (
            lead_id TEXT PRIMARY KEY,
            fields TEXT,
            seen_at REAL,
            modified_on REAL,
            activity_on REAL,
            known_actions TEXT,
            active_at REAL,
            checked_at REAL,
            held_until REAL,
            gone INTEGER NOT NULL DEFAULT 0,
            card_title TEXT,
            card_asked INTEGER NOT NULL DEFAULT 0,
            card_begun INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS lead_watch_checked ON lead_watch (gone, checked_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS watch_runs (
            name TEXT PRIMARY KEY,
            owner TEXT,
            lease_until REAL,
            spent TEXT,
            paused_until REAL,
            notes TEXT
        )
        """
    )


@dataclass(frozen=True)
class LeadWatch:
    """One lead's row; ``fields`` is ``None`` until the bot has seen the lead in TeleCRM."""

    lead_id: str
    fields: dict[str, Any] | None = None
    seen_at: float | None = None
    modified_on: float | None = None
    activity_on: float | None = None
    known_actions: tuple[str, ...] = ()
    active_at: float | None = None
    checked_at: float | None = None
    held_until: float | None = None
    gone: bool = False
    card_title: str | None = None
    card_asked: int = 0
    card_begun: int = 0
    version: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LeadWatch:
        fields = json.loads(row["fields"]) if row.get("fields") else None
        known = json.loads(row["known_actions"]) if row.get("known_actions") else []
        return cls(
            lead_id=row["lead_id"],
            fields=fields if isinstance(fields, dict) else None,
            seen_at=row.get("seen_at"),
            modified_on=row.get("modified_on"),
            activity_on=row.get("activity_on"),
            known_actions=tuple(str(k) for k in known),
            active_at=row.get("active_at"),
            checked_at=row.get("checked_at"),
            held_until=row.get("held_until"),
            gone=bool(row.get("gone")),
            card_title=row.get("card_title"),
            card_asked=int(row.get("card_asked") or 0),
            card_begun=int(row.get("card_begun") or 0),
            version=int(row.get("version") or 0),
        )


@dataclass(frozen=True)
class WatchCandidate:
    """A lead thread due for a look: its identifier (to read many leads in one search) and its row."""

    lead_id: str
    identifier: str | None
    thread_created_at: float
    watch: LeadWatch
    recently_active: bool


@dataclass(frozen=True)
class Sighting:
    """What the watcher records after a look: the lead as read, and the new action cursor."""

    fields: Mapping[str, Any]
    modified_on: float | None
    activity_on: float | None
    known_actions: tuple[str, ...]
    changed: bool


class LeadWatches:
    def __init__(self, store: Any, *, clock: Clock = time.time) -> None:
        self._store = store
        self._clock = clock

    # --- reading ---------------------------------------------------------------------------------

    def get(self, lead_id: str) -> LeadWatch | None:
        rows = list(
            self._store.db.query(
                "SELECT * FROM lead_watch WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id]
            )
        )
        return LeadWatch.from_row(rows[0]) if rows else None

    def due(
        self, *, now: float, interval: float, active_since: float, limit: int = 5000
    ) -> list[WatchCandidate]:
        """Threads whose lead was not looked at for ``interval`` seconds and is not held by a write in
        flight: recently active ones first (changed since ``active_since``), then the least recently
        checked (never checked first), so a budget that runs out leaves the quiet leads for next time
        and every lead gets its turn (round-robin)."""
        rows = self._store.db.query(
            "SELECT t.lead_id AS t_lead_id, t.identifier AS t_identifier, t.created_at AS t_created_at,"
            " w.*, COALESCE(w.active_at, t.created_at) AS activity"
            " FROM lead_threads t LEFT JOIN lead_watch w ON w.team_id = t.team_id AND w.lead_id = t.lead_id"
            " WHERE t.team_id = ? AND COALESCE(w.gone, 0) = 0"
            " AND (w.checked_at IS NULL OR w.checked_at <= ?)"
            " AND (w.held_until IS NULL OR w.held_until <= ?)"
            " ORDER BY (COALESCE(w.active_at, t.created_at) >= ?) DESC, COALESCE(w.checked_at, 0),"
            " t.created_at DESC LIMIT ?",
            [team_key(), now - interval, now, active_since, limit],
        )
        out = []
        for row in rows:
            lead_id = row["t_lead_id"]
            watch = (
                LeadWatch.from_row({**row, "lead_id": lead_id}) if row.get("lead_id") else LeadWatch(lead_id)
            )
            out.append(
                WatchCandidate(
                    lead_id=lead_id,
                    identifier=row["t_identifier"],
                    thread_created_at=float(row["t_created_at"] or 0),
                    watch=watch,
                    recently_active=float(row["activity"] or 0) >= active_since,
                )
            )
        return out

    def watched_count(self) -> int:
        rows = list(
            self._store.db.query(
                "SELECT COUNT(*) AS n FROM lead_threads t"
                " LEFT JOIN lead_watch w ON w.team_id = t.team_id AND w.lead_id = t.lead_id"
                " WHERE t.team_id = ? AND COALESCE(w.gone, 0) = 0",
                [team_key()],
            )
        )
        return int(rows[0]["n"])

    # --- writing -----------------------------------------------------------------------------------

    def _ensure(self, db: Any, lead_id: str) -> LeadWatch:
        team = team_key()
        db.execute(
            "INSERT INTO lead_watch (team_id, lead_id) VALUES (?, ?) ON CONFLICT (team_id, lead_id) DO NOTHING",
            [team, lead_id],
        )
        lock = dialect_of(self._store).lock_rows  # the caller's read-then-write is not overtaken
        rows = list(
            db.query(f"SELECT * FROM lead_watch WHERE team_id = ? AND lead_id = ?{lock}", [team, lead_id])
        )
        return LeadWatch.from_row(rows[0])

    def baseline(self, lead_id: str, fields: Mapping[str, Any] | None, *, title: str | None = None) -> None:
        """The lead as a new card shows it (read from TeleCRM): what later looks compare against,
        and the card's title (kept when the card is redrawn).

        Only when the bot has no snapshot yet: a second card for a lead does not move it. Without
        ``fields`` only the title is kept (the watcher's first look takes the snapshot).
        """
        now = self._clock()
        with self._store.transaction() as db:
            row = self._ensure(db, lead_id)
            if row.fields is not None or fields is None:
                if title and not row.card_title:
                    db.execute(
                        "UPDATE lead_watch SET card_title = ? WHERE team_id = ? AND lead_id = ?",
                        [title, team_key(), lead_id],
                    )
                return
            db.execute(
                "UPDATE lead_watch SET fields = ?, seen_at = ?, modified_on = ?, activity_on = ?,"
                " active_at = ?, card_title = COALESCE(card_title, ?), version = version + 1"
                " WHERE team_id = ? AND lead_id = ?",
                [
                    json.dumps(dict(fields), default=str),
                    now,
                    _number(fields.get("modified_on")),
                    _number(fields.get("last_activity_on")),
                    now,
                    title,
                    team_key(),
                    lead_id,
                ],
            )

    def hold(self, lead_id: str, seconds: float) -> None:
        """The bot is about to write this lead: the watcher leaves it alone until the write is noted."""
        with self._store.transaction() as db:
            self._ensure(db, lead_id)
            db.execute(
                "UPDATE lead_watch SET held_until = ?, version = version + 1 WHERE team_id = ? AND lead_id = ?",
                [self._clock() + seconds, team_key(), lead_id],
            )

    def release(self, lead_id: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE lead_watch SET held_until = NULL WHERE team_id = ? AND lead_id = ?",
                [team_key(), lead_id],
            )

    def wrote(
        self,
        lead_id: str,
        *,
        sent: Mapping[str, Any] | None = None,
        action_ids: Iterable[str] = (),
    ) -> None:
        """The bot changed the lead: ``sent`` fields (as TeleCRM now holds them) and actions it created.

        Only what the bot wrote moves the snapshot, so a change someone made in TeleCRM meanwhile is
        still found (and reported) by the watcher. The lead counts as recently active.
        """
        now = self._clock()
        with self._store.transaction() as db:
            row = self._ensure(db, lead_id)
            fields = row.fields
            if fields is not None and sent:
                fields = {**fields, **dict(sent)}
            known = _merge_known(row.known_actions, action_ids)
            db.execute(
                "UPDATE lead_watch SET fields = ?, known_actions = ?, active_at = ?, held_until = NULL,"
                " version = version + 1 WHERE team_id = ? AND lead_id = ?",
                [
                    json.dumps(fields, default=str) if fields is not None else None,
                    json.dumps(list(known)),
                    now,
                    team_key(),
                    lead_id,
                ],
            )

    def record(self, lead_id: str, expected_version: int, sighting: Sighting) -> bool:
        """What a look found, only if the row is as the watcher read it (compare-and-set on
        ``version``); True when recorded. Meant to run in the transaction that queues the report."""
        now = self._clock()
        with self._store.transaction() as db:
            self._ensure(db, lead_id)
            cursor = db.execute(
                "UPDATE lead_watch SET fields = ?, seen_at = ?, modified_on = ?, activity_on = ?,"
                " known_actions = ?, checked_at = ?, active_at = CASE WHEN ? = 1 THEN ? ELSE active_at END,"
                " version = version + 1 WHERE team_id = ? AND lead_id = ? AND version = ?"
                " AND (held_until IS NULL OR held_until <= ?)",
                [
                    json.dumps(dict(sighting.fields), default=str),
                    now,
                    sighting.modified_on,
                    sighting.activity_on,
                    json.dumps(list(sighting.known_actions)),
                    now,
                    1 if sighting.changed else 0,
                    now,
                    team_key(),
                    lead_id,
                    expected_version,
                    now,
                ],
            )
            return cursor.rowcount == 1

    def checked(self, lead_id: str, at: float | None = None) -> None:
        """Looked at, nothing to record (unchanged, or skipped): its turn comes again after the interval."""
        with self._store.transaction() as db:
            self._ensure(db, lead_id)
            db.execute(
                "UPDATE lead_watch SET checked_at = ? WHERE team_id = ? AND lead_id = ?",
                [self._clock() if at is None else at, team_key(), lead_id],
            )

    def mark_gone(self, lead_id: str, expected_version: int) -> bool:
        """The lead is not in TeleCRM any more: no longer watched (compare-and-set, like :meth:`record`)."""
        with self._store.transaction() as db:
            self._ensure(db, lead_id)
            cursor = db.execute(
                "UPDATE lead_watch SET gone = 1, checked_at = ?, version = version + 1"
                " WHERE team_id = ? AND lead_id = ? AND version = ? AND gone = 0",
                [self._clock(), team_key(), lead_id, expected_version],
            )
            return cursor.rowcount == 1

    # --- card refreshes ------------------------------------------------------------------------------

    def ask_card(self, lead_id: str, *, queued: Callable[[int], bool]) -> int | None:
        """A refresh of the lead's card is wanted: the number of a new refresh to queue, or ``None``
        when one asked for earlier has not begun yet (it will show this change too). ``queued(n)`` says
        whether refresh ``n`` is still waiting in the outbox (one given up on does not block others)."""
        with self._store.transaction() as db:
            row = self._ensure(db, lead_id)
            if row.card_asked > row.card_begun and queued(row.card_asked):
                return None
            asked = max(row.card_asked, row.card_begun) + 1
            db.execute(
                "UPDATE lead_watch SET card_asked = ? WHERE team_id = ? AND lead_id = ?",
                [asked, team_key(), lead_id],
            )
            return asked

    def begin_card(self, lead_id: str, number: int) -> None:
        """Refresh ``number`` reads the lead now: a change noted from here on needs a refresh of its own."""
        with self._store.transaction() as db:
            self._ensure(db, lead_id)
            db.execute(
                "UPDATE lead_watch SET card_begun = CASE WHEN card_begun > ? THEN card_begun ELSE ? END"
                " WHERE team_id = ? AND lead_id = ?",
                [number, number, team_key(), lead_id],
            )

    # --- the watcher's lease, spent budget and pause -----------------------------------------------

    def lease(self, name: str, owner: str, seconds: float) -> tuple[bool, list[float], float | None]:
        """Take or keep the watcher ``name`` for ``owner``: (ours, request times of the last minute,
        paused until). Another process's live lease is never taken."""
        now = self._clock()
        with self._store.transaction() as db:
            team = team_key()
            _ensure_run(db, team, name)
            cursor = db.execute(
                "UPDATE watch_runs SET owner = ?, lease_until = ? WHERE team_id = ? AND name = ?"
                " AND (owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until < ?)",
                [owner, now + seconds, team, name, owner, now],
            )
            row = list(db.query("SELECT * FROM watch_runs WHERE team_id = ? AND name = ?", [team, name]))[0]
        spent = json.loads(row["spent"]) if row.get("spent") else []
        return cursor.rowcount == 1, [float(t) for t in spent], row.get("paused_until")

    def save_run(self, name: str, owner: str, *, spent: Iterable[float], paused_until: float | None) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE watch_runs SET spent = ?, paused_until = ? WHERE team_id = ? AND name = ? AND owner = ?",
                [json.dumps(list(spent)), paused_until, team_key(), name, owner],
            )

    def note(self, name: str, key: str, value: Any = None) -> Any:
        """A small persistent flag of the watcher (e.g. that TeleCRM refused a batched search)."""
        with self._store.transaction() as db:
            team = team_key()
            _ensure_run(db, team, name)
            lock = dialect_of(self._store).lock_rows
            row = list(
                db.query(f"SELECT notes FROM watch_runs WHERE team_id = ? AND name = ?{lock}", [team, name])
            )[0]
            notes = json.loads(row["notes"]) if row.get("notes") else {}
            if value is not None:
                notes[key] = value
                db.execute(
                    "UPDATE watch_runs SET notes = ? WHERE team_id = ? AND name = ?",
                    [json.dumps(notes), team, name],
                )
            return notes.get(key)


def _ensure_run(db: Any, team: str, name: str) -> None:
    db.execute(
        "INSERT INTO watch_runs (team_id, name) VALUES (?, ?) ON CONFLICT (team_id, name) DO NOTHING",
        [team, name],
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]  # TeleCRM's values are untyped; bad ones fall to except
    except (TypeError, ValueError):
        return None


def _merge_known(known: Iterable[str], more: Iterable[str]) -> tuple[str, ...]:
    merged = list(dict.fromkeys([*known, *(str(m) for m in more if m)]))
    return tuple(merged[-KNOWN_ACTIONS_KEPT:])
