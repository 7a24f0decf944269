"""Ordered schema migrations of the bot's SQLite database.

The database records how far it has been migrated in ``PRAGMA user_version``. On open, every
migration with a higher version runs, all of them inside one ``BEGIN IMMEDIATE`` transaction, so a
database is either fully upgraded or untouched, and two processes opening it at once cannot both
migrate it.

To add a table, append one entry to :data:`MIGRATIONS`::

    from storage.outbox import create_outbox_table
    MIGRATIONS.append((2, "outbox of pending TeleCRM writes", create_outbox_table))

The tables of one feature are made by a step next to the code that uses them (storage/outbox.py,
storage/deliveries.py, storage/health.py, storage/lead_watch.py); those modules import nothing from storage/db.py, so this
list can import them and storage/db.py can import this list without a cycle.

Rules: the version is the previous one plus one; never edit, remove or reorder an entry that has
shipped (databases in the field have already run it) — fix mistakes with a new migration. A step
receives this thread's ``sqlite_utils.Database`` inside the open transaction and must not commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlite_utils import Database

from storage.deliveries import create_deliveries_table
from storage.follow_ups import create_follow_ups_table
from storage.health import create_health_table
from storage.import_sending import create_import_sending_tables
from storage.imports import create_import_tables
from storage.installations import create_installation_tables
from storage.lead_index import create_lead_index_tables
from storage.lead_watch import create_lead_watch_tables
from storage.outbox import add_outbox_delivery, add_outbox_leases, create_outbox_table
from storage.periodic_leases import create_periodic_leases_table
from storage.pipeline import create_pipeline_tables
from storage.team_tables import key_rows_by_team_sqlite
from storage.telecrm_connections import create_telecrm_connections_table

MigrationStep = Callable[[Database], None]
Migration = tuple[int, str, MigrationStep]


def _core_tables(db: Database) -> None:
    db.table("schema_cache").create(
        {"enterprise_id": str, "schema_json": str, "fetched_at": float},
        pk="enterprise_id",
        not_null={"schema_json", "fetched_at"},
    )
    db.table("lead_threads").create(
        {
            "lead_id": str,
            "channel": str,
            "ts": str,  # Slack timestamps are strings ("1712345678.123456"), never floats
            "identifier": str,
            "name": str,
            "created_by": str,
            "created_at": float,
        },
        pk="lead_id",
        not_null={"channel", "ts", "created_at"},
    )
    db.table("lead_threads").create_index(["created_at"], index_name="lead_threads_created_at")
    db.table("lead_threads").create_index(["created_by", "created_at"], index_name="lead_threads_created_by")
    db.table("payments").create(
        {
            "action_id": str,
            "lead_id": str,
            "amount": str,  # exactly as sent to TeleCRM: a numeric string, no float rounding
            "currency": str,
            "status": str,
            "recorded_by": str,
            "channel": str,
            "thread_ts": str,
            "message_ts": str,
            "created_at": float,
            "updated_at": float,
            "last_checked_at": float,
        },
        pk="action_id",
        not_null={"lead_id", "amount", "currency", "status", "created_at", "updated_at"},
    )
    db.table("payments").create_index(["status", "last_checked_at"], index_name="payments_open")
    db.table("payments").create_index(["lead_id"], index_name="payments_lead")
    db.table("user_links").create(
        {"slack_user_id": str, "email": str, "member_email": str, "updated_at": float},
        pk="slack_user_id",
        not_null={"updated_at"},
    )
    db.table("user_links").create_index(["member_email"], index_name="user_links_member")


def _outbox_tables(db: Database) -> None:
    create_outbox_table(db)
    create_deliveries_table(db)


def _lead_form_tables(db: Database) -> None:
    db.table("lead_drafts").create(
        {"key": str, "kind": str, "user_id": str, "data": str, "created_at": float},
        pk="key",
        not_null={"kind", "data", "created_at"},
    )
    db.table("lead_drafts").create_index(["created_at"], index_name="lead_drafts_created_at")
    db.table("field_usage").create({"api_name": str, "uses": int, "updated_at": float}, pk="api_name")


def _lead_thread_message_index(db: Database) -> None:
    db.table("lead_threads").create_index(
        ["channel", "ts"], index_name="lead_threads_message", if_not_exists=True
    )


def _oauth_tables(db: Database) -> None:
    create_installation_tables(db)
    # the workspace of each queued job, until version 18 moved it into the outbox row
    db.execute(
        "CREATE TABLE job_teams (key TEXT PRIMARY KEY, team_id TEXT NOT NULL, created_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX job_teams_created ON job_teams (created_at)")


def _action_types_seen(db: Database) -> None:
    db.table("action_types_seen").create({"type": str, "uses": int, "updated_at": float}, pk="type")


MIGRATIONS: list[Migration] = [
    (1, "schema cache, lead threads, payments, user links", _core_tables),
    (2, "outbox of TeleCRM writes and Slack deliveries seen", _outbox_tables),
    (3, "lead form drafts (more fields, edits, duplicates) and field usage", _lead_form_tables),
    (4, "find a lead's thread by its Slack message", _lead_thread_message_index),
    (5, "outbox rows leased to one process, and the steps each job has done", add_outbox_leases),
    (6, "a row the health check writes to, to know the file can still be written", create_health_table),
    (7, "activity types seen on timelines (the /timeline form lists those first)", _action_types_seen),
    (
        8,
        "the bot's index of leads for /lead find by part of a value, and its mirror cursor",
        create_lead_index_tables,
    ),
    (9, "follow-up reminders: when each lead's person is to be reminded", create_follow_ups_table),
    (
        10,
        "what the bot last saw of each lead with a thread, and the lead watcher's state",
        create_lead_watch_tables,
    ),
    (
        11,
        "/pipeline reports people can share, and the days the morning digest was posted",
        create_pipeline_tables,
    ),
    (12, "bulk imports of leads from a file, and the valid rows each will send", create_import_tables),
    (
        13,
        "who is sending each import, the Async request in flight per row, and the shared Async pace",
        create_import_sending_tables,
    ),
    (
        14,
        "the Slack delivery that asked for each queued write, unique: one statement per ack",
        add_outbox_delivery,
    ),
    (
        15,
        "the workspaces the app is installed in (tokens encrypted), install links in progress, "
        "and the workspace each queued job is for",
        _oauth_tables,
    ),
    (16, "who runs each periodic task across the replicas, and until when", create_periodic_leases_table),
    (
        17,
        "each Slack workspace's own TeleCRM connection (tokens encrypted)",
        create_telecrm_connections_table,
    ),
    (
        18,
        "every row of a Slack workspace's data keyed by its team id (two workspaces' lead 1 are two rows);"
        " each queued job's workspace in its outbox row",
        key_rows_by_team_sqlite,
    ),
]


def latest_version(migrations: Sequence[Migration] | None = None) -> int:
    steps = MIGRATIONS if migrations is None else migrations
    return steps[-1][0] if steps else 0


def check_order(migrations: Sequence[Migration]) -> None:
    """Versions must be 1, 2, 3, … so a missing or duplicated entry is caught at start-up."""
    for expected, (version, description, _) in enumerate(migrations, start=1):
        if version != expected:
            raise ValueError(
                f"Migration {description!r} has version {version}, expected {expected}; "
                "MIGRATIONS must be numbered 1, 2, 3, … in order"
            )
