"""The payment message in the lead's thread: its blocks, its buttons and how a click on them is read
back, and the notes posted under it when the status changes.

Pure: the outbox jobs (``commands/payment/jobs.py``) post and edit what this draws, and the status
listener (``commands/payment/listeners.py``) reads the clicks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from commands.payment.statuses import STATUS_EMOJI, is_final, next_statuses, status_label
from kit import ids
from kit.format import format_money, mention, mrkdwn_escape, truncate
from kit.packed import Packed
from storage.repositories import Payment
from telecrm.schema import PAYMENT_STATUSES

STATUS_ACTION_PREFIX = ids.ACT_PAYMENT_STATUS + ":"
_BUTTON_STYLE = {"COMPLETED": "primary", "FAILED": "danger"}


def plain_text(text: str, n: int = 75) -> dict[str, Any]:
    """A Block Kit ``plain_text`` object cut to Slack's limit ``n`` for where it goes."""
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def _with_code(money: str, currency: str) -> str:
    """``₹5,000.00 (INR)``: the code spelled out when the amount shows only a symbol."""
    code = currency.upper()
    return money if code in money else f"{money} ({code})"


def _status_button(payment: Payment, status: str) -> dict[str, Any]:
    """A next-status button; its value names the payment and lead, so a click needs no lookup to route."""
    button: dict[str, Any] = {
        "type": "button",
        "text": plain_text(status_label(status)),
        "action_id": STATUS_ACTION_PREFIX + status,
        "value": PaymentButton(payment.action_id, payment.lead_id, status).to_value(),
    }
    if status in _BUTTON_STYLE:
        button["style"] = _BUTTON_STYLE[status]
    return button


def render_payment_message(
    payment: Payment, *, lead_name: str | None = None, last_change: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of the payment message in the lead's thread.

    Shows amount and currency, status, who recorded it and the TeleCRM action id, with one button per
    allowed next status; amount and currency cannot change, so "Amount wrong?" explains what to do.
    """
    status = payment.status.upper()
    money = mrkdwn_escape(format_money(payment.amount, payment.currency))
    emoji = STATUS_EMOJI.get(status, ":moneybag:")
    who = mention(payment.recorded_by) if payment.recorded_by else "someone outside Slack"
    shown_status = mrkdwn_escape(status)
    title = f":moneybag: Payment of *{money}* — {emoji} *{mrkdwn_escape(status_label(status))}*"
    amount = _with_code(money, mrkdwn_escape(payment.currency))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": truncate(title, 3000)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Amount*\n{amount}"},
                {"type": "mrkdwn", "text": f"*Status*\n{shown_status}"},
                {"type": "mrkdwn", "text": f"*Recorded by*\n{who}"},
                {"type": "mrkdwn", "text": f"*Action id*\n`{mrkdwn_escape(payment.action_id)}`"},
            ],
        },
    ]
    context = []
    if lead_name:
        context.append(f"Lead: {mrkdwn_escape(truncate(lead_name, 150))}")
    if last_change:
        context.append(truncate(last_change, 500))
    if is_final(status):
        context.append("This payment is final; a correction is a new payment.")
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    elements = [_status_button(payment, s) for s in next_statuses(status)]
    elements.append(
        {
            "type": "button",
            "text": plain_text("Amount wrong?"),
            "action_id": ids.ACT_PAYMENT_AMOUNT_HELP,
            "value": PaymentButton(payment.action_id, payment.lead_id).to_value(),
        }
    )
    blocks.append({"type": "actions", "block_id": "payment_actions", "elements": elements})
    text = f"Payment of {money} — {shown_status}" + (f" ({mrkdwn_escape(lead_name)})" if lead_name else "")
    return text, blocks


def status_change_text(
    payment: Payment, new_status: str, *, user: str | None = None, old_status: str | None = None
) -> str:
    """The thread notification: "@user marked ₹5,000.00 COMPLETED", or a change made in TeleCRM."""
    money = mrkdwn_escape(format_money(payment.amount, payment.currency))
    emoji = STATUS_EMOJI.get(new_status.upper(), ":moneybag:")
    new = mrkdwn_escape(new_status.upper())
    if user:
        return f"{emoji} {mention(user)} marked {money} {new}"
    was = f" (was {mrkdwn_escape(old_status.upper())})" if old_status else ""
    return f"{emoji} {money} was marked {new} in TeleCRM{was}"


def last_change_note(new_status: str, *, user: str | None = None) -> str:
    """The line under the payment message saying who made the latest change, or that TeleCRM did."""
    if user:
        return f"{mention(user)} marked it {mrkdwn_escape(new_status.upper())}"
    return f"changed to {mrkdwn_escape(new_status.upper())} in TeleCRM"


# --- reading the buttons back ----------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentButton(Packed):
    """What a payment message's buttons carry: which payment (and lead), and for a status button
    the status asked for. The keys are the ones buttons already posted in Slack carry."""

    REQUIRED = ("action_id",)

    action_id: str
    lead_id: str | None = None
    status: str | None = None


def payment_in_value(value: object) -> str | None:
    """The payment action id a button value refers to."""
    button = PaymentButton.from_value(value)
    return button.action_id if button else None


@dataclass(frozen=True)
class StatusClick:
    """A status button as clicked: which payment, and the status asked for."""

    action_id: str
    status: str


def read_status_click(action: Mapping[str, Any]) -> StatusClick | None:
    """A clicked status button, its status known (older buttons name it only in the action id)."""
    button = PaymentButton.from_value(action.get("value"))
    if button is None:
        return None
    status = button.status or ""
    action_id = str(action.get("action_id") or "")
    if not status and action_id.startswith(STATUS_ACTION_PREFIX):
        status = action_id[len(STATUS_ACTION_PREFIX) :]
    status = status.upper()
    if status not in PAYMENT_STATUSES:
        return None
    return StatusClick(button.action_id, status)
