"""The TeleCRM side of /lead, run by the worker (never in a Bolt listener).

* ``lead.create``: ``POST /lead``; posts the lead card, then TeleCRM's remarks in the lead's thread.
  A 409 becomes a duplicate reply — unless this is a retry after a lost answer and the existing lead
  was created by the first attempt, in which case the card is posted as if nothing had happened.
* ``lead.update``: reads the lead first and sends only what differs (so a retry never writes twice),
  then posts "updated by @user: field old → new" in the lead's thread.
* ``find``: ``POST /lead/search`` (a read, run in the background), answered to the user alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from commands.lead.forms import assignee_field
from commands.lead.messages import (
    FIND_PAGE,
    Change,
    FoundLead,
    card_in_dm_message,
    created_without_card_message,
    duplicate_message,
    find_message,
    find_more_value,
    identifier_refusal,
    not_found_message,
    nothing_changed_message,
    queued_message,
    quoted,
    refused_message,
    remark_lines,
    remarks_message,
    update_summary,
)
from commands.lead.store import DUPLICATE, FieldUsage, LeadDrafts, new_token
from commands.lead.values import canonical, comparable, display_fields, display_text, has_value
from kit.cards import ensure_thread, lead_name, post_in_thread, post_lead_card, thread_for, thread_permalink
from kit.explain import explain_error, wait_note
from kit.fields import FieldError, convert, normalize_phone
from kit.format import mrkdwn_escape
from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import GiveUp, Job, JobKind
from storage.repositories import LeadThread
from telecrm.client import Lead
from telecrm.errors import TeleCRMConflict, TeleCRMError, TeleCRMNotFound
from telecrm.redact import mask
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

log = logging.getLogger(__name__)

CREATE = "lead.create"
UPDATE = "lead.update"
UPDATE_BEFORE = "update_before"
LEAD_ID = re.compile(r"[0-9a-fA-F]{24}")
# a 409 on a retry is "our own first attempt" only if that lead is about as old as the job
OWN_LEAD_SLACK_SECONDS = 600
_NO_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


# --- search candidates (pure) ------------------------------------------------------------------------


def find_candidates(
    schema: WorkspaceSchema, query: str, *, default_country_code: str = "91"
) -> list[tuple[str, str]]:
    """Where to look for what was typed, best guess first: ``("id", …)`` or ``(field API name, value)``."""
    text = " ".join(query.split())
    if text.lower().startswith("mailto:"):
        text = text[7:]
    out: list[tuple[str, str]] = []
    if LEAD_ID.fullmatch(text):
        out.append(("id", text.lower()))
    ident = schema.identifier

    def of_type(ftype: FieldType) -> list[FieldDef]:
        fields = [f for f in schema.fields if f.type is ftype]
        return sorted(fields, key=lambda f: f.api_name != ident.api_name)

    digits = re.sub(r"\D", "", text)
    if "@" in text:
        out.extend((f.api_name, text.lower()) for f in of_type(FieldType.EMAIL))
    elif re.fullmatch(r"\+?[\d\s().\-]+", text) and len(digits) >= 6:
        try:
            phone = normalize_phone(text, default_country_code)
        except ValueError:
            phone = digits
        out.extend((f.api_name, phone) for f in of_type(FieldType.PHONE))
        if ident.type is FieldType.TEXT:
            out.append((ident.api_name, text))
    if text and not any(k != "id" for k, _ in out):
        name = schema.field("name")
        if name is not None:
            out.append((name.api_name, text))
        if ident.type is FieldType.TEXT and ident.api_name != "name":
            out.append((ident.api_name, text))
    return list(dict.fromkeys(out))


def identifier_value(schema: WorkspaceSchema, text: str, default_country_code: str) -> object:
    """A typed identifier, normalised the way it was stored (phones to country code + number)."""
    try:
        return convert(schema.identifier, text, schema, default_country_code=default_country_code)
    except FieldError:
        return text.strip()


def _label(schema: WorkspaceSchema, api_name: str) -> str:
    found = schema.field(api_name)
    return found.label if found else api_name


class LeadWork:
    """Handlers of the ``lead.*`` outbox jobs and of /lead find."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.drafts = LeadDrafts(services.store, clock=services.clock)
        self.usage = FieldUsage(services.store, clock=services.clock)

    def register(self) -> None:
        worker = self.services.worker
        worker.register(CREATE, JobKind(self.create, on_queued=self._queued, on_failed=self._failed))
        worker.register(UPDATE, JobKind(self.update, on_queued=self._queued, on_failed=self._failed))

    @property
    def _cc(self) -> str:
        return self.services.settings.default_country_code

    # --- telling the user ----------------------------------------------------------------------------

    def tell(self, payload: Mapping[str, Any], text: str, blocks: list | None = None) -> None:
        """Answer the person who asked; a passing Slack failure is raised so the job is retried."""
        user = payload.get("user")
        if user:
            self.services.tell(payload.get("channel") or None, user, text, blocks)

    def _queued(self, job: Job, reason: str, when: float) -> None:
        what = "Your new lead" if job.kind == CREATE else "Your change"
        self.tell(job.payload, queued_message(what) + wait_note(when, self.services.clock()))

    def _failed(self, job: Job, error: BaseException) -> None:
        what = "the lead" if job.kind == CREATE else "the change"
        self.tell(job.payload, explain_error(error, what=what))

    # --- the lead's thread ----------------------------------------------------------------------------

    def _card(
        self, job: Job, lead_id: str, fields: Mapping[str, object], *, title: str = "New lead"
    ) -> LeadThread | None:
        """Post the lead card where the user asked (or, if the bot is not in that channel, in a DM)."""
        existing = thread_for(self.services, lead_id)
        if existing is not None:
            return existing
        payload = job.payload
        shown = display_fields(self.services.schema(), fields)
        user = payload.get("user")
        channel = payload.get("channel") or user
        try:
            return post_lead_card(
                self.services,
                channel=channel,
                lead_id=lead_id,
                fields=shown,
                created_by=user,
                title=title,
                job=job,
            )
        except SlackApiError as exc:
            if is_transient_slack_failure(exc):
                raise
            if exc.response.get("error") not in _NO_CHANNEL or not user or channel == user:
                log.warning("could not post a lead card: %s", exc.response.get("error"))
                return None
        try:
            thread = post_lead_card(
                self.services,
                channel=user,
                lead_id=lead_id,
                fields=shown,
                created_by=user,
                title=title,
                job=job,
            )
        except SlackApiError as exc:
            if is_transient_slack_failure(exc):
                raise
            log.warning("could not post a lead card in a DM either: %s", exc.response.get("error"))
            return None
        post_in_thread(
            self.services,
            thread,
            card_in_dm_message(payload.get("channel")),
            job=job,
            step="card_in_dm_note",
        )
        return thread

    def _thread(self, job: Job, lead_id: str, fields: Mapping[str, object]) -> LeadThread | None:
        payload = job.payload
        try:
            return ensure_thread(
                self.services,
                lead_id,
                channel=payload.get("channel") or payload.get("user"),
                user=payload.get("user"),
                fields=display_fields(self.services.schema(), fields),
                job=job,
            )
        except SlackApiError as exc:
            if is_transient_slack_failure(exc):
                raise
            return self._card(job, lead_id, fields, title="Lead")

    def _say_in_thread(self, job: Job, step: str, thread: LeadThread | None, text: str, blocks: list) -> None:
        """A reply in the lead's thread (once per ``step``), or to the user when there is no thread."""
        if thread is not None:
            try:
                post_in_thread(self.services, thread, text, blocks, job=job, step=step)
                return
            except SlackApiError as exc:
                if is_transient_slack_failure(exc):
                    raise
                log.warning("could not reply in a lead thread: %s", exc.response.get("error"))
        job.once(f"{step}:told", lambda: self.tell(job.payload, text, blocks))

    # --- create ---------------------------------------------------------------------------------------

    def create(self, job: Job) -> dict[str, Any]:
        """Create the lead once (the outcome is recorded before Slack hears of it), then show it."""
        payload = job.payload
        schema = self.services.schema()
        outcome: dict[str, Any] = job.once("telecrm", lambda: self._create_in_telecrm(job, schema))
        if "duplicate_of" in outcome:
            existing = Lead(outcome["duplicate_of"], outcome.get("fields") or {})
            job.once(
                "told", lambda: self._reply_duplicate(payload, schema, existing if existing.id else None)
            )
            return {"duplicate_of": existing.id}
        lead_id = outcome.get("lead_id")
        if not lead_id:
            job.once(
                "told",
                lambda: self.tell(
                    payload,
                    ":white_check_mark: TeleCRM created the lead but did not say its id; find it with `/lead find`.",
                ),
            )
            return {"lead_id": None}
        thread = self._card(job, lead_id, outcome["shown"])
        if thread is None:
            job.once(
                "told",
                lambda: self.tell(payload, created_without_card_message(lead_id)),
            )
        remarks = outcome.get("remarks")
        if remarks:
            self._say_in_thread(job, "remarks", thread, remarks[0], remarks[1])
        try:
            self.usage.record(outcome.get("kept") or {})
        except Exception:
            log.exception("could not record field usage")
        result = {"lead_id": lead_id}
        return {**result, "reconciled": True} if outcome.get("reconciled") else result

    def _create_in_telecrm(self, job: Job, schema: WorkspaceSchema) -> dict[str, Any]:
        """``POST /lead``, or, after an attempt whose answer was lost, the lead that attempt created.

        Returns what the Slack side needs (JSON): the lead id, the fields to show, TeleCRM's remarks
        as a message, or the duplicate lead that already existed.
        """
        payload = job.payload
        fields: dict[str, Any] = dict(payload.get("fields") or {})
        actions: list[dict[str, Any]] = list(payload.get("actions") or [])
        ident = schema.identifier.api_name
        if payload.get("default_assignee"):
            fields.update(self._assignee_default(schema, payload.get("user")))
        if job.is_retry:  # an earlier attempt may have created it: look before sending it again
            own = self._created_earlier(
                job, self.services.telecrm.find_lead_by_identifier(ident, fields.get(ident))
            )
            if own is not None:
                return own
        try:
            result = self.services.telecrm.create_lead(fields, actions or None)
        except TeleCRMConflict:
            existing = self.services.telecrm.find_lead_by_identifier(ident, fields.get(ident))
            own = self._created_earlier(job, existing)
            if own is not None:
                return own
            return {
                "duplicate_of": existing.id if existing else None,
                "fields": dict(existing.fields) if existing else {},
            }
        lead_id = result.lead_id
        if not lead_id:
            return {"lead_id": None}
        ignored = {r.field[len("fields.") :] for r in result.remarks if r.field.startswith("fields.")}
        kept = {k: v for k, v in fields.items() if k not in ignored}
        shown: Mapping[str, object] = kept
        try:
            shown = self.services.telecrm.get_lead(lead_id).fields or kept
        except TeleCRMError as exc:
            log.info("could not read lead %s back after creating it: %s", lead_id, mask(exc))
        lines = remark_lines(schema, result, fields, actions)
        return {
            "lead_id": lead_id,
            "shown": dict(shown),
            "kept": kept,
            "remarks": list(remarks_message(lines)) if lines else None,
        }

    def _assignee_default(self, schema: WorkspaceSchema, user: str | None) -> dict[str, str]:
        """A lead typed by a rep is theirs: the assignee is the rep's TeleCRM account, when there is one."""
        target = assignee_field(schema)
        if target is None or not user:
            return {}
        member, _ = self.services.member_for(user)
        if member is None or not member.is_active:
            return {}
        return {target.api_name: member.email}

    def _created_earlier(self, job: Job, existing: Lead | None) -> dict[str, Any] | None:
        """The create step's outcome when ``existing`` is the lead an earlier attempt of ``job`` created."""
        if not job.is_retry or existing is None or not existing.id or not self._created_by(existing, job):
            return None
        log.info("lead %s was created by an earlier attempt of %s", existing.id, job.key)
        return {"lead_id": existing.id, "shown": dict(existing.fields), "reconciled": True}

    def _created_by(self, lead: Lead, job: Job) -> bool:
        created = lead.fields.get("created_on")
        if isinstance(created, bool) or not isinstance(created, int | float):
            return True
        seconds = created / 1000 if created > 1e11 else created
        return seconds >= job.created_at - OWN_LEAD_SLACK_SECONDS

    def _reply_duplicate(
        self, payload: Mapping[str, Any], schema: WorkspaceSchema, existing: Lead | None
    ) -> None:
        ident = schema.identifier.api_name
        fields = dict(payload.get("fields") or {})
        others = {k: v for k, v in fields.items() if k != ident and has_value(v)}
        token = None
        lead_id = existing.id if existing else None
        if lead_id and others:
            token = new_token()
            self.drafts.put(
                token,
                DUPLICATE,
                {
                    "lead_id": lead_id,
                    "fields": others,
                    "channel": payload.get("channel"),
                    "name": lead_name(schema, existing.fields),
                },
                user=payload.get("user"),
            )
        thread = thread_for(self.services, lead_id) if lead_id else None
        text, blocks = duplicate_message(
            schema,
            identifier_value=fields.get(ident),
            lead_id=lead_id,
            lead_name=lead_name(schema, existing.fields) if existing else None,
            link=self.services.settings.lead_url(lead_id) if lead_id else None,
            permalink=thread_permalink(self.services, thread) if thread else None,
            token=token,
            changes=[
                f"*{mrkdwn_escape(_label(schema, k))}*: {quoted(display_text(schema.field(k), v))}"
                for k, v in others.items()
            ],
            dropped_activity=bool(payload.get("actions")),
        )
        self.tell(payload, text, blocks)

    # --- update ---------------------------------------------------------------------------------------

    def resolve(self, schema: WorkspaceSchema, target: str) -> Lead | None:
        """A lead by id, or by its identifier value (normalised like the stored one)."""
        target = target.strip()
        if LEAD_ID.fullmatch(target):
            try:
                return self.services.telecrm.get_lead(target.lower())
            except TeleCRMNotFound:
                pass
        value = identifier_value(schema, target, self._cc)
        return self.services.telecrm.find_lead_by_identifier(schema.identifier.api_name, value)

    def update(self, job: Job) -> dict[str, Any]:
        """Send only what differs (once; the outcome is recorded), then tell the thread what changed."""
        payload = job.payload
        schema = self.services.schema()
        outcome: dict[str, Any] = job.once("telecrm", lambda: self._update_in_telecrm(job, schema))
        if outcome.get("not_found") is not None:
            self.tell(payload, not_found_message(outcome["not_found"], schema.identifier.label))
            raise GiveUp("lead not found")
        if outcome["refused"]:
            job.once("told_refused", lambda: self.tell(payload, refused_message(outcome["refused"])))
        if not outcome["sent"]:
            if not outcome["refused"]:
                job.once("told", lambda: self.tell(payload, nothing_changed_message(outcome["name"])))
            return {"lead_id": outcome["lead_id"], "changed": []}
        thread = self._thread(job, outcome["lead_id"], outcome["after"])
        lines = [Change(*line) for line in outcome["lines"]]
        if lines or outcome["dropped"]:
            text, blocks = update_summary(str(payload.get("user") or "someone"), lines, outcome["dropped"])
            self._say_in_thread(job, "changes", thread, text, blocks)
        return {"lead_id": outcome["lead_id"], "changed": outcome["sent"]}

    def _update_in_telecrm(self, job: Job, schema: WorkspaceSchema) -> dict[str, Any]:
        """Read the lead, send what differs, and say (as JSON) what changed, what was refused or dropped."""
        payload = job.payload
        lead = self._lead_to_update(schema, payload)
        if lead is None or not lead.id:
            return {"not_found": str(payload.get("lead_id") or payload.get("target") or "?")}
        before = self._before(job, lead.fields)
        wanted = dict(payload.get("fields") or {})
        changes, refused = self._changes(schema, lead, wanted)
        applied = [  # sent by an earlier attempt whose answer was lost: already in the lead
            api
            for api, new in wanted.items()
            if job.is_retry
            and api not in changes
            and schema.field(api) is not None
            and comparable(schema, schema.field(api), before.get(api), default_country_code=self._cc)
            != canonical(new)
        ]
        summary: dict[str, Any] = {
            "lead_id": lead.id,
            "name": lead_name(schema, lead.fields),
            "refused": list(dict.fromkeys(refused)),
            "sent": [],
        }
        if not changes and not applied:
            self.drafts.delete(f"{UPDATE_BEFORE}:{job.key}")
            return summary
        after_fields: Mapping[str, object] = lead.fields
        if changes:
            after_fields = self.services.telecrm.update_lead(lead.id, changes).fields or {
                **lead.fields,
                **changes,
            }
        self.drafts.delete(f"{UPDATE_BEFORE}:{job.key}")
        sent = {**{a: wanted[a] for a in applied}, **changes}
        lines, dropped = self._change_lines(schema, sent, before, after_fields)
        return {
            **summary,
            "sent": sorted(sent),
            "after": dict(after_fields),
            "lines": lines,
            "dropped": dropped,
        }

    def _lead_to_update(self, schema: WorkspaceSchema, payload: Mapping[str, Any]) -> Lead | None:
        if payload.get("lead_id"):
            try:
                return self.services.telecrm.get_lead(payload["lead_id"])
            except TeleCRMNotFound:
                return None
        return self.resolve(schema, str(payload.get("target") or ""))

    def _changes(
        self, schema: WorkspaceSchema, lead: Lead, wanted: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """The fields whose new value differs from the lead's, and the refusals (identifier, locked)."""
        refused: list[str] = []
        changes: dict[str, Any] = {}
        for api, new in wanted.items():
            f = schema.field(api)
            if f is None:
                continue
            current = comparable(schema, f, lead.fields.get(f.api_name), default_country_code=self._cc)
            if f.api_name == schema.identifier.api_name:
                refused.append(identifier_refusal(schema))
            elif f.lock_after_create and has_value(lead.fields.get(f.api_name)):
                if current != canonical(new):
                    refused.append(f"{f.label} is locked after creation in TeleCRM and cannot be changed.")
            elif current != canonical(new):
                changes[f.api_name] = new
        return changes, refused

    def _change_lines(
        self,
        schema: WorkspaceSchema,
        sent: Mapping[str, Any],
        before: Mapping[str, object],
        after: Mapping[str, object],
    ) -> tuple[list[list[str]], list[str]]:
        """``[label, old, new]`` for each field TeleCRM kept, and the labels of those it dropped."""
        lines: list[list[str]] = []
        dropped: list[str] = []
        for api, new in sent.items():
            f = schema.field(api)
            label = f.label if f else api
            if f is not None and comparable(
                schema, f, after.get(api), default_country_code=self._cc
            ) != canonical(new):
                dropped.append(label)
                continue
            lines.append([label, display_text(f, before.get(api)), display_text(f, new)])
        return lines, dropped

    def _before(self, job: Job, current: Mapping[str, object]) -> dict[str, object]:
        """The lead as it was before this job's first attempt (a retry may follow an applied update)."""
        key = f"{UPDATE_BEFORE}:{job.key}"
        if job.is_retry:
            stored = self.drafts.get(key, UPDATE_BEFORE)
            if stored is not None:
                return dict(stored)
        values = {k: v for k, v in current.items() if k in (job.payload.get("fields") or {})}
        self.drafts.put(key, UPDATE_BEFORE, values)
        return dict(values)

    # --- find -----------------------------------------------------------------------------------------

    def find(
        self,
        *,
        user: str,
        channel: str | None,
        query: str,
        field: str | None = None,
        value: str | None = None,
        skip: int = 0,
        respond: Callable[..., Any] | None = None,
    ) -> None:
        """Search, then answer the user alone (replacing the previous page when paging)."""
        schema = self.services.schema()
        try:
            text, blocks = self._find(schema, query, field, value, skip)
        except TeleCRMError as exc:
            text, blocks = explain_error(exc, what="the search"), None
        if respond is not None:
            try:
                respond(text=text, blocks=blocks, replace_original=True, response_type="ephemeral")
                return
            except Exception:
                log.warning("could not answer through response_url; sending an ephemeral message")
        self.services.ephemeral(channel, user, text, blocks)

    def _find(
        self, schema: WorkspaceSchema, query: str, field: str | None, value: str | None, skip: int
    ) -> tuple[str, list]:
        candidates = (
            [(field, value or "")] if field else find_candidates(schema, query, default_country_code=self._cc)
        )
        client = self.services.telecrm
        found: list[Lead] = []
        total = 0
        used: tuple[str, str] | None = None
        for api, wanted in candidates:
            if api == "id":
                try:
                    lead = client.get_lead(wanted)
                except TeleCRMNotFound:
                    continue
                found, total, used = [Lead(lead.id or wanted, lead.fields)], 1, None
                break
            page = client.search_leads({api: wanted}, skip=skip, limit=FIND_PAGE)
            if page.items:
                found, total, used = page.items, max(page.total_count, skip + len(page.items)), (api, wanted)
                break
        leads = []
        for lead in found:
            thread = thread_for(self.services, lead.id) if lead.id else None
            leads.append(
                FoundLead(
                    lead_id=lead.id,
                    fields=display_fields(schema, lead.fields),
                    link=self.services.settings.lead_url(lead.id) if lead.id else None,
                    permalink=thread_permalink(self.services, thread) if thread else None,
                )
            )
        more = None
        if used is not None and skip + len(found) < total:
            more = find_more_value(used[0], used[1], skip + len(found), query)
        return find_message(schema, query, leads, total=total, skip=skip, more_value=more)
