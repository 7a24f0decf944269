"""The browser page's file gestures (slack_emulator/web.py mounts them): attaching a file in the
composer shares it in the channel or thread (``share_file``), picking one in a modal's
``file_input`` uploads it privately for the form (``upload_modal_file``), and ``/ui/files/<id>``
shows or downloads a file the way the signed-in Slack client does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from .file_shares import FileShares

MAX_PAGE_UPLOAD = 1024 * 1024 * 1024  # Slack's per-file limit


def upload(emulator: FileShares, request: Request) -> Response:
    """``POST /ui/upload`` (multipart: ``user``, ``purpose`` share|modal, ``channel``, ``text``,
    ``thread_ts``, and the ``file``)."""
    if (request.content_length or 0) > MAX_PAGE_UPLOAD + 64 * 1024:
        return _json({"ok": False, "error": "Slack takes files up to 1 GB"}, 413)
    part = request.files.get("file")
    user = request.form.get("user", "")
    if part is None or not part.filename:
        return _json({"ok": False, "error": "choose a file to upload"}, 400)
    data = part.read()
    try:
        if request.form.get("purpose") == "modal":
            return _json(
                {"ok": True, "file": emulator.upload_modal_file(user=user, name=part.filename, data=data)}
            )
        file_id, ts = emulator.share_file(
            user,
            request.form.get("channel", ""),
            part.filename,
            data,
            request.form.get("text", ""),
            thread_ts=request.form.get("thread_ts") or None,
        )
    except (LookupError, ValueError) as exc:
        return _json({"ok": False, "error": str(exc).strip("'\"")}, 400)
    return _json({"ok": True, "file_id": file_id, "ts": ts})


def serve(emulator: FileShares, file_id: str, download: bool) -> Response:
    """A file as the Slack client shows it (only an image is shown inline) or downloads it (``download``)."""
    with emulator.ws.cond:
        stored = emulator.ws.files.by_id.get(file_id)
        ready = stored is not None and stored.completed and (download or stored.is_image)
        data = stored.data if stored is not None and ready else None
        mimetype = stored.mimetype if stored is not None else ""
        name = stored.name if stored is not None else ""
    if data is None:
        return _json({"ok": False, "error": "file_not_found"}, 404)
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=3600"
    if download:
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def _json(data: Any, status: int = 200) -> Response:
    response = Response(json.dumps(data), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
