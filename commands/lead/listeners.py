"""/lead: create (modal or inline), find, update and edit leads (PRODUCT.md §4).

Listeners acknowledge first, validate against the cached schema (pure and fast), and hand every
TeleCRM call to the worker: writes through the durable outbox, keyed by the Slack gesture so a retry,
a double click or a re-submission writes once; reads in the background.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.lead import edit_form, forms
from commands.lead.create_job import create_lead
from commands.lead.find import find_and_answer
from commands.lead.jobs import CREATE, UPDATE, job_kind
from commands.lead.messages import (
    activity_payload,
    duplicate_done_message,
    help_message,
    identifier_refusal,
    problems_message,
)
from commands.lead.prefill import prefill_from_text
from commands.lead.store import DUPLICATE, EDIT, MORE_FIELDS, FieldUsage, LeadDrafts
from commands.lead.update_job import update_lead
from commands.lead.values import WORKSPACE_TZ, canonical, has_value
from kit import ids
from kit.cards import thread_for
from kit.explain import explain_error
from kit.fields import Problem, options_for_query, resolve_keys, validate_fields
from kit.grammar import LeadCommand, parse_lead, tokenize_kv
from kit.services import Services
from kit.view_context import ViewContext, refused_view
from telecrm.errors import TeleCRMError
from telecrm.schema import FieldDef, WorkspaceSchema

log = logging.getLogger(__name__)

NOT_LOADED = (
    ":hourglass_flowing_sand: The TeleCRM workspace (its fields and statuses) is not loaded yet, so I can't "
    "check values. I've asked TeleCRM for it — try again in a minute. If this keeps happening, an admin "
    "should run `telecrm-bot cache refresh`."
)


# --- pure planning of the typed command -----------------------------------------------------------------


@dataclass
class Plan:
    """What to do with ``/lead …`` text: reply, open the modal, or queue a write / a search."""

    kind: str  # "reply" | "modal" | "create" | "update" | "find"
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    query: str = ""
    explicit: set[str] = field(default_factory=set)


def _other_values(
    schema: WorkspaceSchema, text: object, *, default_country_code: str
) -> tuple[dict[str, Any], list[str]]:
    """The "Other fields" box: ``key=value`` text, converted; problems as sentences."""
    if not isinstance(text, str) or not text.strip():
        return {}, []
    pairs, errors = tokenize_kv(text)
    resolved, key_problems = resolve_keys(schema, pairs)
    values, problems = validate_fields(
        schema,
        resolved,
        require_identifier=False,
        default_country_code=default_country_code,
        tz=WORKSPACE_TZ,
    )
    messages = errors + [p.message for p in key_problems + problems]
    if schema.identifier.api_name in values:
        messages.append(identifier_refusal(schema))
    return values, messages


def plan_command(schema: WorkspaceSchema | None, text: str, *, default_country_code: str = "91") -> Plan:
    """``/lead`` text → a :class:`Plan`. Pure; never raises; invalid input always yields a reply."""
    try:
        cmd = parse_lead(text or "")
        return _plan(schema, cmd, default_country_code)
    except Exception:  # a bug here must still leave the user with an answer
        log.exception("could not plan a /lead command")
        message, blocks = help_message(schema, ["I could not read that command"])
        return Plan("reply", message, blocks)


def _plan(schema: WorkspaceSchema | None, cmd: LeadCommand, cc: str) -> Plan:
    if cmd.action == "modal":
        return Plan("modal")
    if cmd.action == "help":
        message, blocks = help_message(schema, cmd.errors)
        return Plan("reply", message, blocks)
    if cmd.action == "find":
        return Plan("find", query=cmd.query)
    if schema is None:
        return Plan("reply", NOT_LOADED, [])
    resolved, key_problems = resolve_keys(schema, cmd.pairs)
    if cmd.action == "update":
        problems: list[Problem | str] = list(cmd.errors) + list(key_problems)
        if schema.identifier.api_name in resolved:
            problems.append(identifier_refusal(schema))
            resolved.pop(schema.identifier.api_name)
        values, value_problems = validate_fields(
            schema, resolved, require_identifier=False, default_country_code=cc, tz=WORKSPACE_TZ
        )
        problems.extend(value_problems)
        if not problems and not values:
            problems.append("say what to change: /lead update <lead id or identifier> key=value …")
        if problems:
            message, blocks = problems_message(problems, action="update the lead")
            return Plan("reply", message, blocks)
        return Plan("update", fields=values, target=cmd.target)
    values, value_problems = validate_fields(
        schema, resolved, require_identifier=True, default_country_code=cc, tz=WORKSPACE_TZ
    )
    problems = list(cmd.errors) + list(key_problems) + list(value_problems)
    if problems:
        message, blocks = problems_message(problems)
        return Plan("reply", message, blocks)
    return Plan("create", fields=values, explicit=set(resolved))


# --- listeners ---------------------------------------------------------------------------------------------


def _user_id(body: Mapping[str, Any]) -> str:
    user = body.get("user")
    return str(user.get("id") if isinstance(user, Mapping) else body.get("user_id") or "")


def _channel_id(body: Mapping[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, Mapping):
        return channel.get("id")
    container = body.get("container") or {}
    return body.get("channel_id") or container.get("channel_id")


def _assignee_names(schema: WorkspaceSchema | None) -> set[str]:
    found = forms.assignee_field(schema) if schema is not None else None
    return {found.api_name} if found is not None else set()


def _schema_or_refresh(services: Services) -> WorkspaceSchema | None:
    """The cached schema without waiting for TeleCRM; when none is cached, start fetching it."""
    schema = services.cache.cached()
    if schema is None:
        services.worker.background(services.cache.get)
    return schema


def register(app: App, services: Services) -> None:
    services.worker.register(CREATE, job_kind(services, create_lead))
    services.worker.register(UPDATE, job_kind(services, update_lead))
    drafts = LeadDrafts(services.store, clock=services.clock)
    usage = FieldUsage(services.store, clock=services.clock)
    cc = services.settings.default_country_code

    def member_email(user: str) -> str | None:
        member, _ = services.member_for(user)
        return member.email if member is not None and member.is_active else None

    def seal(view: dict[str, Any], user: str) -> dict[str, Any]:
        return services.view_seal.seal(view, user=user)

    def opened(ack: Ack, body: Mapping[str, Any], view: Mapping[str, Any]) -> ViewContext | None:
        """The submitted form's context; a form the bot did not open for this person is refused."""
        context = services.view_seal.open(view, user=_user_id(body))
        if context is None:
            ack(response_action="update", view=refused_view())
        return context

    # --- /lead ------------------------------------------------------------------------------------

    @app.command(ids.CMD_LEAD)
    def on_lead(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """Replies and queued writes are settled before the acknowledgement, so Slack's "ok" means
        the write is stored; only the modal and searches follow it."""
        user, channel = _user_id(body), body.get("channel_id")
        schema = services.cache.cached()
        if schema is None:
            _schema_or_refresh(services)
        plan = plan_command(schema, body.get("text") or "", default_country_code=cc)
        if plan.kind == "modal":
            ack()
            open_new_lead(client, body.get("trigger_id", ""), user, channel, respond)
        elif plan.kind == "find":
            services.worker.background(
                find_and_answer, services, user=user, channel=channel, query=plan.query
            )
            ack()
        elif plan.kind in ("create", "update"):
            payload: dict[str, Any] = {
                "fields": plan.fields,
                "user": user,
                "channel": channel,
                "source": "command",
            }
            if plan.kind == "create":
                payload["actions"] = []
                payload["default_assignee"] = not (plan.explicit & _assignee_names(schema))
            else:
                payload["target"] = plan.target
            services.worker.submit(
                f"cmd:{body.get('trigger_id')}", CREATE if plan.kind == "create" else UPDATE, payload
            )
            ack()
        else:
            ack(text=plan.text, blocks=plan.blocks or None)

    def open_new_lead(
        client: WebClient, trigger_id: str, user: str, channel: str | None, respond: Respond
    ) -> None:
        schema = _schema_or_refresh(services)
        if schema is None:
            respond(text=NOT_LOADED, response_type="ephemeral")
            return
        view = forms.new_lead_view(
            schema, channel=channel, usage=usage.counts(), member_email=member_email(user)
        )
        try:
            client.views_open(trigger_id=trigger_id, view=seal(view, user))
        except SlackApiError as exc:
            log.warning("views.open failed for the New lead modal: %s", exc.response.get("error"))
            respond(
                text=":warning: Slack did not open the form in time. Please type `/lead` again "
                '(or create directly: `/lead name="Jane Doe" phone=…`).',
                response_type="ephemeral",
            )

    @app.shortcut(ids.SHORTCUT_LEAD_FROM_MESSAGE)
    def on_lead_from_message(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The New lead form, pre-filled with the phone, email and name found in the message."""
        ack()
        user, channel = _user_id(body), _channel_id(body)
        schema = _schema_or_refresh(services)
        if schema is None:
            services.ephemeral(channel, user, NOT_LOADED)
            return
        text = (body.get("message") or {}).get("text") or ""
        view = forms.new_lead_view(
            schema,
            channel=channel,
            usage=usage.counts(),
            member_email=member_email(user),
            initial=prefill_from_text(schema, text, default_country_code=cc),
        )
        try:
            client.views_open(trigger_id=body["trigger_id"], view=seal(view, user))
        except SlackApiError as exc:
            log.warning("views.open failed for Create lead from message: %s", exc.response.get("error"))
            services.ephemeral(
                channel, user, ":warning: Slack did not open the form in time; try the shortcut again."
            )

    # --- New lead modal ------------------------------------------------------------------------------

    @app.view(ids.VIEW_LEAD_CREATE)
    def on_create_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        context = opened(ack, body, view)
        if context is None:
            return
        schema = services.cache.cached()
        first_input = next(iter(forms.input_block_ids(view.get("blocks") or [])), None)
        if schema is None:
            ack(response_action="errors", errors={first_input: NOT_LOADED[:150]} if first_input else None)
            return
        draft = drafts.get(view["id"], MORE_FIELDS) or {}
        errors, fields, actions = _check_create_form(schema, view, draft)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        user = _user_id(body)
        services.worker.submit(
            f"view:{view['id']}",
            CREATE,
            {
                "fields": fields,
                "actions": actions,
                "user": user,
                # sealed for this user when the form opened: a channel they were in
                "channel": context.channel or user,
                "source": "modal",
            },
        )
        ack()
        if draft:
            drafts.delete(view["id"])

    def _check_create_form(
        schema: WorkspaceSchema, view: Mapping[str, Any], draft: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, Any], list[dict[str, Any]]]:
        """(errors by block id, converted lead fields, actions) of a New lead submission."""
        parts = forms.split_submission(view.get("state", {}).get("values", {}))
        on_page = set(forms.input_block_ids(view.get("blocks") or []))
        saved = dict(draft.get("values") or {})
        given = {k: v for k, v in parts["lead"].items() if has_value(v)}
        values, problems = validate_fields(
            schema,
            {**saved, **given},
            require_identifier=True,
            default_country_code=cc,
            tz=WORKSPACE_TZ,
        )
        errors: dict[str, str] = {}
        fallback = (
            schema.identifier.api_name if schema.identifier.api_name in on_page else next(iter(on_page), "")
        )
        for p in problems:
            block = p.api_name if p.api_name in on_page else fallback
            message = p.message if block == p.api_name else f"More fields → {p.message}"
            errors.setdefault(block, message)
        actions: list[dict[str, Any]] = []
        code = parts["activity_type"]
        if isinstance(code, str) and code:
            action = schema.custom_action(code)
            if action is None:
                errors[forms.ACTIVITY_TYPE_BLOCK] = (
                    "This activity no longer exists in TeleCRM; choose another."
                )
            else:
                act_values, act_problems = validate_fields(
                    schema,
                    parts["activity"],
                    fields=action.fields,
                    default_country_code=cc,
                    tz=WORKSPACE_TZ,
                )
                for p in act_problems:
                    block = forms.ACTIVITY_FIELD_PREFIX + p.api_name
                    errors.setdefault(block if block in on_page else forms.ACTIVITY_TYPE_BLOCK, p.message)
                actions.append(activity_payload(action, act_values))
        other, other_problems = _other_values(schema, draft.get("other"), default_country_code=cc)
        if other_problems:
            errors.setdefault(fallback, "More fields → " + "; ".join(other_problems))
        return {k: v[:2000] for k, v in errors.items() if k}, {**other, **values}, actions

    @app.action(ids.ACT_LEAD_ACTIVITY_PICK)
    def on_activity_pick(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        schema = services.cache.cached()
        view = body.get("view") or {}
        if schema is None or not view:
            return
        chosen = (action.get("selected_option") or {}).get("value")
        definition = schema.custom_action(chosen) if chosen else None
        blocks = forms.with_activity(view.get("blocks") or [], schema, definition)
        try:
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=forms.view_spec(view, blocks))
        except SlackApiError as exc:
            log.info("could not show the activity's fields: %s", exc.response.get("error"))

    @app.action(ids.ACT_OPEN_MORE_FIELDS)
    def on_more_fields(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        schema = services.cache.cached()
        view = body.get("view") or {}
        if schema is None or not view:
            return
        draft = drafts.get(view["id"], MORE_FIELDS) or {}
        initial = {**(draft.get("values") or {}), forms.OTHER_BLOCK: draft.get("other")}
        spec = forms.more_fields_view(
            schema, forms.input_block_ids(view.get("blocks") or []), initial=initial
        )
        # saved before the push: the second page can be submitted the moment it appears
        draft["first_view"] = forms.view_spec(view, view.get("blocks") or [])
        drafts.put(view["id"], MORE_FIELDS, draft, user=_user_id(body))
        try:
            client.views_push(trigger_id=body["trigger_id"], view=seal(spec, _user_id(body)))
        except SlackApiError as exc:
            log.warning("views.push failed for More fields: %s", exc.response.get("error"))

    @app.view(ids.VIEW_LEAD_MORE_FIELDS)
    def on_more_fields_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        if opened(ack, body, view) is None:
            return
        schema = services.cache.cached()
        if schema is None:
            ack()
            return
        parts = forms.split_submission(view.get("state", {}).get("values", {}))
        values, problems = validate_fields(
            schema, parts["lead"], require_identifier=False, default_country_code=cc, tz=WORKSPACE_TZ
        )
        errors = {p.api_name: p.message[:2000] for p in problems}
        _, other_problems = _other_values(schema, parts["other"], default_country_code=cc)
        if other_problems:
            errors[forms.OTHER_BLOCK] = "; ".join(other_problems)[:2000]
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        root = view.get("root_view_id") or view.get("previous_view_id")
        if not root:
            return
        draft = drafts.get(root, MORE_FIELDS) or {}
        draft["values"] = values
        draft["other"] = parts["other"] if isinstance(parts["other"], str) else None
        drafts.put(root, MORE_FIELDS, draft, user=_user_id(body))
        first = draft.get("first_view")
        if not first:
            return
        labels = [schema.field(k).label for k in values if schema.field(k)]
        if draft["other"]:
            labels.append("other fields")
        channel = ViewContext.from_metadata(first.get("private_metadata")).channel  # stored by the bot
        spec = {**first, "blocks": forms.with_more_saved(first["blocks"], channel, labels)}
        try:
            client.views_update(view_id=root, view=spec)
        except SlackApiError as exc:
            log.info("could not note the saved fields on the first page: %s", exc.response.get("error"))

    @app.options(ids.ACT_FIELD_VALUE)
    def on_options(ack: Ack, body: dict[str, Any]) -> None:
        schema = services.cache.cached()
        block_id = str(body.get("block_id") or "")
        found = _field_for_block(schema, block_id, body.get("view") or {}) if schema else None
        if schema is None or found is None:
            ack(options=[])
            return
        ack(options=options_for_query(found, schema, str(body.get("value") or "")))

    def _field_for_block(schema: WorkspaceSchema, block_id: str, view: Mapping[str, Any]) -> FieldDef | None:
        if not block_id.startswith(forms.ACTIVITY_FIELD_PREFIX):
            return schema.field(block_id)
        key = block_id[len(forms.ACTIVITY_FIELD_PREFIX) :]
        values = view.get("state", {}).get("values", {})
        chosen = forms.split_submission(values).get("activity_type")
        actions = [schema.custom_action(chosen)] if isinstance(chosen, str) else list(schema.custom_actions)
        for action in actions:
            for f in action.fields if action else ():
                if f.api_name == key:
                    return f
        return None

    # --- duplicates ------------------------------------------------------------------------------------

    @app.action(ids.ACT_UPDATE_EXISTING)
    def on_update_existing(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """Keyed on the offer, so a double click (or two people) updates the lead once."""
        user = _user_id(body)
        token = str(action.get("value") or "")
        draft = drafts.get(token, DUPLICATE)
        if draft is None:
            ack()
            respond(
                text=":hourglass: This offer has expired. Use `/lead update <lead id> key=value …` instead.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        _, created = services.worker.submit(
            f"dup:{token}",
            UPDATE,
            {
                "lead_id": draft["lead_id"],
                "fields": draft.get("fields") or {},
                "user": user,
                "channel": draft.get("channel") or _channel_id(body),
                "source": "duplicate",
            },
        )
        ack()
        text, blocks = duplicate_done_message(draft.get("name"), user, again=not created)
        respond(text=text, blocks=blocks, replace_original=False, response_type="ephemeral")

    # --- find --------------------------------------------------------------------------------------------

    @app.action(ids.ACT_FIND_MORE)
    def on_find_more(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        try:
            data = json.loads(action.get("value") or "{}")
            skip = max(0, int(data.get("s", 0)))
        except (ValueError, TypeError):
            ack()
            respond(
                text="That list is out of date; search again with `/lead find …`.", response_type="ephemeral"
            )
            return
        services.worker.background(
            find_and_answer,
            services,
            user=_user_id(body),
            channel=_channel_id(body),
            query=str(data.get("q") or ""),
            field=str(data.get("f") or ""),
            value=str(data.get("v") or ""),
            skip=skip,
            respond=respond,
        )
        ack()

    # --- Edit ----------------------------------------------------------------------------------------------

    @app.action(ids.ACT_CARD_EDIT)
    def on_edit(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        lead_id = str(action.get("value") or "")
        user, channel = _user_id(body), _channel_id(body)
        thread = thread_for(services, lead_id) if lead_id else None
        loading = edit_form.edit_loading_view(lead_id, name=thread.name if thread else None, channel=channel)
        try:
            shown = client.views_open(trigger_id=body["trigger_id"], view=seal(loading, user))
        except SlackApiError as exc:
            log.warning("views.open failed for Edit lead: %s", exc.response.get("error"))
            services.ephemeral(
                channel, user, ":warning: Slack did not open the form in time; click *Edit* again."
            )
            return
        services.worker.background(fill_edit_view, shown["view"]["id"], lead_id, channel, user, client)

    def fill_edit_view(view_id: str, lead_id: str, channel: str | None, user: str, client: WebClient) -> None:
        """Read the lead (after the modal is open), then show its current values."""
        schema = services.schema()
        try:
            lead = services.telecrm.get_lead(lead_id)
        except TeleCRMError as exc:
            message = explain_error(exc, what="reading the lead")
            client.views_update(
                view_id=view_id,
                view=seal(edit_form.edit_message_view(lead_id, message, channel=channel), user),
            )
            return
        spec = edit_form.edit_view(
            schema,
            lead_id,
            lead.fields,
            channel=channel,
            usage=usage.counts(),
            lead_link=services.settings.lead_url(lead_id),
        )
        baseline = edit_form.edit_baseline(schema, spec, default_country_code=cc)
        drafts.put(view_id, EDIT, {"lead_id": lead_id, "baseline": baseline})
        try:
            client.views_update(view_id=view_id, view=seal(spec, user))
        except SlackApiError as exc:
            log.info("the Edit modal was closed before the lead was read: %s", exc.response.get("error"))

    @app.view(ids.VIEW_LEAD_EDIT)
    def on_edit_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        context = opened(ack, body, view)
        if context is None:
            return
        schema = services.cache.cached()
        draft = drafts.get(view["id"], EDIT)
        if draft is not None and draft.get("lead_id") != context.lead_id:
            draft = None  # the sealed form is about another lead than the one stored for this view
        if schema is None or draft is None:
            text = (
                NOT_LOADED if schema is None else ":hourglass: This form is out of date; click *Edit* again."
            )
            ack(
                response_action="update",
                view=edit_form.edit_message_view(context.lead_id or "", text, channel=None),
            )
            return
        parts = forms.split_submission(view.get("state", {}).get("values", {}))
        lead_raw = {k: v for k, v in parts["lead"].items() if k != schema.identifier.api_name}
        values, problems = validate_fields(
            schema, lead_raw, require_identifier=False, default_country_code=cc, tz=WORKSPACE_TZ
        )
        errors = {p.api_name: p.message[:2000] for p in problems}
        other, other_problems = _other_values(schema, parts["other"], default_country_code=cc)
        if other_problems:
            errors[forms.OTHER_BLOCK] = "; ".join(other_problems)[:2000]
        if errors:
            ack(response_action="errors", errors=errors)
            return
        baseline = draft.get("baseline") or {}
        changed = {k: v for k, v in {**values, **other}.items() if canonical(v) != canonical(baseline.get(k))}
        if not changed:
            drafts.delete(view["id"])
            ack(
                response_action="update",
                view=edit_form.edit_message_view(
                    draft["lead_id"],
                    ":ok_hand: You changed nothing, so nothing was sent to TeleCRM.",
                    channel=context.channel,
                ),
            )
            return
        services.worker.submit(
            f"view:{view['id']}",
            UPDATE,
            {
                "lead_id": draft["lead_id"],
                "fields": changed,
                "user": _user_id(body),
                "channel": context.channel,
                "source": "edit",
            },
        )
        ack()
        drafts.delete(view["id"])
