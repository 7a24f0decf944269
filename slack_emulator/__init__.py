"""A loopback Slack for trying the bot without a workspace and for end-to-end tests.

`SlackEmulator` answers the Web API methods the bot uses and sends the bot signed requests the way
Slack does, or envelopes over a Socket Mode WebSocket; `serve_in_thread` puts it on a local port.

Files (slack_emulator/files.py, file_shares.py; the page: web_files.py, static/files.js):

* the bot uploads with ``files.getUploadURLExternal`` → POST the bytes → ``files.completeUploadExternal``
  (``channel_id`` + ``thread_ts`` post it in a thread); ``files.info`` reads a file back;
* a person shares a file: ``emulator.share_file(user, channel, name, data, text="", *, title="",
  thread_ts=None) -> (file_id, ts)`` — a ``file_share`` message carrying Slack's file objects (so
  ``message_shortcut`` on it hands them to the app), and a ``message`` event only when the app
  subscribes (``emulator.bot_events``, from the manifest's ``bot_events``) and is in the channel;
  ``emulator.file_share_event(channel, ts)`` builds that event for ``send_event``;
* a modal's ``file_input`` (modals only, ``max_files`` 1–10, ``filetypes``): ``emulator.
  submit_view_with_files(user=…, files={block_id: [(name, bytes), …]}, values=…, view_id=…)`` picks
  and submits; the state value is ``{"type": "file_input", "files": [<file objects>]}`` and the
  Slack client's own refusals (too many files, another type, over 10 MB, missing) raise
  ``ClientValidationError``; ``upload_modal_file`` uploads one without submitting;
* what the bot may read: files it uploaded, files shared where it is a member or in its DMs, files
  submitted to it in a ``file_input``. ``files.info`` of anything else is ``file_not_found``;
  ``url_private`` / ``url_private_download`` need ``Authorization: Bearer <bot token>`` (without
  it: a 302 to the sign-in page, as Slack's file servers answer; an unseen file: 404) and come with
  ``Content-Type``, ``Content-Length`` and, for the download URL, ``Content-Disposition``.
"""

from .blockkit import validate_message_blocks, validate_view
from .delivery import Delivery
from .emulator import SlackEmulator
from .server import RunningServer, serve_in_thread, serve_wsgi
from .signing import sign_request
from .socket_mode import SocketModeServer
from .views import ClientValidationError

__all__ = [
    "ClientValidationError",
    "Delivery",
    "RunningServer",
    "SlackEmulator",
    "SocketModeServer",
    "serve_in_thread",
    "serve_wsgi",
    "sign_request",
    "validate_message_blocks",
    "validate_view",
]
