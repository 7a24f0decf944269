"""*Log activity*: create a workspace-defined custom action on a lead (PRODUCT.md §4.1, §4.3).

The form is built from the cached ``custom_actions`` only: a select of the workspace's activities
(``dispatch_action``) and, once one is chosen, its ``fieldSchema`` fields through the same type table
as lead fields (:mod:`kit.fields`). Every block of the form has a block id starting with
:data:`BLOCK_PREFIX`, so the same section can live in the *New lead* modal: choosing an activity there
swaps only those blocks (:func:`replace_activity_section`), whatever view they are in.

Writes go through the outbox keyed on the modal (``view:{view_id}``), so a re-submitted or retried
form creates one action. The answer — created with its id, or TeleCRM's ``IGNORED`` remarks in words
— is replied in the lead's thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from kit import ids
from kit.cards import display_value, ensure_thread, post_in_thread, thread_for
from kit.explain import explain_error, wait_note
from kit.fields import form_values, input_block, options_for_query, validate_fields
from kit.format import format_when, mention, mrkdwn_escape, truncate
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.view_context import ViewContext, refused_view
from kit.worker import Job, JobKind
from telecrm.client import Remark, WriteResult
from telecrm.errors import TeleCRMError
from telecrm.schema import CustomActionDef, FieldDef, FieldType, WorkspaceSchema

log = logging.getLogger(__name__)

JOB_KIND = "activity.create"
BLOCK_PREFIX = "activity:"
BLOCK_PICK = "activity:type"
ICON = "📌"
MAX_MODAL_BLOCKS = 100
MAX_OPTIONS = 100
#: how far back a retried write looks for the action an earlier, unanswered attempt may have created
RECONCILE_WINDOW_SECONDS = 600


# --- the form (pure) ------------------------------------------------------------------------------------


def field_block_id(action: CustomActionDef, field: FieldDef) -> str:
    """Block id of one of an activity's fields; carries the code so switching activities starts empty."""
    return f"{BLOCK_PREFIX}{action.numeric_code}:{field.api_name}"[:255]


def parse_field_block_id(block_id: str) -> tuple[str, str] | None:
    """``activity:1001:note`` → (``1001``, ``note``)."""
    match = re.fullmatch(re.escape(BLOCK_PREFIX) + r"(\w+):(.+)", block_id or "")
    return (match.group(1), match.group(2)) if match else None


def _plain(text: str, n: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, n), "emoji": True}


def _action_option(action: CustomActionDef) -> dict[str, Any]:
    return {"text": _plain(action.display_name or action.code, 75), "value": action.numeric_code}


def action_options_for_query(schema: WorkspaceSchema | None, query: str) -> list[dict[str, Any]]:
    """Type-ahead for the activity select when a workspace defines more than 100 activities."""
    wanted = " ".join((query or "").split()).casefold()
    actions = schema.custom_actions if schema is not None else ()
    hits = [a for a in actions if wanted in a.display_name.casefold() or wanted in a.numeric_code]
    return [_action_option(a) for a in hits[:MAX_OPTIONS]]


def picker_block(
    schema: WorkspaceSchema, chosen: CustomActionDef | None, *, required: bool
) -> dict[str, Any]:
    """The activity select; choosing dispatches an action so the form can show that activity's fields."""
    element: dict[str, Any] = {
        "action_id": ids.ACT_ACTIVITY_PICK,
        "placeholder": _plain("Choose an activity", 150),
    }
    if len(schema.custom_actions) > MAX_OPTIONS:
        element.update({"type": "external_select", "min_query_length": 0})
    else:
        element.update(
            {"type": "static_select", "options": [_action_option(a) for a in schema.custom_actions]}
        )
    if chosen is not None:
        element["initial_option"] = _action_option(chosen)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": BLOCK_PICK,
        "dispatch_action": True,
        "label": _plain("Activity", 2000),
        "element": element,
        "optional": not required,
    }
    if chosen is not None and chosen.description:
        block["hint"] = _plain(chosen.description, 2000)
    return block


