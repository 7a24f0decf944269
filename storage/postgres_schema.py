"""The bot's tables on PostgreSQL, and their migrations (``schema_version``).

Version 1 is every table the SQLite migrations (storage/migrations.py) have made up to their version
13, in PostgreSQL's types: ``TEXT``, ``BIGINT`` for integers (0/1 flags stay integers: the code
compares them with 0 and 1), ``DOUBLE PRECISION`` for the Unix times SQLite keeps as ``REAL``,
``BYTEA`` for the health row's blob. Two differences, both only in how a table is kept:

* ``lead_threads.rowid`` is an identity column standing in for SQLite's implicit ``rowid`` (the tie
  break of "newest first" among threads made in the same instant);
* the lead index has no FTS5 tables or triggers: storage/lead_index_pg.py searches the rows
  themselves, newest first through ``lead_index_seen``, and counts them when asked.

Rules as for SQLite's list: append, never edit a shipped entry. A step receives the migration's
transaction (storage/postgres.py) and must not commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storage.periodic_leases import create_periodic_leases_table
from storage.team_tables import key_rows_by_team_postgres
from storage.telecrm_connections import create_telecrm_connections_table_postgres

_TABLES = """
CREATE TABLE schema_cache (
    enterprise_id TEXT PRIMARY KEY,
    schema_json TEXT NOT NULL,
    fetched_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE lead_threads (
    lead_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL,
    identifier TEXT,
    name TEXT,
    created_by TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX lead_threads_created_at ON lead_threads (created_at);
CREATE INDEX lead_threads_created_by ON lead_threads (created_by, created_at);
CREATE INDEX lead_threads_message ON lead_threads (channel, ts);
CREATE TABLE payments (
    action_id TEXT PRIMARY KEY,
    lead_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    recorded_by TEXT,
    channel TEXT,
    thread_ts TEXT,
    message_ts TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    last_checked_at DOUBLE PRECISION
);
CREATE INDEX payments_open ON payments (status, last_checked_at);
CREATE INDEX payments_lead ON payments (lead_id);
CREATE INDEX payments_created ON payments (created_at);
CREATE TABLE user_links (
    slack_user_id TEXT PRIMARY KEY,
    email TEXT,
    member_email TEXT,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX user_links_member ON user_links (member_email);
CREATE TABLE outbox (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    lease_until DOUBLE PRECISION,
    last_error TEXT,
    result TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    owner TEXT,
    progress TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE TABLE deliveries (key TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);
CREATE INDEX deliveries_seen ON deliveries (seen_at);
CREATE TABLE lead_drafts (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT,
    data TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX lead_drafts_created_at ON lead_drafts (created_at);
CREATE TABLE field_usage (api_name TEXT PRIMARY KEY, uses BIGINT, updated_at DOUBLE PRECISION);
CREATE TABLE health (id BIGINT PRIMARY KEY, checked_at DOUBLE PRECISION NOT NULL, room BYTEA);
CREATE TABLE action_types_seen (type TEXT PRIMARY KEY, uses BIGINT, updated_at DOUBLE PRECISION);
CREATE TABLE lead_index (
    id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    lead_id TEXT NOT NULL UNIQUE,
    name TEXT,
    identifier TEXT,
    phones TEXT,
    email TEXT,
    company TEXT,
    status TEXT,
    seen_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX lead_index_seen ON lead_index (seen_at DESC, id DESC);
CREATE TABLE lead_index_words (word TEXT PRIMARY KEY);
CREATE TABLE lead_index_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    leads BIGINT NOT NULL DEFAULT 0,
    updated_at DOUBLE PRECISION,
    days BIGINT,
    high_ms BIGINT,
    sweep_top BIGINT,
    sweep_to BIGINT,
    sweep_skip BIGINT NOT NULL DEFAULT 0,
    sweep_floor BIGINT,
    checked_at DOUBLE PRECISION,
    pages BIGINT NOT NULL DEFAULT 0
);
INSERT INTO lead_index_state (id) VALUES (1);
CREATE TABLE follow_ups (
    lead_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    assignee TEXT,
    field TEXT NOT NULL,
    follow_up_at DOUBLE PRECISION NOT NULL,
    remind_at DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX follow_ups_due ON follow_ups (state, remind_at);
CREATE TABLE lead_watch (
    lead_id TEXT PRIMARY KEY,
    fields TEXT,
    seen_at DOUBLE PRECISION,
    modified_on DOUBLE PRECISION,
    activity_on DOUBLE PRECISION,
    known_actions TEXT,
    active_at DOUBLE PRECISION,
    checked_at DOUBLE PRECISION,
    held_until DOUBLE PRECISION,
    gone BIGINT NOT NULL DEFAULT 0,
    card_title TEXT,
    card_asked BIGINT NOT NULL DEFAULT 0,
    card_begun BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX lead_watch_checked ON lead_watch (gone, checked_at);
CREATE TABLE watch_runs (
    name TEXT PRIMARY KEY,
    owner TEXT,
    lease_until DOUBLE PRECISION,
    spent TEXT,
    paused_until DOUBLE PRECISION,
    notes TEXT
);
CREATE TABLE pipeline_reports (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    channel TEXT,
    text TEXT NOT NULL,
    blocks TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    shared_at DOUBLE PRECISION,
    shared_by TEXT
);
CREATE INDEX pipeline_reports_created ON pipeline_reports (created_at);
CREATE TABLE pipeline_digests (
    day TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    claimed_at DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL,
    message_ts TEXT,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_id TEXT,
    source TEXT NOT NULL,
    user_id TEXT,
    channel TEXT,
    thread_ts TEXT,
    progress_ts TEXT,
    mapping TEXT NOT NULL,
    on_existing TEXT NOT NULL,
    state TEXT NOT NULL,
    total_rows BIGINT NOT NULL,
    valid_rows BIGINT NOT NULL,
    problem_rows BIGINT NOT NULL,
    problems TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX imports_file ON imports (file_sha256);
CREATE INDEX imports_state ON imports (state);
CREATE TABLE import_rows (
    import_id TEXT NOT NULL,
    row_no BIGINT NOT NULL,
    identifier TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (import_id, row_no)
);
CREATE INDEX import_rows_state ON import_rows (import_id, state, row_no);
CREATE TABLE import_senders (
    import_id TEXT PRIMARY KEY,
    owner TEXT,
    lease_until DOUBLE PRECISION,
    sending_since DOUBLE PRECISION,
    note TEXT
);
CREATE TABLE import_row_attempts (
    import_id TEXT NOT NULL,
    row_no BIGINT NOT NULL,
    sent_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (import_id, row_no)
);
CREATE TABLE async_pacing (name TEXT PRIMARY KEY, next_at DOUBLE PRECISION NOT NULL);
CREATE TABLE import_row_checks (
    import_id TEXT NOT NULL,
    row_no BIGINT NOT NULL,
    lead_id TEXT,
    created BIGINT,
    PRIMARY KEY (import_id, row_no)
);
"""


def _every_table(db: Any) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            db.execute(statement)


def _outbox_delivery(db: Any) -> None:
    """SQLite's version 14: the Slack delivery that asked for each queued write, unique."""
    db.execute("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS delivery TEXT")
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS outbox_delivery ON outbox (delivery) WHERE delivery IS NOT NULL"
    )


_OAUTH_TABLES = """
CREATE TABLE slack_bots (
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    data TEXT NOT NULL,
    installed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (enterprise_id, team_id)
);
CREATE TABLE slack_installations (
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    data TEXT NOT NULL,
    installed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (enterprise_id, team_id, user_id)
);
CREATE TABLE oauth_states (state TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);
CREATE TABLE job_teams (key TEXT PRIMARY KEY, team_id TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL);
CREATE INDEX job_teams_created ON job_teams (created_at);
"""


def _oauth_tables(db: Any) -> None:
    """SQLite's version 15: installations (tokens encrypted), install links, each job's workspace."""
    for statement in _OAUTH_TABLES.split(";"):
        if statement.strip():
            db.execute(statement)


PostgresMigration = tuple[int, str, Callable[[Any], None]]

POSTGRES_MIGRATIONS: list[PostgresMigration] = [
    (1, "every table of SQLite's schema version 13, in PostgreSQL's types", _every_table),
    (
        2,
        "the Slack delivery that asked for each queued write, unique: one statement per ack",
        _outbox_delivery,
    ),
    (
        3,
        "the workspaces the app is installed in (tokens encrypted), install links in progress, "
        "and the workspace each queued job is for",
        _oauth_tables,
    ),
    (4, "who runs each periodic task across the replicas, and until when", create_periodic_leases_table),
    (
        5,
        "each Slack workspace's own TeleCRM connection (tokens encrypted)",
        create_telecrm_connections_table_postgres,
    ),
    (
        6,
        "every row of a Slack workspace's data keyed by its team id (two workspaces' lead 1 are two rows);"
        " each queued job's workspace in its outbox row",
        key_rows_by_team_postgres,
    ),
]
