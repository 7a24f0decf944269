"""Messages a job posts to Slack, exactly once across retries, crashes and overlapping processes.

``chat.postMessage`` has no idempotency key, and a process can die after Slack accepted a message
but before it recorded the message's ``ts``. So every message a job posts carries Slack message
metadata naming the job and the step; an attempt that follows another (``Job.is_retry``) first
looks for that message where it would be (the thread, or the channel's recent history) and only
posts when it is not there. A found or posted message is recorded as the step's result
(``Job.once``), so later attempts do not even look.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from kit.services import Services
from kit.slack_errors import is_transient_slack_failure
from kit.worker import Job

log = logging.getLogger(__name__)

JOB_MESSAGE_EVENT = "telecrm_job_message"
# how far before the job's creation its messages are looked for (clocks of Slack and the bot differ)
_LOOKBACK_SECONDS = 300
_PAGE = 200
# a bound on the looking: 10,000 messages since the job was created
_MAX_PAGES = 50


def post_once(
    services: Services,
    job: Job[object],
    step: str,
    *,
    channel: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    reply_broadcast: bool = False,
) -> dict[str, str]:
    """``{"channel", "ts"}`` of the job's message for ``step``: found from an earlier attempt, or posted."""

    def find_or_post() -> dict[str, str]:
        if job.is_retry:
            found = _find_posted(services, job, step, channel, thread_ts)
            if found is not None:
                log.info("job %s had posted its %s message already", job.key, step)
                return found
        answer = services.slack.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            reply_broadcast=reply_broadcast,
            unfurl_links=False,
            metadata={"event_type": JOB_MESSAGE_EVENT, "event_payload": {"job": job.key, "step": step}},
        )
        return {"channel": str(answer["channel"]), "ts": str(answer["ts"])}

    return job.once(step, find_or_post)


def _find_posted(
    services: Services, job: Job[object], step: str, channel: str, thread_ts: str | None
) -> dict[str, str] | None:
    """The message an earlier attempt posted for ``step``, if Slack has it.

    Every page since the job was created is read (a busy channel may have had hundreds of messages
    posted after it), up to ``_MAX_PAGES``."""
    oldest = f"{job.created_at - _LOOKBACK_SECONDS:.6f}"
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        try:
            answer = _page_of(services, channel, thread_ts, oldest, cursor)
        except SlackApiError as exc:
            if is_transient_slack_failure(exc):
                raise
            # e.g. a DM addressed by user id: nothing to look in, so the message is posted (again)
            log.info("could not look for job %s's %s message: %s", job.key, step, exc.response.get("error"))
            return None
        for message in answer.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("job") == job.key and payload.get("step") == step:
                return {"channel": channel, "ts": str(message["ts"])}
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return None
    log.warning("job %s: looked through %d pages without finding its %s message", job.key, _MAX_PAGES, step)
    return None


def _page_of(services: Services, channel: str, thread_ts: str | None, oldest: str, cursor: str | None) -> Any:
    """One page of the thread's replies (or the channel's history) since ``oldest``."""
    if thread_ts:
        return services.slack.conversations_replies(
            channel=channel,
            ts=thread_ts,
            oldest=oldest,
            include_all_metadata=True,
            limit=_PAGE,
            cursor=cursor,
        )
    return services.slack.conversations_history(
        channel=channel, oldest=oldest, include_all_metadata=True, limit=_PAGE, cursor=cursor
    )
