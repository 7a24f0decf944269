"""The view state machine: what Slack keeps of a modal between the user's gestures, and what it does
with the app's answers.

A modal's inputs hold state in Slack's own per-element shape until the user submits; the Slack
client itself refuses some input before anything is sent (:class:`ClientValidationError`); the app's
answer to a ``view_submission`` keeps the modal open with errors, updates it, pushes another, or
closes it. Functions, not methods: the driver (slack_emulator/driver.py) and the browser page
(slack_emulator/web.py) both use them on the shared :class:`~slack_emulator.state.Workspace`, which
the caller holds the lock of.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from .blockkit import all_options, iter_elements, validate_view
from .delivery import Delivery
from .state import ViewRecord, Workspace
from .webapi import MAX_VIEW_STACK

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ClientValidationError(ValueError):
    """Input the Slack client itself refuses to submit (missing required field, bad email, ...)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def initial_state(element: dict[str, Any]) -> dict[str, Any]:
    """An element's state before the user touches it: its initial value in `state.values` shape."""
    kind = element["type"]
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        state["value"] = element.get("initial_value")
    elif kind in ("static_select", "external_select", "radio_buttons"):
        state["selected_option"] = copy.deepcopy(element.get("initial_option"))
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        state["selected_options"] = copy.deepcopy(element.get("initial_options", []))
    elif kind == "users_select":
        state["selected_user"] = element.get("initial_user")
    elif kind == "multi_users_select":
        state["selected_users"] = list(element.get("initial_users", []))
    elif kind == "conversations_select":
        state["selected_conversation"] = element.get("initial_conversation")
    elif kind == "multi_conversations_select":
        state["selected_conversations"] = list(element.get("initial_conversations", []))
    elif kind == "channels_select":
        state["selected_channel"] = element.get("initial_channel")
    elif kind == "multi_channels_select":
        state["selected_channels"] = list(element.get("initial_channels", []))
    elif kind == "datepicker":
        state["selected_date"] = element.get("initial_date")
    elif kind == "timepicker":
        state["selected_time"] = element.get("initial_time")
        if element.get("timezone"):
            state["timezone"] = element["timezone"]
    elif kind == "datetimepicker":
        state["selected_date_time"] = element.get("initial_date_time")
    elif kind == "rich_text_input":
        state["rich_text_value"] = copy.deepcopy(element.get("initial_value"))
    elif kind == "file_input":
        state["files"] = []
    return state


def to_state_value(
    element: dict[str, Any], value: Any, record: ViewRecord | None, users: Mapping[str, Any]
) -> dict[str, Any]:
    """The user's input in Slack's per-element `state.values` shape; `users` are the workspace's
    (a users_select takes only those)."""
    kind = element["type"]
    state = initial_state(element)
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        state["value"] = None if value is None or value == "" else str(value)
    elif kind in ("static_select", "radio_buttons", "overflow"):
        state.pop("selected_options", None)
        state["selected_option"] = None if value is None else _pick(element, value)
    elif kind in ("multi_static_select", "checkboxes"):
        values = value if isinstance(value, list | tuple) else [value]
        state["selected_options"] = [_pick(element, v) for v in values]
    elif kind == "external_select":
        state["selected_option"] = None if value is None else _pick_external(element, value, record)
    elif kind == "multi_external_select":
        values = value if isinstance(value, list | tuple) else [value]
        state["selected_options"] = [_pick_external(element, v, record) for v in values]
    elif kind in ("users_select", "multi_users_select"):
        ids = value if isinstance(value, list | tuple) else [value]
        for uid in ids:
            if uid is not None and uid not in users:
                raise LookupError(f"unknown user {uid!r}")
        state["selected_users" if kind.startswith("multi") else "selected_user"] = (
            list(ids) if kind.startswith("multi") else value
        )
    elif kind in ("conversations_select", "channels_select"):
        state["selected_conversation" if kind.startswith("conv") else "selected_channel"] = value
    elif kind in ("multi_conversations_select", "multi_channels_select"):
        key = "selected_conversations" if "conv" in kind else "selected_channels"
        state[key] = list(value or [])
    elif kind == "datepicker":
        if isinstance(value, dt.date):
            value = value.isoformat()
        if value is not None:
            dt.date.fromisoformat(str(value))
        state["selected_date"] = value
    elif kind == "timepicker":
        if isinstance(value, dt.time):
            value = value.strftime("%H:%M")
        state["selected_time"] = value
    elif kind == "datetimepicker":
        if isinstance(value, dt.datetime):
            value = int(value.timestamp())
        state["selected_date_time"] = None if value is None else int(value)
    elif kind == "rich_text_input":
        state["rich_text_value"] = value
    elif kind == "file_input":
        state["files"] = list(value or [])
    else:
        raise LookupError(f"cannot enter a value into a {kind}")
    return state


def _pick(element: dict[str, Any], value: Any) -> dict[str, Any]:
    wanted = value.get("value") if isinstance(value, dict) else str(value)
    for option in all_options(element):
        if option.get("value") == wanted:
            return copy.deepcopy(option)
    offered = [o.get("value") for o in all_options(element)]
    raise LookupError(f"option {wanted!r} is not offered by {element.get('action_id')!r}; offered: {offered}")


def _pick_external(element: dict[str, Any], value: Any, record: ViewRecord | None) -> dict[str, Any]:
    if isinstance(value, dict):
        return copy.deepcopy(value)
    offered = record.suggestions.get(element.get("action_id", ""), []) if record else []
    for option in offered:
        if option.get("value") == str(value):
            return copy.deepcopy(option)
    return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}


