"""What a ``follow_up.remind`` outbox row holds (:class:`kit.worker.JobPayload`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class RemindFollowUp:
    """A lead's follow-up reminder is due: DM its person the card (queued once per reminder version,
    in the transaction that claimed the ``follow_ups`` row)."""

    KIND: ClassVar[str] = "follow_up.remind"

    lead_id: str
    version: int

    def to_json(self) -> dict[str, Any]:
        return {"lead_id": self.lead_id, "version": self.version}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(lead_id=str(data["lead_id"]), version=int(data["version"]))