def activity_blocks(
    schema: WorkspaceSchema,
    action_code: str | None,
    *,
    required: bool = True,
    max_blocks: int = MAX_MODAL_BLOCKS - 1,
    tz: str | None = None,
) -> list[dict[str, Any]]:
    """The "Log an activity" section: the select, then the chosen activity's fields (its own required
    flags), at most ``max_blocks`` blocks. ``required=False`` makes the whole section optional."""
    chosen = schema.custom_action(action_code) if action_code else None
    blocks = [picker_block(schema, chosen, required=required)]
    if chosen is None:
        return blocks
    for f in chosen.fields[: max(0, max_blocks - 1)]:
        blocks.append(
            input_block(
                f,
                schema,
                optional=not f.required,
                block_id=field_block_id(chosen, f),
                action_id=ids.ACT_ACTIVITY_FIELD,
                tz=tz,
            )
        )
    return blocks


def chosen_action_code(values: Mapping[str, object]) -> str | None:
    code = str(values.get(BLOCK_PICK) or "").strip()
    return code or None


def activity_payload(
    schema: WorkspaceSchema,
    values: Mapping[str, object],
    *,
    tz: str | None = None,
    default_country_code: str = "91",
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """A submitted form (``kit.fields.form_values``) → (the Sync action to send, errors by block id).

    ``(None, {})`` means no activity was chosen (the section is optional in the New lead modal).
    The action uses the bare numeric code, as the Sync API requires: ``{"type": "1001", "fields": {…}}``.
    """
    code = chosen_action_code(values)
    if code is None:
        return None, {}
    action = schema.custom_action(code)
    if action is None:
        return None, {BLOCK_PICK: "That activity is no longer defined in TeleCRM — choose another one."}
    raw = {f.api_name: values.get(field_block_id(action, f)) for f in action.fields}
    converted, problems = validate_fields(
        schema,
        {k: v for k, v in raw.items() if v is not None},
        require_identifier=True,
        fields=action.fields,
        tz=tz,
        default_country_code=default_country_code,
    )
    by_name = {f.api_name: f for f in action.fields}
    errors: dict[str, str] = {}
    for problem in problems:
        f = by_name.get(problem.api_name)
        block = field_block_id(action, f) if f is not None else BLOCK_PICK
        errors.setdefault(block, truncate(problem.message, 2000))
    if errors:
        return None, errors
    return {"type": action.numeric_code, "fields": converted}, {}


def replace_activity_section(
    blocks: Sequence[Mapping[str, Any]], section: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``blocks`` with the activity section swapped for ``section`` (appended when there was none)."""
    out: list[dict[str, Any]] = []
    inserted = False
    for block in blocks:
        if str(block.get("block_id") or "").startswith(BLOCK_PREFIX):
            if not inserted:
                out.extend(dict(b) for b in section)
                inserted = True
            continue
        out.append(dict(block))
    if not inserted:
        out.extend(dict(b) for b in section)
    return out


def activity_modal(
    schema: WorkspaceSchema,
    *,
    lead_id: str,
    lead_name: str,
    channel: str | None,
    action_code: str | None = None,
) -> dict[str, Any]:
    """The *Log activity* modal of a lead card (from the cache only: it opens within the 3 s trigger)."""
    meta = ViewContext(channel=channel, lead_id=lead_id).to_metadata()
    intro = {
        "type": "context",
        "block_id": "activity_lead",
        "elements": [
            {
                "type": "mrkdwn",
                "text": truncate(
                    f"For *{mrkdwn_escape(lead_name)}* · lead id `{mrkdwn_escape(lead_id)}`", 3000
                ),
            }
        ],
    }
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.VIEW_ACTIVITY,
        "title": _plain("Log activity", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": meta,
    }
    if not schema.custom_actions:
        view["blocks"] = [
            intro,
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "This TeleCRM workspace defines no custom activities yet. An admin can add them in "
                    "TeleCRM (Settings → Custom actions); the bot picks them up on its next schema refresh.",
                },
            },
        ]
        return view
    view["submit"] = _plain("Save", 24)
    view["blocks"] = [intro, *activity_blocks(schema, action_code, max_blocks=MAX_MODAL_BLOCKS - 1)]
    return view


def updated_view(view: Mapping[str, Any], schema: WorkspaceSchema, action_code: str | None) -> dict[str, Any]:
    """The view after an activity was chosen: same everything, its activity section rebuilt."""
    blocks = list(view.get("blocks") or [])
    picker = next((b for b in blocks if b.get("block_id") == BLOCK_PICK), None)
    required = not (picker or {}).get("optional", False)
    others = sum(1 for b in blocks if not str(b.get("block_id") or "").startswith(BLOCK_PREFIX))
    section = activity_blocks(schema, action_code, required=required, max_blocks=MAX_MODAL_BLOCKS - others)
    fresh: dict[str, Any] = {
        "type": view.get("type") or "modal",
        "blocks": replace_activity_section(blocks, section),
    }
    for key in (
        "callback_id",
        "title",
        "submit",
        "close",
        "private_metadata",
        "notify_on_close",
        "clear_on_close",
        "external_id",
    ):
        if view.get(key) not in (None, ""):
            fresh[key] = view[key]
    return fresh


# --- the answer (pure) ---------------------------------------------------------------------------------------


def _shown_value(field: FieldDef | None, value: object) -> str:
    if field is not None and field.type is FieldType.DATE:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_when(value)
        return display_value(value).removesuffix(" 00:00:00")
    return display_value(value)


def describe_fields(action: CustomActionDef | None, fields: Mapping[str, object]) -> str:
    """``*Visit notes:* hello · *Outcome:* Interested`` in the activity's own field order."""
    defs = {f.api_name: f for f in action.fields} if action is not None else {}
    ordered = [k for k in defs if k in fields] + [k for k in fields if k not in defs]
    parts = []
    for key in ordered:
        f = defs.get(key)
        label = f.label if f is not None else key
        parts.append(
            f"*{mrkdwn_escape(truncate(label, 60))}:* {mrkdwn_escape(truncate(_shown_value(f, fields[key]), 300))}"
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
        reason = mrkdwn_escape(remark.remark or remark.status or "not accepted")
        if match:
            key = match.group(1)
            f = defs.get(key)
            label = f.label if f is not None else key
            value = sent.get(key) if isinstance(sent, Mapping) else None
            shown = (
                f" (sent “{mrkdwn_escape(truncate(display_value(value), 80))}”)" if value is not None else ""
            )
            lines.append(f"• *{mrkdwn_escape(label)}*{shown}: {reason}")
        elif remark.field.endswith(".type") or remark.field == "type":
            lines.append(f"• *Activity type*: {reason}")
        else:
            lines.append(
                f"• {reason}" if not remark.field else f"• `{mrkdwn_escape(remark.field)}`: {reason}"
            )
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
) -> tuple[str, list[dict[str, Any]]]:
    """The thread reply about one logged activity: created (with its id), or not saved and why."""
    definition = schema.custom_action(str(action.get("type") or "")) if schema is not None else None
    name = definition.display_name if definition is not None else f"activity {action.get('type')}"
    who = mention(user) if user else "Someone"
    fields = action.get("fields") or {}
    blocks: list[dict[str, Any]] = []
    if action_id:
        text = f"{ICON} {who} logged *{mrkdwn_escape(name)}*"
        details = describe_fields(definition, fields) if isinstance(fields, Mapping) else ""
        body = text + (f"\n{details}" if details else "")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(body, 3000)}})
        context = f"action id `{mrkdwn_escape(action_id)}`"
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
        fallback = f"{who} logged {mrkdwn_escape(name)} (action id {mrkdwn_escape(action_id)})"
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


