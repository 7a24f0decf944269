"""The buttons of a follow-up reminder, and ``register``, which binds them, the reminder job and the
check for due reminders.

*Done* stops the reminders of this follow-up (nothing is written to TeleCRM); *Snooze 1 h* and
*Tomorrow 10:00* (in the person's own zone) remind again later. Each answers by replacing the
reminder's buttons with what was chosen. A button of a reminder that has moved on since (a new date,
an earlier snooze) says so and changes nothing. *Log activity* is the lead card's own button
(``ids.ACT_CARD_ACTIVITY``): the activity feature opens its form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from commands.follow_up.payloads import RemindFollowUp
from commands.follow_up.reminders import CHECK_SECONDS, remind_due, send_reminder
from commands.follow_up.render import ReminderButton, answered
from kit import ids
from kit.context import services_of
from kit.follow_ups import tomorrow_at
from kit.format import format_when
from kit.services import Services
from kit.worker import JobKind
from storage.follow_ups import DONE, FollowUp

log = logging.getLogger(__name__)

SNOOZE_SECONDS = 3600.0


def on_done(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Done*: no more reminders for this follow-up; nothing is logged in TeleCRM."""
    ack()
    _answer_click(context, body, action, _done)


def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Snooze 1 h*: the same reminder again in an hour."""
    ack()
    _answer_click(context, body, action, _snooze_an_hour)


def on_tomorrow(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """*Tomorrow 10:00*: the same reminder again at 10:00 tomorrow in the person's zone."""
    ack()
    _answer_click(context, body, action, _tomorrow)


Choice = Callable[[Services, str, ReminderButton], str | None]


def _done(services: Services, user: str, button: ReminderButton) -> str | None:
    if not services.follow_ups.done(button.lead_id, button.version):
        return None
    return ":white_check_mark: Done — no more reminders for this follow-up."


def _snooze_an_hour(services: Services, user: str, button: ReminderButton) -> str | None:
    row = services.follow_ups.snooze(button.lead_id, button.version, services.clock() + SNOOZE_SECONDS)
    if row is None:
        return None
    return f":zzz: Snoozed — I'll remind you again at {_when(services, user, row)}."


def _tomorrow(services: Services, user: str, button: ReminderButton) -> str | None:
    row = services.follow_ups.snooze(button.lead_id, button.version, tomorrow_at(services, user))
    if row is None:
        return None
    return f":calendar: I'll remind you again tomorrow: {_when(services, user, row)}."


def _when(services: Services, user: str, row: FollowUp) -> str:
    return format_when(row.remind_at, services.user_tz(user))


def _answer_click(context: BoltContext, body: dict[str, Any], action: dict[str, Any], choose: Choice) -> None:
    services = services_of(context)
    user = context.user_id or ""
    button = ReminderButton.from_value(action.get("value"))
    note = choose(services, user, button) if button is not None else None
    if note is None:
        note = _out_of_date(services, user, button.lead_id if button is not None else None)
    _show(services, body, user, note)


def _out_of_date(services: Services, user: str, lead_id: str | None) -> str:
    """Why a button changed nothing: the reminder has moved on since it was posted."""
    row = services.follow_ups.get(lead_id) if lead_id else None
    if row is None:
        return ":information_source: This reminder is out of date: the lead has no follow-up date now."
    if row.state == DONE:
        return ":information_source: This follow-up was marked done already."
    return (
        f":information_source: This reminder is out of date: the next one is at {_when(services, user, row)}."
    )


def _show(services: Services, body: dict[str, Any], user: str, note: str) -> None:
    """Replace the reminder's buttons with what was chosen (or tell the person alone, if that fails)."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if channel and ts and message.get("blocks"):
        try:
            services.slack.chat_update(
                channel=channel,
                ts=ts,
                text=message.get("text") or note,
                blocks=answered(message["blocks"], note),
            )
            return
        except SlackApiError as exc:
            log.warning("could not update a follow-up reminder: %s", exc.response.get("error"))
    services.ephemeral(channel, user, note)


def register(app: App, services: Services) -> None:
    """Bind the reminder job, the check for due reminders and the reminder's buttons."""
    services.worker.register(JobKind(RemindFollowUp, lambda job: send_reminder(services, job)))
    services.schedule("follow-ups", CHECK_SECONDS, partial(remind_due, services))
    app.action(ids.ACT_FOLLOW_UP_DONE)(on_done)
    app.action(ids.ACT_FOLLOW_UP_SNOOZE)(on_snooze)
    app.action(ids.ACT_FOLLOW_UP_TOMORROW)(on_tomorrow)
