"""The bot's own index of leads, so ``/lead find`` can match part of a name, phone, email or company.

TeleCRM's search matches whole values only (docs/TELECRM.md). The bot therefore keeps one row per lead
it has seen — created, updated, found, read for a card, a payment or a timeline, or mirrored from the
recently created leads (:mod:`kit.lead_index`) — holding only what a search needs: lead id, name,
identifier, the digits of its phone numbers, email, company, status and when the bot last saw it.

How a query is matched (:meth:`LeadIndex.search`), through an FTS5 table with the ``trigram``
tokenizer (SQLite ≥ 3.34) holding each value between spaces (``" jane doe "``, ``" 919876543210 "``),
so that a match can be anchored at the start or end of a word as well as found anywhere in it:

* text, best first: the whole name; the start of the name; the start of a word of the name; anywhere
  in the name; the start of a word of the email or company; then every word of the query anywhere
  (``jan`` finds "Jane Doe", ``suryoday`` an email ``…@suryodayasolar.in`` or a company "Suryoday
  Solar"); a word of two letters, too short to be found inside another, matches the start of a word;
* digits (a query of digits, spaces and ``+ - ( ) .``): a phone ending in them first (``3210`` finds
  ``+91 98765 43210``), then one starting with them, then one containing them;
* within each of those, the most recently seen lead first: a row's id grows with its ``seen_at``, and
  every search reads the FTS table newest id first, only as far as the page needs;
* small typos: when nothing matches, each query word of three letters or more that no indexed lead
  contains is replaced by the words the index knows one edit away from it (a letter missing, extra,
  changed, or two letters swapped: ``jnae`` → ``jane``, ``dooe`` → ``doe``), looked up in
  ``lead_index_words``; the answer says these are close matches.

How many leads match is counted up to :data:`COUNT_CAP`. The table also holds the cursor of the
mirror of recent leads (:class:`MirrorCursor`), so a sync interrupted by a restart carries on.

Each Slack workspace has its own index (storage/tenancy.py's :func:`~storage.tenancy.team_key`: its
TeleCRM's lead ids may be another's): rows, known words and the mirror's cursor carry ``team_id``;
the FTS tables are shared, and every read of them keeps only the rows of the current workspace
(:func:`_ours`, a primary-key look-up per match).

This is the index on SQLite; on PostgreSQL, :func:`lead_index_for` hands out storage/lead_index_pg.py's
subclass, which matches the same ranks with ``LIKE``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlite_utils import Database

from storage.tenancy import team_key

Clock = Callable[[], float]

MIN_QUERY_CHARS = 2
COUNT_CAP = 1000  # "1,000+ leads match": counting further costs time and tells nobody anything
_TRIGRAM = 3  # the trigram tokenizer cannot find fewer characters than this
_TYPO_MIN_LETTERS = 3  # shorter words have too many neighbours one edit away to guess from
_CLOSE_CANDIDATES = 50  # rows read to rank close (misspelt) matches
_IDS_PER_MS = 1000  # a row's id is its seen_at in milliseconds × this, plus a free slot
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"[^\W_]+")
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-]+")
_TEXT_COLUMNS = ("name", "phones", "email", "company")


def _ours(table: str) -> str:
    """A condition on an FTS table's row: it is a lead of the current workspace (one ``?``: the team)."""
    return f"EXISTS (SELECT 1 FROM lead_index i WHERE i.id = {table}.rowid AND i.team_id = ?)"


