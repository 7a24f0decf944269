"""The check of each block type, and the table of them (:data:`BLOCK_CHECKS`)."""

from __future__ import annotations

from typing import Any

from .checker import Check, Checker, nothing
from .elements import check_image_element
from .limits import ACTIONS_ELEMENTS, INPUT_ELEMENTS, RICH_TEXT_PARTS, SECTION_ACCESSORIES


def _check_section(c: Checker, b: dict[str, Any], ptr: str) -> None:
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


def _check_image_block(c: Checker, b: dict[str, Any], ptr: str) -> None:
    check_image_element(c, b, ptr)
    if "title" in b:
        c.text(b["title"], f"{ptr}/title", 2000, plain_only=True)


def _check_actions(c: Checker, b: dict[str, Any], ptr: str) -> None:
    for i, el in enumerate(c.array(b.get("elements"), f"{ptr}/elements", min_items=1, max_items=25)):
        c.element(el, f"{ptr}/elements/{i}", ACTIONS_ELEMENTS, "an actions block")


def _check_context(c: Checker, b: dict[str, Any], ptr: str) -> None:
    for i, el in enumerate(c.array(b.get("elements"), f"{ptr}/elements", min_items=1, max_items=10)):
        eptr = f"{ptr}/elements/{i}"
        if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
            c.text(el, eptr, 3000)
        else:
            c.element(el, eptr, {"image"}, "a context block")


def _check_input(c: Checker, b: dict[str, Any], ptr: str) -> None:
    if "label" in b:
        c.text(b["label"], f"{ptr}/label", 2000, plain_only=True)
    if "hint" in b:
        c.text(b["hint"], f"{ptr}/hint", 2000, plain_only=True)
    if "element" in b:
        c.element(b["element"], f"{ptr}/element", INPUT_ELEMENTS, "an input block")
    c.boolean(b, "optional", ptr)
    c.boolean(b, "dispatch_action", ptr)


def _check_header(c: Checker, b: dict[str, Any], ptr: str) -> None:
    if "text" in b:
        c.text(b["text"], f"{ptr}/text", 150, plain_only=True)


def _check_rich_text(c: Checker, b: dict[str, Any], ptr: str) -> None:
    for i, part in enumerate(c.array(b.get("elements"), f"{ptr}/elements", min_items=1, max_items=100)):
        if not isinstance(part, dict) or part.get("type") not in RICH_TEXT_PARTS:
            c.fail("must be a rich_text_section, _list, _preformatted or _quote", f"{ptr}/elements/{i}")


def _check_video(c: Checker, b: dict[str, Any], ptr: str) -> None:
    if "title" in b:
        c.text(b["title"], f"{ptr}/title", 199, plain_only=True)
    if "description" in b:
        c.text(b["description"], f"{ptr}/description", 200, plain_only=True)
    for key in ("video_url", "thumbnail_url", "title_url", "provider_icon_url"):
        c.url(b, key, ptr)
    c.string(b.get("alt_text"), f"{ptr}/alt_text", 2000, min_len=1)
    c.string(b.get("author_name"), f"{ptr}/author_name", 49, min_len=1)


def _check_markdown(c: Checker, b: dict[str, Any], ptr: str) -> None:
    c.string(b.get("text"), f"{ptr}/text", 12000, min_len=1)


def _check_table(c: Checker, b: dict[str, Any], ptr: str) -> None:
    c.array(b.get("rows"), f"{ptr}/rows", min_items=1, max_items=100)


BLOCK_CHECKS: dict[str, Check] = {
    "section": ({"text", "fields", "accessory", "expand"}, [], _check_section),
    "divider": (set(), [], nothing),
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
    "file": ({"external_id", "source"}, ["external_id", "source"], nothing),
    "table": ({"rows", "column_settings"}, ["rows"], _check_table),
}
