"""What a ``pipeline.*`` outbox row holds (:class:`kit.worker.JobPayload`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class PostDigest:
    """The morning digest of ``day`` (ISO date, the team's zone) for ``channel``."""

    KIND: ClassVar[str] = "pipeline.digest"

    day: str
    channel: str

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day, "channel": self.channel}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(day=str(data["day"]), channel=str(data["channel"]))
