"""``DATABASE_URL`` read: ``sqlite:///PATH`` (``sqlite:////abs/path`` for an absolute path) or
``postgresql://…`` (or ``postgres://…``), and shown without its password. storage/stores.py opens
what it names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")
EXPECTED = (
    "sqlite:///PATH (a SQLite file; sqlite:////srv/bot.sqlite3 for an absolute path) or "
    "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
)


@dataclass(frozen=True)
class DatabaseTarget:
    """What ``DATABASE_URL`` names: ``kind`` is ``"sqlite"`` (``where`` is the file's path) or
    ``"postgresql"`` (``where`` is the URL)."""

    kind: str
    where: str


def sqlite_url(path: str) -> str:
    """The ``DATABASE_URL`` of a SQLite file (the default is built from ``DATABASE_PATH``)."""
    return SQLITE_PREFIX + path


def parse_database_url(url: str) -> DatabaseTarget:
    """What ``url`` names; ValueError (saying what is expected, never repeating the URL, which may
    hold a password) for anything else."""
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        return DatabaseTarget("sqlite", url[len(SQLITE_PREFIX) :])
    if url.startswith(POSTGRES_PREFIXES) and len(url.split("://", 1)[1]) > 0:
        return DatabaseTarget("postgresql", url)
    scheme = url.split("://", 1)[0] + "://" if "://" in url else "no scheme"
    raise ValueError(f"{EXPECTED} (got {scheme})")


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
