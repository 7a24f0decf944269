"""SlackEmulator: a strict loopback stand-in for Slack, as both Web API server and request sender.

The Web API side answers the bot's calls (see `webapi.py`); the driver side plays the user, sending
the bot signed slash commands, button clicks, modal submissions, options requests, shortcuts and
events exactly as Slack would, then applies the bot's HTTP answer the way Slack does (a submission
answered with `response_action: errors` keeps the modal open with the errors shown, and so on).
An app connected in Socket Mode (see `socket_mode.py`) gets the same payloads in envelopes over its
WebSocket instead, and the payload of its ack is applied like an HTTP answer.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from . import directory
from .blockkit import all_options, iter_elements, validate_options_answer, validate_view
from .faults import WebApiFault, WebApiFaults
from .signing import sign_request
from .socket_mode import SocketModeServer
from .state import ResponseUrl, ViewRecord, Workspace
from .web import WebUI
from .webapi import MAX_VIEW_STACK, ApiError, WebApi

logger = logging.getLogger(__name__)

SLACK_TIMEOUT = 3.0
VERIFICATION_TOKEN = "emulatorVerificationToken"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ClientValidationError(ValueError):
    """Input the Slack client itself refuses to submit (missing required field, bad email, ...)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Delivery:
    """One request sent to the bot and the bot's answer."""

    kind: str
    payload: dict[str, Any]
    status: int
    body: str
    headers: dict[str, str]
    elapsed: float
    trigger_id: str | None = None
    timed_out: bool = False
    problems: list[str] = field(default_factory=list)
    options: list[dict[str, Any]] | None = None
    envelope_id: str | None = None  # set when delivered over Socket Mode

    @property
    def json(self) -> Any:
        """The answer parsed as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None


class SlackEmulator:
    """A faithful, strict stand-in for Slack for one workspace and one app."""

    def __init__(
        self,
        *,
        signing_secret: str,
        bot_token: str = "xoxb-emulator-token",
        app_token: str = "xapp-1-A0TELECRMAPP-emulator",
        app_url: str | None = None,
        socket_mode: bool | None = None,
        team_id: str = "T0EMULATOR",
        users: list[dict[str, Any]] | None = None,
        channels: list[dict[str, Any]] | None = None,
        trigger_ttl: float = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token
        self.app_url = app_url
        # None: deliver over Socket Mode when no app_url is set and an app is connected
        self.socket_mode = socket_mode
        self.team_id = team_id
        self.url: str | None = None
        self.clock = clock
        self.ws = Workspace(team_id=team_id, users=users, channels=channels, clock=clock)
        self.api = WebApi(self.ws, base_url=lambda: self.url, trigger_ttl=trigger_ttl)
        self.web_faults = WebApiFaults()
        self.ack_timeout = SLACK_TIMEOUT
        # keep-alive as large as the pool: httpcore otherwise closes "surplus" idle connections, including
        # one another sender thread was just handed (EBADF or a hang under 50 concurrent deliveries)
        self._http = httpx.Client(
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
        )
        self.ui = WebUI(self)
        self.socket = SocketModeServer(app_id=directory.APP_ID, notify=self._state_changed)

    def _state_changed(self) -> None:
        with self.ws.cond:
            self.ws.changed()

    @property
    def delivers_over_socket(self) -> bool:
        """Whether the driver sends to the app over its Socket Mode connection rather than its Request URL."""
        if self.socket_mode is not None:
            return self.socket_mode
        return not self.app_url and self.socket.connection_count > 0

    def new_trigger_id(self, user: str) -> str:
        """A fresh trigger id for `user`, as an interaction would carry (for driving views.* directly)."""
        self._user_ref(user)
        return self.ws.new_trigger(user)

    @property
    def trigger_ttl(self) -> float:
        """Seconds a trigger_id stays usable (Slack: 3)."""
        return self.api.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        self.api.trigger_ttl = seconds

    # --- addresses -----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Base URL for `WebClient(base_url=...)`."""
        if self.url is None:
            raise RuntimeError("the emulator is not served yet; call serve_in_thread(emulator)")
        return self.url + "/api/"

    def _response_url(self, info: ResponseUrl) -> str:
        rid = self.ws.new_response_url(info)
        return f"{self.url or 'http://127.0.0.1'}/response/{rid}"

    # --- state readers (copies) ----------------------------------------------------------------

    @property
    def calls(self) -> list[dict[str, Any]]:
        with self.ws.cond:
            return copy.deepcopy(self.ws.calls)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == method]

    def failed_calls(self) -> list[dict[str, Any]]:
        """Every Web API / response_url call Slack would have refused."""
        return [c for c in self.calls if not c["ok"]]

    @property
    def deliveries(self) -> list[Delivery]:
        with self.ws.cond:
            return list(self.ws.deliveries)

    def channels(self) -> list[dict[str, Any]]:
        with self.ws.cond:
            return copy.deepcopy(list(self.ws.channels.values()))

    def users(self) -> list[dict[str, Any]]:
        with self.ws.cond:
            return copy.deepcopy(list(self.ws.users.values()))

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel, oldest first (thread parents carry reply_count)."""
        with self.ws.cond:
            return copy.deepcopy(self.ws.messages.get(channel, []))

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies in a thread, oldest first, without the parent."""
        with self.ws.cond:
            return copy.deepcopy(self.ws.replies_by_thread.get((channel, thread_ts), []))

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (only their recipient sees them), oldest first."""
        with self.ws.cond:
            result = []
            for msg in self.ws.ephemeral:
                if user is not None and msg["recipient"] != user:
                    continue
                item = {
                    "ts": msg["ts"],
                    "channel": msg["channel"],
                    "user": msg["recipient"],
                    "text": msg.get("text", ""),
                    "blocks": copy.deepcopy(msg.get("blocks", [])),
                }
                if msg.get("thread_ts"):
                    item["thread_ts"] = msg["thread_ts"]
                result.append(item)
            return result

    def open_views(self, user: str) -> list[dict[str, Any]]:
        """The user's modal stack, root first and top last; each view carries its shown `errors`."""
        with self.ws.cond:
            result = []
            for vid in self.ws.stacks.get(user, []):
                record = self.ws.views[vid]
                view = copy.deepcopy(record.view)
                view["state"] = {"values": self._state_values(record)}
                view["errors"] = dict(record.errors)
                result.append(view)
            return result

    def home_view(self, user: str) -> dict[str, Any] | None:
        with self.ws.cond:
            vid = self.ws.homes.get(user)
            return copy.deepcopy(self.ws.views[vid].view) if vid else None

    def wait_for(
        self, predicate: Callable[[SlackEmulator], Any], timeout: float = 10.0, description: str | None = None
    ) -> Any:
        """Block until `predicate(emulator)` is truthy, waking on every state change; no polling."""
        deadline = time.monotonic() + timeout
        with self.ws.cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._describe_timeout(predicate, timeout, description))
                self.ws.cond.wait(remaining)

    def _describe_timeout(
        self, predicate: Callable[..., Any], timeout: float, description: str | None
    ) -> str:
        what = description or getattr(predicate, "__qualname__", repr(predicate))
        lines = [f"waited {timeout:.1f}s for {what}; state now:"]
        for cid, msgs in self.ws.messages.items():
            if msgs:
                lines.append(
                    f"  #{self.ws.channels[cid]['name']} ({cid}): {len(msgs)} messages, last: {msgs[-1].get('text', '')[:80]!r}"
                )
        if self.ws.ephemeral:
            lines.append(f"  ephemerals: {[m.get('text', '')[:60] for m in self.ws.ephemeral[-3:]]}")
        for user, stack in self.ws.stacks.items():
            if stack:
                lines.append(
                    f"  {user} has views open: {[self.ws.views[v].view.get('callback_id') for v in stack]}"
                )
        lines.append(
            "  last calls: "
            + ", ".join(f"{c['method']}={'ok' if c['ok'] else c['error']}" for c in self.ws.calls[-8:])
        )
        return "\n".join(lines)

    # --- users / channels as seen in payloads --------------------------------------------------

    def _user_ref(self, user: str) -> dict[str, Any]:
        u = self.ws.users.get(user)
        if u is None:
            raise LookupError(f"unknown user {user!r}; known: {sorted(self.ws.users)}")
        return {"id": u["id"], "username": u["name"], "name": u["name"], "team_id": self.team_id}

    def _team_ref(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": directory.TEAM_DOMAIN}

    def _channel_ref(self, channel: str) -> dict[str, Any]:
        c = self.ws.channels.get(channel)
        if c is None:
            raise LookupError(f"unknown channel {channel!r}; known: {sorted(self.ws.channels)}")
        return {"id": c["id"], "name": c["name"]}

    @property
    def default_user(self) -> str:
        return next(uid for uid, u in self.ws.users.items() if not u.get("is_bot"))

    @property
    def default_channel(self) -> str:
        return next(iter(self.ws.channels))

    def _action_ts(self) -> str:
        return f"{self.clock():.6f}"

    # --- sending to the bot --------------------------------------------------------------------

    def _send(
        self,
        kind: str,
        payload: dict[str, Any],
        body: str,
        content_type: str,
        *,
        trigger_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        if self.delivers_over_socket:
            return self._send_over_socket(
                kind, payload, trigger_id=trigger_id, retry_num=retry_num, retry_reason=retry_reason
            )
        if not self.app_url:
            raise RuntimeError(
                "emulator.app_url is not set (it must be the bot's Request URL) and no app is connected in Socket Mode"
            )
        sent = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        sent.update(sign_request(self.signing_secret, body))
        if retry_num is not None:
            sent["X-Slack-Retry-Num"] = str(retry_num)
            sent["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        sent.update(headers or {})
        start = time.monotonic()
        try:
            response = self._http.post(self.app_url, content=body.encode(), headers=sent)
            status, text, resp_headers = response.status_code, response.text, dict(response.headers)
        except httpx.HTTPError as exc:
            logger.warning("delivering %s to %s failed: %s", kind, self.app_url, exc)
            status, text, resp_headers = 0, "", {}
        elapsed = time.monotonic() - start
        delivery = Delivery(
            kind=kind,
            payload=payload,
            status=status,
            body=text,
            headers=resp_headers,
            elapsed=elapsed,
            trigger_id=trigger_id,
            timed_out=elapsed > self.ack_timeout,
        )
        if delivery.timed_out:
            delivery.problems.append(
                f"the app took {elapsed:.2f}s to answer; Slack gives up after {self.ack_timeout:g}s"
            )
        if status != 200:
            delivery.problems.append(f"the app answered HTTP {status}; Slack shows the user an error")
        return self._recorded(delivery)

    def _recorded(self, delivery: Delivery) -> Delivery:
        with self.ws.cond:
            self.ws.deliveries.append(delivery)
            self.ws.changed()
        return delivery

    def _send_over_socket(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        trigger_id: str | None,
        retry_num: int | None,
        retry_reason: str | None,
    ) -> Delivery:
        """Socket Mode: the same payload in an envelope; the ack's payload is the answer (status 200)."""
        envelope_type = {"slash_command": "slash_commands", "event_callback": "events_api"}.get(
            kind, "interactive"
        )
        ack = self.socket.deliver(
            envelope_type,
            payload,
            accepts_response_payload=kind in ("slash_command", "view_submission", "block_suggestion"),
            timeout=self.ack_timeout,
            retry_attempt=retry_num,
            retry_reason=(retry_reason or "timeout") if retry_num else None,
        )
        delivery = Delivery(
            kind=kind,
            payload=payload,
            status=200 if ack.acked else 0,
            body=json.dumps(ack.payload) if ack.payload is not None else "",
            headers={},
            elapsed=ack.elapsed,
            trigger_id=trigger_id,
            timed_out=ack.timed_out,
            problems=list(ack.problems),
        )
        delivery.envelope_id = ack.envelope["envelope_id"]
        return self._recorded(delivery)

    def _send_interaction(self, kind: str, payload: dict[str, Any], **kw: Any) -> Delivery:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self._send(kind, payload, body, "application/x-www-form-urlencoded", **kw)

    # --- slash commands ------------------------------------------------------------------------

    def slash_command(
        self,
        command: str,
        text: str = "",
        *,
        user: str | None = None,
        channel: str | None = None,
        retry_num: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        """A user types `command text` in a channel (never in a thread: Slack does not allow it)."""
        if not command.startswith("/"):
            raise ValueError("slash commands start with '/'")
        user = user or self.default_user
        channel = channel or self.default_channel
        user_ref, channel_ref = self._user_ref(user), self._channel_ref(channel)
        trigger_id = self.ws.new_trigger(user)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": directory.TEAM_DOMAIN,
            "channel_id": channel_ref["id"],
            "channel_name": channel_ref["name"],
            "user_id": user,
            "user_name": user_ref["username"],
            "command": command,
            "text": text,
            "api_app_id": directory.APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(
                ResponseUrl(channel=channel, user=user, created_at=self.clock())
            ),
            "trigger_id": trigger_id,
        }
        body = urllib.parse.urlencode(form)
        delivery = self._send(
            "slash_command",
            form,
            body,
            "application/x-www-form-urlencoded",
            trigger_id=trigger_id,
            retry_num=retry_num,
            headers=headers,
        )
        if delivery.status == 200 and not delivery.timed_out and delivery.body.strip():
            self._show_command_answer(delivery, channel, user)
        return delivery

    def _show_command_answer(self, delivery: Delivery, channel: str, user: str) -> None:
        """A slash command's HTTP answer becomes a message, as in Slack (ephemeral unless in_channel)."""
        answer = delivery.json
        if not isinstance(answer, dict):
            answer = {"text": delivery.body}
        try:
            args = dict(answer)
            self.api.decode_json_args(args)
            warnings = self.api.check_content(args)
        except ApiError as exc:
            delivery.problems.append(f"the command answer was refused: {exc.error} {exc.messages}")
            return
        with self.ws.cond:
            message = self.api.bot_message(args, self.ws.next_ts())
            if args.get("response_type") == "in_channel":
                self.ws.add_message(channel, message)
            else:
                message.update({"channel": channel, "recipient": user})
                self.ws.ephemeral.append(message)
                self.ws.changed()
        delivery.problems.extend(f"warning: {w}" for w in warnings)

    # --- locating things on surfaces -----------------------------------------------------------

    def _surface(
        self, user: str, channel: str | None, message_ts: str | None, view_id: str | None
    ) -> tuple[str, dict[str, Any], ViewRecord | None]:
        """('message'|'ephemeral'|'view', the message or view, the view record)."""
        if view_id:
            record = self.ws.views.get(view_id)
            if record is None or record.user != user:
                raise LookupError(f"view {view_id!r} is not open for {user}")
            stack = self.ws.stacks.get(user, [])
            if self.ws.homes.get(user) != view_id and (not stack or stack[-1] != view_id):
                raise LookupError(f"view {view_id!r} is not the top of {user}'s modal stack")
            return "view", record.view, record
        if channel and message_ts:
            message = self.ws.find_message(channel, message_ts)
            if message is not None:
                return "message", message, None
            eph = self.ws.find_ephemeral(message_ts)
            if eph is not None and eph["recipient"] == user and eph["channel"] == channel:
                return "ephemeral", eph, None
            raise LookupError(f"no message {message_ts} in {channel} visible to {user}")
        stack = self.ws.stacks.get(user, [])
        if stack:
            record = self.ws.views[stack[-1]]
            return "view", record.view, record
        raise LookupError("say where: channel and message_ts, or view_id")

    @staticmethod
    def _find_element(
        blocks: list[dict[str, Any]],
        action_id: str,
        block_id: str | None,
        types: set[str] | None,
        value: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        seen = []
        for block, element in iter_elements(blocks):
            seen.append(f"{block.get('block_id')}/{element.get('action_id')}({element.get('type')})")
            if element.get("action_id") != action_id:
                continue
            if block_id is not None and block.get("block_id") != block_id:
                continue
            if types is not None and element.get("type") not in types:
                continue
            if value is not None and element.get("value") != value:
                continue
            return block, element
        raise LookupError(f"no element {action_id!r} here; the surface has: {', '.join(seen) or 'nothing'}")

    def _base_action_payload(
        self, user: str, kind: str, surface: dict[str, Any], record: ViewRecord | None, trigger_id: str
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_ref(user),
            "api_app_id": directory.APP_ID,
            "token": VERIFICATION_TOKEN,
        }
        if kind == "view":
            assert record is not None
            payload["container"] = {"type": "view", "view_id": surface["id"]}
            payload.update(
                {
                    "trigger_id": trigger_id,
                    "team": self._team_ref(),
                    "enterprise": None,
                    "is_enterprise_install": False,
                    "view": self._view_payload(record),
                }
            )
            return payload
        channel = surface.get("channel") if kind == "ephemeral" else self._channel_of(surface)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": surface["ts"],
            "channel_id": channel,
            "is_ephemeral": kind == "ephemeral",
        }
        if surface.get("thread_ts"):
            container["thread_ts"] = surface["thread_ts"]
        payload["container"] = container
        payload.update(
            {
                "trigger_id": trigger_id,
                "team": self._team_ref(),
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": self._channel_ref(channel),
            }
        )
        if kind == "message":
            payload["message"] = copy.deepcopy(surface)
        payload["state"] = {"values": {}}
        payload["response_url"] = self._response_url(
            ResponseUrl(
                channel=channel,
                user=user,
                created_at=self.clock(),
                message_ts=surface["ts"],
                is_ephemeral=kind == "ephemeral",
                thread_ts=surface.get("thread_ts"),
            )
        )
        return payload

    def _channel_of(self, message: dict[str, Any]) -> str:
        for cid, msgs in self.ws.messages.items():
            if any(m is message for m in msgs):
                return cid
        for (cid, _thread), replies in self.ws.replies_by_thread.items():
            if any(m is message for m in replies):
                return cid
        raise LookupError("message not found")

    # --- block_actions -------------------------------------------------------------------------

    def click_button(
        self,
        *,
        user: str,
        action_id: str,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
        value: str | None = None,
    ) -> Delivery:
        """Click a button that is really on that message or view (LookupError otherwise)."""
        with self.ws.cond:
            kind, surface, record = self._surface(user, channel, message_ts, view_id)
            block, element = self._find_element(
                surface.get("blocks") or [], action_id, block_id, {"button"}, value
            )
            trigger_id = self.ws.new_trigger(user)
            payload = self._base_action_payload(user, kind, surface, record, trigger_id)
            action: dict[str, Any] = {
                "action_id": element["action_id"],
                "block_id": block["block_id"],
                "text": copy.deepcopy(element["text"]),
                "type": "button",
                "action_ts": self._action_ts(),
            }
            for key in ("value", "style", "url"):
                if key in element:
                    action[key] = element[key]
            payload["actions"] = [action]
        return self._send_interaction("block_actions", payload, trigger_id=trigger_id)

    def select_option(
        self,
        *,
        user: str,
        action_id: str,
        value: Any,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
    ) -> Delivery | None:
        """Choose in a select, overflow, date picker, checkboxes... Inputs of a modal that do not dispatch
        actions only change the view's state (returns None), as in Slack."""
        with self.ws.cond:
            kind, surface, record = self._surface(user, channel, message_ts, view_id)
            block, element = self._find_element(surface.get("blocks") or [], action_id, block_id, None, None)
            if element["type"] == "button":
                raise LookupError(f"{action_id!r} is a button; use click_button")
            state = self._to_state_value(element, value, record)
            if record is not None:
                record.inputs[(block["block_id"], element["action_id"])] = state
                self.ws.changed()
            dispatches = block["type"] != "input" or bool(block.get("dispatch_action"))
            if not dispatches:
                return None
            trigger_id = self.ws.new_trigger(user)
            payload = self._base_action_payload(user, kind, surface, record, trigger_id)
            action = {
                "type": element["type"],
                "action_id": element["action_id"],
                "block_id": block["block_id"],
            }
            action.update({k: v for k, v in state.items() if k != "type"})
            if "placeholder" in element:
                action["placeholder"] = copy.deepcopy(element["placeholder"])
            action["action_ts"] = self._action_ts()
            payload["actions"] = [action]
        return self._send_interaction("block_actions", payload, trigger_id=trigger_id)

    # --- view state ----------------------------------------------------------------------------

    @staticmethod
    def _initial_state(element: dict[str, Any]) -> dict[str, Any]:
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
            state["value"] = element.get("initial_value")
        elif kind in ("static_select", "external_select", "radio_buttons"):
            state["selected_option"] = copy.deepcopy(element.get("initial_option"))
        elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
            state["selected_options"] = copy.deepcopy(element.get("initial_options", []))
        elif kind == "users_select":
            state["selected_user"] = element.get("initial_user")
        elif kind == "multi_users_select":
            state["selected_users"] = list(element.get("initial_users", []))
        elif kind == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation")
        elif kind == "multi_conversations_select":
            state["selected_conversations"] = list(element.get("initial_conversations", []))
        elif kind == "channels_select":
            state["selected_channel"] = element.get("initial_channel")
        elif kind == "multi_channels_select":
            state["selected_channels"] = list(element.get("initial_channels", []))
        elif kind == "datepicker":
            state["selected_date"] = element.get("initial_date")
        elif kind == "timepicker":
            state["selected_time"] = element.get("initial_time")
            if element.get("timezone"):
                state["timezone"] = element["timezone"]
        elif kind == "datetimepicker":
            state["selected_date_time"] = element.get("initial_date_time")
        elif kind == "rich_text_input":
            state["rich_text_value"] = copy.deepcopy(element.get("initial_value"))
        elif kind == "file_input":
            state["files"] = []
        return state

    def _to_state_value(
        self, element: dict[str, Any], value: Any, record: ViewRecord | None
    ) -> dict[str, Any]:
        """The user's input in Slack's per-element `state.values` shape."""
        kind = element["type"]
        state = self._initial_state(element)
        if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
            state["value"] = None if value is None or value == "" else str(value)
        elif kind in ("static_select", "radio_buttons", "overflow"):
            state.pop("selected_options", None)
            state["selected_option"] = None if value is None else self._pick(element, value)
        elif kind in ("multi_static_select", "checkboxes"):
            values = value if isinstance(value, list | tuple) else [value]
            state["selected_options"] = [self._pick(element, v) for v in values]
        elif kind == "external_select":
            state["selected_option"] = None if value is None else self._pick_external(element, value, record)
        elif kind == "multi_external_select":
            values = value if isinstance(value, list | tuple) else [value]
            state["selected_options"] = [self._pick_external(element, v, record) for v in values]
        elif kind in ("users_select", "multi_users_select"):
            ids = value if isinstance(value, list | tuple) else [value]
            for uid in ids:
                if uid is not None and uid not in self.ws.users:
                    raise LookupError(f"unknown user {uid!r}")
            state["selected_users" if kind.startswith("multi") else "selected_user"] = (
                list(ids) if kind.startswith("multi") else value
            )
        elif kind in ("conversations_select", "channels_select"):
            state["selected_conversation" if kind.startswith("conv") else "selected_channel"] = value
        elif kind in ("multi_conversations_select", "multi_channels_select"):
            key = "selected_conversations" if "conv" in kind else "selected_channels"
            state[key] = list(value or [])
        elif kind == "datepicker":
            if isinstance(value, dt.date):
                value = value.isoformat()
            if value is not None:
                dt.date.fromisoformat(str(value))
            state["selected_date"] = value
        elif kind == "timepicker":
            if isinstance(value, dt.time):
                value = value.strftime("%H:%M")
            state["selected_time"] = value
        elif kind == "datetimepicker":
            if isinstance(value, dt.datetime):
                value = int(value.timestamp())
            state["selected_date_time"] = None if value is None else int(value)
        elif kind == "rich_text_input":
            state["rich_text_value"] = value
        elif kind == "file_input":
            state["files"] = list(value or [])
        else:
            raise LookupError(f"cannot enter a value into a {kind}")
        return state

    @staticmethod
    def _pick(element: dict[str, Any], value: Any) -> dict[str, Any]:
        wanted = value.get("value") if isinstance(value, dict) else str(value)
        for option in all_options(element):
            if option.get("value") == wanted:
                return copy.deepcopy(option)
        offered = [o.get("value") for o in all_options(element)]
        raise LookupError(
            f"option {wanted!r} is not offered by {element.get('action_id')!r}; offered: {offered}"
        )

    @staticmethod
    def _pick_external(element: dict[str, Any], value: Any, record: ViewRecord | None) -> dict[str, Any]:
        if isinstance(value, dict):
            return copy.deepcopy(value)
        offered = record.suggestions.get(element.get("action_id", ""), []) if record else []
        for option in offered:
            if option.get("value") == str(value):
                return copy.deepcopy(option)
        return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}

    def _state_values(self, record: ViewRecord) -> dict[str, dict[str, Any]]:
        values: dict[str, dict[str, Any]] = {}
        for block, element in iter_elements(record.view.get("blocks") or []):
            key = (block["block_id"], element.get("action_id", ""))
            if key in record.inputs:
                values.setdefault(key[0], {})[key[1]] = copy.deepcopy(record.inputs[key])
            elif block["type"] == "input":
                values.setdefault(key[0], {})[key[1]] = self._initial_state(element)
        return values

    def _view_payload(self, record: ViewRecord) -> dict[str, Any]:
        view = copy.deepcopy(record.view)
        view["state"] = {"values": self._state_values(record)}
        return view

    # --- view submission -----------------------------------------------------------------------

    def submit_view(
        self, *, user: str, view_id: str | None = None, values: dict[str, Any] | None = None
    ) -> Delivery:
        """Fill inputs (keyed by block_id) and press Submit on the top modal; applies the bot's answer."""
        with self.ws.cond:
            stack = self.ws.stacks.get(user, [])
            if not stack:
                raise LookupError(f"{user} has no modal open")
            if view_id is not None and stack[-1] != view_id:
                raise LookupError(f"view {view_id!r} is not the top of {user}'s modal stack {stack}")
            record = self.ws.views[stack[-1]]
            if not record.view.get("submit"):
                raise LookupError("this modal has no submit button")
            inputs = {
                b["block_id"]: (b, e) for b, e in iter_elements(record.view["blocks"]) if b["type"] == "input"
            }
            for block_id, value in (values or {}).items():
                if block_id not in inputs:
                    raise LookupError(f"no input block {block_id!r}; inputs: {sorted(inputs)}")
                block, element = inputs[block_id]
                record.inputs[(block_id, element["action_id"])] = self._to_state_value(element, value, record)
            self._client_side_checks(record, inputs)
            record.errors = {}
            trigger_id = self.ws.new_trigger(user)
            view_payload = self._view_payload(record)
            payload = {
                "type": "view_submission",
                "team": self._team_ref(),
                "user": self._user_ref(user),
                "api_app_id": directory.APP_ID,
                "token": VERIFICATION_TOKEN,
                "trigger_id": trigger_id,
                "view": view_payload,
                "response_urls": self._submission_response_urls(record, user),
                "is_enterprise_install": False,
                "enterprise": None,
            }
            self.ws.changed()
        delivery = self._send_interaction("view_submission", payload, trigger_id=trigger_id)
        self._apply_submission_answer(record, user, delivery)
        return delivery

    def _submission_response_urls(self, record: ViewRecord, user: str) -> list[dict[str, Any]]:
        urls = []
        for block, element in iter_elements(record.view["blocks"]):
            if block["type"] != "input" or not element.get("response_url_enabled"):
                continue
            state = record.inputs.get((block["block_id"], element["action_id"]), {})
            channel = state.get("selected_conversation") or state.get("selected_channel")
            if channel:
                url = self._response_url(ResponseUrl(channel=channel, user=user, created_at=self.clock()))
                urls.append(
                    {
                        "block_id": block["block_id"],
                        "action_id": element["action_id"],
                        "channel_id": channel,
                        "response_url": url,
                    }
                )
        return urls

    def _client_side_checks(
        self, record: ViewRecord, inputs: dict[str, tuple[dict[str, Any], dict[str, Any]]]
    ) -> None:
        """What the Slack client refuses before anything is sent."""
        errors: dict[str, str] = {}
        for block_id, (block, element) in inputs.items():
            state = record.inputs.get((block_id, element["action_id"])) or self._initial_state(element)
            filled = [
                v for k, v in state.items() if k != "type" and k != "timezone" and v not in (None, [], "")
            ]
            if not filled:
                if not block.get("optional"):
                    errors[block_id] = "Please fill out this field."
                continue
            kind, value = element["type"], state.get("value")
            if kind == "plain_text_input":
                lo, hi = element.get("min_length", 0), element.get("max_length", 3000)
                if not lo <= len(value) <= hi:
                    errors[block_id] = f"Must be between {lo} and {hi} characters."
            elif kind == "email_text_input" and not _EMAIL.match(value):
                errors[block_id] = "Enter an email address."
            elif kind == "url_text_input" and not re.match(r"^https?://[^\s/]+\.[^\s]+$", value):
                errors[block_id] = "Enter a URL."
            elif kind == "number_input":
                errors.update(self._number_problem(block_id, element, value))
            max_items = element.get("max_selected_items")
            selected = state.get("selected_options") or state.get("selected_users") or []
            if max_items and len(selected) > max_items:
                errors[block_id] = f"Select at most {max_items}."
        if errors:
            raise ClientValidationError(errors)

    @staticmethod
    def _number_problem(block_id: str, element: dict[str, Any], value: str) -> dict[str, str]:
        try:
            number = float(value)
        except ValueError:
            return {block_id: "Enter a number."}
        if not element.get("is_decimal_allowed") and not number.is_integer():
            return {block_id: "Enter a whole number."}
        if element.get("min_value") is not None and number < float(element["min_value"]):
            return {block_id: f"Enter a number of at least {element['min_value']}."}
        if element.get("max_value") is not None and number > float(element["max_value"]):
            return {block_id: f"Enter a number of at most {element['max_value']}."}
        return {}

    def _apply_submission_answer(self, record: ViewRecord, user: str, delivery: Delivery) -> None:
        """Do with the modal what Slack does with the bot's answer to a view_submission."""
        if delivery.status != 200 or delivery.timed_out:
            return
        with self.ws.cond:
            if not delivery.body.strip():
                self._close_top(user, record)
                return
            answer = delivery.json
            if not isinstance(answer, dict):
                delivery.problems.append("the answer to a view_submission must be empty or a JSON object")
                return
            action = answer.get("response_action")
            if action == "errors":
                self._apply_errors(record, answer.get("errors"), delivery)
            elif action == "update":
                spec = self._valid_view(answer.get("view"), delivery)
                if spec is not None:
                    self.ws.replace_view(record, spec)
            elif action == "push":
                spec = self._valid_view(answer.get("view"), delivery)
                stack = self.ws.stacks.get(user, [])
                if spec is not None and len(stack) >= MAX_VIEW_STACK:
                    delivery.problems.append("push_limit_reached: a modal stack holds at most 3 views")
                elif spec is not None:
                    top = record.view
                    pushed = self.ws.make_view(
                        spec, user=user, root_view_id=top["root_view_id"], previous_view_id=top["id"]
                    )
                    stack.append(pushed.view["id"])
            elif action == "clear":
                self._forget(self.ws.close_stack(user))
            elif action is None and not answer:
                self._close_top(user, record)
            else:
                delivery.problems.append(f"unknown response_action {action!r}")
            self.ws.changed()

    def _close_top(self, user: str, record: ViewRecord) -> None:
        stack = self.ws.stacks.get(user, [])
        if stack and stack[-1] == record.view["id"]:
            self._forget(self.ws.close_stack(user, count=1))

    def _forget(self, view_ids: list[str]) -> None:
        for vid in view_ids:
            self.ws.views.pop(vid, None)

    def _valid_view(self, spec: Any, delivery: Delivery) -> dict[str, Any] | None:
        errors, _warnings = validate_view(spec, pointer="/view")
        if isinstance(spec, dict) and spec.get("type") != "modal":
            errors.append("[ERROR] response_action views must be modals [json-pointer:/view/type]")
        if errors:
            delivery.problems.append("invalid view in response_action: " + "; ".join(errors))
            return None
        return spec

    @staticmethod
    def _apply_errors(record: ViewRecord, errors: Any, delivery: Delivery) -> None:
        if not isinstance(errors, dict) or not errors:
            delivery.problems.append("response_action errors needs a non-empty `errors` object")
            return
        input_ids = {b["block_id"] for b in record.view["blocks"] if b.get("type") == "input"}
        unknown = [k for k in errors if k not in input_ids]
        if unknown:
            delivery.problems.append(
                f"errors name blocks that are not input blocks of this view: {unknown}; Slack refuses the answer"
            )
            return
        bad = [k for k, v in errors.items() if not isinstance(v, str) or not v]
        if bad:
            delivery.problems.append(f"error messages must be non-empty strings: {bad}")
            return
        record.errors = dict(errors)

    def close_view(self, *, user: str, view_id: str | None = None, clear: bool = False) -> Delivery | None:
        """The user closes the top modal (Cancel), or all of them (the X: `clear=True`).

        The bot only hears about it (view_closed) when the view asked with notify_on_close.
        """
        with self.ws.cond:
            stack = self.ws.stacks.get(user, [])
            if not stack:
                raise LookupError(f"{user} has no modal open")
            if view_id is not None and stack[-1] != view_id:
                raise LookupError(f"view {view_id!r} is not the top of {user}'s modal stack")
            record = self.ws.views[stack[-1]]
            clear = clear or bool(record.view.get("clear_on_close"))
            payload = {
                "type": "view_closed",
                "team": self._team_ref(),
                "user": self._user_ref(user),
                "api_app_id": directory.APP_ID,
                "token": VERIFICATION_TOKEN,
                "view": self._view_payload(record),
                "is_cleared": clear,
                "is_enterprise_install": False,
                "enterprise": None,
            }
            self._forget(self.ws.close_stack(user, count=None if clear else 1))
        if not record.view.get("notify_on_close"):
            return None
        return self._send_interaction("view_closed", payload)

    # --- options requests ----------------------------------------------------------------------

    def block_suggestion(
        self,
        *,
        user: str,
        view_id: str | None = None,
        action_id: str,
        value: str,
        block_id: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> Delivery:
        """The user types into an external_select; the bot's options are validated and remembered."""
        with self.ws.cond:
            kind, surface, record = self._surface(user, channel, message_ts, view_id)
            block, element = self._find_element(
                surface.get("blocks") or [],
                action_id,
                block_id,
                {"external_select", "multi_external_select"},
                None,
            )
            min_len = element.get("min_query_length", 3)
            if len(value) < min_len:
                raise LookupError(f"Slack sends no options request before {min_len} characters are typed")
            payload: dict[str, Any] = {
                "type": "block_suggestion",
                "user": self._user_ref(user),
                "container": (
                    {"type": "view", "view_id": surface["id"]}
                    if kind == "view"
                    else {
                        "type": "message",
                        "message_ts": surface["ts"],
                        "channel_id": channel,
                        "is_ephemeral": False,
                    }
                ),
                "api_app_id": directory.APP_ID,
                "token": VERIFICATION_TOKEN,
                "action_id": element["action_id"],
                "block_id": block["block_id"],
                "value": value,
                "team": self._team_ref(),
                "enterprise": None,
                "is_enterprise_install": False,
            }
            if record is not None:
                payload["view"] = self._view_payload(record)
            elif channel:
                payload["channel"] = self._channel_ref(channel)
                payload["message"] = copy.deepcopy(surface)
        delivery = self._send_interaction("block_suggestion", payload)
        delivery.options = self._check_options_answer(delivery)
        if record is not None and delivery.options is not None:
            with self.ws.cond:
                record.suggestions[element["action_id"]] = copy.deepcopy(delivery.options)
        return delivery

    @staticmethod
    def _check_options_answer(delivery: Delivery) -> list[dict[str, Any]] | None:
        if delivery.status != 200 or delivery.timed_out:
            return None
        options, problems = validate_options_answer(delivery.json)
        delivery.problems.extend(problems)
        return None if problems else options

    # --- shortcuts and events ------------------------------------------------------------------

    def message_shortcut(self, *, user: str, callback_id: str, channel: str, message_ts: str) -> Delivery:
        """A message shortcut on a message (works in threads too, unlike slash commands)."""
        with self.ws.cond:
            message = self.ws.find_message(channel, message_ts)
            if message is None:
                raise LookupError(f"no message {message_ts} in {channel}")
            trigger_id = self.ws.new_trigger(user)
            payload = {
                "type": "message_action",
                "token": VERIFICATION_TOKEN,
                "action_ts": self._action_ts(),
                "team": self._team_ref(),
                "user": self._user_ref(user),
                "channel": self._channel_ref(channel),
                "is_enterprise_install": False,
                "enterprise": None,
                "callback_id": callback_id,
                "trigger_id": trigger_id,
                "response_url": self._response_url(
                    ResponseUrl(
                        channel=channel,
                        user=user,
                        created_at=self.clock(),
                        thread_ts=message.get("thread_ts"),
                    )
                ),
                "message_ts": message_ts,
                "message": copy.deepcopy(message),
            }
        return self._send_interaction("message_action", payload, trigger_id=trigger_id)

    def global_shortcut(self, *, user: str, callback_id: str) -> Delivery:
        with self.ws.cond:
            trigger_id = self.ws.new_trigger(user)
            payload = {
                "type": "shortcut",
                "token": VERIFICATION_TOKEN,
                "action_ts": self._action_ts(),
                "team": self._team_ref(),
                "user": self._user_ref(user),
                "is_enterprise_install": False,
                "enterprise": None,
                "callback_id": callback_id,
                "trigger_id": trigger_id,
            }
        return self._send_interaction("shortcut", payload, trigger_id=trigger_id)

    def send_event(
        self, event: dict[str, Any], *, retry_num: int | None = None, event_id: str | None = None
    ) -> Delivery:
        """Any Events API event, wrapped in an event_callback envelope as Slack sends it."""
        event = {**event, "event_ts": event.get("event_ts", self._action_ts())}
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": directory.APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or directory.random_id("Ev"),
            "event_time": int(self.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": directory.BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
        body = json.dumps(envelope)
        return self._send("event_callback", envelope, body, "application/json", retry_num=retry_num)

    def app_home_opened(self, user: str) -> Delivery:
        self._user_ref(user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D" + user[1:],
            "tab": "home",
        }
        home = self.home_view(user)
        if home is not None:
            event["view"] = home
        return self.send_event(event)

    def post_user_message(self, *, user: str, channel: str, text: str, thread_ts: str | None = None) -> str:
        """A person writes in a channel (for message shortcuts on people's messages, and the UI)."""
        self._user_ref(user)
        self._channel_ref(channel)
        with self.ws.cond:
            message: dict[str, Any] = {
                "user": user,
                "type": "message",
                "ts": self.ws.next_ts(),
                "text": text,
                "team": self.team_id,
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            self.ws.add_message(channel, message)
            return message["ts"]

    # --- WSGI ----------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Web API at /api/<method>, response_urls at /response/<id>, the browser page at /."""
        request = Request(environ)
        path = request.path
        if self.ui.handles(path):
            response = self.ui.handle(request)
        elif path.startswith("/api/"):
            response = self._handle_api(request, path[len("/api/") :])
        elif path.startswith("/response/") and request.method == "POST":
            response = self._handle_response_url(request, path[len("/response/") :])
        elif path == "/healthz":
            response = _json({"ok": True, "emulator": "slack", "team_id": self.team_id})
        elif path.startswith("/archives/"):
            response = Response(f"permalink {path}", mimetype="text/plain")
        else:
            response = _json({"ok": False, "error": "not_found"}, status=404)
        return response(environ, start_response)

    def _fault(self, method: str, args: dict[str, Any], fault: WebApiFault, started: float) -> Response:
        """An injected failure: nothing happens in the workspace, the answer is Slack's error shape."""
        result = {"ok": False, "error": fault.error}
        self._record(method, args, result, started)
        response = _json(result, status=fault.status)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    def _request_args(self, request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.args.items())
        if request.method == "POST":
            if request.mimetype == "application/json":
                body = request.get_json(silent=True) if request.get_data() else {}
                if not isinstance(body, dict):
                    raise ApiError("invalid_json")
                args.update(body)
            else:
                args.update(request.form.items())
        return args

    def _token(self, request: Request, args: dict[str, Any]) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        token = args.get("token")
        return str(token) if token else None

    def _handle_api(self, request: Request, method: str) -> Response:
        """Runs under the state lock so a waiter never sees a change before its call is recorded."""
        with self.ws.cond:
            return self._handle_api_locked(request, method)

    def _handle_api_locked(self, request: Request, method: str) -> Response:
        started = self.clock()
        args: dict[str, Any] = {}
        try:
            args = self._request_args(request)
            token = self._token(request, args)
            args.pop("token", None)
            if method == "apps.connections.open":
                result = self._connections_open(request)
            else:
                if method not in self.api.methods:
                    raise ApiError("unknown_method", req_method=method)
                if not token:
                    raise ApiError("not_authed")
                if token.startswith("xapp-"):
                    raise ApiError("not_allowed_token_type")
                if token != self.bot_token:
                    raise ApiError("invalid_auth")
                fault = self.web_faults.take(method)
                if fault is not None:
                    return self._fault(method, args, fault, started)
                result = self.api.call(method, args)
        except ApiError as exc:
            result = {"ok": False, "error": exc.error, **exc.extra}
            if exc.messages:
                result["response_metadata"] = {"messages": exc.messages}
        except Exception:
            logger.exception("emulated %s crashed", method)
            result = {"ok": False, "error": "fatal_error"}
        self._record(method, args, result, started)
        if not result["ok"]:
            logger.info("%s refused: %s %s", method, result["error"], result.get("response_metadata", ""))
        return _json(result)

    def _connections_open(self, request: Request) -> dict[str, Any]:
        """Only an app-level token, and only in the Authorization header (Slack refuses it as a parameter)."""
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            raise ApiError("not_authed")
        if not token.startswith("xapp-"):
            raise ApiError("not_allowed_token_type")
        if token != self.app_token:
            raise ApiError("invalid_auth")
        return {"ok": True, "url": self.socket.open_url()}

    def _handle_response_url(self, request: Request, rid: str) -> Response:
        with self.ws.cond:
            return self._handle_response_url_locked(request, rid)

    def _handle_response_url_locked(self, request: Request, rid: str) -> Response:
        started = self.clock()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            body = dict(request.form.items()) if request.form else {}
        try:
            args = dict(body)
            self.api.decode_json_args(args)
            result = {"ok": True, **self.api.response_url(rid, args)}
            status = 200
        except ApiError as exc:
            result = {"ok": False, "error": exc.error}
            if exc.messages:
                result["response_metadata"] = {"messages": exc.messages}
            status = 404 if exc.error in ("expired_url", "used_url") else 400
        self._record("response_url", body, result, started)
        return _json(result, status=status)

    def _record(self, method: str, args: dict[str, Any], result: dict[str, Any], started: float) -> None:
        with self.ws.cond:
            self.ws.calls.append(
                {
                    "method": method,
                    "args": copy.deepcopy(args),
                    "ok": result["ok"],
                    "error": result.get("error"),
                    "messages": list(result.get("response_metadata", {}).get("messages", [])),
                    "warnings": list(result.get("response_metadata", {}).get("warnings", [])),
                    "response": copy.deepcopy(result),
                    "at": started,
                }
            )
            self.ws.changed()

    def close(self) -> None:
        """Release the HTTP connection pool used for deliveries and the browser page's long polls."""
        self.ui.close()
        self.socket.close()
        self._http.close()


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")
