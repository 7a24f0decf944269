"""What a ``payment.*`` outbox row holds (:class:`kit.worker.JobPayload`), one class per job kind.

``to_json`` is the row's stored JSON (the status keys are ``"from"`` and ``"to"``); ``from_json``
also reads every shape an earlier release stored, so writes queued before a deploy still run after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from commands.payment.modal import Origin, PaymentRequest


@dataclass(frozen=True)
class RecordPayment:
    """A checked payment to create in TeleCRM and show in the lead's thread: who asked, where, and
    the lead card the form was opened on (``origin_lead_id``, ``thread_channel``, ``thread_ts``)."""

    KIND: ClassVar[str] = "payment.record"

    user: str | None
    channel: str | None
    reply_ts: str | None
    lead_ref: str
    lead_id: str | None
    amount: str
    currency: str
    status: str
    origin_lead_id: str | None = None
    thread_channel: str | None = None
    thread_ts: str | None = None

    @classmethod
    def asked(cls, request: PaymentRequest, origin: Origin, user: str) -> RecordPayment:
        """The checked request, who asked and where."""
        return cls(
            user=user,
            channel=origin.channel,
            reply_ts=origin.thread_ts,
            lead_ref=request.lead_ref,
            lead_id=request.lead_id,
            amount=request.amount,
            currency=request.currency,
            status=request.status,
            origin_lead_id=origin.lead_id,
            thread_channel=origin.thread_channel,
            thread_ts=origin.thread_ts,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "channel": self.channel,
            "reply_ts": self.reply_ts,
            "lead_ref": self.lead_ref,
            "lead_id": self.lead_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "origin_lead_id": self.origin_lead_id,
            "thread_channel": self.thread_channel,
            "thread_ts": self.thread_ts,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            user=data.get("user"),
            channel=data.get("channel"),
            reply_ts=data.get("reply_ts"),
            lead_ref=str(data.get("lead_ref") or ""),
            lead_id=data.get("lead_id"),
            amount=data["amount"],
            currency=data["currency"],
            status=data["status"],
            origin_lead_id=data.get("origin_lead_id"),
            thread_channel=data.get("thread_channel"),
            thread_ts=data.get("thread_ts"),
        )


@dataclass(frozen=True)
class ChangePaymentStatus:
    """A status button clicked: move the payment from ``from_status`` to ``to_status`` in TeleCRM."""

    KIND: ClassVar[str] = "payment.status"

    action_id: str
    lead_id: str
    from_status: str
    to_status: str
    user: str | None
    channel: str | None
    reply_ts: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "lead_id": self.lead_id,
            "from": self.from_status,
            "to": self.to_status,
            "user": self.user,
            "channel": self.channel,
            "reply_ts": self.reply_ts,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            action_id=data["action_id"],
            lead_id=data["lead_id"],
            from_status=data["from"],
            to_status=data["to"],
            user=data.get("user"),
            channel=data.get("channel"),
            reply_ts=data.get("reply_ts"),
        )


@dataclass(frozen=True)
class PaymentChangedInTeleCRM:
    """The watcher saw a payment's status change in TeleCRM (the bot's record is moved already):
    show it on the payment message and in its thread."""

    KIND: ClassVar[str] = "payment.changed_in_telecrm"

    action_id: str
    from_status: str
    to_status: str

    def to_json(self) -> dict[str, Any]:
        return {"action_id": self.action_id, "from": self.from_status, "to": self.to_status}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(action_id=data["action_id"], from_status=data["from"], to_status=data["to"])
