"""Pure pieces of ``/payment``: the status transition table, the modal, reading and checking its
values, the payment message, notifications and every sentence the feature says to people.

Nothing here does I/O, so all of it is unit tested directly; ``commands/payment.py`` wires it to
Slack, the worker and TeleCRM.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kit import ids
from kit.fields import FieldError, convert, normalize_amount
from kit.format import format_money, mention, mrkdwn_escape, mrkdwn_link, truncate
from kit.view_context import ViewContext
from storage.repositories import LeadThread, Payment
from telecrm.schema import PAYMENT_CURRENCIES, PAYMENT_STATUSES, WorkspaceSchema

# --- statuses --------------------------------------------------------------------------------------

# Where a payment may go next. Refunds only follow a completed payment; failed, cancelled and
# refunded payments are final (a correction is a new payment).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "PENDING": ("PROCESSING", "COMPLETED", "FAILED", "CANCELLED"),
    "PROCESSING": ("COMPLETED", "FAILED", "CANCELLED"),
    "COMPLETED": ("REFUNDED",),
    "FAILED": (),
    "CANCELLED": (),
    "REFUNDED": (),
}

STATUS_LABELS = {
    "PENDING": "Pending",
    "PROCESSING": "Processing",
    "COMPLETED": "Completed",
    "FAILED": "Failed",
    "CANCELLED": "Cancelled",
    "REFUNDED": "Refunded",
}

STATUS_EMOJI = {
    "PENDING": ":hourglass_flowing_sand:",
    "PROCESSING": ":arrows_counterclockwise:",
    "COMPLETED": ":white_check_mark:",
    "FAILED": ":x:",
    "CANCELLED": ":no_entry_sign:",
    "REFUNDED": ":leftwards_arrow_with_hook:",
}

_BUTTON_STYLE = {"COMPLETED": "primary", "FAILED": "danger"}

# modal block ids (the element inside each input block has action id ``ids.ACT_FIELD_VALUE``)
BLOCK_LEAD = "lead"
BLOCK_RECENT = "recent_lead"
BLOCK_AMOUNT = "amount"
BLOCK_CURRENCY = "currency"
BLOCK_STATUS = "status"

_LEAD_ID = re.compile(r"[0-9a-fA-F]{24}")
STATUS_ACTION_PREFIX = ids.ACT_PAYMENT_STATUS + ":"


def next_statuses(status: str) -> tuple[str, ...]:
    """The statuses a payment in ``status`` may move to (none for a final or unknown status)."""
    return TRANSITIONS.get((status or "").upper(), ())


def can_transition(old: str, new: str) -> bool:
    return (new or "").upper() in next_statuses(old)


def is_final(status: str) -> bool:
    return not next_statuses(status)


def status_label(status: str) -> str:
    return STATUS_LABELS.get((status or "").upper(), status or "Unknown")


def looks_like_lead_id(text: str) -> bool:
    """TeleCRM lead and action ids are 24 hex characters."""
    return bool(_LEAD_ID.fullmatch((text or "").strip()))


# --- what the user asked for -----------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    """A checked payment, ready to queue: amount is the plain numeric string TeleCRM wants."""

    amount: str
    currency: str
    status: str
    lead_ref: str = ""  # as typed: a lead id or an identifier value
    lead_id: str | None = None  # known already (card button, recent lead)


# Where a payment modal was opened from, carried (sealed) in ``private_metadata``: ``channel`` is
# where the user is, ``thread_channel``/``thread_ts`` the lead card it was opened on.
Origin = ViewContext


def check_lead_reference(ref: str, schema: WorkspaceSchema | None, default_country_code: str) -> str | None:
    """Why ``ref`` cannot name a lead, or None. A lead id passes; anything else must be a valid
    identifier value (checked only when the schema is cached: the lookup itself happens later)."""
    ref = (ref or "").strip()
    if not ref:
        return "Say which lead: a lead id or its identifier value."
    if looks_like_lead_id(ref) or schema is None:
        return None
    ident = schema.identifier
    try:
        convert(ident, ref, schema, default_country_code=default_country_code)
    except FieldError as exc:
        return f"“{truncate(ref, 40)}” is not a lead id, and not a valid {ident.label.lower()}: {exc.detail}"
    return None


def identifier_query(ref: str, schema: WorkspaceSchema, default_country_code: str) -> object | None:
    """The identifier value to search for, normalised like the identifier type (None if invalid)."""
    try:
        return convert(schema.identifier, ref.strip(), schema, default_country_code=default_country_code)
    except FieldError:
        return None


def _selected(values: Mapping[str, Any], block_id: str) -> str | None:
    element = (values.get(block_id) or {}).get(ids.ACT_FIELD_VALUE) or {}
    option = element.get("selected_option")
    if isinstance(option, Mapping):
        return str(option.get("value") or "") or None
    value = element.get("value")
    return None if value is None else str(value)


def read_payment_form(
    values: Mapping[str, Any],
    origin: Origin,
    *,
    schema: WorkspaceSchema | None,
    default_currency: str,
    default_country_code: str,
) -> tuple[PaymentRequest | None, dict[str, str]]:
    """The modal's ``state.values`` → a checked request, or errors keyed by block id."""
    errors: dict[str, str] = {}
    typed = (_selected(values, BLOCK_LEAD) or "").strip()
    picked = (_selected(values, BLOCK_RECENT) or "").strip()
    lead_id: str | None = None
    lead_ref = typed
    if typed and picked and typed != picked:
        errors[BLOCK_LEAD] = "You typed a lead and picked a recent one — keep only one of them."
    elif not typed and not picked:
        block = BLOCK_LEAD if BLOCK_LEAD in values else BLOCK_RECENT
        errors[block] = "Say which lead: type its lead id or identifier value, or pick a recent lead."
    elif picked and not typed:
        lead_id, lead_ref = picked, picked
    elif origin.lead_id and typed == origin.lead_id:
        lead_id = typed
    else:
        problem = check_lead_reference(typed, schema, default_country_code)
        if problem:
            errors[BLOCK_LEAD] = problem
    amount: str | None = None
    raw_amount = _selected(values, BLOCK_AMOUNT)
    if raw_amount is None or not raw_amount.strip():
        errors[BLOCK_AMOUNT] = "Enter the amount, e.g. 5000 or 5,000.50."
    else:
        try:
            amount = normalize_amount(raw_amount)
        except FieldError as exc:
            errors[BLOCK_AMOUNT] = exc.detail
    currency = (_selected(values, BLOCK_CURRENCY) or default_currency or "").upper()
    if currency not in PAYMENT_CURRENCIES:
        errors[BLOCK_CURRENCY] = f"Pick one of {', '.join(PAYMENT_CURRENCIES)}."
    status = (_selected(values, BLOCK_STATUS) or "PENDING").upper()
    if status not in PAYMENT_STATUSES:
        errors[BLOCK_STATUS] = f"Pick one of {', '.join(PAYMENT_STATUSES)}."
    if errors or amount is None:
        return None, errors
    return PaymentRequest(amount, currency, status, lead_ref=lead_ref, lead_id=lead_id), {}