# --- writing (worker) ---------------------------------------------------------------------------------------


def _row_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    fields = row.get("fields")
    return dict(fields) if isinstance(fields, Mapping) else {}


def _same_fields(
    definition: CustomActionDef | None, stored: Mapping[str, Any], sent: Mapping[str, Any]
) -> bool:
    """Whether a stored action carries what was sent (TeleCRM normalises dates, so those only need to exist)."""
    if set(stored) != set(sent):
        return False
    types = {f.api_name: f.type for f in definition.fields} if definition is not None else {}
    for key, value in sent.items():
        if types.get(key) is FieldType.DATE:
            continue
        a, b = stored[key], value
        if isinstance(a, list) or isinstance(b, list):
            if [str(x).casefold() for x in (a or [])] != [str(x).casefold() for x in (b or [])]:
                return False
        elif str(a).strip().casefold() != str(b).strip().casefold():
            return False
    return True


def find_created(services: Services, payload: Mapping[str, Any], since: float) -> str | None:
    """The action an earlier attempt of this write created, if TeleCRM has it (checked before retrying)."""
    action = payload["action"]
    definition = services.schema().custom_action(str(action["type"]))
    start = int((since - RECONCILE_WINDOW_SECONDS) * 1000)
    page = services.telecrm.search_actions(
        payload["lead_id"], type=str(action["type"]), created_on=(start, None), limit=100
    )
    for row in page.items:
        action_id = str(row.get("action_id") or row.get("actionId") or row.get("id") or "")
        if action_id and _same_fields(definition, _row_fields(row), action.get("fields") or {}):
            return action_id
    return None


