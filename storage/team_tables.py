"""The tables holding a Slack workspace's data, each row keyed by its team id, and the migration
that keyed them (SQLite's version 18, PostgreSQL's version 6).

One deployment serves many Slack workspaces (OAuth mode), each with its own TeleCRM, whose lead,
action and report ids may be the same as another's (a sandbox numbers leads 1, 2, 3…). So every row a
workspace owns carries ``team_id`` (storage/tenancy.py's :func:`~storage.tenancy.team_key`: '' in
single-workspace mode), and every primary key or unique index holding such an id starts with it: two
workspaces' lead "1" are two rows. Rows written before the column existed get '' and stay visible in
single-workspace mode.

:data:`TEAM_TABLES` is the one list of those tables: the migration rebuilds their keys from it and
``telecrm-bot purge --team`` (storage/purge.py) deletes a workspace's rows from each of them. Not in
it: the installations and install links, the TeleCRM connections (keyed by team already), the
periodic leases and health row (the process's, not a workspace's) and the schema cache (keyed by the
TeleCRM workspace's id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.lead_index import _TEXT_COLUMNS


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str = ""
    postgres_only: bool = False  # SQLite reads that table through another structure (the FTS tables)


@dataclass(frozen=True)
class TeamTable:
    name: str
    key: tuple[str, ...]  # the primary key after team_id ('' and '' only: one row per team)
    indexes: tuple[Index, ...] = ()


TEAM_TABLES: tuple[TeamTable, ...] = (
    TeamTable(
        "lead_threads",
        ("lead_id",),
        (
            Index("lead_threads_created_at", ("team_id", "created_at")),
            Index("lead_threads_created_by", ("team_id", "created_by", "created_at")),
            Index("lead_threads_message", ("team_id", "channel", "ts")),
        ),
    ),
    TeamTable(
        "payments",
        ("action_id",),
        (
            Index("payments_open", ("team_id", "status", "last_checked_at")),
            Index("payments_lead", ("team_id", "lead_id")),
            Index("payments_created", ("team_id", "created_at")),
        ),
    ),
    TeamTable("user_links", ("slack_user_id",), (Index("user_links_member", ("team_id", "member_email")),)),
    # drafts are pruned by age across every workspace: that index stays without the team
    TeamTable("lead_drafts", ("key",), (Index("lead_drafts_created_at", ("created_at",)),)),
    TeamTable("field_usage", ("api_name",)),
    TeamTable("action_types_seen", ("type",)),
    # lead_index keeps its integer id (newest first is id order); the lead id is unique per team
    TeamTable(
        "lead_index",
        ("lead_id",),
        (Index("lead_index_seen", ("team_id", "seen_at", "id"), postgres_only=True),),
    ),
    TeamTable("lead_index_words", ("word",)),
    TeamTable("lead_index_state", ()),
    TeamTable("follow_ups", ("lead_id",), (Index("follow_ups_due", ("team_id", "state", "remind_at")),)),
    TeamTable("lead_watch", ("lead_id",), (Index("lead_watch_checked", ("team_id", "gone", "checked_at")),)),
    TeamTable("watch_runs", ("name",)),
    TeamTable("pipeline_reports", ("id",), (Index("pipeline_reports_created", ("created_at",)),)),
    TeamTable("pipeline_digests", ("day",)),
    TeamTable(
        "imports",
        ("id",),
        (Index("imports_file", ("team_id", "file_sha256")), Index("imports_state", ("state",))),
    ),
    TeamTable(
        "import_rows",
        ("import_id", "row_no"),
        (Index("import_rows_state", ("team_id", "import_id", "state", "row_no")),),
    ),
    TeamTable("import_senders", ("import_id",)),
    TeamTable("import_row_attempts", ("import_id", "row_no")),
    TeamTable("import_row_checks", ("import_id", "row_no")),
    TeamTable("async_pacing", ("name",)),
    # the worker claims due rows of every workspace: that index stays without the team
    TeamTable(
        "outbox",
        ("key",),
        (
            Index("outbox_due", ("state", "next_attempt_at")),
            Index("outbox_delivery", ("team_id", "delivery"), unique=True, where="delivery IS NOT NULL"),
        ),
    ),
    TeamTable("deliveries", ("key",), (Index("deliveries_seen", ("seen_at",)),)),
)

_TEAM_COLUMN = "team_id TEXT NOT NULL DEFAULT ''"


def _create_index(db: Any, index: Index, table: str) -> None:
    unique = "UNIQUE " if index.unique else ""
    where = f" WHERE {index.where}" if index.where else ""
    db.execute(f"CREATE {unique}INDEX {index.name} ON {table} ({', '.join(index.columns)}){where}")


# --- SQLite ----------------------------------------------------------------------------------------


def _sqlite_columns(db: Any, table: TeamTable) -> tuple[list[str], list[str]]:
    """The table's column definitions with team_id last (where PostgreSQL's ALTER puts it), and names."""
    definitions, names = [], []
    for _, name, kind, not_null, default, _ in db.execute(f"PRAGMA table_info({table.name})").fetchall():
        definition = f"{name} {kind}"
        if table.name == "lead_index" and name == "id":
            definition += " PRIMARY KEY"  # the rowid: the FTS tables' rows are these ids
        elif not_null:
            definition += " NOT NULL"
        if default is not None:
            definition += f" DEFAULT {default}"
        definitions.append(definition)
        names.append(name)
    return [*definitions, _TEAM_COLUMN], names


def _rebuild_sqlite(db: Any, table: TeamTable) -> None:
    """SQLite cannot change a primary key in place: a new table, the rows copied, the old one dropped.

    lead_threads keeps its rowids (the tie break of "newest first")."""
    definitions, names = _sqlite_columns(db, table)
    old_sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table.name])
    without_rowid = " WITHOUT ROWID" if "WITHOUT ROWID" in old_sql.fetchone()[0].upper() else ""
    # A WITHOUT ROWID table keeps its key in column order: SQLite 3.40's quick_check (run on every
    # open) reports NULLs in a table whose key lists a later column first. Its reads name both columns.
    columns = (*table.key, "team_id") if without_rowid else ("team_id", *table.key)
    key = ", ".join(columns)
    constraint = f"UNIQUE ({key})" if table.name == "lead_index" else f"PRIMARY KEY ({key})"
    new = f"_new_{table.name}"
    db.execute(f"CREATE TABLE {new} ({', '.join(definitions)}, {constraint}){without_rowid}")
    copied = ", ".join(names)
    if table.name == "lead_threads":
        copied = f"rowid, {copied}"
    db.execute(f"INSERT INTO {new} ({copied}) SELECT {copied} FROM {table.name}")
    db.execute(f"DROP TABLE {table.name}")
    db.execute(f"ALTER TABLE {new} RENAME TO {table.name}")
    for index in table.indexes:
        if not index.postgres_only:
            _create_index(db, index, table.name)


def _lead_index_triggers(db: Any) -> None:
    """The FTS tables kept in step with lead_index, and each workspace's count of its leads (the
    triggers went with the old table)."""

    def padded(row: str, columns: tuple[str, ...]) -> str:
        return ", ".join(f"' ' || coalesce({row}.{c}, '') || ' '" for c in columns)

    add = remove = ""
    for fts, columns in (("lead_index_fts", _TEXT_COLUMNS), ("lead_index_names", ("name",))):
        names = ", ".join(columns)
        add += f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {padded('new', columns)}); "
        remove += (
            f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {padded('old', columns)}); "
        )
    db.execute(
        f"CREATE TRIGGER lead_index_added AFTER INSERT ON lead_index BEGIN {add} "
        "INSERT INTO lead_index_state (team_id, leads) VALUES (new.team_id, 1)"
        " ON CONFLICT (team_id) DO UPDATE SET leads = leads + 1; END"
    )
    db.execute(
        f"CREATE TRIGGER lead_index_removed AFTER DELETE ON lead_index BEGIN {remove} "
        "UPDATE lead_index_state SET leads = leads - 1 WHERE team_id = old.team_id; END"
    )
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _TEXT_COLUMNS)
    db.execute(
        f"CREATE TRIGGER lead_index_changed AFTER UPDATE ON lead_index WHEN {changed} BEGIN {remove} {add} END"
    )


def _jobs_keep_their_team(db: Any) -> None:
    """The workspace job_teams remembered for each queued job moves into its outbox row."""
    db.execute(
        "UPDATE outbox SET team_id = (SELECT j.team_id FROM job_teams j WHERE j.key = outbox.key)"
        " WHERE key IN (SELECT key FROM job_teams)"
    )
    db.execute("DROP TABLE job_teams")


def key_rows_by_team_sqlite(db: Any) -> None:
    """SQLite's migration 18."""
    for table in TEAM_TABLES:
        _rebuild_sqlite(db, table)
    _lead_index_triggers(db)
    _jobs_keep_their_team(db)


