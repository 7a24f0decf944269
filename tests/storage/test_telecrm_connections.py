"""Each Slack workspace's TeleCRM connection, on SQLite and PostgreSQL: found by its team only,
replaced on reconnect, deleted on disconnect, tokens never stored in clear and rotated with the key."""

from __future__ import annotations

from typing import Any

from storage.secrets import TokenCipher, new_key
from storage.telecrm_connections import TelecrmConnections

SYNC = "sync-token-of-team-a-secret"
ASYNC = "async-token-of-team-a-secret"


def test_a_connection_is_found_by_its_team_only(store: Any) -> None:
    connections = TelecrmConnections(store, TokenCipher(new_key()))
    connections.save("TA", "ws-1", SYNC, ASYNC, "UADMIN")

    found = connections.find("TA")
    assert found is not None
    assert (found.workspace_id, found.sync_token, found.async_token, found.connected_by) == (
        "ws-1",
        SYNC,
        ASYNC,
        "UADMIN",
    )
    assert connections.find("TB") is None
    assert connections.find("TA", enterprise_id="E1") is None
    assert SYNC not in repr(found) and ASYNC not in repr(found)


def test_reconnecting_replaces_and_the_async_token_is_optional(store: Any) -> None:
    connections = TelecrmConnections(store, TokenCipher(new_key()))
    connections.save("TA", "ws-1", SYNC, ASYNC, "UADMIN")
    connections.save("TA", "ws-2", "other-sync", None, "UOTHER")

    found = connections.find("TA")
    assert found is not None
    assert (found.workspace_id, found.sync_token, found.async_token) == ("ws-2", "other-sync", None)


def test_disconnecting_deletes_the_row(store: Any) -> None:
    connections = TelecrmConnections(store, TokenCipher(new_key()))
    connections.save("TA", "ws-1", SYNC, None, "UADMIN")

    assert connections.delete("TA") is True
    assert connections.find("TA") is None
    assert connections.delete("TA") is False


def test_tokens_are_stored_encrypted(store: Any) -> None:
    TelecrmConnections(store, TokenCipher(new_key())).save("TA", "ws-1", SYNC, ASYNC, "UADMIN")

    rows = store.db.execute("SELECT sync_token, async_token FROM telecrm_connections").fetchall()
    stored = " ".join(str(value) for row in rows for value in row)
    assert SYNC not in stored and ASYNC not in stored


def test_rotating_keys_keeps_the_tokens_readable_with_the_new_key_alone(store: Any) -> None:
    old, new = new_key(), new_key()
    TelecrmConnections(store, TokenCipher(old)).save("TA", "ws-1", SYNC, ASYNC, "UADMIN")

    assert TelecrmConnections(store, TokenCipher(f"{new},{old}")).rotate_keys() == 1

    found = TelecrmConnections(store, TokenCipher(new)).find("TA")
    assert found is not None and (found.sync_token, found.async_token) == (SYNC, ASYNC)