def _reply(services: Services, job: Job, step: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
    """Into the lead's thread (a card is posted first if the bot has none); the user hears it either way.

    A passing Slack failure is raised, so the job that owes this answer is retried.
    """
    payload = job.payload
    user, channel = payload.get("user"), payload.get("channel")
    try:
        if channel:
            thread = ensure_thread(services, payload["lead_id"], channel=channel, user=user, job=job)
        else:
            thread = thread_for(services, payload["lead_id"])
        if thread is not None:
            post_in_thread(services, thread, text, blocks, job=job, step=step)
            return
    except (SlackApiError, TeleCRMError) as exc:
        if is_transient_slack_failure(exc):
            raise
        log.warning("could not reply in the lead's thread: %s", exc)
    if user:
        job.once(f"{step}:told", lambda: services.tell(channel, str(user), text, blocks))


def _log_in_telecrm(services: Services, job: Job) -> dict[str, Any]:
    """The activity, once: the one an unanswered earlier attempt created, or a new one.

    Returns (as JSON) the action id and the message for the lead's thread.
    """
    payload = job.payload
    schema = services.cache.cached()
    if job.is_retry:
        existing = find_created(services, payload, job.created_at)
        if existing is not None:
            log.info("activity write %s had already reached TeleCRM (action %s)", job.key, existing)
            text, blocks = render_result(
                schema, action=payload["action"], user=payload.get("user"), action_id=existing
            )
            return {"action_id": existing, "reconciled": True, "text": text, "blocks": blocks}
    result: WriteResult = services.telecrm.create_actions(payload["lead_id"], [payload["action"]])
    outcome = result.actions[0] if result.actions else None
    action_id = outcome.action_id if outcome is not None and outcome.created else None
    text, blocks = render_result(
        schema,
        action=payload["action"],
        user=payload.get("user"),
        action_id=action_id,
        remarks=result.remarks,
    )
    return {
        "action_id": action_id,
        "status": outcome.status if outcome else "IGNORED",
        "stale_form": bool(result.remarks and form_was_stale(result.remarks)),
        "text": text,
        "blocks": blocks,
    }


def make_handlers(services: Services) -> JobKind:
    def handle(job: Job) -> dict[str, Any]:
        done: dict[str, Any] = job.once("telecrm", lambda: _log_in_telecrm(services, job))
        _reply(services, job, "result", done["text"], done["blocks"])
        if done.get("stale_form"):
            services.worker.background(services.cache.refresh)
        if done.get("reconciled"):
            return {"action_id": done["action_id"], "reconciled": True}
        return {"action_id": done["action_id"], "status": done["status"]}

    def on_queued(job: Job, reason: str, when: float) -> None:
        user = job.payload.get("user")
        if user:
            thread = thread_for(services, job.payload["lead_id"])
            services.ephemeral(
                job.payload.get("channel"),
                str(user),
                ":hourglass: TeleCRM is not answering right now. Your activity is saved here and will be sent "
                "automatically; the result will appear in the lead's thread."
                + wait_note(when, services.clock()),
                thread_ts=thread.ts if thread is not None else None,
            )

    def on_failed(job: Job, error: BaseException) -> None:
        _reply(services, job, "failure", explain_error(error, what="the activity"), None)

    return JobKind(handle, on_queued, on_failed)


def _lead_name(services: Services, lead_id: str) -> str:
    thread = thread_for(services, lead_id)
    if thread is not None:
        return thread.name or thread.identifier or lead_id
    return lead_id


def register(app: App, services: Services) -> None:
    services.worker.register(JOB_KIND, make_handlers(services))

    @app.action(ids.ACT_CARD_ACTIVITY)
    def on_card_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = (body.get("user") or {}).get("id") or ""
        channel = (body.get("channel") or {}).get("id")
        lead_id = str(action.get("value") or "").strip()
        schema = services.cache.cached()
        if schema is None or not lead_id:
            services.ephemeral(
                channel,
                user,
                ":hourglass: The TeleCRM workspace is still being read; try *Log activity* again in a moment.",
            )
            if schema is None:
                services.worker.background(services.schema)
            return
        view = activity_modal(
            schema, lead_id=lead_id, lead_name=_lead_name(services, lead_id), channel=channel
        )
        services.slack.views_open(
            trigger_id=body["trigger_id"], view=services.view_seal.seal(view, user=user)
        )

    @app.action(ids.ACT_ACTIVITY_PICK)
    def on_pick(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        view = body.get("view") or {}
        schema = services.cache.cached()
        if schema is None or not view.get("id"):
            return
        code = ((action.get("selected_option") or {}).get("value")) or None
        try:
            services.slack.views_update(
                view_id=view["id"], hash=view.get("hash"), view=updated_view(view, schema, code)
            )
        except SlackApiError as exc:
            # hash_conflict: the user changed the form again meanwhile; that change brings its own update
            log.info("activity form not updated: %s", exc.response.get("error"))

    @app.options(ids.ACT_ACTIVITY_PICK)
    def on_pick_options(ack: Ack, body: dict[str, Any]) -> None:
        ack(options=action_options_for_query(services.cache.cached(), str(body.get("value") or "")))

    @app.options(ids.ACT_ACTIVITY_FIELD)
    def on_field_options(ack: Ack, body: dict[str, Any]) -> None:
        schema = services.cache.cached()
        parsed = parse_field_block_id(str(body.get("block_id") or ""))
        definition = schema.custom_action(parsed[0]) if schema is not None and parsed else None
        field = (
            next((f for f in definition.fields if f.api_name == parsed[1]), None)
            if definition and parsed
            else None
        )
        if schema is None or field is None:
            ack(options=[])
            return
        ack(options=options_for_query(field, schema, str(body.get("value") or "")))

    @app.view(ids.VIEW_ACTIVITY)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = (body.get("user") or {}).get("id") or ""
        context = services.view_seal.open(view, user=user)
        if context is None:  # not a form the bot opened for this person: its lead is made up
            ack(response_action="update", view=refused_view())
            return
        schema = services.cache.cached()
        lead_id = context.lead_id or ""
        if schema is None or not lead_id:
            ack(
                response_action="errors",
                errors={BLOCK_PICK: "This form is out of date; close it and use Log activity again."},
            )
            return
        values = form_values((view.get("state") or {}).get("values") or {})
        action, errors = activity_payload(
            schema, values, default_country_code=services.settings.default_country_code
        )
        if action is None and not errors:
            errors = {BLOCK_PICK: "Choose the activity to log."}
        if errors:
            ack(response_action="errors", errors=errors)
            return
        # stored in SQLite before Slack hears "done": a crash right after the ack loses nothing
        services.worker.submit(
            f"view:{view.get('id')}",
            JOB_KIND,
            {"lead_id": lead_id, "action": action, "user": user, "channel": context.channel},
        )
        ack()
