"""``/lead``: where each Slack gesture and outbox job of the lead feature is bound to its handler.

The handlers live by job: :mod:`~commands.lead.command` (the slash command),
:mod:`~commands.lead.new_lead` (the New lead modal and *Create lead from message*),
:mod:`~commands.lead.edit` (*Edit* on a card), :mod:`~commands.lead.duplicate` (the *Update existing
lead* offer), :mod:`~commands.lead.find` (searches), the ``lead.create`` / ``lead.update`` jobs in
:mod:`~commands.lead.create_job` / :mod:`~commands.lead.update_job`, and the lead watcher
(:mod:`~commands.lead.watch`, its ``lead.changed_in_telecrm`` job in :mod:`~commands.lead.watch_job`).
"""

from __future__ import annotations

from functools import partial

from slack_bolt import App

from commands.lead.command import on_lead_command
from commands.lead.create_job import create_lead
from commands.lead.duplicate import on_update_existing
from commands.lead.edit import on_edit, on_edit_submit
from commands.lead.find import on_find_more
from commands.lead.jobs import job_kind
from commands.lead.new_lead import (
    on_activity_options,
    on_activity_pick,
    on_create_submit,
    on_field_options,
    on_lead_from_message,
    on_more_fields,
    on_more_fields_submit,
)
from commands.lead.payloads import CreateLead, UpdateLead
from commands.lead.typed_job import typed_job_kind
from commands.lead.update_job import update_lead
from commands.lead.watch import WATCH_NAME, tick_seconds, watch_leads
from commands.lead.watch_job import change_job_kind
from kit import ids
from kit.lead_index import MIRROR_SECONDS
from kit.services import Services

__all__ = ["register"]


def register(app: App, services: Services) -> None:
    """Bind the lead listeners and job kinds; the listeners find ``services`` in Bolt's context."""
    services.worker.register(job_kind(services, CreateLead, create_lead))
    services.worker.register(job_kind(services, UpdateLead, update_lead))
    services.worker.register(typed_job_kind(services))
    if services.settings.lead_index_days > 0:
        services.schedule("lead-index", MIRROR_SECONDS, services.lead_mirror.run)
    services.worker.register(change_job_kind(services))
    if services.settings.lead_watch_seconds > 0:  # changes made in TeleCRM reach the lead's thread
        services.schedule(
            WATCH_NAME, tick_seconds(services.settings.lead_watch_seconds), partial(watch_leads, services)
        )
    app.command(ids.CMD_LEAD)(on_lead_command)
    app.shortcut(ids.SHORTCUT_LEAD_FROM_MESSAGE)(on_lead_from_message)
    app.view(ids.VIEW_LEAD_CREATE)(on_create_submit)
    app.action(ids.ACT_LEAD_ACTIVITY_PICK)(on_activity_pick)
    app.options(ids.ACT_LEAD_ACTIVITY_PICK)(on_activity_options)
    app.action(ids.ACT_OPEN_MORE_FIELDS)(on_more_fields)
    app.view(ids.VIEW_LEAD_MORE_FIELDS)(on_more_fields_submit)
    app.options(ids.ACT_FIELD_VALUE)(on_field_options)
    app.action(ids.ACT_UPDATE_EXISTING)(on_update_existing)
    app.action(ids.ACT_FIND_MORE)(on_find_more)
    app.action(ids.ACT_CARD_EDIT)(on_edit)
    app.view(ids.VIEW_LEAD_EDIT)(on_edit_submit)