def state_values(record: ViewRecord) -> dict[str, dict[str, Any]]:
    """`view.state.values` as Slack sends it: what was entered, and every untouched input's initial state."""
    values: dict[str, dict[str, Any]] = {}
    for block, element in iter_elements(record.view.get("blocks") or []):
        key = (block["block_id"], element.get("action_id", ""))
        if key in record.inputs:
            values.setdefault(key[0], {})[key[1]] = copy.deepcopy(record.inputs[key])
        elif block["type"] == "input":
            values.setdefault(key[0], {})[key[1]] = initial_state(element)
    return values


def view_payload(record: ViewRecord) -> dict[str, Any]:
    """The view as an interaction payload carries it: a copy with its current state."""
    view = copy.deepcopy(record.view)
    view["state"] = {"values": state_values(record)}
    return view


def client_side_checks(record: ViewRecord, inputs: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """What the Slack client refuses before anything is sent."""
    errors: dict[str, str] = {}
    for block_id, (block, element) in inputs.items():
        state = record.inputs.get((block_id, element["action_id"])) or initial_state(element)
        filled = [v for k, v in state.items() if k != "type" and k != "timezone" and v not in (None, [], "")]
        if not filled:
            if not block.get("optional"):
                errors[block_id] = "Please fill out this field."
            continue
        value: Any = state.get("value")  # the input types checked below always carry a string
        kind = element["type"]
        if kind == "plain_text_input":
            lo, hi = element.get("min_length", 0), element.get("max_length", 3000)
            if not lo <= len(value) <= hi:
                errors[block_id] = f"Must be between {lo} and {hi} characters."
        elif kind == "email_text_input" and not _EMAIL.match(value):
            errors[block_id] = "Enter an email address."
        elif kind == "url_text_input" and not re.match(r"^https?://[^\s/]+\.[^\s]+$", value):
            errors[block_id] = "Enter a URL."
        elif kind == "number_input":
            errors.update(_number_problem(block_id, element, value))
        max_items = element.get("max_selected_items")
        selected = state.get("selected_options") or state.get("selected_users") or []
        if max_items and len(selected) > max_items:
            errors[block_id] = f"Select at most {max_items}."
    if errors:
        raise ClientValidationError(errors)


def _number_problem(block_id: str, element: dict[str, Any], value: str) -> dict[str, str]:
    try:
        number = float(value)
    except ValueError:
        return {block_id: "Enter a number."}
    if not element.get("is_decimal_allowed") and not number.is_integer():
        return {block_id: "Enter a whole number."}
    if element.get("min_value") is not None and number < float(element["min_value"]):
        return {block_id: f"Enter a number of at least {element['min_value']}."}
    if element.get("max_value") is not None and number > float(element["max_value"]):
        return {block_id: f"Enter a number of at most {element['max_value']}."}
    return {}


def apply_submission_answer(ws: Workspace, record: ViewRecord, user: str, delivery: Delivery) -> None:
    """Do with the modal what Slack does with the bot's answer to a view_submission."""
    if delivery.status != 200 or delivery.timed_out:
        return
    with ws.cond:
        if not delivery.body.strip():
            _close_top(ws, user, record)
            return
        answer = delivery.json
        if not isinstance(answer, dict):
            delivery.problems.append("the answer to a view_submission must be empty or a JSON object")
            return
        action = answer.get("response_action")
        if action == "errors":
            _apply_errors(record, answer.get("errors"), delivery)
        elif action == "update":
            spec = _valid_view(answer.get("view"), delivery)
            if spec is not None:
                ws.replace_view(record, spec)
        elif action == "push":
            spec = _valid_view(answer.get("view"), delivery)
            stack = ws.stacks.get(user, [])
            if spec is not None and len(stack) >= MAX_VIEW_STACK:
                delivery.problems.append("push_limit_reached: a modal stack holds at most 3 views")
            elif spec is not None:
                top = record.view
                pushed = ws.make_view(
                    spec, user=user, root_view_id=top["root_view_id"], previous_view_id=top["id"]
                )
                stack.append(pushed.view["id"])
        elif action == "clear":
            forget(ws, ws.close_stack(user))
        elif action is None and not answer:
            _close_top(ws, user, record)
        else:
            delivery.problems.append(f"unknown response_action {action!r}")
        ws.changed()


def _close_top(ws: Workspace, user: str, record: ViewRecord) -> None:
    stack = ws.stacks.get(user, [])
    if stack and stack[-1] == record.view["id"]:
        forget(ws, ws.close_stack(user, count=1))


def forget(ws: Workspace, view_ids: list[str]) -> None:
    """Drop closed views from the workspace (a closed view's id is never valid again)."""
    for vid in view_ids:
        ws.views.pop(vid, None)


def _valid_view(spec: Any, delivery: Delivery) -> dict[str, Any] | None:
    errors, _warnings = validate_view(spec, pointer="/view")
    if isinstance(spec, dict) and spec.get("type") != "modal":
        errors.append("[ERROR] response_action views must be modals [json-pointer:/view/type]")
    if errors:
        delivery.problems.append("invalid view in response_action: " + "; ".join(errors))
        return None
    return spec


def _apply_errors(record: ViewRecord, errors: Any, delivery: Delivery) -> None:
    if not isinstance(errors, dict) or not errors:
        delivery.problems.append("response_action errors needs a non-empty `errors` object")
        return
    input_ids = {b["block_id"] for b in record.view["blocks"] if b.get("type") == "input"}
    unknown = [k for k in errors if k not in input_ids]
    if unknown:
        delivery.problems.append(
            f"errors name blocks that are not input blocks of this view: {unknown}; Slack refuses the answer"
        )
        return
    bad = [k for k, v in errors.items() if not isinstance(v, str) or not v]
    if bad:
        delivery.problems.append(f"error messages must be non-empty strings: {bad}")
        return
    record.errors = dict(errors)
