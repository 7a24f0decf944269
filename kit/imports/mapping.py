"""Which column of a spreadsheet goes where: a lead field, the payment, or a custom action's field.

A mapping is ``{column header: target}`` (stored as the import's ``mapping``, ``storage/imports.py``),
a target being one of:

* a lead field's API name (``phone``, ``city``);
* ``payment.amount``, ``payment.currency``, ``payment.status`` — one PAYMENT action per row;
* ``action:<code>.<field>`` — a field of a custom action (``action:ACTION_1001.note``): the row gets
  that action, sent with the ``ACTION_`` type the Async API needs (docs/API.md §7.2);
* ``None`` — the column is left out.

Headers are matched to API names and labels ignoring case, accents, spaces, ``_`` and ``-`` (so
``Téléphone`` is not ``Phone``, but ``E-mail``, ``EMAIL`` and ``e_mail`` are the ``email`` field). A
custom-action column is named ``<action name or code>: <field>`` (``Site Visit: Note``,
``ACTION_1001: note``, ``1001: outcome``). Pure: the schema is all it needs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from telecrm.schema import CustomActionDef, FieldDef, WorkspaceSchema

PAYMENT_PARTS = ("amount", "currency", "status")
PAYMENT_PREFIX = "payment."
ACTION_PREFIX = "action:"
_PAYMENT_HEADERS = {
    "amount": ("paymentamount", "amountpaid", "paidamount", "payment"),
    "currency": ("paymentcurrency", "currency"),
    "status": ("paymentstatus",),
}

Mapping_ = dict[str, str | None]


def fold(text: str) -> str:
    """The form headers and names are compared in: no accents, no case, no spaces, ``_`` or ``-``."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-.]", "", bare.casefold())


@dataclass(frozen=True)
class Target:
    """One place a column can go, as offered in *Change mapping*."""

    key: str  # the stored target string
    label: str  # as people read it


def lead_field_target(f: FieldDef) -> Target:
    return Target(f.api_name, f.label or f.api_name)


def payment_target(part: str) -> Target:
    return Target(PAYMENT_PREFIX + part, f"Payment {part}")


def action_target(action: CustomActionDef, f: FieldDef) -> Target:
    return Target(
        f"{ACTION_PREFIX}{action.code}.{f.api_name}", f"{action.display_name}: {f.label or f.api_name}"
    )


def all_targets(schema: WorkspaceSchema) -> list[Target]:
    """Every target of this workspace, lead fields first (the identifier first of them)."""
    fields = sorted(schema.fields, key=lambda f: f.api_name != schema.identifier.api_name)
    targets = [lead_field_target(f) for f in fields]
    targets += [payment_target(part) for part in PAYMENT_PARTS]
    for action in schema.custom_actions:
        targets += [action_target(action, f) for f in action.fields]
    return targets


def target_label(schema: WorkspaceSchema, target: str | None) -> str:
    """How a target is named in the preview; an unknown one is shown as stored."""
    if target is None:
        return "left out"
    for t in all_targets(schema):
        if t.key == target:
            return t.label
    return target


def auto_map(headers: Iterable[str], schema: WorkspaceSchema) -> Mapping_:
    """Each header's target by its name; a target claimed by an earlier column is not given twice."""
    names = _name_index(schema)
    taken: set[str] = set()
    out: Mapping_ = {}
    for header in headers:
        target = _match(header, schema, names)
        if target is not None and target in taken:
            target = None
        if target is not None:
            taken.add(target)
        out[header] = target
    return out


def _name_index(schema: WorkspaceSchema) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in schema.fields:
        for name in (f.api_name, f.label):
            if name and fold(name) not in index:
                index[fold(name)] = f.api_name
    for part, aliases in _PAYMENT_HEADERS.items():
        for alias in aliases:
            index.setdefault(alias, PAYMENT_PREFIX + part)
    return index


def _match(header: str, schema: WorkspaceSchema, names: Mapping[str, str]) -> str | None:
    found = names.get(fold(header))
    if found is not None:
        return found
    if ":" in header:
        return _action_column(header, schema)
    return None


def _action_column(header: str, schema: WorkspaceSchema) -> str | None:
    """``Site Visit: Note`` / ``ACTION_1001: note`` / ``1001: note`` → ``action:ACTION_1001.note``."""
    head, _, tail = header.rpartition(":")
    wanted = fold(head)
    for action in schema.custom_actions:
        numeric = action.code.split("_", 1)[-1]
        if wanted not in (fold(action.display_name), fold(action.code), fold(numeric)):
            continue
        for f in action.fields:
            if fold(tail) in (fold(f.api_name), fold(f.label)):
                return f"{ACTION_PREFIX}{action.code}.{f.api_name}"
    if fold(head) == "payment" and fold(tail) in PAYMENT_PARTS:
        return PAYMENT_PREFIX + fold(tail)
    return None


def split_action_target(target: str) -> tuple[str, str] | None:
    """``action:ACTION_1001.note`` → (``ACTION_1001``, ``note``); None for any other target."""
    if not target.startswith(ACTION_PREFIX) or "." not in target:
        return None
    code, _, field = target[len(ACTION_PREFIX) :].partition(".")
    return code, field


def valid_targets(schema: WorkspaceSchema) -> set[str]:
    return {t.key for t in all_targets(schema)}


def mapping_problems(schema: WorkspaceSchema, mapping: Mapping_) -> list[str]:
    """What keeps a mapping from being usable at all, for the preview's first lines."""
    problems = []
    targets = [t for t in mapping.values() if t]
    if schema.identifier.api_name not in targets:
        label = schema.identifier.label or schema.identifier.api_name
        problems.append(
            f"No column is mapped to {label}, the lead identifier — every lead needs one. "
            f"Name a column {label} (or {schema.identifier.api_name}), or use *Change mapping*."
        )
    payment = [t for t in targets if t.startswith(PAYMENT_PREFIX)]
    if payment and PAYMENT_PREFIX + "amount" not in payment:
        problems.append("Payment columns need a payment amount column too — or leave them out.")
    return problems
