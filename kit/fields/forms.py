"""Modals as a whole: which fields a form shows first, and reading a submitted form back.

Slack reports each element's state in its own shape (``selected_option``, ``selected_date``,
``rich_text_value``…); :func:`value_from_state` turns every one of them into the raw value a
converter accepts, so a submitted form is checked exactly like typed ``/lead`` text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telecrm.schema import FieldDef, WorkspaceSchema


def _rich_text(node: object) -> str:
    if isinstance(node, Mapping):
        if node.get("type") in ("text", "link"):
            return str(node.get("text") or node.get("url") or "")
        return "".join(_rich_text(child) for child in node.get("elements") or [])
    if isinstance(node, list):
        return "".join(_rich_text(child) for child in node)
    return ""


def value_from_state(element_state: Mapping[str, Any]) -> object:
    """One element of ``view.state.values`` → the raw value the user gave (``None`` when nothing)."""
    kind = element_state.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = element_state.get("selected_option")
        return option.get("value") if isinstance(option, Mapping) else None
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return [o.get("value") for o in element_state.get("selected_options") or [] if isinstance(o, Mapping)]
    if kind == "datepicker":
        return element_state.get("selected_date")
    if kind == "datetimepicker":
        return element_state.get("selected_date_time")
    if kind == "timepicker":
        return element_state.get("selected_time")
    if kind == "users_select":
        return element_state.get("selected_user")
    if kind == "multi_users_select":
        return list(element_state.get("selected_users") or [])
    if kind == "conversations_select":
        return element_state.get("selected_conversation")
    if kind == "multi_conversations_select":
        return list(element_state.get("selected_conversations") or [])
    if kind == "channels_select":
        return element_state.get("selected_channel")
    if kind == "multi_channels_select":
        return list(element_state.get("selected_channels") or [])
    if kind == "rich_text_input":
        text = _rich_text(element_state.get("rich_text_value"))
        return text or None
    if kind == "file_input":
        return list(element_state.get("files") or [])
    if "value" in element_state:
        return element_state.get("value")
    for key in ("selected_option", "selected_options"):
        if key in element_state:
            return value_from_state(
                {**element_state, "type": "static_select" if key[-1] == "n" else "checkboxes"}
            )
    return None


def form_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, object]:
    """A whole modal's ``view.state.values`` → ``{block_id: raw value}`` (first action of each block)."""
    out: dict[str, object] = {}
    for block_id, actions in (state_values or {}).items():
        if not isinstance(actions, Mapping):
            continue
        for element_state in actions.values():
            if isinstance(element_state, Mapping):
                out[block_id] = value_from_state(element_state)
                break
    return out


def order_fields_for_modal(
    schema: WorkspaceSchema, *, usage: Mapping[str, int] | None = None, max_fields: int
) -> tuple[list[FieldDef], list[FieldDef]]:
    """Pick the fields a modal shows: identifier first, then the most used, then the workspace's order.

    Returns ``(shown, rest)``; ``rest`` keeps the workspace's order so a "more fields" view reads naturally.
    """
    counts = {k.lower(): v for k, v in (usage or {}).items()}
    identifier = schema.identifier
    others = [f for f in schema.fields if f.api_name != identifier.api_name]
    position = {f.api_name: i for i, f in enumerate(others)}
    used = sorted(
        (f for f in others if counts.get(f.api_name.lower(), 0) > 0),
        key=lambda f: (-counts[f.api_name.lower()], position[f.api_name]),
    )
    unused = [f for f in others if counts.get(f.api_name.lower(), 0) <= 0]
    ranked = [identifier, *used, *unused]
    shown = ranked[: max(1, max_fields)]
    shown_names = {f.api_name for f in shown}
    rest = [f for f in others if f.api_name not in shown_names]
    return shown, rest


#: what a received view keeps when its blocks are rebuilt for ``views.update``
_VIEW_KEYS = (
    "callback_id",
    "title",
    "submit",
    "close",
    "private_metadata",
    "notify_on_close",
    "clear_on_close",
    "external_id",
)


def view_spec(view: Mapping[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A view as received from Slack → the spec ``views.update`` takes, with new blocks."""
    spec: dict[str, Any] = {"type": view.get("type") or "modal", "blocks": blocks}
    spec.update({key: view[key] for key in _VIEW_KEYS if view.get(key) not in (None, "")})
    return spec
