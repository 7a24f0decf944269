"""The store, a TeleCRM client and the schema cache over them, for commands that work without the
running bot (``telecrm-bot cache``, ``telecrm-bot import``)."""

from __future__ import annotations

from kit.config import Settings
from storage.cache import SchemaCache
from storage.dialect import BotStore
from storage.stores import open_store
from telecrm.client import TeleCRMClient


def open_schema_cache(settings: Settings) -> tuple[BotStore, TeleCRMClient, SchemaCache]:
    """(store, client, cache); the caller closes the client and the store."""
    store = open_store(settings.database)
    client = TeleCRMClient(
        base_url=settings.telecrm_api_url,
        enterprise_id=settings.telecrm_enterprise_id,
        sync_token=settings.telecrm_sync_token,
        timeout=settings.telecrm_timeout_seconds,
    )
    cache = SchemaCache(
        store,
        client.fetch_schema,
        ttl_seconds=settings.cache_ttl_seconds,
        enterprise_id=settings.telecrm_enterprise_id,
    )
    return store, client, cache
