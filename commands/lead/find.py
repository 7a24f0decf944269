"""``/lead find`` and finding a lead by what was typed (a lead id, phone, email, name or part of one).

Where it looks, in order: TeleCRM, for a lead id or a full phone or email (TeleCRM matches whole values
only); the bot's own index of the leads it has seen and of the recently created ones
(storage/lead_index.py, kit/lead_index.py), for part of a name, phone, email or company, misspelt a
little; TeleCRM again, for an exact name (a lead the index does not hold). The answer says which one
found the leads, and for the index how many leads it holds and how fresh it is.

A search is a read: it runs in the background (never as an outbox job) and is answered to the
person alone; the *More* button pages through the same search (:func:`on_find_more`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from commands.lead.listener_kit import channel_of, user_of
from commands.lead.messages import (
    FIND_PAGE,
    FROM_TELECRM,
    FindMore,
    FoundLead,
    Message,
    find_message,
    find_more_value,
    index_name,
    index_note,
    no_match_note,
    short_query_message,
)
from commands.lead.values import display_fields
from kit.cards import thread_for, thread_permalink
from kit.context import services_of
from kit.explain import explain_error
from kit.fields import FieldError, convert, normalize_phone
from kit.services import Services
from storage.lead_index import Query
from telecrm.errors import TeleCRMError, TeleCRMNotFound
from telecrm.models import Lead
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

log = logging.getLogger(__name__)

LEAD_ID = re.compile(r"[0-9a-fA-F]{24}")
FROM_INDEX = "~index"  # the More button's "field" when the list came from the bot's index


def _fields_of_type(schema: WorkspaceSchema, ftype: FieldType) -> list[FieldDef]:
    """The workspace's fields of one type, the identifier first (it is the likeliest match)."""
    fields = [f for f in schema.fields if f.type is ftype]
    return sorted(fields, key=lambda f: f.api_name != schema.identifier.api_name)


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
    digits = re.sub(r"\D", "", text)
    if "@" in text:
        out.extend((f.api_name, text.lower()) for f in _fields_of_type(schema, FieldType.EMAIL))
    elif re.fullmatch(r"\+?[\d\s().\-]+", text) and len(digits) >= 6:
        try:
            phone = normalize_phone(text, default_country_code)
        except ValueError:
            phone = digits
        out.extend((f.api_name, phone) for f in _fields_of_type(schema, FieldType.PHONE))
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


def resolve_lead(services: Services, schema: WorkspaceSchema, target: str) -> Lead | None:
    """A lead by id, or by its identifier value (normalised like the stored one)."""
    target = target.strip()
    if LEAD_ID.fullmatch(target):
        try:
            return services.telecrm.get_lead(target.lower())
        except TeleCRMNotFound:
            pass
    value = identifier_value(schema, target, services.settings.default_country_code)
    return services.telecrm.find_lead_by_identifier(schema.identifier.api_name, value)


