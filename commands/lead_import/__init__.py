"""Bulk import of leads from a CSV or XLSX file: ``/lead import``, *Import leads from this file*, the
preview and its *Change mapping* / *Cancel*, then sending from *Import N valid rows*
(``import_confirm``) with *Pause* / *Resume* / *Cancel* (the reading, checking and sending themselves
are kit/imports).

``/lead import`` is parsed by the lead feature, which opens the form through
:func:`kit.imports.forms.open_import_form`; everything after the form is bound here.
"""

from __future__ import annotations

from slack_bolt import App

from commands.lead_import.listeners import (
    on_change_mapping,
    on_check_again,
    on_import_shortcut,
    on_import_submit,
    on_mapping_submit,
    on_preview_cancel,
)
from commands.lead_import.payloads import StartImport
from commands.lead_import.preview import start_import
from commands.lead_import.sending_listeners import register_sending
from kit import ids
from kit.services import Services
from kit.worker import JobKind

__all__ = ["register"]


def register(app: App, services: Services) -> None:
    """Bind the import's preview listeners (the listeners find ``services`` in Bolt's context)."""
    app.view(ids.VIEW_LEAD_IMPORT)(on_import_submit)
    app.shortcut(ids.SHORTCUT_IMPORT_FROM_FILE)(on_import_shortcut)
    app.action(ids.ACT_IMPORT_CHANGE_MAPPING)(on_change_mapping)
    app.view(ids.VIEW_IMPORT_MAPPING)(on_mapping_submit)
    app.action(ids.ACT_IMPORT_AGAIN)(on_check_again)
    app.action(ids.ACT_IMPORT_PREVIEW_CANCEL)(on_preview_cancel)
    services.worker.register(JobKind(StartImport, lambda job: start_import(services, job)))
    register_sending(app, services)
