"""Every sentence ``/payment`` says to people in answers (usage, problems, refusals, outcomes) and
TeleCRM's remarks put into words.

Pure; the notes posted in a payment's thread live with the message in
``commands/payment/render.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from commands.payment.statuses import can_transition
from kit.format import format_money, mention, mrkdwn_escape, mrkdwn_link, truncate
from kit.grammar import PAYMENT_USAGE
from kit.remarks import remark_line
from storage.repositories import Payment
from telecrm.schema import PAYMENT_CURRENCIES, PAYMENT_STATUSES


def usage_text(default_currency: str, identifier_label: str = "phone") -> str:
    """The answer to ``/payment help``: every way to record a payment."""
    identifier_label = mrkdwn_escape(identifier_label)
    return (
        "*Record a payment for a TeleCRM lead*\n"
        "• `/payment` — open the form\n"
        f"• `/payment <lead id or {identifier_label.lower()}> <amount> [currency] [status]` — record it now, "
        "e.g. `/payment 919999999999 5000 INR PENDING`\n"
        f"Currency: {', '.join(PAYMENT_CURRENCIES)} (default {default_currency}). "
        f"Status: {', '.join(PAYMENT_STATUSES)} (default PENDING).\n"
        "You can also press *Record payment* on a lead card, or use the *Record payment* shortcut on it."
    )


def problems_text(problems: Sequence[str], default_currency: str, identifier_label: str = "phone") -> str:
    """Why a typed ``/payment`` was not sent, with the usage to fix it."""
    lines = "\n".join(f"• {mrkdwn_escape(p)}" for p in problems)  # they quote what was typed
    label = mrkdwn_escape(identifier_label.lower())
    return (
        f":warning: Nothing was sent to TeleCRM:\n{lines}\n\n"
        f"Usage: `/payment <lead id or {label}> <amount> [currency] [status]`, "
        f"e.g. `/payment 919999999999 5000 {default_currency} PENDING`"
    )


def lead_not_found_text(ref: str, identifier_label: str) -> str:
    """The recording job found no lead by that id or identifier value, so nothing was written."""
    return (
        f":mag: No TeleCRM lead has the lead id or {mrkdwn_escape(identifier_label.lower())} "
        f"“{mrkdwn_escape(truncate(ref, 60))}”, "
        "so no payment was recorded. Check it, or create the lead first with `/lead`."
    )


def recorded_text(payment: Payment, lead_name: str, permalink: str | None) -> str:
    """The recorder's confirmation, linking to the payment message when Slack gave a permalink."""
    money = mrkdwn_escape(format_money(payment.amount, payment.currency))
    where = mrkdwn_link(permalink, "the lead's thread") if permalink else "the lead's thread"
    return (
        f":white_check_mark: Recorded {money} ({mrkdwn_escape(payment.status.upper())}) for "
        f"{mrkdwn_escape(lead_name)} in TeleCRM — see {where}."
    )


def recorded_without_id_thread_text(money: str, status: str, user: str | None) -> str:
    """In the lead's thread: a payment an earlier attempt recorded, whose id TeleCRM did not give."""
    who = f" by {mention(user)}" if user else ""
    return (
        f":moneybag: Payment of {mrkdwn_escape(money)} ({mrkdwn_escape(status.upper())}) recorded{who}. "
        "TeleCRM's answer to it was lost and its timeline does not give the payment's action id, so it "
        "has no status buttons here: change its status in TeleCRM."
    )


def recorded_without_id_text(money: str, status: str, lead_name: str) -> str:
    """The recorder's confirmation when the payment is in TeleCRM but its id is not known."""
    return (
        f":white_check_mark: Recorded {mrkdwn_escape(money)} ({mrkdwn_escape(status.upper())}) for "
        f"{mrkdwn_escape(lead_name)} in TeleCRM — see the lead's thread. TeleCRM did not give the "
        "payment's id, so its status can be changed in TeleCRM only."
    )


def recorded_not_shown_text(money: str, action_id: str, error: BaseException) -> str:
    """Stored in TeleCRM but not posted in Slack: the action id lets people find it there."""
    return (
        f":warning: The payment of {mrkdwn_escape(money)} was recorded in TeleCRM "
        f"(action id `{mrkdwn_escape(action_id)}`), but I could not post it in the lead's thread "
        f"({type(error).__name__})."
    )


def _remark_field(path: str) -> str:
    """The last part of a remark's field path (``actions[0].fields.amount`` → ``amount``)."""
    last = path.rsplit(".", 1)[-1] if path else ""
    return last or "payment"


def remarks_text(remarks: Sequence[Any], *, money: str, stored: bool) -> str:
    """TeleCRM's IGNORED remarks about a payment, in words."""
    details = "\n".join(
        remark_line(
            mrkdwn_escape(_remark_field(str(getattr(r, "field", "")))), str(getattr(r, "remark", "") or "")
        )
        for r in remarks
    )
    money = mrkdwn_escape(money)
    if stored:
        head = f":information_source: TeleCRM stored the payment of {money} but ignored part of it:"
    else:
        head = f":warning: TeleCRM did not store the payment of {money} (IGNORED), so nothing was recorded:"
    return head + ("\n" + details if details else "\n• TeleCRM gave no reason.")


def amount_change_text(payment: Payment | None) -> str:
    """Why a payment's amount or currency cannot be edited, and what to do instead."""
    head = (
        ":pencil2: TeleCRM does not allow changing the amount or currency of a payment once it is "
        "recorded — only its status."
    )
    if payment is None:
        return head + " To correct one, mark it *Cancelled* and record a new payment with `/payment`."
    money = mrkdwn_escape(format_money(payment.amount, payment.currency))
    if can_transition(payment.status, "CANCELLED"):
        step = f"press *Cancelled* on the {money} payment, then record the right amount"
    elif payment.status.upper() == "COMPLETED":
        step = f"mark the {money} payment *Refunded* if money went back, then record the right amount"
    else:
        step = (
            f"the {money} payment is {mrkdwn_escape(payment.status.upper())} already; record the right amount"
        )
    return (
        f"{head} To correct it: {step} with the *Record payment* button on the lead card or "
        f"`{PAYMENT_USAGE}`."
    )


def refusal_text(allowed: Sequence[str]) -> str:
    """To someone not in ``PAYMENT_ALLOWED_USERS``: who may, and that nothing was sent."""
    shown = ", ".join(mention(a) if not a.startswith("@") else mrkdwn_escape(a) for a in allowed[:10])
    return (
        ":lock: Sorry — recording and changing payments is limited to certain people in this workspace"
        + (f" ({shown})" if shown else "")
        + ". Nothing was sent to TeleCRM. Ask one of them, or your TeleCRM admin, if you need access."
    )
