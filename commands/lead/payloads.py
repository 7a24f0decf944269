"""What a ``lead.create`` or ``lead.update`` outbox row holds (:class:`kit.worker.JobPayload`).

``to_json`` is the row's stored JSON; ``from_json`` also reads every shape an earlier release stored,
so writes queued before a deploy still run after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class CreateLead:
    """A new lead: typed (``/lead name=…``, ``source="command"``) or from the New lead modal
    (``source="modal"``), with the activity chosen in the modal as create-call ``actions``."""

    KIND: ClassVar[str] = "lead.create"

    fields: Mapping[str, Any]
    user: str | None
    channel: str | None
    source: str
    actions: tuple[Mapping[str, Any], ...] = ()
    # a typed lead with no assignee given is assigned to the rep who typed it
    default_assignee: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "user": self.user,
            "channel": self.channel,
            "source": self.source,
            "actions": [dict(a) for a in self.actions],
            "default_assignee": self.default_assignee,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        # rows stored by the modal before this class existed have no "default_assignee"
        return cls(
            fields=dict(data.get("fields") or {}),
            user=data.get("user"),
            channel=data.get("channel"),
            source=str(data.get("source") or ""),
            actions=tuple(dict(a) for a in data.get("actions") or ()),
            default_assignee=bool(data.get("default_assignee")),
        )


@dataclass(frozen=True)
class UpdateLead:
    """Changed fields of one lead, named by id (*Edit* on a card, the duplicate offer) or by what was
    typed after ``/lead update`` (``target``)."""

    KIND: ClassVar[str] = "lead.update"

    fields: Mapping[str, Any]
    user: str | None
    channel: str | None
    source: str  # "command" | "edit" | "duplicate"
    lead_id: str | None = None
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "user": self.user,
            "channel": self.channel,
            "source": self.source,
            "lead_id": self.lead_id,
            "target": self.target,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        # rows stored before this class existed have either "lead_id" or "target", not both
        return cls(
            fields=dict(data.get("fields") or {}),
            user=data.get("user"),
            channel=data.get("channel"),
            source=str(data.get("source") or ""),
            lead_id=data.get("lead_id"),
            target=data.get("target"),
        )


@dataclass(frozen=True)
class LeadChangedInTeleCRM:
    """What the lead watcher (``commands/lead/watch.py``) found changed in TeleCRM, already recorded
    as seen: to be said in the lead's thread, told to a new assignee, and shown on the card.

    Texts are as people read them and not yet escaped (``changes`` rows are label, old, new, and who
    made that change when TeleCRM says); ``fields`` is the lead as read, for its card.
    """

    KIND: ClassVar[str] = "lead.changed_in_telecrm"

    lead_id: str
    changes: tuple[tuple[str, str, str, str], ...] = ()
    by: str = ""
    activities: tuple[str, ...] = ()
    gone: bool = False
    assigned_to: str = ""
    fields: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "changes": [list(c) for c in self.changes],
            "by": self.by,
            "activities": list(self.activities),
            "gone": self.gone,
            "assigned_to": self.assigned_to,
            "fields": dict(self.fields) if self.fields is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        changes = []
        for row in data.get("changes") or ():
            label, old, new, *rest = [str(part) for part in row] + ["", "", "", ""]
            changes.append((label, old, new, rest[0]))
        fields = data.get("fields")
        return cls(
            lead_id=str(data["lead_id"]),
            changes=tuple(changes),
            by=str(data.get("by") or ""),
            activities=tuple(str(a) for a in data.get("activities") or ()),
            gone=bool(data.get("gone")),
            assigned_to=str(data.get("assigned_to") or ""),
            fields=dict(fields) if isinstance(fields, Mapping) else None,
        )


@dataclass(frozen=True)
class TypedLead:
    """``/lead …`` text that names fields, typed before the workspace's fields were cached: kept as
    typed, read once they are (:mod:`commands.lead.typed_job`), then answered or written."""

    KIND: ClassVar[str] = "lead.typed"

    text: str
    user: str | None
    channel: str | None

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "user": self.user, "channel": self.channel}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(text=str(data.get("text") or ""), user=data.get("user"), channel=data.get("channel"))
