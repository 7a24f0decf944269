"""The lead index on PostgreSQL: the same finds, in the same order, as SQLite's FTS5 trigram index
(storage/lead_index.py), with PostgreSQL's built-in ``LIKE`` on the rows themselves.

pg_trgm, which would index substrings, is an extension a hosted server may not offer, and word-based
full-text search (``to_tsvector``) cannot find the end of a phone number or the inside of a word. So
each rank of a match is a ``LIKE`` over the values between spaces (``' jane doe '``), lower-cased —
exactly what the trigram phrases match on SQLite — read newest first through the ``lead_index_seen``
index, only as far as a page needs. A query matching few of many leads reads them all: for 100,000
leads that is one sequential scan of a few megabytes per rank.

Every read and write is the current Slack workspace's (``team_id = ?`` first in each condition, and in
the ``lead_index_seen`` index). Recording is one upsert per lead (``ON CONFLICT (team_id, lead_id) DO
UPDATE``, keeping stored values where
the reading has none), in lead id order so that two replicas recording the same leads never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from storage.lead_index import (
    _CLOSE_CANDIDATES,
    _COLUMNS,
    _TEXT_COLUMNS,
    _TRIGRAM,
    COUNT_CAP,
    IndexEntry,
    IndexPage,
    IndexStats,
    LeadIndex,
    Query,
    _save_state,
    words_of,
)
from storage.tenancy import team_key

Condition = tuple[str, list[Any]]  # SQL with ? placeholders, and its parameters


def _padded(column: str) -> str:
    return f"(' ' || lower(coalesce({column}, '')) || ' ')"


def _escaped(text: str) -> str:
    """``text`` as a literal part of a LIKE pattern (PostgreSQL's escape character is ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column: str, before: str, text: str, after: str) -> Condition:
    """``column``, between spaces, has ``text`` with ``before``/``after`` around it (``%`` or ``''``)."""
    return f"{_padded(column)} LIKE ?", [f"{before}{_escaped(text)}{after}"]


def _any_of(conditions: Sequence[Condition]) -> Condition:
    return "(" + " OR ".join(c for c, _ in conditions) + ")", [p for _, ps in conditions for p in ps]


def _all_of(conditions: Sequence[Condition]) -> Condition:
    return "(" + " AND ".join(c for c, _ in conditions) + ")", [p for _, ps in conditions for p in ps]


def _anywhere(text: str) -> Condition:
    """``text`` inside any searched column (a phrase without a column on SQLite's FTS table)."""
    return _any_of([_like(c, "%", text, "%") for c in _TEXT_COLUMNS])


def tiers(query: Query) -> tuple[list[Condition], Condition]:
    """The ranks of a match, best first, and a condition matching everything they match: the same
    as :meth:`storage.lead_index.Query.tiers`, rank for rank."""
    if query.digits is not None:
        d = query.digits
        ends, starts = _like("phones", "%", f"{d} ", "%"), _like("phones", "%", f" {d}", "%")
        ranks = [ends, starts]
        if len(d) >= _TRIGRAM:
            ranks.append(_like("phones", "%", d, "%"))
        return ranks, ranks[-1] if len(d) >= _TRIGRAM else _any_of([ends, starts])
    t = query.text
    ranks = [
        _like("name", "", f" {t} ", "%"),  # the name itself (or its first words)
        _like("name", "", f" {t}", "%"),  # the start of the name
        _like("name", "%", f" {t}", "%"),  # the start of a word of the name
    ]
    if len(t) >= _TRIGRAM:
        ranks.append(_like("name", "%", t, "%"))
    ranks.append(
        _any_of(
            [
                _like("email", "%", f" {t}", "%"),
                _like("company", "%", f" {t}", "%"),
                _like("email", "%", f".{t}", "%"),
                _like("email", "%", f"@{t}", "%"),
            ]
        )
    )
    words = [_anywhere(w if len(w) >= _TRIGRAM else f" {w}") for w in query.words if len(w) > 1]
    everything = _all_of(words) if words else _anywhere(f" {t}")
    ranks.append(everything)
    return ranks, everything


class PostgresLeadIndex(LeadIndex):
    """:class:`storage.lead_index.LeadIndex` on PostgreSQL (see the module's docstring)."""

    def record(self, entries: Iterable[IndexEntry]) -> int:
        now = self._clock()
        todo = sorted(
            (e if e.seen_at else replace(e, seen_at=now) for e in entries if e.lead_id),
            key=lambda e: (e.lead_id, e.seen_at),
        )
        if not todo:
            return 0
        words = sorted(
            {w for e in todo for w in words_of(e.name, e.email, e.company) if len(w) >= 3 and not w.isdigit()}
        )
        keep = ", ".join(f"{c} = COALESCE(excluded.{c}, lead_index.{c})" for c in _COLUMNS[1:-1])
        team = team_key()
        with self._store.transaction() as db:
            db.conn.executemany(
                f"INSERT INTO lead_index (team_id, {', '.join(_COLUMNS)}) VALUES (?{', ?' * len(_COLUMNS)})"
                f" ON CONFLICT (team_id, lead_id) DO UPDATE SET {keep},"
                " seen_at = GREATEST(lead_index.seen_at, excluded.seen_at)",
                [[team, *(getattr(e, c) for c in _COLUMNS)] for e in todo],
            )
            if words:
                db.conn.executemany(
                    "INSERT INTO lead_index_words (team_id, word) VALUES (?, ?) ON CONFLICT (team_id, word) DO NOTHING",
                    [[team, w] for w in words],
                )
            _save_state(db, team, {"updated_at": now})
        return len(todo)

    def stats(self) -> IndexStats:
        team = team_key()
        leads = self._store.db.execute(
            "SELECT count(*) FROM lead_index WHERE team_id = ?", [team]
        ).fetchone()[0]
        row = self._store.db.execute(
            "SELECT updated_at, checked_at FROM lead_index_state WHERE team_id = ?", [team]
        ).fetchone()
        updated, checked = row or (None, None)
        times = [t for t in (updated, checked) if t is not None]
        return IndexStats(int(leads), max(times) if times else None)

    def search(self, typed: str, *, skip: int = 0, limit: int = 10) -> IndexPage:
        query = Query.parse(typed)
        if query is None:
            return IndexPage([], 0)
        ranks, (everything, params) = tiers(query)
        db = self._store.db
        (total,) = db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM lead_index WHERE team_id = ? AND {everything} LIMIT ?) AS m",
            [team_key(), *params, COUNT_CAP + 1],
        ).fetchone()
        if total == 0:
            close = self._close(query, limit) if skip == 0 and query.digits is None else []
            return IndexPage(close, len(close), close=len(close))
        wanted = skip + limit
        enough = min(wanted, total)  # every match is in some rank: stop once the page is full
        ids: dict[int, None] = {}
        for condition in ranks:
            for rowid in self._newest(condition, wanted):
                ids.setdefault(rowid)
            if len(ids) >= enough:
                break
        return IndexPage(self._rows(list(ids)[skip:wanted]), min(total, COUNT_CAP), capped=total > COUNT_CAP)

    def _newest(self, condition: Condition, limit: int) -> list[int]:
        """Ids of the most recently seen leads matching ``condition``, newest first."""
        where, params = condition
        rows = self._store.db.execute(
            f"SELECT id FROM lead_index WHERE team_id = ? AND {where} ORDER BY seen_at DESC, id DESC LIMIT ?",
            [team_key(), *params, limit],
        )
        return [rowid for (rowid,) in rows]

    def _rows(self, ids: Sequence[int]) -> list[IndexEntry]:
        if not ids:
            return []
        found = {
            row[0]: IndexEntry(*row[1:])
            for row in self._store.db.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM lead_index WHERE team_id = ? AND id = ANY(?)",
                [team_key(), list(ids)],
            )
        }
        return [found[i] for i in ids if i in found]

    def _known_words(self, candidates: Sequence[str]) -> list[str]:
        rows = self._store.db.execute(
            "SELECT word FROM lead_index_words WHERE team_id = ? AND word = ANY(?)",
            [team_key(), list(candidates)],
        )
        return [w for (w,) in rows]

    def _close_candidates(self, groups: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
        condition = _all_of([_any_of([_anywhere(w) for w in fixes or [word]]) for word, fixes in groups])
        return self._newest(condition, _CLOSE_CANDIDATES)

    def _contained(self, word: str) -> bool:
        where, params = _any_of([_like(c, "%", word, "%") for c in ("name", "email", "company")])
        return (
            self._store.db.execute(
                f"SELECT 1 FROM lead_index WHERE team_id = ? AND {where} LIMIT 1", [team_key(), *params]
            ).fetchone()
            is not None
        )
