"""The compact lead card shown under a pasted lead link (pure: no I/O).

Name (linked to TeleCRM), status, assignee and identifier, then the lead id with *Open in TeleCRM*
and, when the bot has a thread for the lead, *Open thread*. No buttons: an unfurl is a preview in
someone else's message; the lead's own card and thread are one click away.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kit.cards import lead_name
from kit.display import display_value, field_text
from kit.format import mrkdwn_escape, mrkdwn_link, truncate
from kit.lead_fields import assignee_field
from telecrm.schema import WorkspaceSchema


def unfurl_blocks(
    schema: WorkspaceSchema,
    lead_id: str,
    fields: Mapping[str, object],
    *,
    lead_url: str,
    thread_link: str | None = None,
) -> list[dict[str, Any]]:
    """The blocks of one lead's unfurl."""
    name = lead_name(schema, fields)
    shown: list[tuple[str, str]] = []
    status = display_value(fields.get("status")).strip()
    if status:
        shown.append(("Status", status))
    assignee = assignee_field(schema)
    if assignee is not None:
        who = display_value(fields.get(assignee.api_name)).strip()
        if who:
            member = schema.member_by_email(who)
            shown.append((assignee.label, member.name if member is not None else who))
    ident = schema.identifier
    ident_value = fields.get(ident.api_name)
    if display_value(ident_value).strip():
        shown.append((ident.label, field_text(ident, ident_value)))
    section: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(f"*{mrkdwn_link(lead_url, name)}*", 3000)},
    }
    if shown:
        section["fields"] = [
            {"type": "mrkdwn", "text": truncate(f"*{mrkdwn_escape(label)}*\n{mrkdwn_escape(value)}", 2000)}
            for label, value in shown
        ]
    links = [f"Lead id `{mrkdwn_escape(lead_id)}`", mrkdwn_link(lead_url, "Open in TeleCRM")]
    if thread_link:
        links.append(mrkdwn_link(thread_link, "Open thread"))
    return [section, {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]}]
