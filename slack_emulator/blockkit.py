"""Strict Block Kit validation, so a surface Slack would refuse is refused here too.

`slack_sdk.models` knows most limits but silently accepts unknown keys, unknown element types and
several structural mistakes; the explicit walk below covers those, and the models run afterwards as a
second opinion. Messages follow Slack's `response_metadata.messages` style:
``[ERROR] <what is wrong> [json-pointer:/blocks/0/text]``.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

logger = logging.getLogger(__name__)

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000

MESSAGE_BLOCK_TYPES = {
    "section",
    "divider",
    "image",
    "actions",
    "context",
    "header",
    "rich_text",
    "video",
    "markdown",
    "file",
    "table",
}
VIEW_BLOCK_TYPES = {
    "section",
    "divider",
    "image",
    "actions",
    "context",
    "input",
    "header",
    "rich_text",
    "video",
}

SELECTS = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
}
MULTI_SELECTS = {"multi_" + s for s in SELECTS}
SECTION_ACCESSORIES = (
    {
        "button",
        "checkboxes",
        "datepicker",
        "image",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
    | SELECTS
    | MULTI_SELECTS
)
ACTIONS_ELEMENTS = (
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
    | SELECTS
    | MULTI_SELECTS
)
INPUT_ELEMENTS = (
    {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "file_input",
        "number_input",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "url_text_input",
    }
    | SELECTS
    | MULTI_SELECTS
)
RICH_TEXT_PARTS = {"rich_text_section", "rich_text_list", "rich_text_preformatted", "rich_text_quote"}

# Fields Slack adds to a stored view; apps often send a view back with them, which Slack tolerates.
VIEW_READ_ONLY_FIELDS = {
    "id",
    "team_id",
    "state",
    "hash",
    "previous_view_id",
    "root_view_id",
    "app_id",
    "app_installed_team_id",
    "bot_id",
}
MODAL_FIELDS = {
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
}
HOME_FIELDS = {"type", "blocks", "private_metadata", "callback_id", "external_id"}


def error(message: str, pointer: str) -> str:
    """One entry of `response_metadata.messages`."""
    return f"[ERROR] {message} [json-pointer:{pointer}]"


class _Checker:
    """Walks one surface and collects every problem rather than stopping at the first."""

    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(error(message, pointer))

    # --- primitives ---------------------------------------------------------------------------

    def keys(self, obj: dict[str, Any], ptr: str, allowed: set[str], required: Iterable[str] = ()) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(f"unsupported property `{key}`", f"{ptr}/{key}")
        for key in required:
            if key not in obj or obj[key] is None:
                self.fail(f"missing required field: {key}", ptr)

    def is_object(self, obj: Any, ptr: str) -> bool:
        if not isinstance(obj, dict):
            self.fail("must provide an object", ptr)
            return False
        return True

    def string(self, value: Any, ptr: str, max_len: int, *, min_len: int = 0) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.fail("must be a string", ptr)
        elif len(value) > max_len:
            self.fail(f"must be less than {max_len + 1} characters", ptr)
        elif len(value) < min_len:
            self.fail(f"must be more than {min_len - 1} characters", ptr)

    def boolean(self, obj: dict[str, Any], key: str, ptr: str) -> None:
        if key in obj and not isinstance(obj[key], bool):
            self.fail("must be a boolean", f"{ptr}/{key}")

    def integer(self, obj: dict[str, Any], key: str, ptr: str, *, minimum: int | None = None) -> None:
        if key not in obj:
            return
        value = obj[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail("must be an integer", f"{ptr}/{key}")
        elif minimum is not None and value < minimum:
            self.fail(f"must be at least {minimum}", f"{ptr}/{key}")

    def text(self, obj: Any, ptr: str, max_len: int, *, plain_only: bool = False) -> None:
        """A composition text object (`plain_text` / `mrkdwn`)."""
        if not self.is_object(obj, ptr):
            return
        kind = obj.get("type")
        if kind == "plain_text":
            self.keys(obj, ptr, {"type", "text", "emoji"}, ["text"])
            self.boolean(obj, "emoji", ptr)
        elif kind == "mrkdwn" and not plain_only:
            self.keys(obj, ptr, {"type", "text", "verbatim"}, ["text"])
            self.boolean(obj, "verbatim", ptr)
        else:
            expected = "plain_text" if plain_only else "plain_text or mrkdwn"
            self.fail(f"must be a text object of type {expected}", f"{ptr}/type")
            return
        self.string(obj.get("text"), f"{ptr}/text", max_len, min_len=1)

    def url(self, obj: dict[str, Any], key: str, ptr: str) -> None:
        value = obj.get(key)
        if value is None:
            return
        self.string(value, f"{ptr}/{key}", 3000, min_len=1)
        if isinstance(value, str) and not value.startswith(("http://", "https://", "slack://", "mailto:")):
            self.fail("must be a valid url", f"{ptr}/{key}")

    def array(self, value: Any, ptr: str, *, min_items: int, max_items: int) -> list[Any]:
        if not isinstance(value, list):
            self.fail("must provide an array", ptr)
            return []
        if len(value) < min_items:
            self.fail(f"must provide at least {min_items} items", ptr)
        if len(value) > max_items:
            self.fail(f"no more than {max_items} items allowed", ptr)
        return value

    # --- composition objects ------------------------------------------------------------------

    def option(self, opt: Any, ptr: str, *, mrkdwn: bool = False, url_allowed: bool = False) -> None:
        if not self.is_object(opt, ptr):
            return
        allowed = {"text", "value", "description"} | ({"url"} if url_allowed else set())
        self.keys(opt, ptr, allowed, ["text", "value"])
        if "text" in opt:
            self.text(opt["text"], f"{ptr}/text", 75, plain_only=not mrkdwn)
        self.string(opt.get("value"), f"{ptr}/value", 150, min_len=1)
        if "description" in opt:
            self.text(opt["description"], f"{ptr}/description", 75, plain_only=not mrkdwn)
        self.url(opt, "url", ptr)

    def options(self, value: Any, ptr: str, *, max_items: int, min_items: int = 1, **kw: bool) -> list[Any]:
        items = self.array(value, ptr, min_items=min_items, max_items=max_items)
        for i, opt in enumerate(items):
            self.option(opt, f"{ptr}/{i}", **kw)
        values = [o.get("value") for o in items if isinstance(o, dict)]
        if len(values) != len(set(map(str, values))):
            self.fail("option values must be unique", ptr)
        return items

    def confirm(self, obj: Any, ptr: str) -> None:
        if not self.is_object(obj, ptr):
            return
        self.keys(
            obj, ptr, {"title", "text", "confirm", "deny", "style"}, ["title", "text", "confirm", "deny"]
        )
        if "title" in obj:
            self.text(obj["title"], f"{ptr}/title", 100, plain_only=True)
        if "text" in obj:
            self.text(obj["text"], f"{ptr}/text", 300)
        for key in ("confirm", "deny"):
            if key in obj:
                self.text(obj[key], f"{ptr}/{key}", 30, plain_only=True)
        if "style" in obj and obj["style"] not in ("primary", "danger"):
            self.fail("must be one of primary, danger", f"{ptr}/style")

    def dispatch_action_config(self, obj: Any, ptr: str) -> None:
        if not self.is_object(obj, ptr):
            return
        self.keys(obj, ptr, {"trigger_actions_on"})
        triggers = self.array(
            obj.get("trigger_actions_on", []), f"{ptr}/trigger_actions_on", min_items=0, max_items=2
        )
        for i, trig in enumerate(triggers):
            if trig not in ("on_enter_pressed", "on_character_entered"):
                self.fail(
                    "must be one of on_enter_pressed, on_character_entered", f"{ptr}/trigger_actions_on/{i}"
                )

    # --- elements -----------------------------------------------------------------------------

    def element(self, el: Any, ptr: str, allowed_types: set[str], where: str) -> None:
        if not self.is_object(el, ptr):
            return
        kind = el.get("type")
        if kind not in ELEMENT_CHECKS:
            self.fail(f"unknown element type `{kind}`", f"{ptr}/type")
            return
        if kind not in allowed_types:
            self.fail(f"element type `{kind}` is not allowed in {where}", f"{ptr}/type")
            return
        allowed, required, check = ELEMENT_CHECKS[kind]
        self.keys(el, ptr, allowed, required)
        if "action_id" in el:
            self.string(el["action_id"], f"{ptr}/action_id", 255, min_len=1)
        if "placeholder" in el:
            self.text(el["placeholder"], f"{ptr}/placeholder", 150, plain_only=True)
        if "confirm" in el:
            self.confirm(el["confirm"], f"{ptr}/confirm")
        if "dispatch_action_config" in el:
            self.dispatch_action_config(el["dispatch_action_config"], f"{ptr}/dispatch_action_config")
        self.boolean(el, "focus_on_load", ptr)
        check(self, el, ptr)

    # --- blocks -------------------------------------------------------------------------------

    def blocks(self, blocks: Any, ptr: str, *, max_blocks: int) -> None:
        items = self.array(blocks, ptr, min_items=0, max_items=max_blocks)
        allowed = MESSAGE_BLOCK_TYPES if self.surface == "message" else VIEW_BLOCK_TYPES
        seen_block_ids: dict[str, int] = {}
        for i, block in enumerate(items):
            bptr = f"{ptr}/{i}"
            if not self.is_object(block, bptr):
                continue
            kind = block.get("type")
            if kind not in BLOCK_CHECKS:
                self.fail(f"unknown block type `{kind}`", f"{bptr}/type")
                continue
            if kind not in allowed:
                self.fail(f"block type `{kind}` is not allowed in a {self.surface}", f"{bptr}/type")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.string(block_id, f"{bptr}/block_id", 255, min_len=1)
                if isinstance(block_id, str) and block_id in seen_block_ids:
                    self.fail(
                        f"duplicate block_id `{block_id}` (also at index {seen_block_ids[block_id]})",
                        f"{bptr}/block_id",
                    )
                elif isinstance(block_id, str):
                    seen_block_ids[block_id] = i
            allowed_keys, required, check = BLOCK_CHECKS[kind]
            before = len(self.errors)
            self.keys(block, bptr, allowed_keys | {"type", "block_id"}, required)
            check(self, block, bptr)
            self.unique_action_ids(block, bptr)
            if len(self.errors) == before:
                self.model_check(block, bptr)

    def unique_action_ids(self, block: dict[str, Any], ptr: str) -> None:
        elements = block.get("elements") if block.get("type") == "actions" else None
        if not isinstance(elements, list):
            return
        seen: set[str] = set()
        for i, el in enumerate(elements):
            aid = el.get("action_id") if isinstance(el, dict) else None
            if isinstance(aid, str):
                if aid in seen:
                    self.fail(
                        f"duplicate action_id `{aid}` within the block", f"{ptr}/elements/{i}/action_id"
                    )
                seen.add(aid)

    def model_check(self, block: dict[str, Any], ptr: str) -> None:
        """Second opinion from slack_sdk's models, for limits the walk above does not know about."""
        try:
            parsed = Block.parse(copy.deepcopy(block))
            if parsed is not None:
                parsed.to_dict()
        except SlackObjectFormationError as exc:
            self.fail(str(exc), ptr)
        except Exception:  # the models are a second opinion; their own bugs must not reject a block
            logger.debug("slack_sdk model could not check %s", ptr, exc_info=True)


