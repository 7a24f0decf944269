"""The workspace schema cache: memory in front of SQLite in front of TeleCRM.

Slack modals must open within 3 s of a click, so the schema is never fetched on that path once it
has been fetched at all: a stale copy is served at once while one background thread refreshes it,
and a TeleCRM outage simply means the last good copy keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.dialect import STORE_ERRORS, BotStore
from storage.repositories import CachedSchemas
from telecrm.redact import mask
from telecrm.schema import WorkspaceSchema

logger = logging.getLogger(__name__)

# a stored copy that cannot be read: the database's errors, or a row that is not a schema
_UNREADABLE: tuple[type[Exception], ...] = (*STORE_ERRORS, ValueError, KeyError, TypeError)


class SchemaUnavailable(Exception):
    """No cached schema and TeleCRM could not provide one."""


@dataclass(frozen=True)
class CacheStatus:
    fetched_at: float | None
    age_seconds: float | None
    fresh: bool
    field_count: int
    custom_action_count: int
    team_member_count: int
    refreshing: bool
    last_error: str | None


class SchemaCache:
    """Serves the :class:`WorkspaceSchema`; see the module docstring for the freshness rules."""

    def __init__(
        self,
        store: BotStore,
        fetch: Callable[[], WorkspaceSchema],
        *,
        ttl_seconds: float = 900,
        clock: Callable[[], float] = time.time,
        enterprise_id: str = "",
        failure_backoff_seconds: float = 60.0,
    ) -> None:
        self._rows = CachedSchemas(store)
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._clock = clock
        self._enterprise_id = enterprise_id
        self._backoff = failure_backoff_seconds
        self._lock = threading.Lock()  # guards the fields below; never held during I/O to TeleCRM
        self._fetch_lock = threading.Lock()  # single flight: one fetch at a time, foreground or not
        self._schema: WorkspaceSchema | None = None
        self._loaded = False
        self._refreshing = False
        self._idle = threading.Event()
        self._idle.set()
        self._last_error: str | None = None
        self._no_retry_before = 0.0
        # failed fetches so far and the last one's error: callers that waited for a fetch share its failure
        self._failures = 0
        self._last_exception: BaseException | None = None

    # --- reading ----------------------------------------------------------------------------------

    def get(self) -> WorkspaceSchema:
        """The schema, fetching synchronously only when nothing is cached at all."""
        schema = self.cached()
        if schema is None:
            return self._first_fetch()
        if not self._is_fresh(schema):
            self._refresh_in_background()
        return schema

    def cached(self) -> WorkspaceSchema | None:
        """Whatever is cached (possibly stale), without any network call; SQLite is read only once."""
        with self._lock:
            if self._loaded:
                return self._schema
        stored = self._load_stored()
        with self._lock:
            if not self._loaded:
                self._schema, self._loaded = stored, True
            return self._schema

    def refresh(self) -> WorkspaceSchema:
        """Fetch now and wait for it; errors are raised to the caller (the cached copy stays)."""
        with self._fetch_lock:
            try:
                return self._fetch_and_store()
            except Exception as exc:
                self._record_failure(exc)
                raise

    def status(self) -> CacheStatus:
        schema = self.cached()
        with self._lock:
            refreshing, last_error = self._refreshing, self._last_error
        if schema is None:
            return CacheStatus(None, None, False, 0, 0, 0, refreshing, last_error)
        return CacheStatus(
            fetched_at=schema.fetched_at,
            age_seconds=self._age(schema),
            fresh=self._is_fresh(schema),
            field_count=len(schema.fields),
            custom_action_count=len(schema.custom_actions),
            team_member_count=len(schema.team_members),
            refreshing=refreshing,
            last_error=last_error,
        )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no background refresh is running; False if ``timeout`` passed first."""
        return self._idle.wait(timeout)

    # --- internals --------------------------------------------------------------------------------

    def _age(self, schema: WorkspaceSchema) -> float:
        return max(0.0, self._clock() - schema.fetched_at)

    def _is_fresh(self, schema: WorkspaceSchema) -> bool:
        return self._age(schema) < self._ttl

    def _load_stored(self) -> WorkspaceSchema | None:
        try:
            return self._rows.load(self._enterprise_id)
        except _UNREADABLE as exc:
            logger.error("The cached workspace schema could not be read; it will be fetched again: %s", exc)
            return None

    def _first_fetch(self) -> WorkspaceSchema:
        with self._lock:
            failures_before = self._failures
        with self._fetch_lock:
            with self._lock:
                if self._schema is not None:  # another thread fetched it while we waited
                    return self._schema
                shared = self._last_exception if self._failures != failures_before else None
            if shared is not None:  # the fetch we waited for failed: its answer is ours too
                raise self._unavailable(shared) from shared
            stored = self._load_stored()  # or another process did
            if stored is not None:
                with self._lock:
                    self._schema, self._loaded = stored, True
                return stored
            try:
                return self._fetch_and_store()
            except Exception as exc:
                self._record_failure(exc)
                raise self._unavailable(exc) from exc

    @staticmethod
    def _unavailable(exc: BaseException) -> SchemaUnavailable:
        return SchemaUnavailable(
            "The TeleCRM workspace schema is not cached yet and TeleCRM could not be reached to "
            f"fetch it ({mask(exc)}). Forms and validation need it once: check TELECRM_API_URL, "
            "the Sync token and the network, then try again."
        )

    def _fetch_and_store(self) -> WorkspaceSchema:
        """Caller holds ``_fetch_lock``."""
        schema = self._fetch().with_fetched_at(self._clock())
        try:
            self._rows.save(self._enterprise_id, schema)
        except STORE_ERRORS:
            logger.exception("The workspace schema was fetched but could not be saved to SQLite")
        with self._lock:
            self._schema, self._loaded = schema, True
            self._last_error = None
            self._no_retry_before = 0.0
        logger.info(
            "Workspace schema refreshed: %d fields, %d custom actions, %d team members",
            len(schema.fields),
            len(schema.custom_actions),
            len(schema.team_members),
        )
        return schema

    def _record_failure(self, exc: BaseException) -> None:
        with self._lock:
            self._failures += 1
            self._last_exception = exc
            self._last_error = mask(f"{type(exc).__name__}: {exc}")
            self._no_retry_before = self._clock() + self._backoff

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing or self._clock() < self._no_retry_before:
                return
            self._refreshing = True
            self._idle.clear()
        try:
            threading.Thread(
                target=self._background_refresh, name="schema-cache-refresh", daemon=True
            ).start()
        except RuntimeError:  # interpreter shutting down
            self._finish_background()

    def _background_refresh(self) -> None:
        try:
            with self._fetch_lock:
                current = self.cached()
                stored = self._load_stored()  # `telecrm-bot cache refresh` may have run in another process
                if (
                    stored is not None
                    and self._is_fresh(stored)
                    and (current is None or stored.fetched_at > current.fetched_at)
                ):
                    with self._lock:
                        self._schema = stored
                    return
                self._fetch_and_store()
        except Exception as exc:
            self._record_failure(exc)
            logger.warning(
                "Refreshing the workspace schema failed; the cached copy keeps serving: %s", mask(exc)
            )
        finally:
            self._finish_background()

    def _finish_background(self) -> None:
        with self._lock:
            self._refreshing = False
            self._idle.set()
