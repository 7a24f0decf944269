"""Submitted /lead forms read into TeleCRM values, or into errors by block id (pure).

The listeners (:mod:`commands.lead.new_lead`, :mod:`commands.lead.edit`) answer a submission with
these errors before anything is queued, so a bad value never reaches TeleCRM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commands.lead import forms
from commands.lead.messages import identifier_refusal
from commands.lead.values import WORKSPACE_TZ, canonical, has_value
from kit.activity_section import BLOCK_PICK, activity_payload
from kit.fields import resolve_keys, validate_fields
from kit.grammar import tokenize_kv
from telecrm.schema import WorkspaceSchema

Errors = dict[str, str]


def other_values(
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


def check_new_lead(
    schema: WorkspaceSchema,
    view: Mapping[str, Any],
    draft: Mapping[str, Any],
    *,
    default_country_code: str,
    default_currency: str = "INR",
) -> tuple[Errors, dict[str, Any], list[dict[str, Any]]]:
    """(errors by block id, converted lead fields, actions: the chosen activity, an advance payment)
    of a New lead submission.

    ``draft`` holds what the *More fields* page saved; its problems are shown on the first page.
    """
    cc = default_country_code
    parts = forms.split_submission(view.get("state", {}).get("values", {}))
    on_page = set(forms.input_block_ids(view.get("blocks") or []))
    saved = dict(draft.get("values") or {})
    given = {k: v for k, v in parts["lead"].items() if has_value(v)}
    values, problems = validate_fields(
        schema, {**saved, **given}, require_identifier=True, default_country_code=cc, tz=WORKSPACE_TZ
    )
    errors: Errors = {}
    fallback = (
        schema.identifier.api_name if schema.identifier.api_name in on_page else next(iter(on_page), "")
    )
    for p in problems:
        block = p.api_name if p.api_name in on_page else fallback
        message = p.message if block == p.api_name else f"More fields → {p.message}"
        errors.setdefault(block, message)
    actions = _check_activity(schema, parts, on_page, errors, cc)
    payment, problem = forms.advance_payment(view.get("state", {}).get("values", {}), default_currency)
    if problem:
        errors[forms.ADVANCE_AMOUNT_BLOCK] = problem
    elif payment is not None:
        actions.append(payment)
    other, other_problems = other_values(schema, draft.get("other"), default_country_code=cc)
    if other_problems:
        errors.setdefault(fallback, "More fields → " + "; ".join(other_problems))
    return {k: v[:2000] for k, v in errors.items() if k}, {**other, **values}, actions


def _check_activity(
    schema: WorkspaceSchema, parts: Mapping[str, Any], on_page: set[str], errors: Errors, cc: str
) -> list[dict[str, Any]]:
    """The chosen activity as a create-call action (adding its problems to ``errors``; a problem with
    a field the form could not show is put on the activity select)."""
    action, problems = activity_payload(schema, parts["activity"], tz=WORKSPACE_TZ, default_country_code=cc)
    for block, message in problems.items():
        errors.setdefault(block if block in on_page else BLOCK_PICK, message)
    return [action] if action is not None else []


def check_more_fields(
    schema: WorkspaceSchema, view: Mapping[str, Any], *, default_country_code: str
) -> tuple[Errors, dict[str, Any], str | None]:
    """(errors by block id, converted values, the "Other fields" text) of the *More fields* page."""
    cc = default_country_code
    parts = forms.split_submission(view.get("state", {}).get("values", {}))
    values, problems = validate_fields(
        schema, parts["lead"], require_identifier=False, default_country_code=cc, tz=WORKSPACE_TZ
    )
    errors = {p.api_name: p.message[:2000] for p in problems}
    _, other_problems = other_values(schema, parts["other"], default_country_code=cc)
    if other_problems:
        errors[forms.OTHER_BLOCK] = "; ".join(other_problems)[:2000]
    return errors, values, parts["other"] if isinstance(parts["other"], str) else None


def check_edit(
    schema: WorkspaceSchema,
    view: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    default_country_code: str,
) -> tuple[Errors, dict[str, Any]]:
    """(errors by block id, the fields that differ from ``baseline``) of an Edit submission.

    The identifier is left out (it cannot change); ``baseline`` is what the untouched form submits
    (:func:`commands.lead.edit_form.edit_baseline`), so an unchanged field is never sent.
    """
    cc = default_country_code
    parts = forms.split_submission(view.get("state", {}).get("values", {}))
    lead_raw = {k: v for k, v in parts["lead"].items() if k != schema.identifier.api_name}
    values, problems = validate_fields(
        schema, lead_raw, require_identifier=False, default_country_code=cc, tz=WORKSPACE_TZ
    )
    errors = {p.api_name: p.message[:2000] for p in problems}
    other, other_problems = other_values(schema, parts["other"], default_country_code=cc)
    if other_problems:
        errors[forms.OTHER_BLOCK] = "; ".join(other_problems)[:2000]
    if errors:
        return errors, {}
    changed = {k: v for k, v in {**values, **other}.items() if canonical(v) != canonical(baseline.get(k))}
    return {}, changed
