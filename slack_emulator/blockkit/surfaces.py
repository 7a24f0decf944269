"""Validating whole surfaces: message blocks, modal and Home views, and answers to options requests;
and walking a surface's interactive elements."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.views import View

from .blocks import BLOCK_CHECKS
from .checker import Checker
from .elements import ELEMENT_CHECKS
from .limits import HOME_FIELDS, MESSAGE_MAX_BLOCKS, MODAL_FIELDS, VIEW_MAX_BLOCKS, VIEW_READ_ONLY_FIELDS

# one logger for the whole validator, under the package's name, as before it was split
logger = logging.getLogger("slack_emulator.blockkit")


def _checker(surface: str) -> Checker:
    return Checker(surface, elements=ELEMENT_CHECKS, blocks=BLOCK_CHECKS)


def validate_message_blocks(blocks: Any, *, pointer: str = "/blocks") -> list[str]:
    """Problems Slack would report for the `blocks` of chat.postMessage / chat.update / a response_url."""
    checker = _checker("message")
    checker.blocks(blocks, pointer, max_blocks=MESSAGE_MAX_BLOCKS)
    return checker.errors


def validate_view(view: Any, *, pointer: str = "/view") -> tuple[list[str], list[str]]:
    """Problems (errors, warnings) Slack would report for a modal or Home tab view."""
    checker = _checker("view")
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
    checker = _checker("options")
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
