"""What tests and the browser page read of the emulated workspace: deep copies taken under its lock,
and :meth:`Readers.wait_for`, which blocks until a condition holds without polling.

A mixin of :class:`~slack_emulator.emulator.SlackEmulator`, so ``emulator.messages(channel)`` and
``emulator.wait_for(...)`` read like questions to Slack itself.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any, Self

from . import views
from .delivery import Delivery
from .state import Workspace


class Readers:
    """Copies of the workspace's state; ``ws`` is set by the emulator's constructor."""

    ws: Workspace

    @property
    def calls(self) -> list[dict[str, Any]]:
        with self.ws.cond:
            return copy.deepcopy(self.ws.calls)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == method]

    def failed_calls(self) -> list[dict[str, Any]]:
        """Every Web API / response_url call Slack would have refused."""
        return [c for c in self.calls if not c["ok"]]

    @property
    def deliveries(self) -> list[Delivery]:
        with self.ws.cond:
            return list(self.ws.deliveries)

    def channels(self) -> list[dict[str, Any]]:
        with self.ws.cond:
            return copy.deepcopy(list(self.ws.channels.values()))

    def users(self) -> list[dict[str, Any]]:
        with self.ws.cond:
            return copy.deepcopy(list(self.ws.users.values()))

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel, oldest first (thread parents carry reply_count)."""
        with self.ws.cond:
            return copy.deepcopy(self.ws.messages.get(channel, []))

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies in a thread, oldest first, without the parent."""
        with self.ws.cond:
            return copy.deepcopy(self.ws.replies_by_thread.get((channel, thread_ts), []))

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (only their recipient sees them), oldest first."""
        with self.ws.cond:
            result = []
            for msg in self.ws.ephemeral:
                if user is not None and msg["recipient"] != user:
                    continue
                item = {
                    "ts": msg["ts"],
                    "channel": msg["channel"],
                    "user": msg["recipient"],
                    "text": msg.get("text", ""),
                    "blocks": copy.deepcopy(msg.get("blocks", [])),
                }
                if msg.get("thread_ts"):
                    item["thread_ts"] = msg["thread_ts"]
                result.append(item)
            return result

    def open_views(self, user: str) -> list[dict[str, Any]]:
        """The user's modal stack, root first and top last; each view carries its shown `errors`."""
        with self.ws.cond:
            result = []
            for vid in self.ws.stacks.get(user, []):
                record = self.ws.views[vid]
                view = copy.deepcopy(record.view)
                view["state"] = {"values": views.state_values(record)}
                view["errors"] = dict(record.errors)
                result.append(view)
            return result

    def home_view(self, user: str) -> dict[str, Any] | None:
        with self.ws.cond:
            vid = self.ws.homes.get(user)
            return copy.deepcopy(self.ws.views[vid].view) if vid else None

    def wait_for(
        self, predicate: Callable[[Self], Any], timeout: float = 10.0, description: str | None = None
    ) -> Any:
        """Block until `predicate(emulator)` is truthy, waking on every state change; no polling."""
        deadline = time.monotonic() + timeout
        with self.ws.cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._describe_timeout(predicate, timeout, description))
                self.ws.cond.wait(remaining)

    def _describe_timeout(
        self, predicate: Callable[..., Any], timeout: float, description: str | None
    ) -> str:
        what = description or getattr(predicate, "__qualname__", repr(predicate))
        lines = [f"waited {timeout:.1f}s for {what}; state now:"]
        for cid, msgs in self.ws.messages.items():
            if msgs:
                lines.append(
                    f"  #{self.ws.channels[cid]['name']} ({cid}): {len(msgs)} messages, last: {msgs[-1].get('text', '')[:80]!r}"
                )
        if self.ws.ephemeral:
            lines.append(f"  ephemerals: {[m.get('text', '')[:60] for m in self.ws.ephemeral[-3:]]}")
        for user, stack in self.ws.stacks.items():
            if stack:
                lines.append(
                    f"  {user} has views open: {[self.ws.views[v].view.get('callback_id') for v in stack]}"
                )
        lines.append(
            "  last calls: "
            + ", ".join(f"{c['method']}={'ok' if c['ok'] else c['error']}" for c in self.ws.calls[-8:])
        )
        return "\n".join(lines)

    @property
    def default_user(self) -> str:
        return next(uid for uid, u in self.ws.users.items() if not u.get("is_bot"))

    @property
    def default_channel(self) -> str:
        return next(iter(self.ws.channels))
