"""The walk over one surface: primitive checks (keys, strings, texts, options, confirm dialogs) and
the dispatch of each element and block to its own check, collecting every problem rather than
stopping at the first."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from .limits import MESSAGE_BLOCK_TYPES, VIEW_BLOCK_TYPES

# one logger for the whole validator, under the package's name, as before it was split
logger = logging.getLogger("slack_emulator.blockkit")


def error(message: str, pointer: str) -> str:
    """One entry of `response_metadata.messages`."""
    return f"[ERROR] {message} [json-pointer:{pointer}]"


class Checker:
    """Walks one surface and collects every problem rather than stopping at the first."""

    def __init__(self, surface: str, *, elements: Mapping[str, Check], blocks: Mapping[str, Check]) -> None:
        self.surface = surface
        # the per-element and per-block checks (slack_emulator/blockkit/elements.py and blocks.py),
        # handed in because they are written in terms of this class
        self.element_checks = elements
        self.block_checks = blocks
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
        if kind not in self.element_checks:
            self.fail(f"unknown element type `{kind}`", f"{ptr}/type")
            return
        if kind not in allowed_types:
            self.fail(f"element type `{kind}` is not allowed in {where}", f"{ptr}/type")
            return
        allowed, required, check = self.element_checks[kind]
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
            if kind not in self.block_checks:
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
            allowed_keys, required, check = self.block_checks[kind]
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


# (allowed keys, required keys, the check of the rest) for one element or block type
Check = tuple[set[str], list[str], Callable[[Checker, dict[str, Any], str], None]]


def nothing(c: Checker, el: dict[str, Any], ptr: str) -> None:
    """The check of a type whose keys are all there is to check."""
    return None
