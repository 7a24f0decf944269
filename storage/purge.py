"""Everything the bot keeps of one Slack workspace, deleted (``telecrm-bot purge --team T``).

A workspace that uninstalls the app, or asks for its data to be erased, leaves nothing behind: every
row of :data:`storage.team_tables.TEAM_TABLES` keyed by its team id, its Slack installation and bot
token, its TeleCRM connection, and the cached schema of the TeleCRM workspace that connection named
— unless another Slack workspace's connection uses the same TeleCRM workspace, whose cache it still
needs. All of it in one transaction: a purge is done entirely or not at all.
"""

from __future__ import annotations

from typing import Any

from storage.team_tables import TEAM_TABLES

# the tables a workspace's installation and connection live in (keyed by team id already)
_ACCOUNT_TABLES = ("slack_installations", "slack_bots", "telecrm_connections")


def purge_team(store: Any, team_id: str) -> list[tuple[str, int]]:
    """Delete every row of ``team_id``; (table, rows deleted) for each table, in the order deleted."""
    if not team_id:
        raise ValueError("a Slack team id is needed: '' is the single-workspace data")
    removed: list[tuple[str, int]] = []
    with store.transaction() as db:
        workspaces = _telecrm_workspaces_only_of(db, team_id)
        for table in TEAM_TABLES:  # lead_index before lead_index_state: its trigger counts leads down
            removed.append(
                (table.name, _delete(db, f"DELETE FROM {table.name} WHERE team_id = ?", [team_id]))
            )
        for name in _ACCOUNT_TABLES:
            removed.append((name, _delete(db, f"DELETE FROM {name} WHERE team_id = ?", [team_id])))
        cached = sum(
            _delete(db, "DELETE FROM schema_cache WHERE enterprise_id = ?", [workspace])
            for workspace in workspaces
        )
        removed.append(("schema_cache", cached))
    return removed


def _telecrm_workspaces_only_of(db: Any, team_id: str) -> list[str]:
    """The TeleCRM workspaces the team's connection names that no other Slack workspace's does."""
    rows = db.query(
        "SELECT DISTINCT workspace_id FROM telecrm_connections c WHERE team_id = ? AND NOT EXISTS"
        " (SELECT 1 FROM telecrm_connections o WHERE o.workspace_id = c.workspace_id AND o.team_id != ?)",
        [team_id, team_id],
    )
    return [str(r["workspace_id"]) for r in rows]


def _delete(db: Any, sql: str, params: list[Any]) -> int:
    return int(db.execute(sql, params).rowcount)
