"""What every listener needs, in one object: settings, TeleCRM, the store, the cache, the worker, Slack.

Listeners receive a :class:`Services` when they are registered; nothing is global.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from kit.config import Settings
from kit.lead_index import LeadMirror
from kit.slack_errors import is_transient_slack_failure
from kit.team_telecrm import TeamTelecrms
from kit.view_context import ViewSeal
from kit.worker import TrackingExecutor, Worker
from storage.cache import SchemaCache, SchemaUnavailable
from storage.db import mark_urgent_writer
from storage.deliveries import Deliveries
from storage.dialect import BotStore
from storage.follow_ups import FollowUps
from storage.imports import Imports
from storage.lead_index import LeadIndex
from storage.lead_watch import LeadWatches
from storage.repositories import LeadThreads, Payments, UserLinks
from storage.stores import lead_index_for
from storage.tenancy import team_key
from telecrm.budget import RequestBudget
from telecrm.client import TeleCRMClient
from telecrm.errors import TeleCRMError
from telecrm.schema import TeamMember, WorkspaceSchema

log = logging.getLogger(__name__)

NOT_IN_SLACK_SECONDS = 3600.0  # a TeleCRM member Slack did not know by email is asked about again after this


@dataclass
class Services:
    settings: Settings
    store: BotStore
    cache: SchemaCache
    telecrm: TeleCRMClient
    worker: Worker
    slack: WebClient
    deliveries: Deliveries
    clock: Callable[[], float] = time.time
    # OAuth mode: each Slack workspace's own TeleCRM (`telecrm` and `cache` are the current one's);
    # None in single-workspace mode, where `telecrm` and `cache` are the environment's
    team_telecrms: TeamTelecrms | None = None
    # run a background task every N seconds while the bot is up: schedule(name, seconds, fn)
    schedule: Callable[[str, float, Callable[[], Any]], None] = field(default=lambda name, seconds, fn: None)
    # where Bolt runs listeners: they only acknowledge, validate and queue; TeleCRM work is on `worker`
    listeners: TrackingExecutor = field(
        default_factory=lambda: TrackingExecutor(
            max_workers=32, thread_name_prefix="listener", initializer=mark_urgent_writer
        )
    )
    # keyed by (Slack workspace, …): in OAuth mode each workspace has its own TeleCRM team and Slack
    _members: dict[tuple[str, str], tuple[float, TeamMember | None, str | None]] = field(
        default_factory=dict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _not_in_slack: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)  # → when asked

    @cached_property
    def threads(self) -> LeadThreads:
        return LeadThreads(self.store, clock=self.clock)

    @cached_property
    def payments(self) -> Payments:
        return Payments(self.store, clock=self.clock)

    @cached_property
    def user_links(self) -> UserLinks:
        return UserLinks(self.store, clock=self.clock)

    @cached_property
    def lead_index(self) -> LeadIndex:
        """The bot's index of leads for ``/lead find`` (storage/lead_index.py)."""
        return lead_index_for(self.store, clock=self.clock)

    @cached_property
    def watch_budget(self) -> RequestBudget:
        """TeleCRM requests a minute for everything reading in the background, one budget per bot
        (``TELECRM_WATCH_BUDGET_PER_MINUTE``)."""
        return RequestBudget(self.settings.telecrm_watch_budget_per_minute, clock=self.clock)

    @cached_property
    def lead_mirror(self) -> LeadMirror:
        """Reads the leads created in the last ``LEAD_INDEX_DAYS`` days into :attr:`lead_index`."""
        return LeadMirror(
            self.telecrm,
            self.lead_index,
            self.watch_budget,
            self.cache.cached,
            days=self.settings.lead_index_days,
            clock=self.clock,
        )

    @cached_property
    def follow_ups(self) -> FollowUps:
        return FollowUps(self.store, clock=self.clock)

    @cached_property
    def imports(self) -> Imports:
        """Bulk imports of leads from a file (``storage/imports.py``)."""
        return Imports(self.store, clock=self.clock)

    @cached_property
    def watches(self) -> LeadWatches:
        """What the bot last saw of each lead with a thread (``storage/lead_watch.py``)."""
        return LeadWatches(self.store, clock=self.clock)

    @cached_property
    def view_seal(self) -> ViewSeal:
        """Signs what modals carry in private_metadata (see :mod:`kit.view_context`)."""
        return ViewSeal.from_settings(self.settings)

    # -- schema ------------------------------------------------------------------------------------
    def schema(self) -> WorkspaceSchema:
        """The cached workspace schema (stale copies are served while a refresh runs).

        With nothing cached it is fetched, and waited for: call this off the listener threads. When
        TeleCRM cannot provide it, TeleCRM's own error is raised (a :class:`TeleCRMError`), so the
        caller's ``except TeleCRMError`` and the worker's retry rules treat it like any other call.
        """
        try:
            return self.cache.get()
        except SchemaUnavailable as exc:
            cause = exc.__cause__
            if not isinstance(cause, TeleCRMError):
                raise
        # a copy: the same failure may be shared by several waiting threads (storage/cache.py), and
        # raised outside the except block it carries no "during handling" chain
        raise copy.copy(cause)

    # -- people -------------------------------------------------------------------------------------
    def slack_user(self, user_id: str) -> dict[str, Any]:
        """``users.info`` of a Slack user; {} when Slack does not answer (never raises)."""
        try:
            return self.slack.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info failed for a user: %s", exc.response.get("error"))
        except Exception:
            log.exception("users.info failed")
        return {}

    def member_for(self, user_id: str) -> tuple[TeamMember | None, str | None]:
        """The TeleCRM team member whose email is this Slack user's email, and that email.

        Cached for ten minutes per user, so forms can default "assignee" to the person typing. The
        match is also kept in SQLite (``user_links``), so it survives a restart and a moment when
        Slack's ``users.info`` does not answer.
        """
        now = self.clock()
        with self._lock:
            hit = self._members.get((team_key(), user_id))
        if hit and now - hit[0] < 600:
            return hit[1], hit[2]
        profile = self.slack_user(user_id).get("profile") or {}
        email = (profile.get("email") or "").strip() or None
        if email is None:
            stored = self.user_links.get(user_id)
            email = stored.email if stored is not None else None
        member = None
        if email:
            try:
                member = self.schema().member_by_email(email)
            except Exception:  # no team to look in yet (TeleCRM not connected, not answering):
                return None, email  # "not a member" is not known, so neither kept nor cached
            try:
                self.user_links.link(user_id, email=email, member_email=member.email if member else None)
            except Exception:
                log.exception("could not remember the Slack user's TeleCRM account")
        with self._lock:
            self._members[(team_key(), user_id)] = (now, member, email)
        return member, email

    def slack_user_for_member(self, email: str, *, ask_slack: bool = False) -> str | None:
        """The Slack user who is the TeleCRM team member with this email, or ``None``.

        Linked before (``user_links``: matched by email when they used the bot, :meth:`member_for`);
        else, with ``ask_slack`` (off the listener threads: it is a Slack call), looked for in Slack by
        email (``users.lookupByEmail``) and remembered. A member Slack does not know is not asked
        about again for :data:`NOT_IN_SLACK_SECONDS`. Never raises.
        """
        key = email.strip()
        if not key:
            return None
        links = self.user_links.by_member_email(key)
        if links:
            return links[0].slack_user_id
        if not ask_slack:
            return None
        with self._lock:
            asked_at = self._not_in_slack.get((team_key(), key.lower()))
        if asked_at is not None and self.clock() - asked_at < NOT_IN_SLACK_SECONDS:
            return None
        found = self._slack_user_by_email(key)
        if found is None:
            with self._lock:
                self._not_in_slack[(team_key(), key.lower())] = self.clock()
            return None
        try:
            self.user_links.link(found, email=key, member_email=key)
        except Exception:
            log.exception("could not remember the Slack user's TeleCRM account")
        return found

    def _slack_user_by_email(self, email: str) -> str | None:
        try:
            user = self.slack.users_lookupByEmail(email=email).get("user") or {}
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", exc.response.get("error"))
            return None
        except Exception:
            log.exception("users.lookupByEmail failed")
            return None
        uid = user.get("id")
        return None if not uid or user.get("deleted") or user.get("is_bot") else str(uid)

    def user_tz(self, user_id: str) -> str:
        return self.slack_user(user_id).get("tz") or "Asia/Kolkata"

    # -- telling people things ----------------------------------------------------------------------
    def tell(
        self,
        channel: str | None,
        user: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
    ) -> None:
        """A message only ``user`` sees, in ``channel`` or else in a DM; for jobs that owe an answer.

        A Slack failure that may pass (rate limit, 5xx, network) is raised, so the job that owes the
        answer is retried; one that will not pass (the user is gone) is logged.
        """
        if channel:
            try:
                self.slack.chat_postEphemeral(
                    channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts
                )
                return
            except SlackApiError as exc:
                if is_transient_slack_failure(exc):
                    raise
                log.warning("chat.postEphemeral failed (%s); sending a DM instead", exc.response.get("error"))
        try:
            self.slack.chat_postMessage(channel=user, text=text, blocks=blocks)
        except SlackApiError as exc:
            if is_transient_slack_failure(exc):
                raise
            log.error("could not reach the user at all: %s", exc.response.get("error"))

    def ephemeral(
        self,
        channel: str | None,
        user: str,
        text: str,
        blocks: list | None = None,
        thread_ts: str | None = None,
    ) -> None:
        """Like :meth:`tell`, for listeners: a failure is logged, never raised."""
        try:
            self.tell(channel, user, text, blocks, thread_ts)
        except Exception:
            log.exception("could not reach the user at all")

    def tell_user_about_error(self, user: str | None, channel: str | None) -> None:
        """Last resort of the global error handler: the user always hears something."""
        if not user:
            return
        self.ephemeral(
            channel,
            user,
            ":warning: Sorry — something went wrong while handling that. Nothing was sent to TeleCRM "
            "twice; please try again, and tell your admin if it keeps happening.",
        )
