"""Whether the bot can post in a conversation, asked before a form promises a card there."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

# conversations.info answers these for a conversation the bot is not part of
_NOT_THERE = {"channel_not_found", "not_in_channel"}


def bot_is_member(slack: WebClient, channel: str | None) -> bool:
    """``False`` only when Slack says the bot is not in ``channel``. Unknown (no channel, a missing
    scope, Slack failing) counts as a member: the card then falls back to a DM when it is posted."""
    if not channel:
        return True
    try:
        info = slack.conversations_info(channel=channel).get("channel") or {}
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in _NOT_THERE:
            return False
        log.info("could not tell whether the bot is in %s: %s", channel, error)
        return True
    return info.get("is_member") is not False
