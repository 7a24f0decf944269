"""An import's thread in Slack while it is sent: the progress message (posted once, then updated in
place) and the summary, with a CSV of the rows not found.

Posts go through :func:`kit.job_posts.post_once`, so a retried job (a crash, a Slack failure) finds
its message instead of posting a second one. An import started from the terminal has no thread:
everything here is then a no-op.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from kit.imports.progress import Progress, Summary, progress_blocks, progress_text, summary_text
from kit.imports.verify import missing_rows_csv
from kit.job_posts import post_once
from kit.services import Services
from kit.worker import Job

log = logging.getLogger(__name__)


class ThreadProgress:
    def __init__(self, services: Services, import_id: str, job: Job[Any] | None = None) -> None:
        self.services = services
        self.import_id = import_id
        self.job = job

    def _where(self) -> tuple[str, str] | None:
        record = self.services.imports.get(self.import_id)
        if record is None or not record.channel or not record.thread_ts:
            return None
        return record.channel, record.thread_ts

    def ensure_posted(self, progress: Progress) -> None:
        """The progress message in the thread, posted once (its ts kept as the import's progress_ts)."""
        record = self.services.imports.get(self.import_id)
        where = self._where()
        if record is None or where is None or record.progress_ts or self.job is None:
            return
        channel, thread_ts = where
        posted = post_once(
            self.services,
            self.job,
            "progress",
            channel=channel,
            thread_ts=thread_ts,
            text=progress_text(progress),
            blocks=progress_blocks(progress),
        )
        self.services.imports.set_thread(
            self.import_id, channel=channel, thread_ts=thread_ts, progress_ts=posted["ts"]
        )

    def update(self, progress: Progress) -> None:
        """Redraw the progress message (an ``on_progress`` for the sender; it never raises: the next
        update carries the same numbers)."""
        record = self.services.imports.get(self.import_id)
        if record is None or not record.channel or not record.progress_ts:
            return
        try:
            self.services.slack.chat_update(
                channel=record.channel,
                ts=record.progress_ts,
                text=progress_text(progress),
                blocks=progress_blocks(progress),
            )
        except SlackApiError as exc:
            log.warning("import %s: chat.update failed: %s", self.import_id, exc.response.get("error"))

    def say(self, text: str) -> None:
        where = self._where()
        if where is None:
            return
        self.services.slack.chat_postMessage(channel=where[0], thread_ts=where[1], text=text)

    def post_summary(self, summary: Summary) -> None:
        """The summary, then (when rows were not found) their CSV, each once across retries."""
        where = self._where()
        if where is None or self.job is None:
            return
        channel, thread_ts = where
        post_once(
            self.services,
            self.job,
            "summary",
            channel=channel,
            thread_ts=thread_ts,
            text=summary_text(summary),
        )
        if summary.missing:
            self.job.once("missing_csv", lambda: self._upload_missing(channel, thread_ts))

    def _upload_missing(self, channel: str, thread_ts: str) -> bool:
        content = missing_rows_csv(self.services, self.import_id)
        if content is None:
            return False
        record = self.services.imports.get(self.import_id)
        stem = (record.file_name if record else "import").rsplit(".", 1)[0]
        self.services.slack.files_upload_v2(
            content=content.encode("utf-8"),
            filename=f"{stem}-not-found.csv",
            title="Rows not found in TeleCRM",
            channel=channel,
            thread_ts=thread_ts,
            initial_comment="These rows were sent but not found in TeleCRM after the waiting time.",
        )
        return True
