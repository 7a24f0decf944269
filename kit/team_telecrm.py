"""Each Slack workspace's own TeleCRM: its client and schema cache, built from the connection its admin
made in App Home (storage/telecrm_connections.py), kept per workspace while the bot runs.

In single-workspace mode there is one TeleCRM, the environment's (``TELECRM_*``), and
``services.telecrm``/``services.cache`` are that client and cache as they always were. In OAuth mode
they are :class:`CurrentTeleCRM` and :class:`CurrentSchemaCache`: stand-ins whose every attribute is
the current workspace's (:data:`storage.tenancy.current_team`, set for each Slack request and each
job), so the features call ``services.telecrm.create_lead(…)`` without knowing there are several.
A workspace with no connection raises :class:`TelecrmNotConnected` on its first TeleCRM call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from storage.cache import SchemaCache
from storage.dialect import BotStore
from storage.telecrm_connections import Connection, TelecrmConnections
from storage.tenancy import team_key
from telecrm.errors import TeleCRMAuthError
from telecrm.observed import ObservedTeleCRMClient

log = logging.getLogger(__name__)

# what to do when TeleCRM refuses a workspace's token (telecrm/transport.py): its credentials are the
# ones an admin typed in App Home, not the environment's TELECRM_* settings
RECONNECT_REMEDY = (
    "An admin of this Slack workspace reconnects TeleCRM in the app's Home tab (Change connection)."
)

# another replica may disconnect or reconnect a workspace: a kept client is checked against the stored
# connection this often (a read of one row), so a replaced token stops being used within this time
RECHECK_SECONDS = 30.0


class TelecrmNotConnected(TeleCRMAuthError):
    """The Slack workspace has no TeleCRM connection (never connected, or disconnected since).

    An authentication failure that nothing was sent for: retrying does not help until an admin
    connects TeleCRM in App Home.
    """

    def __init__(self, team_id: str) -> None:
        super().__init__(
            f"this Slack workspace ({team_id or 'none'}) is not connected to TeleCRM",
            remedy="An admin of this Slack workspace connects TeleCRM in the app's Home tab (Connect TeleCRM).",
        )

    @property
    def transient(self) -> bool:
        return False

    @property
    def may_have_landed(self) -> bool:
        return False


@dataclass(frozen=True)
class TeamTelecrm:
    """One workspace's TeleCRM: the client its calls go through and the cache of its schema."""

    telecrm: ObservedTeleCRMClient
    cache: SchemaCache
    workspace_id: str


@dataclass
class _Kept:
    entry: TeamTelecrm
    connected_at: float
    checked_at: float


class TeamTelecrms:
    """The TeleCRM of each Slack workspace, built on first use from its stored connection.

    ``build`` makes a workspace's :class:`TeamTelecrm` from its :class:`Connection` (bot/runtime.py:
    the same URLs and timeouts as the environment's client, its own tokens and schema cache).
    """

    def __init__(
        self,
        store: BotStore,
        connections: TelecrmConnections,
        build: Callable[[Connection], TeamTelecrm],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self.connections, self._build, self._clock = store, connections, build, clock
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    # -- the current workspace's --------------------------------------------------------------------
    def current(self) -> TeamTelecrm:
        """The TeleCRM of the workspace this thread works for; :class:`TelecrmNotConnected` if none."""
        return self.of(team_key())

    def of(self, team_id: str) -> TeamTelecrm:
        now = self._clock()
        with self._lock:
            kept = self._kept.get(team_id)
        if kept is not None and now - kept.checked_at < RECHECK_SECONDS:
            return kept.entry
        connection = self.connections.find(team_id) if team_id else None
        if connection is None:
            self.drop(team_id)
            raise TelecrmNotConnected(team_id)
        if kept is not None and kept.connected_at == connection.connected_at:
            kept.checked_at = now
            return kept.entry
        return self._keep(team_id, connection, now)

    def _keep(self, team_id: str, connection: Connection, now: float) -> TeamTelecrm:
        entry = self._build(connection)
        with self._lock:
            old = self._kept.get(team_id)
            self._kept[team_id] = _Kept(entry, connection.connected_at, now)
        if old is not None:  # reconnected (here or on another replica): the old tokens are done with
            _close(old.entry)
        return entry

    def is_connected(self, team_id: str) -> bool:
        """Whether the workspace has a TeleCRM connection (a read of one row: on the ack's path)."""
        return bool(team_id) and self.connections.find(team_id) is not None

    def connected_teams(self) -> list[str]:
        """Every Slack workspace with a TeleCRM connection, for the periodic work done per workspace."""
        return self.connections.teams()

    # -- connecting and disconnecting ----------------------------------------------------------------
    def connect(
        self, team_id: str, workspace_id: str, sync_token: str, async_token: str | None, connected_by: str
    ) -> None:
        """Save a workspace's connection (checked by the caller); its next call uses the new tokens."""
        self.connections.save(team_id, workspace_id, sync_token, async_token, connected_by)
        self.drop(team_id)

    def disconnect(self, team_id: str) -> bool:
        """Delete the workspace's connection and its client; whether it was connected."""
        removed = self.connections.delete(team_id)
        self.drop(team_id)
        return removed

    def drop(self, team_id: str) -> None:
        """Forget the workspace's client and cache (they are built again from the stored connection)."""
        with self._lock:
            kept = self._kept.pop(team_id, None)
        if kept is not None:
            _close(kept.entry)

    def close(self) -> None:
        with self._lock:
            kept, self._kept = list(self._kept.values()), {}
        for each in kept:
            _close(each.entry)


def _close(entry: TeamTelecrm) -> None:
    try:
        entry.telecrm.close()
    except Exception:
        log.exception("could not close a workspace's TeleCRM client")


class _CurrentWorkspaces:
    """Every attribute is the current workspace's ``_part`` (its ``telecrm`` client or its ``cache``).

    Mixed in before the class it stands for, only so that it is typed as what the features expect; it
    holds nothing of its own (that class is never initialised), everything is looked up on each use.
    A method is looked up when it is called, not when it is read: a feature may keep
    ``services.cache.cached`` and call it later, for whichever workspace is current then."""

    _stands_for: ClassVar[type]
    _part: ClassVar[str]  # the TeamTelecrm attribute stood for

    def __init__(self, teams: TeamTelecrms) -> None:  # deliberately not the stood-for class's
        object.__setattr__(self, "_teams", teams)

    def __getattribute__(self, name: str) -> Any:
        if name in _OWN:
            return object.__getattribute__(self, name)
        teams: TeamTelecrms = object.__getattribute__(self, "_teams")
        part = type(self)._part
        if callable(getattr(type(self)._stands_for, name, None)):
            return lambda *args, **kwargs: getattr(getattr(teams.current(), part), name)(*args, **kwargs)
        return getattr(getattr(teams.current(), part), name)


class CurrentTeleCRM(_CurrentWorkspaces, ObservedTeleCRMClient):
    """``services.telecrm`` in OAuth mode: every attribute is the current workspace's client's."""

    _stands_for = ObservedTeleCRMClient
    _part = "telecrm"

    def __repr__(self) -> str:
        return "CurrentTeleCRM(the current Slack workspace's TeleCRM)"


class CurrentSchemaCache(_CurrentWorkspaces, SchemaCache):
    """``services.cache`` in OAuth mode: every attribute is the current workspace's schema cache's."""

    _stands_for = SchemaCache
    _part = "cache"

    def __repr__(self) -> str:
        return "CurrentSchemaCache(the current Slack workspace's schema)"


_OWN = frozenset({"_teams", "__class__", "__repr__", "__dict__"})
