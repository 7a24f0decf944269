"""When a lead is to be followed up, and who is reminded: the one hook every feature calls.

:func:`schedule_follow_up` takes a lead's fields as TeleCRM holds them. The lead jobs call it after a
create or an update (``commands/lead/create_job.py``, ``commands/lead/update_job.py``), and a watcher
that sees a lead change in TeleCRM can call it the same way. It is idempotent: the same date leaves
the reminder as it is (pending, sent, snoozed or done), a new date moves it, an empty one removes it,
and a lead whose fields do not include the follow-up field at all is left alone. The reminders
themselves are sent by the follow-up feature (``commands/follow_up/``) from the ``follow_ups`` table
(:mod:`storage.follow_ups`).

The rules (README.md, *Follow-up reminders*):

* **the field** — ``FOLLOW_UP_FIELD``, else the first DATE field named like "follow"
  (:func:`kit.lead_fields.follow_up_field`);
* **the time** — the date and time TeleCRM holds, in the workspace's zone; a date without a time of
  day (00:00) is reminded at 10:00 that day in the reminded person's zone;
* **a time already past when it is set** — no reminder, unless it is less than an hour past (or, for
  a date without a time, still that day where the person is): then the reminder is sent at once;
* **the person** — the Slack user of the lead's assignee (the TeleCRM member's email, matched through
  ``user_links``), else the rep whose card started the lead's thread, else ``user`` (whoever's change
  this is). Setting a date asks Slack nothing but the person's time zone; an assignee the bot has not
  met yet is looked for in Slack by email (``users.lookupByEmail``) when the reminder is sent
  (:func:`slack_user_of_member`), and reminded instead if found.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from kit.cards import lead_name
from kit.display import display_value, has_value
from kit.fields.dates import parse_datetime
from kit.format import DEFAULT_TZ, zone
from kit.lead_fields import assignee_field, follow_up_field
from kit.services import Services
from storage.follow_ups import FollowUp
from telecrm.schema import FieldDef, WorkspaceSchema

log = logging.getLogger(__name__)

#: TeleCRM reads and writes zone-less dates in the workspace's (India's) time
WORKSPACE_TZ = DEFAULT_TZ
#: when a follow-up date without a time of day is reminded, in the person's zone (also *Tomorrow 10:00*)
REMIND_HOUR = 10
#: how long after its time a follow-up that is only now set is still worth a reminder (sent at once)
LATE_GRACE_SECONDS = 3600.0
# FOLLOW_UP_FIELD values already warned about (once per process)
_WARNED: set[str] = set()


def schedule_follow_up(
    services: Services, lead_id: str, fields: Mapping[str, object], *, user: str | None = None
) -> FollowUp | None:
    """Arm, move or remove the lead's reminder from its ``fields``; returns the reminder in force.

    ``user`` is whose change this is: the person reminded when the lead has no assignee with a Slack
    account and no thread started by someone. Slack failures are logged, never raised.
    """
    schema = services.schema()
    configured = services.settings.follow_up_field
    field = follow_up_field(schema, configured)
    if field is None and configured and configured not in _WARNED:
        _WARNED.add(configured)
        log.warning(
            "FOLLOW_UP_FIELD=%s is not a DATE field of the workspace: no follow-up reminders", configured
        )
    key = _key_of(fields, field)
    existing = services.follow_ups.get(lead_id)
    if field is None or key is None:
        return existing  # nothing is known about the date: leave the reminder as it is
    moment = _moment(fields[key])
    if moment is None:
        if existing is not None and services.follow_ups.forget(lead_id):
            log.info("lead %s has no follow-up date any more; its reminder is removed", lead_id)
        return None
    follow_up_at = moment.replace(tzinfo=zone(WORKSPACE_TZ)).timestamp()
    assignee = assignee_email(schema, fields)
    person = reminded_user(services, lead_id, assignee, user)
    name = lead_name(schema, fields) if _names_the_lead(schema, fields) else None
    if existing is not None and existing.follow_up_at == follow_up_at:
        if (person, assignee) != (existing.user_id, existing.assignee) and person:
            services.follow_ups.reassign(lead_id, person, assignee, name)
        return services.follow_ups.get(lead_id)
    person = person or (existing.user_id if existing is not None else None)
    if person is None:
        log.info("lead %s has a follow-up date but no one in Slack to remind", lead_id)
        services.follow_ups.forget(lead_id)
        return None
    remind_at = _remind_at(services, moment, follow_up_at, person)
    if remind_at is None:
        if services.follow_ups.forget(lead_id):
            log.info("lead %s's follow-up date is in the past; its reminder is removed", lead_id)
        return None
    return services.follow_ups.arm(
        lead_id,
        user_id=person,
        assignee=assignee,
        field=field.api_name,
        follow_up_at=follow_up_at,
        remind_at=remind_at,
        name=name,
    )


def _names_the_lead(schema: WorkspaceSchema, fields: Mapping[str, object]) -> bool:
    return has_value(fields.get("name")) or has_value(fields.get(schema.identifier_api_name))


def _key_of(fields: Mapping[str, object], field: FieldDef | None) -> str | None:
    """The key the follow-up field has in ``fields`` (API names are matched case-insensitively)."""
    if field is None:
        return None
    if field.api_name in fields:
        return field.api_name
    wanted = field.api_name.lower()
    return next((k for k in fields if k.lower() == wanted), None)


def _moment(value: object) -> datetime | None:
    """A TeleCRM date (epoch ms or ``DD/MM/YYYY HH:mm:ss``) as naive wall-clock workspace time."""
    if isinstance(value, list | tuple):
        value = value[0] if len(value) == 1 else None
    if not has_value(value):
        return None
    try:
        return parse_datetime(value, tz=WORKSPACE_TZ)
    except (ValueError, OverflowError):
        log.warning("a follow-up date TeleCRM holds cannot be read: %r", display_value(value)[:40])
        return None


def is_date_only(moment: datetime) -> bool:
    """A date picked without a time of day (TeleCRM stores it as midnight)."""
    return (moment.hour, moment.minute, moment.second) == (0, 0, 0)


def at_hour(day: datetime, tz: str, hour: int = REMIND_HOUR) -> float:
    """``hour``:00 of ``day``'s calendar date in the zone ``tz``, as a Unix time."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone(tz)).timestamp()


