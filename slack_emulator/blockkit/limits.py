"""Slack's Block Kit limits and vocabularies: how many blocks a surface holds, which block types each
surface takes, which elements each block takes, and which view fields are read-only."""

from __future__ import annotations

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
