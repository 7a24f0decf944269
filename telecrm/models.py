"""What the TeleCRM client hands back: a lead, a page of rows, and the outcome of a write.

Small immutable objects, read out of TeleCRM's answers by :mod:`telecrm.readers`; the rest of the
bot sees these, never the raw JSON of a lead or a write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ActionOutcome:
    """One entry of a write's ``actions`` array, in request order; ``IGNORED`` means not stored."""

    action_id: str | None
    status: str

    @property
    def created(self) -> bool:
        return self.action_id is not None and self.status.upper() != "IGNORED"


@dataclass(frozen=True)
class Remark:
    """A part of a write that TeleCRM dropped, e.g. ``fields.rating``: "Rating must be between 1 and 5"."""

    field: str
    status: str
    remark: str


@dataclass(frozen=True)
class WriteResult:
    """The answer to a create: ids of what was stored and remarks for what was not."""

    lead_id: str | None
    actions: list[ActionOutcome] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)

    @property
    def ignored_actions(self) -> list[int]:
        """Indexes (request order) of actions TeleCRM did not store."""
        return [i for i, a in enumerate(self.actions) if not a.created]


@dataclass(frozen=True)
class Lead:
    id: str | None
    fields: dict[str, Any]
    actions: list[dict[str, Any]] = field(default_factory=list)
    actions_skip: int | None = None
    actions_limit: int | None = None

    @property
    def status(self) -> str | None:
        value = self.fields.get("status")
        return None if value is None else str(value)

    @property
    def name(self) -> str | None:
        value = self.fields.get("name")
        return None if value is None else str(value)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total_count: int
    skip: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.skip + len(self.items) < self.total_count
