"""The emulated workspace: channels, messages and threads, ephemerals, modal stacks, triggers.

Everything lives behind one re-entrant lock whose condition is notified on every change, so tests
(and a browser UI) can wait for "the bot posted X" without polling. Readers get deep copies.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import directory
from .blockkit import iter_elements
from .files import Files

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60


@dataclass
class ViewRecord:
    """A modal or Home tab as Slack stores it, plus the user's not-yet-submitted input."""

    view: dict[str, Any]
    user: str
    inputs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    suggestions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Trigger:
    issued_at: float
    user: str
    used: bool = False
    view_id: str | None = None


@dataclass
class ResponseUrl:
    """Where a response_url posts to: a channel, and the message that was interacted with if any."""

    channel: str
    user: str
    created_at: float
    message_ts: str | None = None
    is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


def fill_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy of blocks with the block_id / action_id / `emoji` Slack fills in when storing a surface."""
    filled = copy.deepcopy(blocks)
    for block in filled:
        block.setdefault("block_id", directory.random_block_id())
    for _block, element in iter_elements(filled):
        if element.get("type") not in ("image",):
            element.setdefault("action_id", directory.random_block_id())
    _add_emoji(filled)
    return filled


def _add_emoji(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "plain_text" and "text" in node:
            node.setdefault("emoji", True)
        for value in node.values():
            _add_emoji(value)
    elif isinstance(node, list):
        for item in node:
            _add_emoji(item)


class Workspace:
    """State of the emulated team. All methods are thread-safe; callers may hold `cond` around several."""

    def __init__(
        self,
        *,
        team_id: str,
        users: list[dict[str, Any]] | None,
        channels: list[dict[str, Any]] | None,
        clock: Callable[[], float],
    ) -> None:
        self.team_id = team_id
        self.clock = clock
        self.cond = threading.Condition(threading.RLock())
        created = int(clock())
        self.users: dict[str, dict[str, Any]] = {
            u["id"]: directory.complete_user(u, team_id) for u in (users or directory.DEFAULT_USERS)
        }
        self.users[directory.BOT_USER_ID] = directory.bot_user(team_id)
        self.channels: dict[str, dict[str, Any]] = {
            c["id"]: directory.complete_channel(c, created) for c in (channels or directory.DEFAULT_CHANNELS)
        }
        self.usergroups: dict[str, dict[str, Any]] = {
            g["id"]: copy.deepcopy(g)
            for g in directory.DEFAULT_USERGROUPS
            if set(g["users"]) <= set(self.users)
        }
        self.messages: dict[str, list[dict[str, Any]]] = {cid: [] for cid in self.channels}
        self.replies_by_thread: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.views: dict[str, ViewRecord] = {}
        self.stacks: dict[str, list[str]] = {}
        self.homes: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files = Files(team_id, clock, lambda: None)  # the Web API sets where its URLs point
        self.files.bot_in = lambda cid: bool(self.channels.get(cid, {}).get("is_member", False))
        self.calls: list[dict[str, Any]] = []
        # link_shared events sent: (channel, message ts) -> the URLs Slack told the app about, and
        # unfurl_id -> (channel, message ts); chat.unfurl may unfurl only those URLs of that message
        self.link_shares: dict[tuple[str, str], set[str]] = {}
        self.unfurl_ids: dict[str, tuple[str, str]] = {}
        self.deliveries: list[Any] = []
        self._last_ts = 0.0
        self._trigger_seq = 0
        self.version = 0

    def changed(self) -> None:
        """Wake every `wait_for`; `version` counts changes so a browser can ask "anything since N?"."""
        with self.cond:
            self.version += 1
            self.cond.notify_all()

    # --- identifiers ---------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message ts: the clock in seconds with six decimals, strictly increasing like Slack's."""
        with self.cond:
            now = max(float(self.clock()), self._last_ts + 0.000001)
            self._last_ts = now
            return f"{now:.6f}"

    def new_trigger(self, user: str) -> str:
        with self.cond:
            self._trigger_seq += 1
            tid = f"{int(self.clock() * 1000) % 10**13}.{self._trigger_seq}.{secrets.token_hex(16)}"
            self.triggers[tid] = Trigger(issued_at=self.clock(), user=user)
            return tid

    def new_response_url(self, info: ResponseUrl) -> str:
        with self.cond:
            rid = secrets.token_urlsafe(18)
            self.response_urls[rid] = info
            return rid

    def new_view_hash(self) -> str:
        return f"{int(self.clock())}.{secrets.token_hex(4)}"

    def direct_message_channel(self, user: str) -> dict[str, Any]:
        """The app's DM with a user, opened on first use (posting to a user id lands there, as in Slack)."""
        with self.cond:
            cid = "D" + user[1:]
            if cid not in self.channels:
                self.channels[cid] = {
                    "id": cid,
                    "name": user,
                    "created": int(self.clock()),
                    "is_im": True,
                    "is_channel": False,
                    "is_group": False,
                    "is_private": True,
                    "is_member": True,
                    "user": user,
                    "is_user_deleted": False,
                }
                self.messages[cid] = []
                self.changed()
            return self.channels[cid]

    # --- messages ------------------------------------------------------------------------------

    def find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message (top-level or reply) with that ts; the live object, not a copy."""
        for msg in self.messages.get(channel, []):
            if msg["ts"] == ts:
                return msg
        for (ch, _thread), replies in self.replies_by_thread.items():
            if ch == channel:
                for msg in replies:
                    if msg["ts"] == ts:
                        return msg
        return None

    def find_ephemeral(self, ts: str) -> dict[str, Any] | None:
        for msg in self.ephemeral:
            if msg["ts"] == ts:
                return msg
        return None

    def add_message(
        self, channel: str, message: dict[str, Any], *, broadcast: bool = False
    ) -> dict[str, Any]:
        """Store a message, threading it under its parent when it has a thread_ts."""
        with self.cond:
            thread_ts = message.get("thread_ts")
            if thread_ts:
                parent = self.find_message(channel, thread_ts)
                assert parent is not None
                thread_ts = parent.get("thread_ts") or parent["ts"]
                parent = self.find_message(channel, thread_ts)
                assert parent is not None
                message["thread_ts"] = thread_ts
                message["parent_user_id"] = parent.get("user")
                self.replies_by_thread.setdefault((channel, thread_ts), []).append(message)
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if message.get("user") and message["user"] not in users:
                    users.append(message["user"])
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = message["ts"]
                if broadcast:
                    shown = copy.deepcopy(message)
                    shown["subtype"] = "thread_broadcast"
                    shown["root"] = copy.deepcopy({k: v for k, v in parent.items() if k != "replies"})
                    self.messages[channel].append(shown)
            else:
                self.messages[channel].append(message)
            self.changed()
            return message

    def delete_message(self, channel: str, ts: str) -> bool:
        with self.cond:
            top = self.messages.get(channel, [])
            for i, msg in enumerate(top):
                if msg["ts"] == ts:
                    del top[i]
                    self.replies_by_thread.pop((channel, ts), None)
                    self.changed()
                    return True
            for (ch, thread), replies in self.replies_by_thread.items():
                if ch != channel:
                    continue
                for i, msg in enumerate(replies):
                    if msg["ts"] == ts:
                        del replies[i]
                        parent = self.find_message(channel, thread)
                        if parent is not None:
                            parent["reply_count"] = max(0, parent.get("reply_count", 1) - 1)
                        self.changed()
                        return True
            return False

    # --- views ---------------------------------------------------------------------------------

    def make_view(
        self,
        spec: dict[str, Any],
        *,
        user: str,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> ViewRecord:
        """Store a validated view in Slack's shape (ids, hash, state) and return its record."""
        with self.cond:
            vid = view_id or directory.random_id("V")
            view = {
                "id": vid,
                "team_id": self.team_id,
                "type": spec["type"],
                "blocks": fill_ids(spec.get("blocks") or []),
                "private_metadata": spec.get("private_metadata", ""),
                "callback_id": spec.get("callback_id", ""),
                "state": {"values": {}},
                "hash": self.new_view_hash(),
                "title": copy.deepcopy(spec.get("title")),
                "clear_on_close": bool(spec.get("clear_on_close", False)),
                "notify_on_close": bool(spec.get("notify_on_close", False)),
                "close": copy.deepcopy(spec.get("close")),
                "submit": copy.deepcopy(spec.get("submit")),
                "previous_view_id": previous_view_id,
                "root_view_id": root_view_id or vid,
                "app_id": directory.APP_ID,
                "external_id": spec.get("external_id", ""),
                "app_installed_team_id": self.team_id,
                "bot_id": directory.BOT_ID,
            }
            if spec["type"] == "home":
                for key in ("title", "close", "submit", "clear_on_close", "notify_on_close"):
                    view.pop(key, None)
            _add_emoji([view.get("title"), view.get("close"), view.get("submit")])
            if spec.get("submit_disabled") is not None:
                view["submit_disabled"] = bool(spec["submit_disabled"])
            record = ViewRecord(view=view, user=user)
            self.views[vid] = record
            self.changed()
            return record

    def replace_view(self, record: ViewRecord, spec: dict[str, Any]) -> ViewRecord:
        """views.update / response_action=update: same id and place in the stack, new content and hash.

        Input values survive only where block_id and action_id are unchanged, as in Slack.
        """
        with self.cond:
            old = record.view
            fresh = self.make_view(
                spec,
                user=record.user,
                view_id=old["id"],
                root_view_id=old["root_view_id"],
                previous_view_id=old["previous_view_id"],
            )
            keep = {(b["block_id"], e.get("action_id")) for b, e in iter_elements(fresh.view["blocks"])}
            fresh.inputs = {k: v for k, v in record.inputs.items() if k in keep}
            return fresh

    def find_view_by_external_id(self, external_id: str) -> ViewRecord | None:
        for record in self.views.values():
            if external_id and record.view.get("external_id") == external_id:
                return record
        return None

    def close_stack(self, user: str, *, count: int | None = None) -> list[str]:
        """Pop `count` views (all when None) off a user's modal stack; returns the closed ids."""
        with self.cond:
            stack = self.stacks.get(user, [])
            n = len(stack) if count is None else min(count, len(stack))
            closed = [stack.pop() for _ in range(n)]
            self.changed()
            return closed
