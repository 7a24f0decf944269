"""The type table: for each TeleCRM field type, how it is described, rendered and converted.

Typed ``/lead`` values and modal submissions both go through :func:`convert`, so a value is checked
the same way whichever way it arrived. :func:`validate_fields` and :func:`resolve_keys` check a whole
form or a whole ``/lead`` line; :func:`input_block` renders one field for a modal.
"""

from __future__ import annotations

import copy
import difflib
import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kit.fields.base import (
    MAX_HINT,
    MAX_LABEL,
    PHONE_EXAMPLE,
    ConvertCtx,
    ElementCtx,
    FieldError,
    Problem,
    fail,
    is_empty,
    shown,
)
from kit.fields.choices import (
    convert_dropdown,
    convert_lost_reason,
    convert_member,
    convert_status,
    convert_tags,
    describe_dropdown,
    describe_lost_reason,
    describe_member,
    describe_status,
    describe_tags,
)
from kit.fields.dates import convert_date
from kit.fields.elements import (
    element_choice,
    element_date,
    element_email,
    element_member,
    element_money,
    element_number,
    element_phone,
    element_tags,
    element_text,
    element_url,
    plain,
)
from kit.fields.values import (
    convert_email,
    convert_money,
    convert_number,
    convert_phone,
    convert_rating,
    convert_text,
    convert_url,
)
from kit.format import truncate
from telecrm.schema import FieldDef, FieldType, WorkspaceSchema

# The package's one logger keeps the name it had as a single module ("kit.fields"), so log
# configuration and tests that listen on "kit.fields" (tests/unit/test_properties.py) still hear it.
log = logging.getLogger("kit.fields")


def _fixed(text: str) -> Callable[[FieldDef, WorkspaceSchema], str]:
    return lambda field, schema: text


@dataclass(frozen=True)
class FieldKind:
    """How one TeleCRM type is described, rendered as a Block Kit element, and converted."""

    describe: Callable[[FieldDef, WorkspaceSchema], str]
    element: Callable[[FieldDef, ElementCtx], dict[str, Any]]
    convert: Callable[[FieldDef, object, ConvertCtx], object]
    hint: str = ""


_KINDS: dict[FieldType, FieldKind] = {
    FieldType.TEXT: FieldKind(_fixed("text"), element_text, convert_text),
    FieldType.EMAIL: FieldKind(
        _fixed("an email address, e.g. jane@example.com"), element_email, convert_email
    ),
    FieldType.PHONE: FieldKind(
        _fixed(f"a phone number with country code, e.g. {PHONE_EXAMPLE}"),
        element_phone,
        convert_phone,
        hint=f"Phone with country code, e.g. {PHONE_EXAMPLE}",
    ),
    FieldType.NUMBER: FieldKind(_fixed("a number, e.g. 1500 or 12.5"), element_number, convert_number),
    FieldType.MONEY: FieldKind(_fixed("an amount more than 0, e.g. 5000"), element_money, convert_money),
    FieldType.DATE: FieldKind(
        _fixed("a date, DD/MM/YYYY (optionally with a time, 25/12/2026 10:30), or today / tomorrow"),
        element_date,
        convert_date,
    ),
    FieldType.DROPDOWN: FieldKind(describe_dropdown, element_choice, convert_dropdown),
    FieldType.TAGS: FieldKind(describe_tags, element_tags, convert_tags),
    FieldType.WEBSITE: FieldKind(_fixed("a web address, e.g. https://example.com"), element_url, convert_url),
    FieldType.MEDIALINK: FieldKind(
        _fixed("a public link to a file, e.g. https://example.com/brochure.pdf"), element_url, convert_url
    ),
    FieldType.ACTIVE_USERS: FieldKind(describe_member, element_member, convert_member),
    FieldType.RATING: FieldKind(_fixed("1–5"), element_choice, convert_rating),
    FieldType.STATUS: FieldKind(describe_status, element_choice, convert_status),
    FieldType.LOST_REASON: FieldKind(describe_lost_reason, element_choice, convert_lost_reason),
}


def kind_of(field: FieldDef) -> FieldKind:
    """The field's row of the table; a type without one is treated as text, never an error."""
    return _KINDS.get(field.type, _KINDS[FieldType.TEXT])


def describe_type(field: FieldDef, schema: WorkspaceSchema) -> str:
    """What a value of this field must look like, for help texts and error messages."""
    return kind_of(field).describe(field, schema)


