"""What an ``import.preview`` outbox row holds (:class:`kit.worker.JobPayload`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class StartImport:
    """A file to preview, from a submitted *Import leads* form or the message shortcut: an outbox job
    (``import.preview``), so a file accepted from Slack is previewed even if the bot restarts first."""

    KIND: ClassVar[str] = "import.preview"

    file_id: str
    user: str
    channel: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "user": self.user, "channel": self.channel, "source": self.source}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data["file_id"]), str(data["user"]), str(data["channel"]), str(data["source"]))
