"""Outbox payloads one feature queues for another: the event is named here, in the kit both stand
on, so features never import each other (docs/ARCHITECTURE.md). The feature that acts on an event
registers its handler like any job kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class PaymentMadeWithLead:
    """A payment TeleCRM stored in the same call that created a lead (the New lead form's advance
    payment): the payments feature keeps it and shows it in the lead's thread with its buttons.
    ``action_id`` is ``None`` when the create's answer was lost; the payment is then found on the lead."""

    KIND: ClassVar[str] = "payment.made_with_lead"

    lead_id: str
    action_id: str | None
    amount: str
    currency: str
    status: str
    user: str | None
    channel: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "action_id": self.action_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "user": self.user,
            "channel": self.channel,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            lead_id=data["lead_id"],
            action_id=data.get("action_id"),
            amount=data["amount"],
            currency=data["currency"],
            status=data["status"],
            user=data.get("user"),
            channel=data.get("channel"),
        )


@dataclass(frozen=True)
class PaymentFoundInTeleCRM:
    """A payment someone recorded in TeleCRM itself on a lead with a thread, found by the lead
    watcher: the payments feature keeps it and shows it in the thread with its status buttons, like
    a payment recorded with ``/payment``. ``by`` is who recorded it, as TeleCRM names them (or "")."""

    KIND: ClassVar[str] = "payment.found_in_telecrm"

    lead_id: str
    action_id: str
    amount: str
    currency: str
    status: str
    by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "action_id": self.action_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "by": self.by,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            lead_id=data["lead_id"],
            action_id=data["action_id"],
            amount=data["amount"],
            currency=data["currency"],
            status=data["status"],
            by=str(data.get("by") or ""),
        )
