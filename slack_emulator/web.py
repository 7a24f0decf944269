"""A small browser Slack on top of the emulator, so a newcomer can try the bot without a workspace.

The page (``static/``) asks ``GET /ui/state`` for what one user sees in one channel; the request is
held until the workspace changes (long poll on the workspace's condition), so the page follows the bot
without busy polling. What the user does goes through the emulator's driver (``POST /ui/…``), which
sends the bot the same signed requests Slack would: the browser never talks to the bot directly.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

from . import directory, web_files
from .blockkit import iter_elements
from .delivery import Delivery
from .driver import Driver
from .views import ClientValidationError

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_WAIT = 25.0
MANIFEST_NAME = "manifest.yml"


class UiError(Exception):
    """Something the user asked for that Slack would refuse; shown in the page as it is."""


# --- the app as Slack knows it (from its manifest) -------------------------------------------------


def _scalar(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        inner = raw[1:-1]
        return inner.replace('\\"', '"') if raw[0] == '"' else inner.replace("''", "'")
    return raw.split(" #", 1)[0].strip()


def _list_of_maps(text: str, key: str) -> list[dict[str, str]]:
    """Items of a YAML list of flat maps under `key:` (the manifest's shortcuts / slash_commands)."""
    items: list[dict[str, str]] = []
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"{key}:"), None)
    if start is None:
        return items
    indent = len(lines[start]) - len(lines[start].lstrip())
    for line in lines[start + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith("- "):
            break
        body = line.strip()
        if body.startswith("- "):
            items.append({})
            body = body[2:]
        name, sep, value = body.partition(":")
        if sep and items and re.fullmatch(r"[a-z_]+", name.strip()):
            items[-1][name.strip()] = _scalar(value)
    return items


def _list_of_scalars(text: str, key: str) -> list[str]:
    """Items of a YAML list of plain values under `key:` (the manifest's unfurl_domains)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"{key}:"), None)
    if start is None:
        return []
    items: list[str] = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        body = line.strip()
        if not body.startswith("- "):  # the list ended (YAML lets its items sit at the key's indent)
            break
        items.append(_scalar(body[2:]))
    return items


def read_app_features(text: str) -> dict[str, Any]:
    """Name, slash commands, shortcuts and unfurl domains from an app manifest (YAML or JSON).

    PyYAML is used when installed; otherwise the few flat lists needed are read directly, so a plain
    install still shows the right commands. A manifest is parsed once per process (PyYAML takes some
    20 ms; every emulator reads the same file): each caller gets its own copy of the features.
    """
    return copy.deepcopy(_app_features(text))


@functools.lru_cache(maxsize=4)
def _app_features(text: str) -> dict[str, Any]:
    data: Any = None
    try:
        data = json.loads(text)
    except ValueError:
        try:
            import yaml

            data = yaml.safe_load(text)
        except ImportError:
            data = None
        except Exception:
            logger.warning("the app manifest is not valid YAML; the page offers no shortcuts")
            return {"name": "", "commands": [], "shortcuts": [], "unfurl_domains": []}
    if isinstance(data, dict):
        features = data.get("features") or {}
        name = (data.get("display_information") or {}).get("name", "")
        commands = features.get("slash_commands") or []
        shortcuts = features.get("shortcuts") or []
        domains = features.get("unfurl_domains") or []
        events = ((data.get("settings") or {}).get("event_subscriptions") or {}).get("bot_events") or []
        scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot")
    else:
        match = re.search(r"^\s*name:\s*(.+)$", text, re.M)
        name = _scalar(match.group(1)) if match else ""
        commands = _list_of_maps(text, "slash_commands")
        shortcuts = _list_of_maps(text, "shortcuts")
        domains = _list_of_scalars(text, "unfurl_domains")
        events = _list_of_scalars(text, "bot_events")
        scopes = _list_of_scalars(text, "bot") if re.search(r"^\s*scopes:\s*$", text, re.M) else None
    return {
        "name": str(name or ""),
        "unfurl_domains": [str(d).strip().lower() for d in domains if isinstance(d, str) and d.strip()],
        "bot_events": [str(e).strip() for e in events if isinstance(e, str) and e.strip()],
        # None: the manifest grants no scopes list, so none is checked
        "bot_scopes": None
        if not isinstance(scopes, list)
        else [str(x).strip() for x in scopes if str(x).strip()],
        "commands": [
            {
                "command": str(c.get("command", "")),
                "description": str(c.get("description", "")),
                "usage_hint": str(c.get("usage_hint", "")),
                "should_escape": str(c.get("should_escape", "")).lower() == "true",
            }
            for c in commands
            if isinstance(c, dict) and str(c.get("command", "")).startswith("/")
        ],
        "shortcuts": [
            {
                "name": str(s.get("name", "")),
                "type": str(s.get("type", "")),
                "callback_id": str(s.get("callback_id", "")),
                "description": str(s.get("description", "")),
            }
            for s in shortcuts
            if isinstance(s, dict) and s.get("callback_id")
        ],
    }


def find_manifest() -> Path | None:
    """The app manifest of a source checkout (next to the package) or of the working directory."""
    for candidate in (Path(__file__).resolve().parent.parent / MANIFEST_NAME, Path.cwd() / MANIFEST_NAME):
        if candidate.is_file():
            return candidate
    return None


# --- what the user types ---------------------------------------------------------------------------


def escape_mentions(text: str, users: list[dict[str, Any]]) -> str:
    """What Slack sends for a command declared with ``should_escape: true``: ``@handle`` of a member
    becomes ``<@U…|handle>`` (an unknown handle stays as typed)."""
    handles = {str(u.get("name", "")).lower(): u for u in users if u.get("name") and not u.get("deleted")}

    def swap(match: re.Match[str]) -> str:
        user = handles.get(match.group(1).lower())
        return f"<@{user['id']}|{user['name']}>" if user else match.group(0)

    return re.sub(r"(?<![\w<])@([A-Za-z0-9._-]+)", swap, text)


def parse_composer(text: str) -> tuple[str, str] | None:
    """(command, text) when the composer holds a slash command, None for an ordinary message."""
    stripped = text.strip()
    match = re.match(r"^(/[^\s/]+)(?:\s+(.*))?$", stripped, re.S)
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


_BARE_URL = re.compile(r"<[^>]*>|(https?://[^\s<>|]+)")


def linkify(text: str) -> str:
    """A typed message as the Slack client sends it: bare web addresses become ``<url>`` links.

    Trailing punctuation stays outside the link; what is already inside ``<…>`` is left alone.
    """

    def wrap(match: re.Match[str]) -> str:
        url = match.group(1)
        if url is None:
            return match.group(0)
        bare = url.rstrip(".,;:!?)]}'\"")
        return f"<{bare}>{url[len(bare) :]}"

    return _BARE_URL.sub(wrap, text)


def permalink_target(path: str, thread_ts: str | None) -> tuple[str, str] | None:
    """(channel, thread to open) of a permalink path `/archives/C123/p1700000000123456`."""
    match = re.fullmatch(r"/archives/([A-Z0-9]+)/p(\d{7,})", path)
    if not match:
        return None
    digits = match.group(2)
    return match.group(1), thread_ts or f"{digits[:-6]}.{digits[-6:]}"


def delivery_problems(what: str, delivery: Delivery) -> list[str]:
    """What Slack would tell the user when the app did not answer properly, in Slack's words."""
    if delivery.status == 0:
        return [f'{what} failed with the error "dispatch_failed" (the app is not reachable)']
    if delivery.timed_out:
        return [f'{what} failed with the error "operation_timeout" (the app took {delivery.elapsed:.1f}s)']
    if delivery.status != 200:
        return [f'{what} failed with the error "dispatch_failed" (the app answered HTTP {delivery.status})']
    return [p for p in delivery.problems if not p.startswith("warning:")]


# --- the workspace as one user sees it --------------------------------------------------------------


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    profile = user.get("profile") or {}
    return {
        "id": user["id"],
        "name": user.get("name", ""),
        "real_name": user.get("real_name") or profile.get("real_name") or user.get("name", ""),
        "is_bot": bool(user.get("is_bot")),
        "is_admin": bool(user.get("is_admin")),
        "deleted": bool(user.get("deleted")),
        "tz_label": user.get("tz_label", ""),
        "email": profile.get("email", ""),
    }


def visible_channels(channels: list[dict[str, Any]], user: str) -> list[dict[str, Any]]:
    """Channels in the sidebar: every channel, and of the app's DMs only the user's own."""
    shown = []
    for c in channels:
        if c.get("is_im") and c.get("user") != user:
            continue
        shown.append(
            {
                "id": c["id"],
                "name": c.get("name", c["id"]),
                "is_im": bool(c.get("is_im")),
                "is_private": bool(c.get("is_private")),
                "is_member": bool(c.get("is_member", True)),
            }
        )
    return shown


class WebUI:
    """Routes of the browser page, mounted on the emulator's WSGI app (slack_emulator/routing.py).

    ``emulator`` is the emulator as a user drives it and reads it (slack_emulator/driver.py); the page
    does nothing a user could not do in Slack.
    """

    def __init__(self, emulator: Driver, manifest: Path | None = None) -> None:
        self.emulator = emulator
        self._closed = threading.Event()
        path = manifest or find_manifest()
        self.app: dict[str, Any] = {"name": "", "commands": [], "shortcuts": [], "unfurl_domains": []}
        if path is not None:
            try:
                self.app = read_app_features(path.read_text(encoding="utf-8"))
            except OSError as exc:
                logger.warning("cannot read the app manifest %s: %s", path, exc)
        self.app["name"] = self.app["name"] or "TeleCRM"
        self._routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "/ui/send": self.send,
            "/ui/action": self.action,
            "/ui/suggest": self.suggest,
            "/ui/submit": self.submit,
            "/ui/close": self.close_view,
            "/ui/home": self.open_home,
            "/ui/shortcut": self.shortcut,
        }

    @staticmethod
    def handles(path: str) -> bool:
        return path == "/" or path.startswith(("/ui/", "/static/", "/archives/"))

    def close(self) -> None:
        """Release held long polls (the server is going away)."""
        self._closed.set()
        self.emulator.ws.changed()

    # --- WSGI ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        if request.method in ("GET", "HEAD"):
            if path == "/":
                return self._static("index.html")
            if path.startswith("/static/"):
                return self._static(path[len("/static/") :])
            if path == "/ui/state":
                return self._state(request)
            if path.startswith("/archives/"):
                return self._permalink(path, request.args.get("thread_ts"))
            if path.startswith("/ui/files/"):  # shown (images) or downloaded: slack_emulator/web_files.py
                return web_files.serve(self.emulator, path[len("/ui/files/") :], "download" in request.args)
        elif request.method == "POST" and path == "/ui/upload":
            return web_files.upload(self.emulator, request)
        elif request.method == "POST" and path in self._routes:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return _json({"ok": False, "error": "send a JSON object"}, 400)
            try:
                return _json({"ok": True, "problems": [], **self._routes[path](body)})
            except UiError as exc:
                return _json({"ok": False, "error": str(exc)}, 400)
            except (LookupError, ValueError) as exc:
                return _json({"ok": False, "error": _plain(exc)}, 400)
        return _json({"ok": False, "error": "not_found"}, 404)

    @staticmethod
    def _permalink(path: str, thread_ts: str | None) -> Response:
        """A message link (chat.getPermalink) opens the page on that channel with the thread shown."""
        target = permalink_target(path, thread_ts)
        if target is None:
            return _json({"ok": False, "error": "not_found"}, 404)
        channel, thread = target
        return Response(
            status=302, headers={"Location": "/?" + urlencode({"channel": channel, "thread": thread})}
        )

    def _static(self, name: str) -> Response:
        target = safe_join(str(STATIC_DIR), name)
        if target is None or not Path(target).is_file():
            return _json({"ok": False, "error": "not_found"}, 404)
        mimetype = mimetypes.guess_type(target)[0] or "application/octet-stream"
        response = Response(Path(target).read_bytes(), mimetype=mimetype)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _state(self, request: Request) -> Response:
        user = request.args.get("user") or self.emulator.default_user
        channel = request.args.get("channel") or self.emulator.default_channel
        try:
            since = int(request.args.get("since", "-1"))
            wait = min(max(float(request.args.get("wait", "0")), 0.0), MAX_WAIT)
        except ValueError:
            return _json({"ok": False, "error": "since and wait are numbers"}, 400)
        if self._closed.is_set():
            return _json({"ok": False, "error": "the emulator is shutting down"}, 503)
        if user not in self.emulator.ws.users:
            return _json({"ok": False, "error": f"unknown user {user}"}, 400)
        self.wait_for_change(since, wait)
        return _json({"ok": True, **self.snapshot(user, channel)})

    def wait_for_change(self, since: int, wait: float) -> int:
        """Hold until the workspace version differs from `since`, at most `wait` seconds."""
        ws = self.emulator.ws
        deadline = time.monotonic() + wait
        with ws.cond:
            while ws.version == since and not self._closed.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                ws.cond.wait(remaining)
            return ws.version

    def snapshot(self, user: str, channel: str) -> dict[str, Any]:
        """Everything `user` sees with `channel` open: one consistent copy taken under the lock."""
        emu = self.emulator
        with emu.ws.cond:
            messages = emu.messages(channel) if channel in emu.ws.channels else []
            threads = {m["ts"] for m in messages if m.get("thread_ts") == m["ts"]}
            return {
                "version": emu.ws.version,
                "team": {"id": emu.team_id, "name": directory.TEAM_NAME},
                "app": self.app,
                "bot_user": directory.BOT_USER_ID,
                "me": user,
                "channel": channel,
                "users": [public_user(u) for u in emu.users()],
                "channels": visible_channels(emu.channels(), user),
                "messages": messages,
                "replies": {ts: emu.replies(channel, ts) for ts in sorted(threads)},
                "ephemerals": [e for e in emu.ephemerals(user) if e["channel"] == channel],
                "views": emu.open_views(user),
                "home": emu.home_view(user),
            }

    # --- what the user does --------------------------------------------------------------------

    @staticmethod
    def _user(body: dict[str, Any]) -> str:
        user = body.get("user")
        if not isinstance(user, str) or not user:
            raise UiError("say which user you are")
        return user

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """The composer: a slash command (never in a thread, as in Slack) or an ordinary message."""
        user, channel = self._user(body), str(body.get("channel") or "")
        text = str(body.get("text") or "")
        thread_ts = body.get("thread_ts") or None
        if not text.strip():
            raise UiError("type a message or a slash command")
        parsed = parse_composer(text)
        if parsed is None:
            ts = self.emulator.post_user_message(
                user=user, channel=channel, text=linkify(text), thread_ts=thread_ts
            )
            return {"ts": ts}
        command, args = parsed
        if thread_ts:
            raise UiError(
                f"{command} is not supported in threads. Sorry! Use the message's ⋮ menu (shortcuts) "
                "or the buttons on the lead card instead."
            )
        known = [c["command"] for c in self.app["commands"]]
        if known and command not in known:
            raise UiError(
                f"{command} is not a valid command. This app offers {', '.join(known)}. "
                'In Slack, all messages that start with the "/" character are interpreted as commands.'
            )
        declared: dict[str, Any] = next((c for c in self.app["commands"] if c["command"] == command), {})
        if declared.get("should_escape"):
            args = escape_mentions(args, self.emulator.users())
        delivery = self.emulator.slash_command(command, args, user=user, channel=channel)
        return {"problems": delivery_problems(command, delivery)}

    def _remember_inputs(self, user: str, view_id: str, inputs: Any) -> None:
        """Copy what the user has typed into the view's state, as the Slack client keeps it in sync."""
        if not isinstance(inputs, dict) or not inputs:
            return
        emu = self.emulator
        with emu.ws.cond:
            record = emu.ws.views.get(view_id)
            if record is None or record.user != user:
                raise UiError("this form is no longer open")
            elements = {
                b["block_id"]: e
                for b, e in iter_elements(record.view.get("blocks") or [])
                if b["type"] == "input"
            }
            for block_id, value in inputs.items():
                element = elements.get(block_id)
                if element is not None:
                    record.inputs[(block_id, element["action_id"])] = emu._state_value(
                        block_id, element, value, record, user
                    )

    def action(self, body: dict[str, Any]) -> dict[str, Any]:
        """A button, or a select / picker that dispatches, on a message, modal or the Home tab."""
        user = self._user(body)
        where = self._where(body)
        if where.get("view_id"):
            self._remember_inputs(user, where["view_id"], body.get("inputs"))
        action_id, block_id = str(body.get("action_id") or ""), body.get("block_id")
        if body.get("kind") == "button":
            delivery: Delivery | None = self.emulator.click_button(
                user=user, action_id=action_id, block_id=block_id, value=body.get("value"), **where
            )
        else:
            delivery = self.emulator.select_option(
                user=user, action_id=action_id, block_id=block_id, value=body.get("value"), **where
            )
        return {"problems": delivery_problems("That action", delivery) if delivery else []}

    @staticmethod
    def _where(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("view_id"):
            return {"view_id": str(body["view_id"])}
        if body.get("channel") and body.get("message_ts"):
            return {"channel": str(body["channel"]), "message_ts": str(body["message_ts"])}
        raise UiError("say where: a view, or a channel and a message")

    def suggest(self, body: dict[str, Any]) -> dict[str, Any]:
        """Type-ahead of an external select: the bot's options for what has been typed."""
        user = self._user(body)
        where = self._where(body)
        if where.get("view_id"):
            self._remember_inputs(user, where["view_id"], body.get("inputs"))
        delivery = self.emulator.block_suggestion(
            user=user,
            action_id=str(body.get("action_id") or ""),
            block_id=body.get("block_id"),
            value=str(body.get("value") or ""),
            **where,
        )
        answer = delivery.json if delivery.options is not None else None
        groups = answer.get("option_groups") if isinstance(answer, dict) else None
        return {
            "options": delivery.options or [],
            "option_groups": groups or None,
            "problems": delivery_problems("Loading options", delivery),
        }

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit on the top modal; what Slack's client refuses is shown under the field, unsent."""
        user, view_id = self._user(body), str(body.get("view_id") or "")
        values = body.get("values") if isinstance(body.get("values"), dict) else {}
        try:
            delivery = self.emulator.submit_view(user=user, view_id=view_id, values=values)
        except ClientValidationError as exc:
            with self.emulator.ws.cond:
                record = self.emulator.ws.views.get(view_id)
                if record is not None:
                    record.errors = dict(exc.errors)
                self.emulator.ws.changed()
            return {"client_errors": exc.errors}
        return {"problems": delivery_problems("Submitting the form", delivery)}

    def close_view(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._user(body)
        delivery = self.emulator.close_view(
            user=user, view_id=body.get("view_id") or None, clear=bool(body.get("clear"))
        )
        return {"problems": delivery_problems("Closing the form", delivery) if delivery else []}

    def open_home(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._user(body)
        delivery = self.emulator.app_home_opened(user)
        return {"problems": delivery_problems("Opening the Home tab", delivery)}

    def shortcut(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._user(body)
        callback_id = str(body.get("callback_id") or "")
        names = {s["callback_id"]: s["name"] for s in self.app["shortcuts"]}
        if names and callback_id not in names:
            raise UiError(f"the app has no shortcut {callback_id!r}")
        delivery = self.emulator.message_shortcut(
            user=user,
            callback_id=callback_id,
            channel=str(body.get("channel") or ""),
            message_ts=str(body.get("message_ts") or ""),
        )
        return {"problems": delivery_problems(names.get(callback_id, "The shortcut"), delivery)}


def _plain(exc: Exception) -> str:
    text = str(exc)
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == "'" else text


def _json(data: Any, status: int = 200) -> Response:
    response = Response(json.dumps(data), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