# --- per-element checks -----------------------------------------------------------------------


def _check_button(c: _Checker, el: dict[str, Any], ptr: str) -> None:
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


def _all_options(el: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(el.get("options"), list):
        return [o for o in el["options"] if isinstance(o, dict)]
    result: list[dict[str, Any]] = []
    for group in el.get("option_groups") or []:
        if isinstance(group, dict) and isinstance(group.get("options"), list):
            result.extend(o for o in group["options"] if isinstance(o, dict))
    return result


def _check_initial_options(c: _Checker, el: dict[str, Any], ptr: str, *, external: bool = False) -> None:
    choices = _all_options(el)
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


def _check_static_select(c: _Checker, el: dict[str, Any], ptr: str) -> None:
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


def _check_external_select(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    c.integer(el, "min_query_length", ptr, minimum=0)
    c.integer(el, "max_selected_items", ptr, minimum=1)
    _check_initial_options(c, el, ptr, external=True)


def _check_conversation_like(c: _Checker, el: dict[str, Any], ptr: str) -> None:
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


def _check_overflow(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    if "options" in el:
        c.options(el["options"], f"{ptr}/options", min_items=2, max_items=5, url_allowed=True)


def _check_datepicker(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    if "initial_date" in el:
        try:
            dt.date.fromisoformat(str(el["initial_date"]))
            ok = len(str(el["initial_date"])) == 10
        except ValueError:
            ok = False
        if not ok:
            c.fail("must be a date in the format YYYY-MM-DD", f"{ptr}/initial_date")


def _check_timepicker(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    if "initial_time" in el:
        try:
            dt.time.fromisoformat(str(el["initial_time"]))
            ok = len(str(el["initial_time"])) == 5
        except ValueError:
            ok = False
        if not ok:
            c.fail("must be a time in the format HH:mm", f"{ptr}/initial_time")
    c.string(el.get("timezone"), f"{ptr}/timezone", 100, min_len=1)


def _check_datetimepicker(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    c.integer(el, "initial_date_time", ptr, minimum=0)


def _check_choice_list(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    if "options" in el:
        c.options(el["options"], f"{ptr}/options", max_items=10, mrkdwn=True)
    _check_initial_options(c, el, ptr)


def _check_plain_text_input(c: _Checker, el: dict[str, Any], ptr: str) -> None:
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


def _check_simple_input(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    c.string(el.get("initial_value"), f"{ptr}/initial_value", 3000)


def _check_number_input(c: _Checker, el: dict[str, Any], ptr: str) -> None:
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


def _check_file_input(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    c.integer(el, "max_files", ptr, minimum=1)


def _check_image_element(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    if "image_url" not in el and "slack_file" not in el:
        c.fail("must provide image_url or slack_file", ptr)
    c.url(el, "image_url", ptr)
    c.string(el.get("alt_text"), f"{ptr}/alt_text", 2000, min_len=1)


def _check_workflow_button(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    if "text" in el:
        c.text(el["text"], f"{ptr}/text", 75, plain_only=True)


def _nothing(c: _Checker, el: dict[str, Any], ptr: str) -> None:
    return None


_SELECT_COMMON = {"type", "action_id", "confirm", "focus_on_load", "placeholder"}
ElementCheck = tuple[set[str], list[str], Callable[[_Checker, dict[str, Any], str], None]]
ELEMENT_CHECKS: dict[str, ElementCheck] = {
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
        _nothing,
    ),
    "file_input": ({"type", "action_id", "filetypes", "max_files"}, [], _check_file_input),
    "image": ({"type", "image_url", "slack_file", "alt_text"}, ["alt_text"], _check_image_element),
    "workflow_button": (
        {"type", "text", "workflow", "action_id", "style", "accessibility_label"},
        ["text", "workflow"],
        _check_workflow_button,
    ),
}


# --- per-block checks -------------------------------------------------------------------------


def _check_section(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    if "text" not in b and "fields" not in b:
        c.fail("must provide text or fields", ptr)
    if "text" in b:
        c.text(b["text"], f"{ptr}/text", 3000)
    if "fields" in b:
        for i, field in enumerate(c.array(b["fields"], f"{ptr}/fields", min_items=1, max_items=10)):
            c.text(field, f"{ptr}/fields/{i}", 2000)
    if "accessory" in b:
        c.element(b["accessory"], f"{ptr}/accessory", SECTION_ACCESSORIES, "a section accessory")
    c.boolean(b, "expand", ptr)


def _check_image_block(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    _check_image_element(c, b, ptr)
    if "title" in b:
        c.text(b["title"], f"{ptr}/title", 2000, plain_only=True)


def _check_actions(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    for i, el in enumerate(c.array(b.get("elements"), f"{ptr}/elements", min_items=1, max_items=25)):
        c.element(el, f"{ptr}/elements/{i}", ACTIONS_ELEMENTS, "an actions block")


def _check_context(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    for i, el in enumerate(c.array(b.get("elements"), f"{ptr}/elements", min_items=1, max_items=10)):
        eptr = f"{ptr}/elements/{i}"
        if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
            c.text(el, eptr, 3000)
        else:
            c.element(el, eptr, {"image"}, "a context block")


def _check_input(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    if "label" in b:
        c.text(b["label"], f"{ptr}/label", 2000, plain_only=True)
    if "hint" in b:
        c.text(b["hint"], f"{ptr}/hint", 2000, plain_only=True)
    if "element" in b:
        c.element(b["element"], f"{ptr}/element", INPUT_ELEMENTS, "an input block")
    c.boolean(b, "optional", ptr)
    c.boolean(b, "dispatch_action", ptr)


def _check_header(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    if "text" in b:
        c.text(b["text"], f"{ptr}/text", 150, plain_only=True)


def _check_rich_text(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    for i, part in enumerate(c.array(b.get("elements"), f"{ptr}/elements", min_items=1, max_items=100)):
        if not isinstance(part, dict) or part.get("type") not in RICH_TEXT_PARTS:
            c.fail("must be a rich_text_section, _list, _preformatted or _quote", f"{ptr}/elements/{i}")


def _check_video(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    if "title" in b:
        c.text(b["title"], f"{ptr}/title", 199, plain_only=True)
    if "description" in b:
        c.text(b["description"], f"{ptr}/description", 200, plain_only=True)
    for key in ("video_url", "thumbnail_url", "title_url", "provider_icon_url"):
        c.url(b, key, ptr)
    c.string(b.get("alt_text"), f"{ptr}/alt_text", 2000, min_len=1)
    c.string(b.get("author_name"), f"{ptr}/author_name", 49, min_len=1)


def _check_markdown(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    c.string(b.get("text"), f"{ptr}/text", 12000, min_len=1)


def _check_table(c: _Checker, b: dict[str, Any], ptr: str) -> None:
    c.array(b.get("rows"), f"{ptr}/rows", min_items=1, max_items=100)


BlockCheck = tuple[set[str], list[str], Callable[[_Checker, dict[str, Any], str], None]]
BLOCK_CHECKS: dict[str, BlockCheck] = {
    "section": ({"text", "fields", "accessory", "expand"}, [], _check_section),
    "divider": (set(), [], _nothing),
    "image": ({"image_url", "slack_file", "alt_text", "title"}, ["alt_text"], _check_image_block),
    "actions": ({"elements"}, ["elements"], _check_actions),
    "context": ({"elements"}, ["elements"], _check_context),
    "input": (
        {"label", "element", "hint", "optional", "dispatch_action"},
        ["label", "element"],
        _check_input,
    ),
    "header": ({"text"}, ["text"], _check_header),
    "rich_text": ({"elements"}, ["elements"], _check_rich_text),
    "video": (
        {
            "alt_text",
            "author_name",
            "description",
            "provider_icon_url",
            "provider_name",
            "title",
            "title_url",
            "thumbnail_url",
            "video_url",
        },
        ["alt_text", "title", "thumbnail_url", "video_url"],
        _check_video,
    ),
    "markdown": ({"text"}, ["text"], _check_markdown),
    "file": ({"external_id", "source"}, ["external_id", "source"], _nothing),
    "table": ({"rows", "column_settings"}, ["rows"], _check_table),
}


# --- public API -------------------------------------------------------------------------------


def validate_message_blocks(blocks: Any, *, pointer: str = "/blocks") -> list[str]:
    """Problems Slack would report for the `blocks` of chat.postMessage / chat.update / a response_url."""
    checker = _Checker("message")
    checker.blocks(blocks, pointer, max_blocks=MESSAGE_MAX_BLOCKS)
    return checker.errors


def validate_view(view: Any, *, pointer: str = "/view") -> tuple[list[str], list[str]]:
    """Problems (errors, warnings) Slack would report for a modal or Home tab view."""
    checker = _Checker("view")
    if not checker.is_object(view, pointer):
        return checker.errors, checker.warnings
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail("must be one of modal, home", f"{pointer}/type")
        return checker.errors, checker.warnings
    checker.surface = kind
    allowed = MODAL_FIELDS if kind == "modal" else HOME_FIELDS
    read_only = sorted(k for k in view if k in VIEW_READ_ONLY_FIELDS)
    if read_only:
        checker.warnings.append(f"read-only view fields ignored: {', '.join(read_only)}")
    checker.keys(
        {k: v for k, v in view.items() if k not in VIEW_READ_ONLY_FIELDS},
        pointer,
        allowed,
        ["title", "blocks"] if kind == "modal" else ["blocks"],
    )
    for key in ("title", "submit", "close"):
        if key in view and key in allowed:
            checker.text(view[key], f"{pointer}/{key}", 24, plain_only=True)
    checker.string(view.get("private_metadata"), f"{pointer}/private_metadata", 3000)
    checker.string(view.get("callback_id"), f"{pointer}/callback_id", 255)
    checker.string(view.get("external_id"), f"{pointer}/external_id", 255)
    for key in ("clear_on_close", "notify_on_close", "submit_disabled"):
        checker.boolean(view, key, pointer)
    if "blocks" in view:
        checker.blocks(view["blocks"], f"{pointer}/blocks", max_blocks=VIEW_MAX_BLOCKS)
    blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if kind == "modal" and has_input and "submit" not in view:
        checker.fail("a modal with input blocks must provide submit", pointer)
    if not checker.errors:
        try:
            View(**{k: copy.deepcopy(v) for k, v in view.items() if k not in VIEW_READ_ONLY_FIELDS}).to_dict()
        except SlackObjectFormationError as exc:
            checker.fail(str(exc), pointer)
        except Exception:
            logger.debug("slack_sdk View model could not check the view", exc_info=True)
    return checker.errors, checker.warnings


def validate_options_answer(answer: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """(options offered, problems) for a bot's answer to a block_suggestion options request."""
    checker = _Checker("options")
    if not isinstance(answer, dict) or ("options" not in answer and "option_groups" not in answer):
        checker.fail("an options answer must be a JSON object with options or option_groups", "/")
        return [], checker.errors
    offered: list[dict[str, Any]] = []
    if "options" in answer:
        offered = [
            o
            for o in checker.options(answer["options"], "/options", max_items=100, min_items=0)
            if isinstance(o, dict)
        ]
    else:
        groups = checker.array(answer["option_groups"], "/option_groups", min_items=0, max_items=100)
        for i, group in enumerate(groups):
            gptr = f"/option_groups/{i}"
            if checker.is_object(group, gptr):
                checker.keys(group, gptr, {"label", "options"}, ["label", "options"])
                checker.text(group.get("label"), f"{gptr}/label", 75, plain_only=True)
                opts = checker.options(group.get("options"), f"{gptr}/options", max_items=100)
                offered.extend(o for o in opts if isinstance(o, dict))
    return copy.deepcopy(offered), checker.errors


def iter_elements(blocks: list[dict[str, Any]]) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every interactive element of a surface, in display order."""
    for block in blocks:
        kind = block.get("type")
        if kind == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]
        elif kind == "actions":
            for el in block.get("elements") or []:
                yield block, el
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]


def all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """Options of a select / checkboxes / radio element, flattening option groups."""
    return _all_options(element)
