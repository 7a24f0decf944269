"""Tolerant readers of TeleCRM's answers (docs/TELECRM.md).

Real workspaces differ from the documentation in key names and shapes, so ids, statuses and pages are
looked for in every place TeleCRM is known to put them, and a malformed part is skipped rather than
fatal. Each reader turns one answer into the objects of :mod:`telecrm.models`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from telecrm.models import ActionOutcome, Lead, Page, Remark, WriteResult

_LEAD_ID_KEYS = ("id", "_id", "leadId", "lead_id")
# Standard fields some workspaces return at a search row's top level instead of inside ``fields``.
_TOP_LEVEL_FIELDS = ("status", "rating", "name", "phone", "email", "assignee")

T = TypeVar("T")


def as_dict(body: object) -> dict[str, Any]:
    """The answer as a dict; anything that is not a JSON object reads as empty."""
    return dict(body) if isinstance(body, Mapping) else {}


def _as_int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload]  # TeleCRM's answer is untyped; bad values fall to except
    except (TypeError, ValueError):
        return default


def _id_string(value: object) -> str | None:
    if isinstance(value, Mapping):  # e.g. {"$oid": "..."}
        value = value.get("$oid") or value.get("id")
    if value is None or value == "":
        return None
    return str(value)


def parse_write_result(body: Mapping[str, Any], *, lead_id: str | None = None) -> WriteResult:
    actions = []
    for raw in body.get("actions") or []:
        if isinstance(raw, Mapping):
            action_id = _id_string(raw.get("action_id") or raw.get("actionId") or raw.get("id"))
            actions.append(
                ActionOutcome(action_id, str(raw.get("status") or ("CREATED" if action_id else "IGNORED")))
            )
    remarks = []
    for raw in body.get("remarks") or []:
        if isinstance(raw, Mapping):
            remarks.append(
                Remark(
                    field=str(raw.get("field") or ""),
                    status=str(raw.get("status") or "IGNORED"),
                    remark=str(raw.get("remark") or raw.get("message") or ""),
                )
            )
        elif raw:
            remarks.append(Remark("", "IGNORED", str(raw)))
    found_id = None
    for key in ("lead_id", *_LEAD_ID_KEYS):
        found_id = _id_string(body.get(key))
        if found_id:
            break
    return WriteResult(lead_id=found_id or lead_id, actions=actions, remarks=remarks)


def parse_lead(body: Mapping[str, Any], *, lead_id: str | None = None) -> Lead:
    """A lead from get/update answers or from a search row (id and status wherever they are)."""
    fields = body.get("fields")
    fields = dict(fields) if isinstance(fields, Mapping) else {}
    for key in _TOP_LEVEL_FIELDS:
        if key not in fields and key in body and not isinstance(body[key], (Mapping, list)):
            fields[key] = body[key]
    found_id = None
    for key in _LEAD_ID_KEYS:
        found_id = _id_string(body.get(key))
        if found_id:
            break
    actions = body.get("actions")
    has_slice = "actions_skip" in body or "actions_limit" in body
    return Lead(
        id=found_id or lead_id,
        fields=fields,
        actions=[dict(a) for a in actions if isinstance(a, Mapping)] if isinstance(actions, list) else [],
        actions_skip=_as_int(body.get("actions_skip"), 0) if has_slice else None,
        actions_limit=_as_int(body.get("actions_limit"), 0) if has_slice else None,
    )


def parse_page(body: object, item: Callable[[Mapping[str, Any]], T], *, skip: int, limit: int) -> Page[T]:
    envelope: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    rows: list[Any] = (
        body
        if isinstance(body, list)
        else next(
            (envelope[k] for k in ("data", "items", "results", "leads") if isinstance(envelope.get(k), list)),
            [],
        )
    )
    items = [item(r) for r in rows if isinstance(r, Mapping)]
    total = envelope.get("total_count", envelope.get("totalCount", envelope.get("total")))
    real_skip = _as_int(envelope.get("skip"), skip)
    return Page(
        items=items,
        total_count=_as_int(total, real_skip + len(items)),
        skip=real_skip,
        limit=_as_int(envelope.get("limit"), limit),
    )
