"""What the lead's thread is told about one logged activity: created (with its fields and id), or
not saved and TeleCRM's remarks in words — field label, the value sent, TeleCRM's reason.

Pure: no I/O. The remarks and every value come from TeleCRM or the user, so all of it is escaped
(tests/security/test_injection.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kit.display import display_value, typed_text
from kit.format import mention, mrkdwn_escape, truncate
from kit.remarks import bold, reason_text, remark_line
from telecrm.models import Remark
from telecrm.schema import CustomActionDef, WorkspaceSchema

ICON = "📌"


def describe_fields(action: CustomActionDef | None, fields: Mapping[str, object]) -> str:
    """``*Visit notes:* hello · *Outcome:* Interested`` in the activity's own field order."""
    defs = {f.api_name: f for f in action.fields} if action is not None else {}
    ordered = [k for k in defs if k in fields] + [k for k in fields if k not in defs]
    parts = []
    for key in ordered:
        f = defs.get(key)
        label = f.label if f is not None else key
        parts.append(
            f"*{mrkdwn_escape(truncate(label, 60))}:* {mrkdwn_escape(truncate(typed_text(f, fields[key]), 300))}"
        )
    return " · ".join(parts)


_REMARK_FIELD = re.compile(r"(?:^|\.)fields\.(.+)$")


def remark_lines(
    schema: WorkspaceSchema | None, action: Mapping[str, Any], remarks: Sequence[Remark]
) -> list[str]:
    """TeleCRM's remarks about one action, in words: field label, the value sent, TeleCRM's reason."""
    definition = schema.custom_action(str(action.get("type") or "")) if schema is not None else None
    defs = {f.api_name: f for f in definition.fields} if definition is not None else {}
    sent = action.get("fields") or {}
    lines = []
    for remark in remarks:
        match = _REMARK_FIELD.search(remark.field)
        reason = remark.remark or remark.status
        if match:
            key = match.group(1)
            f = defs.get(key)
            label = f.label if f is not None else key
            value = sent.get(key) if isinstance(sent, Mapping) else None
            shown = display_value(value) if value is not None else None
            lines.append(remark_line(bold(label), reason, sent=shown))
        elif remark.field.endswith(".type") or remark.field == "type":
            lines.append(remark_line("*Activity type*", reason))
        elif remark.field:
            lines.append(remark_line(f"`{mrkdwn_escape(remark.field)}`", reason))
        else:
            lines.append(f"• {reason_text(reason)}")
    return lines


def form_was_stale(remarks: Sequence[Remark]) -> bool:
    """True when TeleCRM's remarks say the cached definition no longer matches TeleCRM's."""
    return any(re.search(r"not defined|unknown|no longer", r.remark, re.IGNORECASE) for r in remarks)


def render_result(
    schema: WorkspaceSchema | None,
    *,
    action: Mapping[str, Any],
    user: str | None,
    action_id: str | None,
    remarks: Sequence[Remark] = (),
    saved: bool | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The thread reply about one logged activity: created (with its id), or not saved and why.

    ``saved`` defaults to "an id was given"; ``saved=True`` without an id is an activity an earlier,
    unanswered attempt created, found in TeleCRM without its id.
    """
    definition = schema.custom_action(str(action.get("type") or "")) if schema is not None else None
    name = definition.display_name if definition is not None else f"activity {action.get('type')}"
    who = mention(user) if user else "Someone"
    fields = action.get("fields") or {}
    blocks: list[dict[str, Any]] = []
    if saved is None:
        saved = bool(action_id)
    if saved:
        text = f"{ICON} {who} logged *{mrkdwn_escape(name)}*"
        details = describe_fields(definition, fields) if isinstance(fields, Mapping) else ""
        body = text + (f"\n{details}" if details else "")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(body, 3000)}})
        context = (
            f"action id `{mrkdwn_escape(action_id)}`"
            if action_id
            else "saved in TeleCRM; its action id is not known (TeleCRM's first answer was lost)"
        )
        if remarks:
            body_remarks = "\n".join(remark_lines(schema, action, remarks))
            blocks.append(
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": truncate(f":warning: TeleCRM left out:\n{body_remarks}", 3000),
                    },
                }
            )
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
        fallback = f"{who} logged {mrkdwn_escape(name)}" + (
            f" (action id {mrkdwn_escape(action_id)})" if action_id else ""
        )
        return fallback, blocks
    lines = remark_lines(schema, action, remarks) or ["• TeleCRM gave no reason."]
    text = f":warning: TeleCRM did not save the *{mrkdwn_escape(name)}* activity {who} logged:\n" + "\n".join(
        lines
    )
    if form_was_stale(remarks):
        text += (
            "\nThe activity form was out of date with TeleCRM's definition; it is being refreshed — "
            "use *Log activity* again."
        )
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}})
    fallback = f"TeleCRM did not save the {mrkdwn_escape(name)} activity: " + " ".join(lines)
    return truncate(fallback, 3000), blocks
