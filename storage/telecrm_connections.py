"""Each Slack workspace's own TeleCRM: the workspace id and the tokens its admin connected.

One row per Slack team, keyed like :mod:`storage.installations` (enterprise id, team id; '' for
"none"). The Sync and Async tokens are encrypted with the same :class:`TokenCipher` as the Slack
tokens, so a copy of the database holds no usable TeleCRM token; the TeleCRM workspace id, who
connected and when stay in clear, so an operator can see which workspaces are connected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from storage.secrets import TokenCipher

_CREATE = (
    "CREATE TABLE telecrm_connections (enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, "
    "workspace_id TEXT NOT NULL, sync_token TEXT NOT NULL, async_token TEXT, "
    "connected_by TEXT NOT NULL, connected_at {time} NOT NULL, PRIMARY KEY (enterprise_id, team_id))"
)


def create_telecrm_connections_table(db: Any) -> None:
    """SQLite migration step: one TeleCRM connection per Slack workspace."""
    db.execute(_CREATE.format(time="REAL"))


def create_telecrm_connections_table_postgres(db: Any) -> None:
    """PostgreSQL migration step: the same table, times in PostgreSQL's type."""
    db.execute(_CREATE.format(time="DOUBLE PRECISION"))


@dataclass(frozen=True)
class Connection:
    """A workspace's TeleCRM credentials, decrypted; its repr never shows a token."""

    enterprise_id: str
    team_id: str
    workspace_id: str
    sync_token: str
    async_token: str | None
    connected_by: str
    connected_at: float

    def __repr__(self) -> str:
        return (
            f"Connection(team={self.team_id!r}, workspace_id={self.workspace_id!r}, "
            f"connected_by={self.connected_by!r}, tokens=***)"
        )


class TelecrmConnections:
    """Save, find and delete each Slack workspace's TeleCRM connection, tokens encrypted."""

    def __init__(self, store: Any, cipher: TokenCipher) -> None:
        self._store, self._cipher = store, cipher

    def save(
        self,
        team_id: str,
        workspace_id: str,
        sync_token: str,
        async_token: str | None,
        connected_by: str,
        *,
        enterprise_id: str | None = None,
    ) -> None:
        """Connect (or reconnect) a workspace: a new connection replaces the old one."""
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO telecrm_connections (enterprise_id, team_id, workspace_id, sync_token, "
                "async_token, connected_by, connected_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (enterprise_id, team_id) DO UPDATE SET workspace_id = excluded.workspace_id, "
                "sync_token = excluded.sync_token, async_token = excluded.async_token, "
                "connected_by = excluded.connected_by, connected_at = excluded.connected_at",
                [
                    enterprise_id or "",
                    team_id,
                    workspace_id,
                    self._cipher.encrypt(sync_token),
                    self._cipher.encrypt(async_token or None),
                    connected_by,
                    time.time(),
                ],
            )

    def find(self, team_id: str, *, enterprise_id: str | None = None) -> Connection | None:
        row = self._store.db.execute(
            "SELECT workspace_id, sync_token, async_token, connected_by, connected_at "
            "FROM telecrm_connections WHERE enterprise_id = ? AND team_id = ?",
            [enterprise_id or "", team_id],
        ).fetchone()
        if row is None:
            return None
        return Connection(
            enterprise_id=enterprise_id or "",
            team_id=team_id,
            workspace_id=row[0],
            sync_token=self._cipher.decrypt(row[1]) or "",
            async_token=self._cipher.decrypt(row[2]),
            connected_by=row[3],
            connected_at=float(row[4]),
        )

    def teams(self) -> list[str]:
        """Every Slack workspace with a TeleCRM connection, in team id order."""
        rows = self._store.db.execute("SELECT team_id FROM telecrm_connections ORDER BY team_id").fetchall()
        return [str(row[0]) for row in rows]

    def delete(self, team_id: str, *, enterprise_id: str | None = None) -> bool:
        """Disconnect a workspace; whether it was connected."""
        with self._store.transaction() as db:
            cursor = db.execute(
                "DELETE FROM telecrm_connections WHERE enterprise_id = ? AND team_id = ?",
                [enterprise_id or "", team_id],
            )
            return bool(cursor.rowcount)

    def rotate_keys(self) -> int:
        """Encrypt every stored TeleCRM token again with the first key; how many rows were rewritten."""
        rewritten = 0
        with self._store.transaction() as db:
            rows = db.execute(
                "SELECT enterprise_id, team_id, sync_token, async_token FROM telecrm_connections"
            ).fetchall()
            for enterprise, team, sync_token, async_token in rows:
                db.execute(
                    "UPDATE telecrm_connections SET sync_token = ?, async_token = ? "
                    "WHERE enterprise_id = ? AND team_id = ?",
                    [
                        self._cipher.rotate(sync_token),
                        None if async_token is None else self._cipher.rotate(async_token),
                        enterprise,
                        team,
                    ],
                )
                rewritten += 1
        return rewritten
