"""A whole report: numbers → chart → uploaded file → blocks. Used by ``/pipeline``, the morning digest
and App Home alike.

The chart is uploaded privately (``files.getUploadURLExternal``, the bytes, then
``files.completeUploadExternal`` with no channel, through slack_sdk's ``files_upload_v2``) and shown by
an image block naming the file (``slack_file``): the bot, who owns the file, posts the message, which
is what lets everyone who sees the message see the image. Slack processes an upload asynchronously;
a post refused with ``invalid slack file`` is tried again shortly (:func:`send_with_chart`), and in
the end the report goes without its picture rather than not at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError

from kit.pipeline.chart import has_chart, render_chart
from kit.pipeline.numbers import PipelineNumbers
from kit.pipeline.render import fallback_text, report_blocks, report_title
from kit.services import Services

log = logging.getLogger(__name__)

# Slack may need a moment after completeUploadExternal before an image block can name the file
CHART_NOT_READY_WAITS = (0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Chart:
    file_id: str | None
    note: str | None  # said instead of the picture when there is none
    png_bytes: int = 0
    render_seconds: float = 0.0


def make_chart(services: Services, numbers: PipelineNumbers, *, filename: str = "pipeline.png") -> Chart:
    """Draw and upload the chart; never raises (a report without its picture is still a report)."""
    if not has_chart(numbers):
        return Chart(None, None)
    title = report_title(numbers)
    started = time.perf_counter()
    try:
        png = render_chart(numbers, title=title)
    except Exception:
        log.exception("the pipeline chart could not be drawn")
        return Chart(
            None, ":warning: The chart could not be drawn this time; the numbers above are complete."
        )
    rendered = time.perf_counter() - started
    try:
        answer = services.slack.files_upload_v2(content=png, filename=filename, title=title)
        file_id = str((answer.get("file") or {}).get("id") or "")
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        log.warning("the pipeline chart could not be uploaded: %s", error)
        if error == "missing_scope":
            return Chart(
                None,
                ":warning: No chart: the app lacks Slack's `files:write` scope. An admin can reinstall it "
                "from `manifest.yml` to add it; the numbers above are complete.",
            )
        return Chart(
            None, ":warning: Slack did not take the chart this time; the numbers above are complete."
        )
    except (SlackRequestError, OSError) as exc:
        log.warning("the pipeline chart could not be uploaded: %s", exc)
        return Chart(
            None, ":warning: Slack did not take the chart this time; the numbers above are complete."
        )
    return Chart(file_id or None, None, len(png), rendered)


def blocks_for(numbers: PipelineNumbers, chart: Chart) -> tuple[str, list[dict[str, Any]]]:
    return fallback_text(numbers), report_blocks(numbers, file_id=chart.file_id, chart_note=chart.note)


def without_chart(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    note = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": ":warning: Slack was not ready to show the chart; the numbers are complete.",
            }
        ],
    }
    return [note if b.get("type") == "image" else b for b in blocks]


def is_chart_refusal(error: str, messages: list[str]) -> bool:
    return error == "invalid_blocks" and any("slack_file" in m or "slack file" in m for m in messages)


def send_with_chart(
    send: Callable[[list[dict[str, Any]]], tuple[str, list[str]] | None],
    blocks: list[dict[str, Any]],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """``send(blocks)`` returns None when posted, else (error, messages). A refusal of the chart is
    tried again after a short wait (Slack is still processing the upload), then without the chart.
    True when the chart went out."""
    has_image = any(b.get("type") == "image" for b in blocks)
    for wait in (*CHART_NOT_READY_WAITS, None):
        refused = send(blocks)
        if refused is None:
            return has_image
        if not has_image or not is_chart_refusal(*refused):
            raise RuntimeError(f"Slack refused the report: {refused[0]} {refused[1]}")
        if wait is None:
            break
        log.info("Slack is not ready to show the uploaded chart yet; trying again in %.1f s", wait)
        sleep(wait)
    refused = send(without_chart(blocks))
    if refused is not None:
        raise RuntimeError(f"Slack refused the report: {refused[0]} {refused[1]}")
    return False


def api_refusal(exc: SlackApiError) -> tuple[str, list[str]]:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or ""), list((data.get("response_metadata") or {}).get("messages") or [])
