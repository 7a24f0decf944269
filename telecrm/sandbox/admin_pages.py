"""Small HTML views of the admin API, for people clicking a lead link in Slack."""

from __future__ import annotations

import html
import json
from typing import Any

from werkzeug.wrappers import Response

from .values import format_date

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}.muted{color:#777}"
)


def html_page(title: str, body: str) -> Response:
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)} · TeleCRM sandbox</title>"
        f"<style>{_CSS}</style></head><body><p class='muted'>TeleCRM sandbox</p>{body}</body></html>"
    )
    return Response(page, content_type="text/html; charset=utf-8")


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return html.escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return html.escape(json.dumps(value, ensure_ascii=False))
    return html.escape("" if value is None else str(value))


def leads_table(leads: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><a href='/_sandbox/leads/{html.escape(lead['id'])}'>{_cell(lead['fields'].get('name') or lead['id'])}</a></td>"
        f"<td>{_cell(lead['fields'].get('status'))}</td><td>{_cell(format_date(lead['created_on']))}</td></tr>"
        for lead in reversed(leads)
    )
    return f"<h1>Leads</h1><table><tr><th>Lead</th><th>Status</th><th>Created</th></tr>{rows}</table>"


def lead_html(lead: dict[str, Any], actions: list[dict[str, Any]]) -> str:
    fields = "".join(f"<tr><th>{_cell(k)}</th><td>{_cell(v)}</td></tr>" for k, v in lead["fields"].items())
    timeline = "".join(
        f"<tr><td>{_cell(format_date(a['created_on']))}</td><td>{_cell(a['type'])}</td><td>{_cell(a['performed_by'])}</td>"
        f"<td>{_cell({k: v for k, v in a.items() if k not in ('type', 'action_id', 'created_on', 'performed_by')})}</td></tr>"
        for a in reversed(actions)
    )
    title = _cell(lead["fields"].get("name") or lead["id"])
    return (
        f"<h1>{title}</h1><p class='muted'>Lead {html.escape(lead['id'])} · created {_cell(format_date(lead['created_on']))}</p>"
        f"<h2>Fields</h2><table>{fields}</table>{_change_form(lead['id'])}"
        f"<h2>Timeline</h2><table><tr><th>When</th><th>Type</th><th>By</th><th>Details</th></tr>{timeline}</table>"
    )


def _change_form(lead_id: str) -> str:
    """A form that changes the lead as someone in the TeleCRM web app would (not through the API)."""
    action = f"/_sandbox/leads/{html.escape(lead_id)}/change"
    return (
        "<h2>Change it in TeleCRM</h2>"
        f"<form method='post' action='{action}'>"
        "<label>Field (API name) <input name='field' placeholder='status' required></label> "
        "<label>New value <input name='value' placeholder='Won' required></label> "
        "<label>By (team member email) <input name='by' type='email'></label> "
        "<button>Change</button></form>"
        "<p class='muted'>As a change made in the TeleCRM web app: the bot's lead watcher tells the lead's "
        "Slack thread (LEAD_WATCH_SECONDS).</p>"
    )
