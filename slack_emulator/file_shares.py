"""People's files: sharing one in a channel or DM (a ``file_share`` message), and picking files in a
modal's ``file_input`` — what the user does in the Slack client, as the driver plays it.

A shared file's message carries Slack's file objects (``files``, ``upload: true``, subtype
``file_share``), so a message shortcut on it hands the app the files too (slack_emulator/driver.py
copies the message). The app hears the message as a ``message`` event only when it subscribes to
``message.channels`` / ``message.groups`` / ``message.im`` (its manifest's ``bot_events``) and is in
that conversation, as in Slack.

``file_input`` (docs.slack.dev, File input element): files up to 10 MB, at most ``max_files``
(default 10), of the ``filetypes`` extensions when given — the Slack client refuses anything else
before submitting (:class:`~slack_emulator.views.ClientValidationError`). The submitted state is
``{"type": "file_input", "files": [<file objects>]}``; files given to the app that way are files it
may ``files.info`` and download, though they are shared in no channel.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from . import views
from .delivery import Delivery
from .files import FileError, StoredFile
from .state import ViewRecord, Workspace

FILE_INPUT_MAX_BYTES = 10 * 1024 * 1024  # "There is a 10MB file size limit."
FILE_INPUT_MAX_FILES = 10


class FileShares:
    """A mixin of :class:`~slack_emulator.driver.Driver` (the emulator sets ``ws`` and ``bot_events``)."""

    ws: Workspace
    team_id: str
    bot_events: set[str]
    send_event: Callable[..., Delivery]
    submit_view: Callable[..., Delivery]
    app_url: str | None
    delivers_over_socket: bool

    # --- a file shared in a message ------------------------------------------------------------

    def share_file(
        self,
        user: str,
        channel: str,
        name: str,
        data: bytes,
        text: str = "",
        *,
        title: str = "",
        thread_ts: str | None = None,
    ) -> tuple[str, str]:
        """``user`` uploads ``data`` as ``name`` and shares it in ``channel`` (optionally with text, or
        in a thread); returns (file id, message ts). The bot hears of it as Slack would tell it."""
        with self.ws.cond:
            if user not in self.ws.users or self.ws.users[user].get("is_bot"):
                raise LookupError(f"unknown user {user!r}; known: {sorted(self.ws.users)}")
            if channel == "D" + user[1:]:  # the person's DM with the app, opened on first use
                self.ws.direct_message_channel(user)
            if channel not in self.ws.channels:
                raise LookupError(f"unknown channel {channel!r}; known: {sorted(self.ws.channels)}")
            if thread_ts and self.ws.find_message(channel, thread_ts) is None:
                raise LookupError(f"no message {thread_ts} in {channel} to reply to")
            try:
                stored = self.ws.files.add_shared(user, name, data, title)
            except FileError as exc:
                raise ValueError(f"Slack refuses this file: {exc.error}") from None
            stored.channels.append(channel)
            message: dict[str, Any] = {
                "type": "message",
                "subtype": "file_share",
                "text": text,
                "files": [self.ws.files.file_object(stored)],
                "upload": True,
                "user": user,
                "display_as_bot": False,
                "ts": self.ws.next_ts(),
                "team": self.team_id,
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            self.ws.add_message(channel, message)
            event = self._message_event(channel, message)
        if event is not None and (self.app_url or self.delivers_over_socket):
            self.send_event(event)
        return stored.id, str(message["ts"])

    def file_share_event(self, channel: str, ts: str) -> dict[str, Any]:
        """The ``message`` event (subtype ``file_share``) Slack sends for a shared file's message,
        for a test to send with ``send_event`` whatever the app subscribes to."""
        with self.ws.cond:
            message = self.ws.find_message(channel, ts)
            if message is None or message.get("subtype") != "file_share":
                raise LookupError(f"no file_share message {ts} in {channel}")
            return _event(self.ws, channel, message)

    def _message_event(self, channel: str, message: dict[str, Any]) -> dict[str, Any] | None:
        conversation = self.ws.channels[channel]
        kind = (
            "im" if conversation.get("is_im") else "groups" if conversation.get("is_private") else "channels"
        )
        if f"message.{kind}" not in self.bot_events or not self.ws.files.bot_in(channel):
            return None
        return _event(self.ws, channel, message)

    # --- files picked in a modal ---------------------------------------------------------------

    def upload_modal_file(self, *, user: str, name: str, data: bytes) -> dict[str, Any]:
        """``user`` picks a file in a ``file_input``: uploaded, private to them; its file object."""
        with self.ws.cond:
            if user not in self.ws.users:
                raise LookupError(f"unknown user {user!r}")
            try:
                stored = self.ws.files.add_shared(user, name, data)
            except FileError as exc:
                raise ValueError(f"Slack refuses this file: {exc.error}") from None
            return self.ws.files.file_object(stored)

    def submit_view_with_files(
        self,
        *,
        user: str,
        files: dict[str, list[tuple[str, bytes]]],
        values: dict[str, Any] | None = None,
        view_id: str | None = None,
    ) -> Delivery:
        """Pick files (``{block_id: [(name, bytes), …]}``) in the top modal's file inputs, fill the other
        ``values`` and press Submit (slack_emulator/driver.py ``submit_view``)."""
        picked: dict[str, Any] = dict(values or {})
        for block_id, chosen in files.items():
            picked[block_id] = [self.upload_modal_file(user=user, name=n, data=d)["id"] for n, d in chosen]
        return self.submit_view(user=user, view_id=view_id, values=picked)

    def _state_value(
        self, block_id: str, element: dict[str, Any], value: Any, record: ViewRecord, user: str
    ) -> dict[str, Any]:
        """An input's value in Slack's state shape; a file_input's files (ids or file objects the user
        uploaded) checked as the Slack client checks them."""
        if element.get("type") != "file_input":
            return views.to_state_value(element, value, record, self.ws.users)
        chosen = value if isinstance(value, list | tuple) else [] if value is None else [value]
        stored: list[StoredFile] = []
        for item in chosen:
            file_id = str(item.get("id") if isinstance(item, dict) else item)
            found = self.ws.files.by_id.get(file_id)
            if found is None or found.user != user or not found.completed:
                raise LookupError(f"{user} has uploaded no file {file_id!r}")
            stored.append(found)
        problem = _file_input_problem(element, stored)
        if problem:
            raise views.ClientValidationError({block_id: problem})
        return {"type": "file_input", "files": [self.ws.files.file_object(f) for f in stored]}

    def _give_files_to_app(self, record: ViewRecord) -> None:
        """Submitted file_input files become readable by the app (Slack shares them with it)."""
        for state in record.inputs.values():
            for obj in state.get("files") or [] if state.get("type") == "file_input" else []:
                found = self.ws.files.by_id.get(str(obj.get("id")))
                if found is not None:
                    found.given_to_app = True


def _file_input_problem(element: dict[str, Any], stored: list[StoredFile]) -> str | None:
    """What the Slack client says when the picked files do not fit the element, or None."""
    most = int(element.get("max_files") or FILE_INPUT_MAX_FILES)
    if len(stored) > most:
        return f"You can upload up to {most} file{'s' if most != 1 else ''}."
    allowed = [str(t).lower().lstrip(".") for t in element.get("filetypes") or []]
    for found in stored:
        if allowed and found.filetype not in allowed:
            return f"{found.name} is not an accepted file type ({', '.join(allowed)})."
        if found.length > FILE_INPUT_MAX_BYTES:
            return f"{found.name} is larger than 10 MB."
    return None


def _event(ws: Workspace, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    conversation = ws.channels[channel]
    kind = "im" if conversation.get("is_im") else "group" if conversation.get("is_private") else "channel"
    event = copy.deepcopy(message)
    event.update({"channel": channel, "channel_type": kind, "event_ts": message["ts"]})
    event["client_msg_id"] = str(uuid.uuid4())
    return event
