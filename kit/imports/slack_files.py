"""A file people shared in Slack, fetched to disk for an import, and the problem rows' CSV sent back.

Slack files are read with the bot's token: ``files.info`` for the name, type and size, then the
bytes from ``url_private_download`` with ``Authorization: Bearer <bot token>`` (manifest scope
``files:read``). The bytes stream to a file, hashed on the way (the import remembers the file by its
SHA-256, to ask before the same file is imported twice), and a file over the 50 MB limit is refused
before it is downloaded, or as soon as it grows past it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from kit.imports.reader import MAX_FILE_BYTES, NotATable
from kit.slack_errors import is_transient_slack_failure

log = logging.getLogger(__name__)

IMPORTABLE_TYPES = ("csv", "xlsx", "tsv", "text")  # Slack's filetype of a .csv is "csv"; .txt is "text"
_EXTENSIONS = (".csv", ".xlsx", ".tsv", ".txt")


@dataclass(frozen=True)
class Downloaded:
    file_id: str
    name: str
    path: Path
    sha256: str


class SlackFileError(Exception):
    """The file could not be fetched; ``str(exc)`` says why, for the person who asked."""


def is_importable(file: Mapping[str, Any]) -> bool:
    """A CSV or XLSX file (by Slack's filetype or by its name)."""
    name = str(file.get("name") or "").lower()
    return str(file.get("filetype") or "").lower() in IMPORTABLE_TYPES or name.endswith(_EXTENSIONS)


def importable_files(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [f for f in message.get("files") or [] if isinstance(f, dict) and is_importable(f)]


def download(slack: WebClient, file_id: str, into: Path, *, timeout: float = 60.0) -> Downloaded:
    """The file's bytes in ``into``; raises :class:`SlackFileError` or, for a too-large file,
    :class:`~kit.imports.reader.NotATable` — or Slack's own error when it may pass (rate limit, 5xx)."""
    try:
        info = slack.files_info(file=file_id).get("file") or {}
    except SlackApiError as exc:
        if is_transient_slack_failure(exc):
            raise  # rate-limited or a 5xx: the caller tries again later
        error = exc.response.get("error")
        if error == "missing_scope":
            raise SlackFileError(
                "the app lacks Slack's `files:read` scope — an admin can reinstall it from `manifest.yml`."
            ) from None
        raise SlackFileError(f"Slack did not let me read the file ({error}).") from None
    name = str(info.get("name") or info.get("title") or file_id)
    size = int(info.get("size") or 0)
    if size > MAX_FILE_BYTES:
        raise NotATable(
            f"{name} is {size / 1024 / 1024:.1f} MB; the most I can import is "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB — split it into smaller files."
        )
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    if not url:
        raise SlackFileError(f"Slack gave no download link for {name}.")
    path = into / ("upload" + Path(name).suffix.lower()[:8])
    digest = hashlib.sha256()
    written = 0
    try:
        with (
            httpx.stream(
                "GET",
                url,
                headers={"Authorization": f"Bearer {slack.token}"},
                timeout=timeout,
                follow_redirects=True,
            ) as response,
            path.open("wb") as out,
        ):
            if response.status_code != 200:
                raise SlackFileError(f"Slack answered {response.status_code} when I downloaded {name}.")
            for chunk in response.iter_bytes(256 * 1024):
                written += len(chunk)
                if written > MAX_FILE_BYTES:
                    raise NotATable(
                        f"{name} is over {MAX_FILE_BYTES // 1024 // 1024} MB, the most I can import — "
                        "split it into smaller files."
                    )
                digest.update(chunk)
                out.write(chunk)
    except httpx.HTTPError as exc:
        raise SlackFileError(f"I could not download {name} from Slack ({type(exc).__name__}).") from None
    return Downloaded(file_id, name, path, digest.hexdigest())


def upload_problem_rows(
    slack: WebClient, path: Path, *, channel: str, thread_ts: str, file_name: str, rows: int
) -> str | None:
    """The problem rows' CSV shared in the import's thread; the file id, or None when Slack refused
    (logged: the preview stands without it)."""
    stem = Path(file_name).stem or "import"
    try:
        answer = slack.files_upload_v2(
            file=str(path),
            filename=f"{stem}-problem-rows.csv",
            title=f"Problem rows of {file_name} ({rows:,})",
            channel=channel,
            thread_ts=thread_ts,
        )
    except SlackApiError as exc:
        log.warning("the problem rows of an import could not be uploaded: %s", exc.response.get("error"))
        return None
    return str((answer.get("file") or {}).get("id") or "") or None