def create_lead_index_tables(db: Database) -> None:
    """The index, its FTS5 trigram table kept in step by triggers, the known words and the mirror cursor."""
    db.execute(
        """CREATE TABLE lead_index (
            id INTEGER PRIMARY KEY,  -- grows with seen_at: newest first is id order (see record())
            lead_id TEXT NOT NULL UNIQUE,
            name TEXT,
            identifier TEXT,
            phones TEXT,   -- digits of every phone field, space-separated
            email TEXT,    -- every email field, space-separated
            company TEXT,
            status TEXT,
            seen_at REAL NOT NULL
        )"""
    )
    # contentless: they store only the index; the text is in lead_index (no second copy). Names are
    # indexed twice: alone, so that ranking by name never wades through emails and companies that
    # contain the same letters, and with the rest, so that the words of a query may be in any column.
    for table, columns in (("lead_index_fts", _TEXT_COLUMNS), ("lead_index_names", ("name",))):
        db.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5({', '.join(columns)}, "
            "content='', columnsize=0, tokenize='trigram')"
        )

    def padded(row: str, columns: Sequence[str]) -> str:  # between spaces: anchored at both ends
        return ", ".join(f"' ' || coalesce({row}.{c}, '') || ' '" for c in columns)

    add = remove = ""
    for table, columns in (("lead_index_fts", _TEXT_COLUMNS), ("lead_index_names", ("name",))):
        names = ", ".join(columns)
        add += f"INSERT INTO {table}(rowid, {names}) VALUES (new.id, {padded('new', columns)}); "
        remove += f"INSERT INTO {table}({table}, rowid, {names}) VALUES ('delete', old.id, {padded('old', columns)}); "
    db.execute(
        f"CREATE TRIGGER lead_index_added AFTER INSERT ON lead_index BEGIN {add} "
        "UPDATE lead_index_state SET leads = leads + 1 WHERE id = 1; END"
    )
    db.execute(
        f"CREATE TRIGGER lead_index_removed AFTER DELETE ON lead_index BEGIN {remove} "
        "UPDATE lead_index_state SET leads = leads - 1 WHERE id = 1; END"
    )
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _TEXT_COLUMNS)
    db.execute(
        f"CREATE TRIGGER lead_index_changed AFTER UPDATE ON lead_index WHEN {changed} BEGIN {remove} {add} END"
    )
    # every word of a name, email or company the index has held: the dictionary typos are corrected
    # against (it only grows; a word no lead has any more just finds nothing)
    db.execute("CREATE TABLE lead_index_words (word TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute(
        """CREATE TABLE lead_index_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            leads INTEGER NOT NULL DEFAULT 0,
            updated_at REAL,
            days INTEGER,
            high_ms INTEGER,
            sweep_top INTEGER,
            sweep_to INTEGER,
            sweep_skip INTEGER NOT NULL DEFAULT 0,
            sweep_floor INTEGER,
            checked_at REAL,
            pages INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("INSERT INTO lead_index_state (id) VALUES (1)")


# --- rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    """What the index keeps of one lead. ``None`` means "not known from this reading" (an answer that
    did not carry the field), so recording it keeps the value already stored. ``seen_at`` is when the
    bot last read the lead from TeleCRM — for a lead known only from the mirror of recent leads, when
    TeleCRM created it, so that among equal matches the newest leads come first."""

    lead_id: str
    name: str | None = None
    identifier: str | None = None
    phones: str | None = None
    email: str | None = None
    company: str | None = None
    status: str | None = None
    seen_at: float = 0.0


_COLUMNS = tuple(f.name for f in fields(IndexEntry))


@dataclass(frozen=True)
class IndexPage:
    """One page of matches, best first; ``close`` of them (all, when any) match a misspelt query.

    ``total`` counts every match up to :data:`COUNT_CAP` (``capped`` when there are more)."""

    entries: list[IndexEntry]
    total: int
    close: int = 0
    capped: bool = False


@dataclass(frozen=True)
class IndexStats:
    leads: int
    updated_at: float | None  # when anything was last recorded or the mirror last reached the newest lead


@dataclass(frozen=True)
class MirrorCursor:
    """Where the mirror of recently created leads stands (epoch milliseconds, TeleCRM's unit).

    Everything created between the window's start and ``high_ms`` is mirrored. A sweep walks from
    ``sweep_top`` (the time it began) down to ``sweep_floor``, newest first: the next page is the leads
    created at or before ``sweep_to``, skipping the ``sweep_skip`` already read at exactly ``sweep_to``.
    """

    days: int | None = None
    high_ms: int | None = None
    sweep_top: int | None = None
    sweep_to: int | None = None
    sweep_skip: int = 0
    sweep_floor: int | None = None
    checked_at: float | None = None
    pages: int = 0

    @property
    def sweeping(self) -> bool:
        return self.sweep_top is not None


_CURSOR_FIELDS = tuple(f.name for f in fields(MirrorCursor))


# --- text helpers (pure) ---------------------------------------------------------------------------


def words_of(*texts: str | None) -> list[str]:
    """The lower-case words of names, emails and companies (``jane.doe@acme.in`` → jane, doe, acme, in)."""
    return [w for text in texts if text for w in _WORD.findall(text.casefold())]


def edits1(word: str) -> set[str]:
    """Every string one edit from ``word``: a letter deleted, swapped with the next, changed or added."""
    letters = _ALPHABET + "".join(sorted(set(word) - set(_ALPHABET)))
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return (deletes | swaps | changes | inserts) - {word}


def _phrase(text: str) -> str:
    """An FTS5 string, found as a substring by the trigram tokenizer."""
    return '"' + text.replace('"', '""') + '"'


def _any(*phrases: str) -> str:
    return "(" + " OR ".join(phrases) + ")"


@dataclass(frozen=True)
class Query:
    """What was typed, ready to match: lower-case single-spaced text, its words, and — for a phone-like
    query (digits, spaces, ``+ - ( ) .``) — its digits."""

    text: str
    words: tuple[str, ...]
    digits: str | None

    @classmethod
    def parse(cls, typed: str) -> Query | None:
        """``None`` when there is too little to search for (fewer than 2 characters).

        Wildcards people bring from other search boxes (``Kaly*``, ``%steel%``) are dropped: every
        query here already matches a part of a value."""
        text = " ".join(typed.casefold().replace("*", " ").replace("%", " ").split())
        if len(text) < MIN_QUERY_CHARS:
            return None
        digits = re.sub(r"\D", "", text) if _PHONE_LIKE.fullmatch(text) else None
        if digits is not None and len(digits) < MIN_QUERY_CHARS:
            digits = None
        return cls(text, tuple(text.split()), digits)

    def tiers(self) -> tuple[list[tuple[str, str]], str]:
        """(FTS5 table, query) for the ranks of a match, best first, and a ``lead_index_fts`` query
        matching everything they match."""
        if self.digits is not None:
            d = self.digits
            ends, starts = _phrase(f"{d} "), _phrase(f" {d}")
            ranks = [f"phones : {ends}", f"phones : {starts}"]
            if len(d) >= _TRIGRAM:
                ranks.append(f"phones : {_phrase(d)}")
            everything = ranks[-1] if len(d) >= _TRIGRAM else f"phones : {_any(ends, starts)}"
            return [("lead_index_fts", r) for r in ranks], everything
        t = self.text
        ranks = [f"^{_phrase(f' {t} ')}", f"^{_phrase(f' {t}')}", _phrase(f" {t}")]  # in lead_index_names
        if len(t) >= _TRIGRAM:
            ranks.append(_phrase(t))
        ranks.append(
            f"{{email company}} : {_phrase(f' {t}')} OR email : {_any(_phrase(f'.{t}'), _phrase(f'@{t}'))}"
        )
        # a word of two letters is looked for at the start of a word; one letter alone finds nothing
        words = [_phrase(w if len(w) >= _TRIGRAM else f" {w}") for w in self.words if len(w) > 1]
        everything = " AND ".join(words) if words else _phrase(f" {t}")
        ranks.append(everything)
        tables = ["lead_index_names"] * (len(ranks) - 2) + ["lead_index_fts"] * 2
        return list(zip(tables, ranks, strict=True)), everything


# --- the repository --------------------------------------------------------------------------------


class LeadIndex:
    """Record leads, search them by part of a value, and keep the mirror's cursor. Thread-safe
    (every thread uses its own connection of the :class:`~storage.db.Store`)."""

    # ``store`` is a storage.db.Store; not imported, since storage/db.py imports the migrations that
    # import this module (the other migration-registered tables do the same)
    def __init__(self, store: Any, *, clock: Clock = time.time) -> None:
        self._store = store
        self._clock = clock

    # -- writing -----------------------------------------------------------------------------------

    def record(self, entries: Iterable[IndexEntry]) -> int:
        """Add or refresh leads in one transaction. Values that are ``None`` keep what is stored;
        ``seen_at`` (now when 0) only moves forward.

        A lead seen later than before gets a new, larger id (its row is moved), so the FTS table,
        read newest id first, lists the most recently seen leads first without sorting its matches.
        """
        now = self._clock()
        todo = sorted(
            (e if e.seen_at else replace(e, seen_at=now) for e in entries if e.lead_id),
            key=lambda e: e.seen_at,
        )
        if not todo:
            return 0
        words = {
            (w,)
            for e in todo
            for w in words_of(e.name, e.email, e.company)
            if len(w) >= _TRIGRAM and not w.isdigit()
        }
        team = team_key()
        with self._store.transaction() as db:
            conn = db.conn
            for entry in todo:
                row = conn.execute(
                    f"SELECT id, {', '.join(_COLUMNS)} FROM lead_index WHERE team_id = ? AND lead_id = ?",
                    [team, entry.lead_id],
                ).fetchone()
                if row is None:
                    self._insert(conn, team, entry)
                    continue
                old = IndexEntry(*row[1:])
                merged = IndexEntry(
                    *(getattr(old, c) if getattr(entry, c) is None else getattr(entry, c) for c in _COLUMNS)
                )
                merged = replace(merged, seen_at=max(old.seen_at, entry.seen_at))
                if merged.seen_at > old.seen_at:
                    conn.execute("DELETE FROM lead_index WHERE id = ?", [row[0]])
                    self._insert(conn, team, merged)
                elif merged != replace(old, seen_at=merged.seen_at):
                    sets = ", ".join(f"{c} = ?" for c in _COLUMNS[1:-1])
                    conn.execute(
                        f"UPDATE lead_index SET {sets} WHERE id = ?",
                        [*(getattr(merged, c) for c in _COLUMNS[1:-1]), row[0]],
                    )
            conn.executemany(
                "INSERT INTO lead_index_words (team_id, word) VALUES (?, ?) ON CONFLICT (team_id, word) DO NOTHING",
                [(team, w) for (w,) in words],
            )
            _save_state(conn, team, {"updated_at": now})
        return len(todo)

    @staticmethod
    def _insert(conn: Any, team: str, entry: IndexEntry) -> None:
        """Insert with the first free id of its seen_at millisecond (or just after it)."""
        base = int(entry.seen_at * 1000) * _IDS_PER_MS
        while True:
            (taken,) = conn.execute(
                "SELECT max(id) FROM lead_index WHERE id >= ? AND id < ?", [base, base + _IDS_PER_MS]
            ).fetchone()
            if taken is None or taken + 1 < base + _IDS_PER_MS:
                break
            base += _IDS_PER_MS  # a thousand leads seen in one millisecond: the next one's ids
        new_id = base if taken is None else taken + 1
        conn.execute(
            f"INSERT INTO lead_index (team_id, id, {', '.join(_COLUMNS)}) VALUES (?, ?{', ?' * len(_COLUMNS)})",
            [team, new_id, *(getattr(entry, c) for c in _COLUMNS)],
        )

    def forget(self, lead_id: str) -> None:
        """Drop a lead TeleCRM no longer has."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM lead_index WHERE team_id = ? AND lead_id = ?", [team_key(), lead_id])

    # -- reading -----------------------------------------------------------------------------------

    def get(self, lead_id: str) -> IndexEntry | None:
        row = self._store.db.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM lead_index WHERE team_id = ? AND lead_id = ?",
            [team_key(), lead_id],
        ).fetchone()
        return IndexEntry(*row) if row else None

    def stats(self) -> IndexStats:
        row = self._store.db.conn.execute(
            "SELECT leads, updated_at, checked_at FROM lead_index_state WHERE team_id = ?", [team_key()]
        ).fetchone()
        leads, updated, checked = row or (0, None, None)
        times = [t for t in (updated, checked) if t is not None]
        return IndexStats(int(leads), max(times) if times else None)

    def search(self, typed: str, *, skip: int = 0, limit: int = 10) -> IndexPage:
        """One page of the leads matching ``typed``, best first (see the module's docstring)."""
        query = Query.parse(typed)
        if query is None:
            return IndexPage([], 0)
        ranks, everything = query.tiers()
        conn, team = self._store.db.conn, team_key()
        (total,) = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM lead_index_fts WHERE lead_index_fts MATCH ?"
            f" AND {_ours('lead_index_fts')} LIMIT ?)",
            [everything, team, COUNT_CAP + 1],
        ).fetchone()
        if total == 0:
            close = self._close(query, limit) if skip == 0 and query.digits is None else []
            return IndexPage(close, len(close), close=len(close))
        wanted = skip + limit
        enough = min(wanted, total)  # every match is in some rank: stop once the page is full
        ids: dict[int, None] = {}
        for table, match in ranks:
            for (rowid,) in conn.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND {_ours(table)} ORDER BY rowid DESC LIMIT ?",
                [match, team, wanted],
            ):
                ids.setdefault(rowid)
            if len(ids) >= enough:
                break
        return IndexPage(self._rows(list(ids)[skip:wanted]), min(total, COUNT_CAP), capped=total > COUNT_CAP)

    def _rows(self, ids: Sequence[int]) -> list[IndexEntry]:
        """The rows of these ids, in this order."""
        if not ids:
            return []
        found = {
            row[0]: IndexEntry(*row[1:])
            for row in self._store.db.conn.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM lead_index"
                # "+": found by id (the primary key), not through the (team_id, lead_id) index
                " WHERE id IN (SELECT value FROM json_each(?)) AND +team_id = ?",
                [json.dumps(list(ids)), team_key()],
            )
        }
        return [found[i] for i in ids if i in found]

    def _close(self, query: Query, limit: int) -> list[IndexEntry]:
        """Leads matching the query but for one letter in some of its words (see the module's docstring)."""
        words = [w for w in query.words if len(w) >= _TRIGRAM]
        if not any(len(w) >= _TYPO_MIN_LETTERS and not w.isdigit() for w in words):
            return []
        groups: list[tuple[str, list[str]]] = []  # (the word, the known words one edit from it)
        for word in words:
            if len(word) < _TYPO_MIN_LETTERS or word.isdigit() or self._contained(word):
                groups.append((word, []))
                continue
            known = self._known_words(sorted(edits1(word)))
            if not known:
                return []
            groups.append((word, sorted(known)))
        if not any(fixes for _, fixes in groups):
            return []
        scored = []
        for position, entry in enumerate(self._rows(self._close_candidates(groups))):
            lead_words = set(words_of(entry.name, entry.email, entry.company))
            scored.append(
                (sum(_closeness(word, fixes, lead_words) for word, fixes in groups), position, entry)
            )
        scored.sort(key=lambda s: (s[0], s[1]))
        return [entry for _, _, entry in scored[:limit]]

    def _known_words(self, candidates: Sequence[str]) -> list[str]:
        """The ones of ``candidates`` some indexed lead has (or had) as a word."""
        rows = self._store.db.conn.execute(
            "SELECT word FROM lead_index_words WHERE team_id = ? AND word IN (SELECT value FROM json_each(?))",
            [team_key(), json.dumps(list(candidates))],
        ).fetchall()
        return [w for (w,) in rows]

    def _close_candidates(self, groups: Sequence[tuple[str, Sequence[str]]]) -> list[int]:
        """Ids of the newest leads having, for each query word, it or one of its fixes anywhere."""
        match = " AND ".join(_any(*(_phrase(w) for w in fixes or [word])) for word, fixes in groups)
        return [
            rowid
            for (rowid,) in self._store.db.conn.execute(
                "SELECT rowid FROM lead_index_fts WHERE lead_index_fts MATCH ?"
                f" AND {_ours('lead_index_fts')} ORDER BY rowid DESC LIMIT ?",
                [match, team_key(), _CLOSE_CANDIDATES],
            )
        ]

    def _contained(self, word: str) -> bool:
        """Whether some indexed lead has ``word`` in its name, email or company."""
        row = self._store.db.conn.execute(
            f"SELECT 1 FROM lead_index_fts WHERE lead_index_fts MATCH ? AND {_ours('lead_index_fts')} LIMIT 1",
            [f"{{name email company}} : {_phrase(word)}", team_key()],
        ).fetchone()
        return row is not None

    # -- the mirror's cursor -----------------------------------------------------------------------

    def cursor(self) -> MirrorCursor:
        row = self._store.db.conn.execute(
            f"SELECT {', '.join(_CURSOR_FIELDS)} FROM lead_index_state WHERE team_id = ?", [team_key()]
        ).fetchone()
        return MirrorCursor(*row) if row else MirrorCursor()

    def save_cursor(self, cursor: MirrorCursor) -> None:
        with self._store.transaction() as db:
            _save_state(db.conn, team_key(), {c: getattr(cursor, c) for c in _CURSOR_FIELDS})


def _save_state(conn: Any, team: str, values: dict[str, Any]) -> None:
    """Set columns of the workspace's row of ``lead_index_state``, made on first use."""
    conn.execute("INSERT INTO lead_index_state (team_id) VALUES (?) ON CONFLICT (team_id) DO NOTHING", [team])
    conn.execute(
        f"UPDATE lead_index_state SET {', '.join(f'{c} = ?' for c in values)} WHERE team_id = ?",
        [*values.values(), team],
    )


def _closeness(word: str, fixes: Sequence[str], lead_words: set[str]) -> int:
    """How far a lead is from a query word: 0 has it, 1 has a word one edit from it, 2 has such a word
    inside a longer one (``jnae`` → "Janet")."""
    if not fixes or word in lead_words:
        return 0
    return 1 if lead_words.intersection(fixes) else 2
