"""Which database the bot uses, from ``DATABASE_URL`` (storage/database_url.py): a SQLite file or a
PostgreSQL server, and the parts of the store that differ with it.

``sqlite:///PATH`` opens storage/db.py's ``Store``; ``postgresql://…`` opens storage/postgres.py's
``PostgresStore``. Both offer the surface of :class:`storage.dialect.BotStore`, so nothing above this
module knows which it got.
"""

from __future__ import annotations

import time
from typing import Any

from storage.database_url import parse_database_url
from storage.dialect import POSTGRES, BotStore, dialect_of
from storage.lead_index import Clock, LeadIndex
from storage.lead_index_pg import PostgresLeadIndex


def open_store(url: str) -> BotStore:
    """The store ``url`` names, opened and migrated; StoreError (one line) when it cannot be used."""
    target = parse_database_url(url)
    if target.kind == "postgresql":
        from storage.postgres import PostgresStore

        return PostgresStore(target.where)
    from storage.db import Store

    return Store(target.where)


def lead_index_for(store: Any, *, clock: Clock = time.time) -> LeadIndex:
    """The lead index of ``store``'s database: FTS5 on SQLite, storage/lead_index_pg.py on PostgreSQL."""
    if dialect_of(store) is POSTGRES:
        return PostgresLeadIndex(store, clock=clock)
    return LeadIndex(store, clock=clock)
