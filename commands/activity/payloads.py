"""What an ``activity.create`` outbox row holds (:class:`kit.worker.JobPayload`).

``to_json`` is the row's stored JSON; ``from_json`` also reads every shape an earlier release stored,
so writes queued before a deploy still run after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class LogActivity:
    """One custom action to create on a lead (``action`` as the Sync API takes it:
    ``{"type": "1001", "fields": {…}}``), submitted by ``user`` from a form opened in ``channel``."""

    KIND: ClassVar[str] = "activity.create"

    lead_id: str
    action: Mapping[str, Any]
    user: str | None
    channel: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "action": dict(self.action),
            "user": self.user,
            "channel": self.channel,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            lead_id=data["lead_id"],
            action=dict(data["action"]),
            user=data.get("user"),
            channel=data.get("channel"),
        )