def find_and_answer(
    services: Services,
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
    try:
        schema = services.schema()  # a first start reads it from TeleCRM here
        text, blocks = search(services, schema, query, field, value, skip)
    except TeleCRMError as exc:
        text, blocks = explain_error(exc, what="the search", doing="read"), None
    if respond is not None:
        try:
            respond(text=text, blocks=blocks, replace_original=True, response_type="ephemeral")
            return
        except Exception:
            log.warning("could not answer through response_url; sending an ephemeral message")
    services.ephemeral(channel, user, text, blocks)


def search(
    services: Services, schema: WorkspaceSchema, query: str, field: str | None, value: str | None, skip: int
) -> Message:
    """One page of matches as a message: an exact phone, email or lead id from TeleCRM; else part of a
    name, phone, email or company from the bot's index; else an exact name from TeleCRM."""
    if Query.parse(query) is None:
        return short_query_message()
    if field == FROM_INDEX:
        return _from_index(services, schema, query, skip) or _nothing(services, schema, query)
    if field:
        return _from_telecrm(services, schema, query, [(field, value or "")], skip) or _nothing(
            services, schema, query
        )
    cc = services.settings.default_country_code
    exact: list[tuple[str, str]] = []
    by_name: list[tuple[str, str]] = []
    for candidate in find_candidates(schema, query, default_country_code=cc):
        found = schema.field(candidate[0])
        exact_kind = candidate[0] == "id" or (found and found.type in (FieldType.PHONE, FieldType.EMAIL))
        (exact if exact_kind else by_name).append(candidate)
    return (
        _from_telecrm(services, schema, query, exact, skip)
        or _from_index(services, schema, query, skip)
        or _from_telecrm(services, schema, query, by_name, skip)
        or _nothing(services, schema, query)
    )


def _from_telecrm(
    services: Services, schema: WorkspaceSchema, query: str, candidates: list[tuple[str, str]], skip: int
) -> Message | None:
    """The first of these exact TeleCRM searches that finds anything, as a message."""
    found, total, used = _first_match(services, candidates, skip)
    if not found:
        return None
    leads = [_found_lead(services, schema, lead.id, lead.fields) for lead in found]
    more = None
    if used is not None and skip + len(found) < total:
        more = find_more_value(used[0], used[1], skip + len(found), query)
    return find_message(schema, query, leads, total=total, skip=skip, more_value=more, note=FROM_TELECRM)


def _from_index(services: Services, schema: WorkspaceSchema, query: str, skip: int) -> Message | None:
    """One page of the bot's index's matches, saying how big and how fresh the index is."""
    page = services.lead_index.search(query, skip=skip, limit=FIND_PAGE)
    if not page.entries:
        return None
    ident = schema.identifier.api_name
    leads = [
        _found_lead(services, schema, e.lead_id, {"name": e.name, ident: e.identifier, "status": e.status})
        for e in page.entries
    ]
    shown_to = skip + len(page.entries)
    more = find_more_value(FROM_INDEX, "", shown_to, query) if shown_to < page.total else None
    note = index_note(page.total, _index_name(services), close=page.close, capped=page.capped)
    return find_message(
        schema, query, leads, total=page.total, skip=skip, more_value=more, note=note, capped=page.capped
    )


def _nothing(services: Services, schema: WorkspaceSchema, query: str) -> Message:
    return find_message(schema, query, [], total=0, note=no_match_note(_index_name(services)))


def _index_name(services: Services) -> str:
    stats = services.lead_index.stats()
    age = None if stats.updated_at is None else services.clock() - stats.updated_at
    return index_name(stats.leads, age)


def _first_match(
    services: Services, candidates: list[tuple[str, str]], skip: int
) -> tuple[list[Lead], int, tuple[str, str] | None]:
    """(leads on this page, how many match, the search that matched — ``None`` for a lead id)."""
    client = services.telecrm
    for api, wanted in candidates:
        if api == "id":
            try:
                lead = client.get_lead(wanted)
            except TeleCRMNotFound:
                continue
            return [Lead(lead.id or wanted, lead.fields)], 1, None
        page = client.search_leads({api: wanted}, skip=skip, limit=FIND_PAGE)
        if page.items:
            return page.items, max(page.total_count, skip + len(page.items)), (api, wanted)
    return [], 0, None


def _found_lead(
    services: Services, schema: WorkspaceSchema, lead_id: str | None, fields: Mapping[str, Any]
) -> FoundLead:
    """A match with its TeleCRM link and, when the bot has posted its card, its thread."""
    thread = thread_for(services, lead_id) if lead_id else None
    return FoundLead(
        lead_id=lead_id,
        fields=display_fields(schema, fields),
        link=services.settings.lead_url(lead_id) if lead_id else None,
        permalink=thread_permalink(services, thread) if thread else None,
    )


def on_find_more(
    ack: Ack, body: dict[str, Any], action: Mapping[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*More*: the next page of the same search, replacing the one shown."""
    more = FindMore.from_value(action.get("value"))
    if more is None:
        ack()
        respond(text="That list is out of date; search again with `/lead find …`.", response_type="ephemeral")
        return
    services = services_of(context)
    services.worker.background(
        find_and_answer,
        services,
        user=user_of(context),
        channel=channel_of(context, body),
        query=more.query,
        field=more.field,
        value=more.value,
        skip=more.skip,
        respond=respond,
    )
    ack()
