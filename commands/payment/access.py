"""Who may record or change payments (``PAYMENT_ALLOWED_USERS``).

Entries are Slack user ids (``U0PRIYA``) or user groups, by handle (``@sales-managers``) or id
(``S0SALESMGR``). Group members are read from Slack (``usergroups.list`` + ``usergroups.users.list``)
and kept for a short while, so a click answers fast and a change in the group shows up soon.

One :class:`PaymentAccess` per bot keeps that cache: ``register`` in ``commands/payment/listeners.py``
makes it and installs :class:`AccessMiddleware`, and the listeners find it with :func:`access_of`,
the way they find the services (``kit/context.py``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

GROUP_TTL_SECONDS = 60.0
_ACCESS = "telecrm_payment_access"
_SUBTEAM = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|@?([^>]+))?>")


def split_allowed(entries: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(user ids, group references) from the configured entries; ``<!subteam^S…>`` counts as a group.

    User ids are kept exactly as written: Slack ids are case-sensitive, and ``u0priya`` in a request is
    not ``U0PRIYA`` (only a forged request would carry it). Group handles are matched as Slack does.
    """
    users: set[str] = set()
    groups: list[str] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        mention = _SUBTEAM.fullmatch(entry)
        if mention:
            groups.append(mention.group(1))
        elif entry.startswith("@"):
            groups.append(entry[1:].lower())
        elif entry.startswith("<@") and entry.endswith(">"):
            users.add(entry[2:-1].split("|")[0])
        elif entry[:1].upper() == "S" and entry.upper() == entry:
            groups.append(entry)
        else:
            users.add(entry)
    return frozenset(users), tuple(dict.fromkeys(groups))


class PaymentAccess:
    """Answers "may this Slack user record or change payments?"."""

    def __init__(
        self,
        allowed: Iterable[str],
        slack: WebClient,
        *,
        ttl: float = GROUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.entries = tuple(e.strip() for e in allowed if e.strip())
        self._users, self._groups = split_allowed(self.entries)
        self._slack = slack
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0

    @property
    def restricted(self) -> bool:
        """Whether ``PAYMENT_ALLOWED_USERS`` is set at all; unset, everyone may."""
        return bool(self.entries)

    def allows(self, user_id: str) -> bool:
        """Whether ``user_id`` may record or change payments; Slack is asked only about group members."""
        if not self.restricted:
            return True
        if user_id in self._users:  # exact: see split_allowed
            return True
        return bool(self._groups) and user_id in self._group_members()

    def _fresh(self) -> frozenset[str] | None:
        """The group members read less than ``ttl`` ago, or None."""
        with self._lock:
            if self._members is not None and self._clock() - self._fetched_at < self._ttl:
                return self._members
        return None

    def _group_members(self) -> frozenset[str]:
        """Everyone in the allowed groups, read again from Slack when the last reading is stale."""
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        with self._fetch_lock:  # several clicks at once read Slack once
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            return self._refresh()

    def _refresh(self) -> frozenset[str]:
        """Read the members now; when Slack fails, what was known before (or nobody) still stands."""
        try:
            members = self._fetch_members()
        except SlackApiError as exc:
            log.warning("could not read Slack user groups: %s", exc.response.get("error"))
            members = None
        except Exception:
            log.exception("could not read Slack user groups")
            members = None
        with self._lock:
            if members is None:  # keep what we knew; with nothing known, nobody gets in through a group
                return self._members or frozenset()
            self._members, self._fetched_at = members, self._clock()
            return members

    def _fetch_members(self) -> frozenset[str]:
        """The members of every allowed group, found by id or by handle."""
        groups = self._slack.usergroups_list().get("usergroups") or []
        by_handle = {str(g.get("handle") or "").lower(): str(g.get("id")) for g in groups}
        ids = {str(g.get("id")) for g in groups}
        members: set[str] = set()
        for ref in self._groups:
            group_id = ref if ref in ids else by_handle.get(ref.lower())
            if not group_id:
                log.warning("PAYMENT_ALLOWED_USERS names a user group Slack does not know: %s", ref)
                continue
            users = self._slack.usergroups_users_list(usergroup=group_id).get("users") or []
            members.update(str(u) for u in users)
        return frozenset(members)


class AccessMiddleware(Middleware):
    """A Bolt global middleware that puts ``access`` into every request's context.

    A :class:`Middleware` subclass, not a function: Bolt prepares some thirty keyword arguments for
    a function middleware on every request, a cost every acknowledgement would pay
    (docs/PERFORMANCE.md).
    """

    def __init__(self, access: PaymentAccess) -> None:
        self._access = access

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002  # Bolt's name for it
    ) -> BoltResponse | None:
        req.context[_ACCESS] = self._access
        return next()


def access_of(context: BoltContext) -> PaymentAccess:
    """The bot's :class:`PaymentAccess`, put in the context by :class:`AccessMiddleware`."""
    access = context.get(_ACCESS)
    if not isinstance(access, PaymentAccess):
        raise RuntimeError("no payment access in the Bolt context: was AccessMiddleware installed?")
    return access
