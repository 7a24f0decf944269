"""Strict Block Kit validation, so a surface Slack would refuse is refused here too.

`slack_sdk.models` knows most limits but silently accepts unknown keys, unknown element types and
several structural mistakes; the explicit walk below covers those, and the models run afterwards as a
second opinion. Messages follow Slack's `response_metadata.messages` style:
``[ERROR] <what is wrong> [json-pointer:/blocks/0/text]``.

Inside: limits.py (Slack's numbers and vocabularies), checker.py (the walk), elements.py and
blocks.py (one check per type), surfaces.py (messages, views, options answers).
"""

from .checker import error
from .elements import all_options
from .limits import (
    ACTIONS_ELEMENTS,
    HOME_FIELDS,
    INPUT_ELEMENTS,
    MESSAGE_BLOCK_TYPES,
    MESSAGE_MAX_BLOCKS,
    MESSAGE_TEXT_MAX,
    MODAL_FIELDS,
    MULTI_SELECTS,
    RICH_TEXT_PARTS,
    SECTION_ACCESSORIES,
    SELECTS,
    VIEW_BLOCK_TYPES,
    VIEW_MAX_BLOCKS,
    VIEW_READ_ONLY_FIELDS,
)
from .surfaces import iter_elements, validate_message_blocks, validate_options_answer, validate_view

__all__ = [
    "ACTIONS_ELEMENTS",
    "HOME_FIELDS",
    "INPUT_ELEMENTS",
    "MESSAGE_BLOCK_TYPES",
    "MESSAGE_MAX_BLOCKS",
    "MESSAGE_TEXT_MAX",
    "MODAL_FIELDS",
    "MULTI_SELECTS",
    "RICH_TEXT_PARTS",
    "SECTION_ACCESSORIES",
    "SELECTS",
    "VIEW_BLOCK_TYPES",
    "VIEW_MAX_BLOCKS",
    "VIEW_READ_ONLY_FIELDS",
    "all_options",
    "error",
    "iter_elements",
    "validate_message_blocks",
    "validate_options_answer",
    "validate_view",
]