def payment_action(amount: str, currency: str, status: str) -> dict[str, str]:
    """The PAYMENT action TeleCRM stores: all four keys required, amount a numeric string."""
    return {"type": "PAYMENT", "status": status, "currency": currency, "amount": str(amount)}


def same_amount(a: object, b: object) -> bool:
    try:
        return Decimal(str(a).replace(",", "").strip()) == Decimal(str(b).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return False


def find_matching_payment(
    rows: Iterable[Mapping[str, Any]],
    *,
    amount: str,
    currency: str,
    since_ms: float,
    skip_ids: Iterable[str] = (),
) -> str | None:
    """The id of a PAYMENT on the lead's timeline that an earlier, unanswered attempt created.

    Rows are action-search rows (newest first); a row without ``created_on`` cannot be dated and is
    only taken when nothing dated matches. ``skip_ids`` are payments known to be someone else's.
    """
    skip = set(skip_ids)
    undated: str | None = None
    best: tuple[float, str] | None = None
    for row in rows:
        action_id = str(row.get("action_id") or row.get("actionId") or row.get("id") or "")
        if not action_id or action_id in skip:
            continue
        if str(row.get("type") or "").upper() != "PAYMENT":
            continue
        if str(row.get("currency") or "").upper() != currency.upper():
            continue
        if not same_amount(row.get("amount"), amount):
            continue
        created = row.get("created_on")
        if isinstance(created, int | float) and not isinstance(created, bool):
            if created >= since_ms and (best is None or created < best[0]):
                best = (float(created), action_id)
        elif undated is None:
            undated = action_id
    return best[1] if best else undated


def lead_in_message(message: Mapping[str, Any]) -> str | None:
    """The lead a message is about: a lead card (its Record payment button) or a payment message."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if not isinstance(element, Mapping):
                continue
            action_id = str(element.get("action_id") or "")
            value = str(element.get("value") or "")
            if action_id == ids.ACT_CARD_PAYMENT and value:
                return value
            if action_id == ids.ACT_PAYMENT_AMOUNT_HELP or action_id.startswith(ids.ACT_PAYMENT_STATUS):
                try:
                    data = json.loads(value)
                except ValueError:
                    continue
                if isinstance(data, Mapping) and data.get("lead_id"):
                    return str(data["lead_id"])
    return None


# --- the modal -------------------------------------------------------------------------------------


def _plain(text: str, n: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def lead_choice_label(thread: LeadThread) -> str:
    name = (thread.name or "").strip()
    ident = (thread.identifier or "").strip()
    if name and ident and name != ident:
        return f"{name} · {ident}"
    return name or ident or thread.lead_id


def render_payment_modal(
    origin: Origin,
    *,
    default_currency: str,
    recent: Sequence[LeadThread] = (),
    identifier_label: str = "identifier",
    lead_label: str | None = None,
    initial_lead: str | None = None,
) -> dict[str, Any]:
    """The Record payment modal: lead, amount, currency (workspace default), status (PENDING).

    Opened on a lead card (``origin.lead_id``) the lead is filled in and the recent-leads picker left
    out; ``initial_lead`` fills in what was typed after ``/payment``.
    """
    blocks: list[dict[str, Any]] = []
    lead_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACT_FIELD_VALUE,
        "max_length": 200,
        "placeholder": _plain(f"Lead id or {identifier_label.lower()}", 150),
    }
    initial = origin.lead_id or (initial_lead or "").strip()
    if initial:
        lead_input["initial_value"] = truncate(initial, 200)
    if origin.lead_id:
        shown = mrkdwn_escape(lead_label or origin.lead_id)
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": truncate(f":moneybag: Recording a payment for *{shown}*.", 3000),
                },
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": BLOCK_LEAD,
            "optional": not origin.lead_id and bool(recent),
            "label": _plain("Lead", 2000),
            "hint": _plain(f"The TeleCRM lead id, or the lead's {identifier_label.lower()}.", 2000),
            "element": lead_input,
        }
    )
    if recent and not origin.lead_id:
        seen: set[str] = set()
        options = []
        for thread in recent:
            if thread.lead_id in seen or len(options) >= 100:
                continue
            seen.add(thread.lead_id)
            options.append(_option(lead_choice_label(thread), thread.lead_id))
        blocks.append(
            {
                "type": "input",
                "block_id": BLOCK_RECENT,
                "optional": True,
                "label": _plain("…or pick a recent lead", 2000),
                "element": {
                    "type": "static_select",
                    "action_id": ids.ACT_FIELD_VALUE,
                    "placeholder": _plain("Recent leads", 150),
                    "options": options,
                },
            }
        )
    currency = default_currency if default_currency in PAYMENT_CURRENCIES else PAYMENT_CURRENCIES[0]
    blocks.extend(
        [
            {
                "type": "input",
                "block_id": BLOCK_AMOUNT,
                "label": _plain("Amount", 2000),
                "hint": _plain("More than 0. Commas and ₹ or $ are fine, e.g. ₹5,000.50.", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.ACT_FIELD_VALUE,
                    "max_length": 40,
                    "placeholder": _plain("e.g. 5000", 150),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_CURRENCY,
                "label": _plain("Currency", 2000),
                "element": {
                    "type": "static_select",
                    "action_id": ids.ACT_FIELD_VALUE,
                    "options": [_option(c, c) for c in PAYMENT_CURRENCIES],
                    "initial_option": _option(currency, currency),
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_STATUS,
                "label": _plain("Status", 2000),
                "element": {
                    "type": "static_select",
                    "action_id": ids.ACT_FIELD_VALUE,
                    "options": [_option(status_label(s), s) for s in PAYMENT_STATUSES],
                    "initial_option": _option(status_label("PENDING"), "PENDING"),
                },
            },
        ]
    )
    return {
        "type": "modal",
        "callback_id": ids.VIEW_PAYMENT,
        "title": _plain("Record payment", 24),
        "submit": _plain("Record", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": origin.to_metadata(),
        "blocks": blocks,
    }


# --- the payment message ---------------------------------------------------------------------------


def _with_code(money: str, currency: str) -> str:
    """``₹5,000.00 (INR)``: the code spelled out when the amount shows only a symbol."""
    code = currency.upper()
    return money if code in money else f"{money} ({code})"


def _status_button(payment: Payment, status: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(status_label(status)),
        "action_id": STATUS_ACTION_PREFIX + status,
        "value": json.dumps(
            {"action_id": payment.action_id, "status": status, "lead_id": payment.lead_id},
            separators=(",", ":"),
        ),
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
            "text": _plain("Amount wrong?"),
            "action_id": ids.ACT_PAYMENT_AMOUNT_HELP,
            "value": json.dumps(
                {"action_id": payment.action_id, "lead_id": payment.lead_id}, separators=(",", ":")
            ),
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
    if user:
        return f"{mention(user)} marked it {mrkdwn_escape(new_status.upper())}"
    return f"changed to {mrkdwn_escape(new_status.upper())} in TeleCRM"


# --- sentences -------------------------------------------------------------------------------------


def usage_text(default_currency: str, identifier_label: str = "phone") -> str:
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
    lines = "\n".join(f"• {mrkdwn_escape(p)}" for p in problems)  # they quote what was typed
    label = mrkdwn_escape(identifier_label.lower())
    return (
        f":warning: Nothing was sent to TeleCRM:\n{lines}\n\n"
        f"Usage: `/payment <lead id or {label}> <amount> [currency] [status]`, "
        f"e.g. `/payment 919999999999 5000 {default_currency} PENDING`"
    )


def lead_not_found_text(ref: str, identifier_label: str) -> str:
    return (
        f":mag: No TeleCRM lead has the lead id or {mrkdwn_escape(identifier_label.lower())} "
        f"“{mrkdwn_escape(truncate(ref, 60))}”, "
        "so no payment was recorded. Check it, or create the lead first with `/lead`."
    )


def recorded_text(payment: Payment, lead_name: str, permalink: str | None) -> str:
    money = mrkdwn_escape(format_money(payment.amount, payment.currency))
    where = mrkdwn_link(permalink, "the lead's thread") if permalink else "the lead's thread"
    return (
        f":white_check_mark: Recorded {money} ({mrkdwn_escape(payment.status.upper())}) for "
        f"{mrkdwn_escape(lead_name)} in TeleCRM — see {where}."
    )


def recorded_not_shown_text(money: str, action_id: str, error: BaseException) -> str:
    return (
        f":warning: The payment of {mrkdwn_escape(money)} was recorded in TeleCRM "
        f"(action id `{mrkdwn_escape(action_id)}`), but I could not post it in the lead's thread "
        f"({type(error).__name__})."
    )


def _remark_field(path: str) -> str:
    last = path.rsplit(".", 1)[-1] if path else ""
    return last or "payment"


def remarks_text(remarks: Sequence[Any], *, money: str, stored: bool) -> str:
    """TeleCRM's IGNORED remarks about a payment, in words."""
    details = "\n".join(
        f"• {mrkdwn_escape(_remark_field(str(getattr(r, 'field', ''))))}: "
        f"{mrkdwn_escape(str(getattr(r, 'remark', '') or 'not accepted'))}"
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
        "`/payment <lead> <amount> [currency] [status]`."
    )


def refusal_text(allowed: Sequence[str]) -> str:
    shown = ", ".join(mention(a) if not a.startswith("@") else mrkdwn_escape(a) for a in allowed[:10])
    return (
        ":lock: Sorry — recording and changing payments is limited to certain people in this workspace"
        + (f" ({shown})" if shown else "")
        + ". Nothing was sent to TeleCRM. Ask one of them, or your TeleCRM admin, if you need access."
    )


@dataclass
class StatusClick:
    """A status button's value: which payment, and the status asked for."""

    action_id: str
    status: str
    extra: dict[str, Any] = field(default_factory=dict)


def payment_in_value(value: object) -> str | None:
    """The payment action id a button value (JSON with ``action_id``) refers to."""
    try:
        data = json.loads(str(value or ""))
    except ValueError:
        return None
    if isinstance(data, Mapping) and data.get("action_id"):
        return str(data["action_id"])
    return None


def read_status_click(action: Mapping[str, Any]) -> StatusClick | None:
    """The clicked button's value; the status falls back to the action id suffix."""
    try:
        data = json.loads(str(action.get("value") or ""))
    except ValueError:
        return None
    if not isinstance(data, Mapping) or not data.get("action_id"):
        return None
    status = str(data.get("status") or "")
    action_id = str(action.get("action_id") or "")
    if not status and action_id.startswith(STATUS_ACTION_PREFIX):
        status = action_id[len(STATUS_ACTION_PREFIX) :]
    status = status.upper()
    if status not in PAYMENT_STATUSES:
        return None
    return StatusClick(str(data["action_id"]), status, dict(data))
