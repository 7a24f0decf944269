"""Files, as Slack's external upload works: ``files.getUploadURLExternal`` hands out an upload URL and
a file id, the bytes are POSTed to that URL (no token: the URL is the secret), and
``files.completeUploadExternal`` turns them into a file object (private to the uploader unless it is
shared in a channel). ``files.info`` reads it back; ``url_private`` serves the bytes to a bearer of
the bot token, as Slack's file servers do.

An image block or image element may show an uploaded file with ``slack_file`` (``{"id": …}`` or
``{"url": …}``, never both). Slack refuses the surface with ``invalid_blocks`` /
``invalid_arguments`` and ``[ERROR] invalid slack file [json-pointer:…/slack_file]`` when the file is
unknown, not yet completed, not an image, or not visible to the poster — the message users of the
Python SDK report (slackapi/python-slack-sdk#1658); the emulator checks the same.

People share files too (slack_emulator/file_shares.py): a file posted in a channel or DM, or picked
in a modal's ``file_input``. The bot sees a file it uploaded, one shared where it is a member (or
in its DMs), and one submitted to it through a ``file_input``; any other is ``file_not_found`` to
``files.info`` and 404 to its ``url_private`` — as for a file that does not exist.

Choices where Slack's documentation is silent: a completion that names a file whose bytes never
arrived answers ``file_not_found``; ``url_private`` without a valid token answers what Slack's file
servers answer a browser that is not signed in — a 302 to the workspace's sign-in page (clients
that follow it get that HTML page, not the file; slackapi/bolt-js#2585, deno-slack-sdk#285).
"""

from __future__ import annotations

import copy
import json
import mimetypes
import re
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import directory

IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}
# what Slack calls the spreadsheet types an import reads, and what mimetypes may not know
OTHER_TYPES = {
    "csv": ("text/csv", "CSV"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel Spreadsheet"),
    "xls": ("application/vnd.ms-excel", "Excel Spreadsheet"),
    "txt": ("text/plain", "Plain Text"),
    "pdf": ("application/pdf", "PDF"),
}
ALT_TXT_MAX = 1000
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # Slack's per-file limit: 1 GB


class FileError(Exception):
    """A Slack error name for a files.* call (turned into an ApiError by the Web API)."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []


@dataclass
class StoredFile:
    """One file from its upload URL to its shares; ``data`` is None until the bytes arrive."""

    id: str
    name: str
    length: int
    user: str
    created: int
    upload_key: str
    alt_txt: str = ""
    title: str = ""
    data: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    # submitted to the app through a modal's file_input (the app may then read it)
    given_to_app: bool = False

    @property
    def filetype(self) -> str:
        ext = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""
        return ext if re.fullmatch(r"[a-z0-9]{1,8}", ext) else "binary"

    @property
    def mimetype(self) -> str:
        if self.filetype in IMAGE_TYPES:
            return IMAGE_TYPES[self.filetype]
        if self.filetype in OTHER_TYPES:
            return OTHER_TYPES[self.filetype][0]
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"

    @property
    def pretty_type(self) -> str:
        return OTHER_TYPES[self.filetype][1] if self.filetype in OTHER_TYPES else self.filetype.upper()

    @property
    def is_image(self) -> bool:
        return self.filetype in IMAGE_TYPES and self.data is not None and image_size(self.data) is not None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, GIF or JPEG header; None when the bytes are not one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker, size = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + size
    return None


class Files:
    """The workspace's files; callers hold the workspace lock (slack_emulator/state.py)."""

    def __init__(self, team_id: str, clock: Callable[[], float], base_url: Callable[[], str | None]) -> None:
        self.team_id = team_id
        self.clock = clock
        self.base_url = base_url
        self.by_id: dict[str, StoredFile] = {}
        self.by_upload_key: dict[str, str] = {}
        # is the bot a member of this channel? (the workspace sets it: slack_emulator/state.py)
        self.bot_in: Callable[[str], bool] = lambda channel: True

    def _base(self) -> str:
        return self.base_url() or "http://127.0.0.1"

    # --- the three steps of an upload ----------------------------------------------------------

    def get_upload_url(self, args: dict[str, Any], user: str) -> dict[str, Any]:
        filename = str(args.get("filename") or "").strip()
        if not filename:
            raise FileError("invalid_arguments", ["[ERROR] missing required field: filename"])
        raw_length = args.get("length")
        try:
            length = int(str(raw_length))
        except ValueError:
            raise FileError(
                "invalid_arguments", ["[ERROR] length must be an integer [json-pointer:/length]"]
            ) from None
        if length <= 0:
            raise FileError("missing_argument")
        if length > MAX_UPLOAD_BYTES:
            raise FileError("file_upload_size_restricted")
        alt_txt = str(args.get("alt_txt") or "")
        if len(alt_txt) > ALT_TXT_MAX:
            raise FileError("alt_txt_too_large")
        key = secrets.token_urlsafe(24)
        stored = StoredFile(
            id=directory.random_id("F"),
            name=filename,
            length=length,
            user=user,
            created=int(self.clock()),
            upload_key=key,
            alt_txt=alt_txt,
        )
        self.by_id[stored.id] = stored
        self.by_upload_key[key] = stored.id
        return {"upload_url": f"{self._base()}/upload/v1/{key}", "file_id": stored.id}

    def declared_length(self, key: str) -> int | None:
        """The length promised for an upload URL still waiting for its bytes (None: no such URL)."""
        stored = self.by_id.get(self.by_upload_key.get(key) or "")
        return stored.length if stored is not None and not stored.completed else None

    def receive(self, key: str, data: bytes) -> StoredFile | None:
        """The bytes POSTed to an upload URL; None for a URL Slack never handed out (or used up)."""
        file_id = self.by_upload_key.get(key)
        stored = self.by_id.get(file_id or "")
        if stored is None or stored.completed:
            return None
        stored.data = data
        return stored

    def complete(
        self, args: dict[str, Any], user: str, *, share: Callable[[StoredFile, str], None]
    ) -> dict[str, Any]:
        entries = _files_argument(args.get("files"))
        found: list[tuple[StoredFile, dict[str, Any]]] = []
        for entry in entries:
            stored = self.by_id.get(str(entry.get("id") or ""))
            if stored is None or stored.user != user or stored.data is None:
                raise FileError("file_not_found")
            found.append((stored, entry))
        channels = [c for c in str(args.get("channels") or "").split(",") if c.strip()]
        if args.get("channel_id"):
            channels.insert(0, str(args["channel_id"]))
        for stored, entry in found:
            stored.title = str(entry.get("title") or stored.title or stored.name)
            stored.completed = True
            self.by_upload_key.pop(stored.upload_key, None)
        for channel in channels:
            share(found[0][0], channel.strip())  # one message shares every file of the call
            for stored, _entry in found:
                if channel.strip() not in stored.channels:
                    stored.channels.append(channel.strip())
        return {"files": [self.file_object(stored) for stored, _ in found]}

    def add_shared(self, user: str, name: str, data: bytes, title: str = "") -> StoredFile:
        """A file a person uploads from the Slack client (to share in a message or a modal's
        file_input): complete at once, private to them until shared."""
        if not name.strip():
            raise FileError("invalid_arguments", ["[ERROR] missing required field: filename"])
        if not data:
            raise FileError("no_file_data")
        if len(data) > MAX_UPLOAD_BYTES:
            raise FileError("file_upload_size_restricted")
        stored = StoredFile(
            id=directory.random_id("F"),
            name=name.strip(),
            length=len(data),
            user=user,
            created=int(self.clock()),
            upload_key="",
            title=title or name.strip(),
            data=data,
            completed=True,
        )
        self.by_id[stored.id] = stored
        return stored

    def info(self, args: dict[str, Any], user: str) -> dict[str, Any]:
        if not args.get("file"):
            raise FileError("invalid_arguments", ["[ERROR] missing required field: file"])
        stored = self.by_id.get(str(args.get("file") or ""))
        if stored is None or not stored.completed or not self.visible_to(stored, user):
            raise FileError("file_not_found")
        return {"file": self.file_object(stored), "comments": [], "response_metadata": {"next_cursor": ""}}

    # --- reading -------------------------------------------------------------------------------

    def visible_to(self, stored: StoredFile, user: str) -> bool:
        """The uploader always sees a file; the bot one shared where it is a member or given to it in
        a file_input; people (whose channel membership is not modelled) once it is shared anywhere."""
        if stored.user == user:
            return True
        if user == directory.BOT_USER_ID:
            return stored.given_to_app or any(self.bot_in(c) for c in stored.channels)
        return bool(stored.channels)

    def url_private(self, stored: StoredFile) -> str:
        return f"{self._base()}/files-pri/{self.team_id}-{stored.id}/{stored.name}"

    def by_private_path(self, path: str) -> StoredFile | None:
        """The file of a ``/files-pri/T…-F…/name`` (or ``…/download/name``) path."""
        match = re.fullmatch(r"/files-pri/([A-Z0-9]+)-(F[A-Z0-9]+)/(?:download/)?[^/]+", path)
        if not match or match.group(1) != self.team_id:
            return None
        stored = self.by_id.get(match.group(2))
        return stored if stored is not None and stored.completed else None

    def file_object(self, stored: StoredFile) -> dict[str, Any]:
        base = self._base()
        obj: dict[str, Any] = {
            "id": stored.id,
            "created": stored.created,
            "timestamp": stored.created,
            "name": stored.name,
            "title": stored.title or stored.name,
            "mimetype": stored.mimetype,
            "filetype": stored.filetype,
            "pretty_type": stored.pretty_type,
            "user": stored.user,
            "user_team": self.team_id,
            "editable": False,
            "size": len(stored.data or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": any(c.startswith("C") for c in stored.channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": self.url_private(stored),
            "url_private_download": f"{base}/files-pri/{self.team_id}-{stored.id}/download/{stored.name}",
            "permalink": f"{base}/files/{stored.user}/{stored.id}/{stored.name}",
            "file_access": "visible",
            "channels": [c for c in stored.channels if c.startswith("C")],
            "groups": [c for c in stored.channels if c.startswith("G")],
            "ims": [c for c in stored.channels if c.startswith("D")],
            "has_rich_preview": False,
        }
        if stored.alt_txt:
            obj["alt_txt"] = stored.alt_txt
        size = image_size(stored.data or b"") if stored.filetype in IMAGE_TYPES else None
        if size is not None:
            obj["original_w"], obj["original_h"] = size
        return copy.deepcopy(obj)

    # --- image blocks --------------------------------------------------------------------------

    def image_problems(self, blocks: Any, user: str, pointer: str = "/blocks") -> list[str]:
        """``[ERROR] invalid slack file`` for each ``slack_file`` that ``user`` cannot show."""
        problems = []
        for where, slack_file in _slack_files(blocks, pointer):
            stored = self._find(slack_file)
            if (
                stored is None
                or not stored.completed
                or not stored.is_image
                or not self.visible_to(stored, user)
            ):
                problems.append(f"[ERROR] invalid slack file [json-pointer:{where}/slack_file]")
        return problems

    def _find(self, slack_file: Any) -> StoredFile | None:
        if not isinstance(slack_file, dict):
            return None
        if slack_file.get("id"):
            return self.by_id.get(str(slack_file["id"]))
        url = str(slack_file.get("url") or "")
        for stored in self.by_id.values():
            if url and url in (self.url_private(stored), self.file_object(stored)["permalink"]):
                return stored
        return None


def _files_argument(raw: Any) -> list[dict[str, Any]]:
    """``files`` of files.completeUploadExternal: a JSON array (a string when form-encoded)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise FileError(
                "invalid_arguments", ["[ERROR] files must be a JSON array [json-pointer:/files]"]
            ) from None
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        raise FileError("invalid_arguments", ["[ERROR] missing required field: files [json-pointer:/files]"])
    return raw


def _slack_files(blocks: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """(json-pointer, slack_file) of every image block and image element that names one."""
    if not isinstance(blocks, list):
        return
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        where = f"{pointer}/{i}"
        if block.get("type") == "image" and "slack_file" in block:
            yield where, block["slack_file"]
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "image" and "slack_file" in accessory:
            yield f"{where}/accessory", accessory["slack_file"]
        for j, element in enumerate(block.get("elements") or []):
            if isinstance(element, dict) and element.get("type") == "image" and "slack_file" in element:
                yield f"{where}/elements/{j}", element["slack_file"]
