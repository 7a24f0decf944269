"""The check of each element type, and the table of them (:data:`ELEMENT_CHECKS`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .checker import Check, Checker, nothing


def _check_button(c: Checker, el: dict[str, Any], ptr: str) -> None:
    if "text" in el:
        c.text(el["text"], f"{ptr}/text", 75, plain_only=True)
    c.string(el.get("value"), f"{ptr}/value", 2000, min_len=1)
    c.url(el, "url", ptr)
    c.string(el.get("accessibility_label"), f"{ptr}/accessibility_label", 75, min_len=1)
    if "style" in el and el["style"] not in ("primary", "danger"):
        c.fail("must be one of primary, danger", f"{ptr}/style")


def _same_option(a: Any, b: Any) -> bool:
    return (
        isinstance(a, dict)
        and isinstance(b, dict)
        and a.get("value") == b.get("value")
        and ((a.get("text") or {}).get("text") == (b.get("text") or {}).get("text"))
    )


def all_options(el: dict[str, Any]) -> list[dict[str, Any]]:
    """Options of a select / checkboxes / radio element, flattening option groups."""
    if isinstance(el.get("options"), list):
        return [o for o in el["options"] if isinstance(o, dict)]
    result: list[dict[str, Any]] = []
    for group in el.get("option_groups") or []:
        if isinstance(group, dict) and isinstance(group.get("options"), list):
            result.extend(o for o in group["options"] if isinstance(o, dict))
    return result


def _check_initial_options(c: Checker, el: dict[str, Any], ptr: str, *, external: bool = False) -> None:
    choices = all_options(el)
    if "initial_option" in el:
        c.option(el["initial_option"], f"{ptr}/initial_option", mrkdwn=el["type"] in ("radio_buttons",))
        if not external and not any(_same_option(el["initial_option"], o) for o in choices):
            c.fail("initial_option must exactly match one of the provided options", f"{ptr}/initial_option")
    if "initial_options" in el:
        initial = c.array(el["initial_options"], f"{ptr}/initial_options", min_items=1, max_items=100)
        for i, opt in enumerate(initial):
            c.option(opt, f"{ptr}/initial_options/{i}", mrkdwn=el["type"] == "checkboxes")
            if not external and not any(_same_option(opt, o) for o in choices):
                c.fail(
                    "initial_options must exactly match the provided options", f"{ptr}/initial_options/{i}"
                )


def _check_static_select(c: Checker, el: dict[str, Any], ptr: str) -> None:
    has_options, has_groups = "options" in el, "option_groups" in el
    if has_options == has_groups:
        c.fail("must provide exactly one of options or option_groups", ptr)
    if has_options:
        c.options(el["options"], f"{ptr}/options", max_items=100)
    if has_groups:
        groups = c.array(el["option_groups"], f"{ptr}/option_groups", min_items=1, max_items=100)
        for i, group in enumerate(groups):
            gptr = f"{ptr}/option_groups/{i}"
            if not c.is_object(group, gptr):
                continue
            c.keys(group, gptr, {"label", "options"}, ["label", "options"])
            if "label" in group:
                c.text(group["label"], f"{gptr}/label", 75, plain_only=True)
            if "options" in group:
                c.options(group["options"], f"{gptr}/options", max_items=100)
    c.integer(el, "max_selected_items", ptr, minimum=1)
    _check_initial_options(c, el, ptr)


def _check_external_select(c: Checker, el: dict[str, Any], ptr: str) -> None:
    c.integer(el, "min_query_length", ptr, minimum=0)
    c.integer(el, "max_selected_items", ptr, minimum=1)
    _check_initial_options(c, el, ptr, external=True)


def _check_conversation_like(c: Checker, el: dict[str, Any], ptr: str) -> None:
    c.integer(el, "max_selected_items", ptr, minimum=1)
    for key in ("default_to_current_conversation", "response_url_enabled"):
        c.boolean(el, key, ptr)
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        if key in el and not isinstance(el[key], str):
            c.fail("must be a string", f"{ptr}/{key}")
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if key in el:
            for i, item in enumerate(c.array(el[key], f"{ptr}/{key}", min_items=0, max_items=100)):
                if not isinstance(item, str):
                    c.fail("must be a string", f"{ptr}/{key}/{i}")
    if "filter" in el and c.is_object(el["filter"], f"{ptr}/filter"):
        c.keys(
            el["filter"],
            f"{ptr}/filter",
            {"include", "exclude_external_shared_channels", "exclude_bot_users"},
        )


def _check_overflow(c: Checker, el: dict[str, Any], ptr: str) -> None:
    if "options" in el:
        c.options(el["options"], f"{ptr}/options", min_items=2, max_items=5, url_allowed=True)


def _check_datepicker(c: Checker, el: dict[str, Any], ptr: str) -> None:
    if "initial_date" in el:
        try:
            dt.date.fromisoformat(str(el["initial_date"]))
            ok = len(str(el["initial_date"])) == 10
        except ValueError:
            ok = False
        if not ok:
            c.fail("must be a date in the format YYYY-MM-DD", f"{ptr}/initial_date")


def _check_timepicker(c: Checker, el: dict[str, Any], ptr: str) -> None:
    if "initial_time" in el:
        try:
            dt.time.fromisoformat(str(el["initial_time"]))
            ok = len(str(el["initial_time"])) == 5
        except ValueError:
            ok = False
        if not ok:
            c.fail("must be a time in the format HH:mm", f"{ptr}/initial_time")
    c.string(el.get("timezone"), f"{ptr}/timezone", 100, min_len=1)


def _check_datetimepicker(c: Checker, el: dict[str, Any], ptr: str) -> None:
    c.integer(el, "initial_date_time", ptr, minimum=0)


def _check_choice_list(c: Checker, el: dict[str, Any], ptr: str) -> None:
    if "options" in el:
        c.options(el["options"], f"{ptr}/options", max_items=10, mrkdwn=True)
    _check_initial_options(c, el, ptr)


def _check_plain_text_input(c: Checker, el: dict[str, Any], ptr: str) -> None:
    c.boolean(el, "multiline", ptr)
    c.integer(el, "min_length", ptr, minimum=0)
    c.integer(el, "max_length", ptr, minimum=1)
    for key in ("min_length", "max_length"):
        if isinstance(el.get(key), int) and el[key] > 3000:
            c.fail("must be at most 3000", f"{ptr}/{key}")
    lo, hi = el.get("min_length"), el.get("max_length")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        c.fail("min_length must not exceed max_length", f"{ptr}/min_length")
    c.string(el.get("initial_value"), f"{ptr}/initial_value", 3000)


def _check_simple_input(c: Checker, el: dict[str, Any], ptr: str) -> None:
    c.string(el.get("initial_value"), f"{ptr}/initial_value", 3000)


def _check_number_input(c: Checker, el: dict[str, Any], ptr: str) -> None:
    c.boolean(el, "is_decimal_allowed", ptr)
    for key in ("initial_value", "min_value", "max_value"):
        value = el.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            c.fail("must be a string", f"{ptr}/{key}")
            continue
        try:
            number = float(value)
        except ValueError:
            c.fail("must be a number", f"{ptr}/{key}")
            continue
        if el.get("is_decimal_allowed") is False and not number.is_integer():
            c.fail("must be an integer when is_decimal_allowed is false", f"{ptr}/{key}")


def _check_file_input(c: Checker, el: dict[str, Any], ptr: str) -> None:
    """docs.slack.dev, File input element: in an input block of a modal; ``max_files`` 1 to 10;
    ``filetypes`` an array of file extensions."""
    if c.surface != "modal":
        c.fail(f"file_input is only supported in modals, not in a {c.surface}", f"{ptr}/type")
    c.integer(el, "max_files", ptr, minimum=1)
    if isinstance(el.get("max_files"), int) and el["max_files"] > 10:
        c.fail("must be at most 10", f"{ptr}/max_files")
    if "filetypes" in el:
        for i, kind in enumerate(c.array(el["filetypes"], f"{ptr}/filetypes", min_items=0, max_items=100)):
            if not isinstance(kind, str) or not kind.strip():
                c.fail("must be a file extension string", f"{ptr}/filetypes/{i}")


def check_image_element(c: Checker, el: dict[str, Any], ptr: str) -> None:
    if "image_url" not in el and "slack_file" not in el:
        c.fail("must provide image_url or slack_file", ptr)
    if "image_url" in el and "slack_file" in el:
        c.fail("must provide either image_url or slack_file, not both", ptr)
    if "slack_file" in el:
        slack_file = el["slack_file"]
        keys = set(slack_file) if isinstance(slack_file, dict) else set()
        if not isinstance(slack_file, dict) or len(keys & {"id", "url"}) != 1 or keys - {"id", "url"}:
            c.fail("slack_file must have either id or url", f"{ptr}/slack_file")
    c.url(el, "image_url", ptr)
    c.string(el.get("alt_text"), f"{ptr}/alt_text", 2000, min_len=1)


def _check_workflow_button(c: Checker, el: dict[str, Any], ptr: str) -> None:
    if "text" in el:
        c.text(el["text"], f"{ptr}/text", 75, plain_only=True)


_SELECT_COMMON = {"type", "action_id", "confirm", "focus_on_load", "placeholder"}


ELEMENT_CHECKS: dict[str, Check] = {
    "button": (
        {"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"},
        ["text"],
        _check_button,
    ),
    "static_select": (
        _SELECT_COMMON | {"options", "option_groups", "initial_option"},
        [],
        _check_static_select,
    ),
    "multi_static_select": (
        _SELECT_COMMON | {"options", "option_groups", "initial_options", "max_selected_items"},
        [],
        _check_static_select,
    ),
    "external_select": (_SELECT_COMMON | {"initial_option", "min_query_length"}, [], _check_external_select),
    "multi_external_select": (
        _SELECT_COMMON | {"initial_options", "min_query_length", "max_selected_items"},
        [],
        _check_external_select,
    ),
    "users_select": (_SELECT_COMMON | {"initial_user"}, [], _check_conversation_like),
    "multi_users_select": (
        _SELECT_COMMON | {"initial_users", "max_selected_items"},
        [],
        _check_conversation_like,
    ),
    "conversations_select": (
        _SELECT_COMMON
        | {"initial_conversation", "default_to_current_conversation", "response_url_enabled", "filter"},
        [],
        _check_conversation_like,
    ),
    "multi_conversations_select": (
        _SELECT_COMMON
        | {"initial_conversations", "default_to_current_conversation", "max_selected_items", "filter"},
        [],
        _check_conversation_like,
    ),
    "channels_select": (
        _SELECT_COMMON | {"initial_channel", "response_url_enabled"},
        [],
        _check_conversation_like,
    ),
    "multi_channels_select": (
        _SELECT_COMMON | {"initial_channels", "max_selected_items"},
        [],
        _check_conversation_like,
    ),
    "overflow": ({"type", "action_id", "options", "confirm"}, ["options"], _check_overflow),
    "datepicker": (_SELECT_COMMON | {"initial_date"}, [], _check_datepicker),
    "timepicker": (_SELECT_COMMON | {"initial_time", "timezone"}, [], _check_timepicker),
    "datetimepicker": (
        {"type", "action_id", "initial_date_time", "confirm", "focus_on_load"},
        [],
        _check_datetimepicker,
    ),
    "checkboxes": (
        {"type", "action_id", "options", "initial_options", "confirm", "focus_on_load"},
        ["options"],
        _check_choice_list,
    ),
    "radio_buttons": (
        {"type", "action_id", "options", "initial_option", "confirm", "focus_on_load"},
        ["options"],
        _check_choice_list,
    ),
    "plain_text_input": (
        {
            "type",
            "action_id",
            "initial_value",
            "multiline",
            "min_length",
            "max_length",
            "dispatch_action_config",
            "focus_on_load",
            "placeholder",
        },
        [],
        _check_plain_text_input,
    ),
    "email_text_input": (
        {"type", "action_id", "initial_value", "dispatch_action_config", "focus_on_load", "placeholder"},
        [],
        _check_simple_input,
    ),
    "url_text_input": (
        {"type", "action_id", "initial_value", "dispatch_action_config", "focus_on_load", "placeholder"},
        [],
        _check_simple_input,
    ),
    "number_input": (
        {
            "type",
            "action_id",
            "is_decimal_allowed",
            "initial_value",
            "min_value",
            "max_value",
            "dispatch_action_config",
            "focus_on_load",
            "placeholder",
        },
        ["is_decimal_allowed"],
        _check_number_input,
    ),
    "rich_text_input": (
        {"type", "action_id", "initial_value", "dispatch_action_config", "focus_on_load", "placeholder"},
        [],
        nothing,
    ),
    "file_input": ({"type", "action_id", "filetypes", "max_files"}, [], _check_file_input),
    "image": ({"type", "image_url", "slack_file", "alt_text"}, ["alt_text"], check_image_element),
    "workflow_button": (
        {"type", "text", "workflow", "action_id", "style", "accessibility_label"},
        ["text", "workflow"],
        _check_workflow_button,
    ),
}