def tomorrow_at(services: Services, user: str, hour: int = REMIND_HOUR) -> float:
    """*Tomorrow 10:00* in the user's zone (from Slack), as a Unix time."""
    tz = services.user_tz(user)
    today = datetime.fromtimestamp(services.clock(), zone(tz))
    return at_hour(today + timedelta(days=1), tz, hour)


def _remind_at(services: Services, moment: datetime, follow_up_at: float, person: str) -> float | None:
    """When to remind: the follow-up's time, at once when it is only a little past, ``None`` when it
    is too far past to be worth a reminder (see the module's rules)."""
    now = services.clock()
    if is_date_only(moment):
        tz = services.user_tz(person)
        remind_at = at_hour(moment, tz)
        still_that_day = now < at_hour(moment + timedelta(days=1), tz, 0)
        late_ok = still_that_day
    else:
        remind_at = follow_up_at
        late_ok = now - remind_at <= LATE_GRACE_SECONDS
    if remind_at >= now:
        return remind_at
    return now if late_ok else None


def assignee_email(schema: WorkspaceSchema, fields: Mapping[str, object]) -> str | None:
    """The TeleCRM email of the team member the lead is assigned to, if any."""
    target = assignee_field(schema)
    raw = fields.get(target.api_name) if target is not None else None
    emails = [str(v).strip() for v in (raw if isinstance(raw, list | tuple) else [raw]) if has_value(v)]
    return emails[0] if emails else None


def reminded_user(
    services: Services, lead_id: str, assignee: str | None, user: str | None = None
) -> str | None:
    """Who is reminded, as far as the bot knows without asking Slack: the assignee's linked Slack
    account, else the rep who started the lead's thread, else ``user``. (When the reminder is sent,
    an assignee not linked yet is looked for in Slack by email: :func:`slack_user_of_member`.)"""
    if assignee:
        links = services.user_links.by_member_email(assignee)
        if links:
            return links[0].slack_user_id
    thread = services.threads.get(lead_id)
    if thread is not None and thread.created_by:
        return thread.created_by
    return user


def slack_user_of_member(services: Services, email: str) -> str | None:
    """The Slack user who is this TeleCRM team member, asking Slack by email when not linked yet."""
    return services.slack_user_for_member(email, ask_slack=True)