def convert(
    field: FieldDef,
    raw: object,
    schema: WorkspaceSchema,
    *,
    default_country_code: str = "91",
    tz: str | None = None,
    now: datetime | None = None,
) -> object:
    """User input (typed text, or a value read from a modal element) → the JSON value TeleCRM expects.

    Raises :class:`FieldError` and nothing else, so one bad value can always be reported, never crash.
    """
    if is_empty(raw):
        raise fail(field, "a value is required")
    ctx = ConvertCtx(schema, default_country_code, tz, now)
    try:
        return kind_of(field).convert(field, raw, ctx)
    except FieldError:
        raise
    except Exception:
        log.exception("unexpected error converting a %s value for %s", field.type, field.api_name)
        raise fail(field, f"{shown(raw)} could not be read — {describe_type(field, schema)}") from None


def validate_fields(
    schema: WorkspaceSchema,
    raw: Mapping[str, object],
    *,
    require_identifier: bool = True,
    default_country_code: str = "91",
    tz: str | None = None,
    now: datetime | None = None,
    fields: Sequence[FieldDef] | None = None,
    memo: ConvertMemo | None = None,
) -> tuple[dict[str, object], list[Problem]]:
    """Check and convert a whole form. Keys are API names; results come back in the schema's order.

    Empty values are skipped (fields are optional), except that with ``require_identifier`` (a create)
    the identifier and any field marked required must be present. ``fields`` validates another set of
    fields (a custom action's ``fieldSchema``) against the same workspace. A key that is not a field is
    reported, never silently dropped. ``memo`` remembers conversions across calls (a bulk import
    checks the same city or status thousands of times).
    """
    defs = tuple(schema.fields if fields is None else fields)
    by_lower = {f.api_name.lower(): f for f in defs}
    identifier = schema.identifier.api_name.lower() if fields is None else None
    given: dict[str, object] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        f = by_lower.get(str(key).strip().lower())
        if f is None:
            problems.append(Problem(str(key), str(key), f"“{key}” is not a field of this workspace"))
        else:
            given[f.api_name] = value
    values: dict[str, object] = {}
    for f in defs:
        required = require_identifier and (f.required or f.api_name.lower() == identifier)
        value = given.get(f.api_name)
        if is_empty(value):
            if required:
                problems.append(
                    Problem(f.api_name, f.label, f"{f.label} is required — {describe_type(f, schema)}")
                )
            continue
        try:
            if memo is not None:
                values[f.api_name] = memo.convert(
                    f, value, schema, default_country_code=default_country_code, tz=tz, now=now
                )
            else:
                values[f.api_name] = convert(
                    f, value, schema, default_country_code=default_country_code, tz=tz, now=now
                )
        except FieldError as exc:
            problems.append(Problem(f.api_name, f.label, exc.message))
    return values, problems


# Types whose values repeat across the rows of a file (a city, a status, a date) and are worth
# remembering; phones and emails are mostly unique, so remembering them would only cost memory.
_MEMO_TYPES = frozenset(
    {
        FieldType.DROPDOWN,
        FieldType.STATUS,
        FieldType.LOST_REASON,
        FieldType.ACTIVE_USERS,
        FieldType.RATING,
        FieldType.DATE,
        FieldType.TAGS,
        FieldType.MONEY,
        FieldType.NUMBER,
    }
)


@dataclass(frozen=True)
class _Refused:
    message: str
    detail: str


class ConvertMemo:
    """:func:`convert` remembered per (field, value) for one schema and one set of options: the
    same answer — value or :class:`FieldError` — as converting again. At most ``limit`` values per
    field are kept, so a column of unique values costs bounded memory."""

    def __init__(self, limit: int = 5000) -> None:
        self._limit = limit
        self._seen: dict[
            int, dict[object, object]
        ] = {}  # by id(field): an action field may share a lead field's name

    def convert(
        self,
        field: FieldDef,
        raw: object,
        schema: WorkspaceSchema,
        *,
        default_country_code: str,
        tz: str | None,
        now: datetime | None,
    ) -> object:
        if field.type not in _MEMO_TYPES or not isinstance(raw, str):
            return convert(field, raw, schema, default_country_code=default_country_code, tz=tz, now=now)
        seen = self._seen.setdefault(id(field), {})
        if raw in seen:
            found = seen[raw]
        else:
            try:
                found = convert(field, raw, schema, default_country_code=default_country_code, tz=tz, now=now)
            except FieldError as exc:
                found = _Refused(exc.message, exc.detail)
            if len(seen) < self._limit:
                seen[raw] = found
        if isinstance(found, _Refused):  # a new error each time: a raised one carries its traceback
            raise FieldError(found.message, detail=found.detail)
        return copy.copy(found)  # a list (tags) must not be shared between rows


_NOT_IN_KEYS = re.compile(r"[\s_\-]")


@functools.lru_cache(maxsize=4096)  # field names and the keys people type: a few hundred in practice
def _norm_key(text: str) -> str:
    return _NOT_IN_KEYS.sub("", text.casefold())