# --- PostgreSQL ------------------------------------------------------------------------------------


def _rekey_postgres(db: Any, table: TeamTable) -> None:
    db.execute(f"ALTER TABLE {table.name} ADD COLUMN team_id TEXT NOT NULL DEFAULT ''")
    key = ", ".join(("team_id", *table.key))
    if table.name == "lead_index":  # its identity id stays the primary key
        db.execute("ALTER TABLE lead_index DROP CONSTRAINT lead_index_lead_id_key")
        db.execute(f"ALTER TABLE lead_index ADD CONSTRAINT lead_index_team_lead UNIQUE ({key})")
    else:
        db.execute(f"ALTER TABLE {table.name} DROP CONSTRAINT {table.name}_pkey")
        if table.name == "lead_index_state":  # one row per workspace now, not the one row 1
            db.execute("ALTER TABLE lead_index_state DROP CONSTRAINT lead_index_state_id_check")
            db.execute("ALTER TABLE lead_index_state ALTER COLUMN id DROP NOT NULL")
        db.execute(f"ALTER TABLE {table.name} ADD PRIMARY KEY ({key})")
    for index in table.indexes:
        db.execute(f"DROP INDEX IF EXISTS {index.name}")
        _create_index(db, index, table.name)


def key_rows_by_team_postgres(db: Any) -> None:
    """PostgreSQL's migration 6."""
    for table in TEAM_TABLES:
        _rekey_postgres(db, table)
    _jobs_keep_their_team(db)