@dataclass(frozen=True)
class _KeyIndex:
    exact: dict[str, FieldDef]
    loose: dict[str, list[FieldDef]]


# The key index of the last few field lists, by identity: a cached schema's ``fields`` is one tuple
# for its lifetime, so each ``/lead`` line skips re-normalising every name and label (the strong
# reference kept beside it means an id is never reused while it is here).
_KEY_INDEXES: dict[int, tuple[Sequence[FieldDef], _KeyIndex]] = {}
_KEY_INDEXES_KEPT = 8


def _key_index(defs: tuple[FieldDef, ...]) -> _KeyIndex:
    hit = _KEY_INDEXES.get(id(defs))
    if hit is not None and hit[0] is defs:
        return hit[1]
    exact = {f.api_name.casefold(): f for f in defs}
    loose: dict[str, list[FieldDef]] = {}
    for f in defs:
        for name in {_norm_key(f.api_name), _norm_key(f.label)}:
            if name and f not in loose.setdefault(name, []):
                loose[name].append(f)
    index = _KeyIndex(exact, loose)
    if len(_KEY_INDEXES) >= _KEY_INDEXES_KEPT:
        _KEY_INDEXES.clear()
    _KEY_INDEXES[id(defs)] = (defs, index)
    return index


def resolve_keys(
    schema: WorkspaceSchema, pairs: Sequence[tuple[str, str]], *, fields: Sequence[FieldDef] | None = None
) -> tuple[dict[str, str], list[Problem]]:
    """Typed keys → API names: case-insensitive, by API name or label, ignoring ``-``, ``_`` and spaces.

    Unknown keys are reported with the closest field names; a field given twice is reported too.
    """
    defs = tuple(schema.fields if fields is None else fields)
    index = _key_index(defs)
    exact, loose = index.exact, index.loose
    resolved: dict[str, str] = {}
    typed_as: dict[str, str] = {}
    problems: list[Problem] = []
    for key, value in pairs:
        key = key.strip()
        if not key:
            problems.append(Problem("", "", f"missing field name before “={truncate(value, 30)}”"))
            continue
        found = exact.get(key.casefold())
        if found is None:
            candidates = loose.get(_norm_key(key), [])
            if len(candidates) > 1:
                names = " or ".join(c.api_name for c in candidates)
                problems.append(Problem(key, key, f"“{key}” could mean {names} — use the API name"))
                continue
            found = candidates[0] if candidates else None
        if found is None:
            problems.append(Problem(key, key, _unknown_key_message(key, defs)))
            continue
        if found.api_name in resolved:
            problems.append(
                Problem(
                    found.api_name,
                    found.label,
                    f"{found.label} is given twice ({typed_as[found.api_name]}= and {key}=) — give it once",
                )
            )
            continue
        resolved[found.api_name] = value
        typed_as[found.api_name] = key
    return resolved, problems


def _unknown_key_message(key: str, defs: Sequence[FieldDef]) -> str:
    names = {_norm_key(f.api_name): f.api_name for f in defs}
    names.update({_norm_key(f.label): f.api_name for f in defs})
    close = difflib.get_close_matches(_norm_key(key), list(names), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[c] for c in close))
    message = f"“{key}” is not a field of this workspace"
    if suggestions:
        return message + " — did you mean " + " or ".join(suggestions) + "?"
    listed = [f.api_name for f in defs][:12]
    more = "…" if len(defs) > 12 else ""
    return message + " — fields: " + ", ".join(listed) + more


def element_for(
    field: FieldDef,
    schema: WorkspaceSchema,
    *,
    action_id: str,
    initial: object = None,
    preferred_member_email: str | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """The Block Kit input element for a field, within Slack's limits whatever the workspace holds."""
    kind = kind_of(field)
    ctx = ElementCtx(schema, action_id, initial, preferred_member_email, tz, kind.convert)
    return kind.element(field, ctx)


def input_block(
    field: FieldDef,
    schema: WorkspaceSchema,
    *,
    optional: bool,
    block_id: str | None = None,
    action_id: str = "value",
    initial: object = None,
    preferred_member_email: str | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """One modal input block; ``block_id`` is the field's API name so errors map back to the field."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id or field.api_name,
        "label": plain(field.label or field.api_name, MAX_LABEL),
        "element": element_for(
            field,
            schema,
            action_id=action_id,
            initial=initial,
            preferred_member_email=preferred_member_email,
            tz=tz,
        ),
        "optional": optional,
    }
    hint = field.description.strip() or kind_of(field).hint
    if field.type is FieldType.TAGS and block["element"]["type"] == "plain_text_input":
        hint = hint or "Comma-separated, e.g. VIP, Returning"
    if hint:
        block["hint"] = plain(hint, MAX_HINT)
    return block
