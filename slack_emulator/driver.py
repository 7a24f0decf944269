"""The user the emulator plays: slash commands, clicks, choices, modal submissions, options requests,
shortcuts and events, each sent to the app exactly as Slack sends it, then the app's answer applied
the way Slack applies it.

A gesture is only possible where Slack would offer it (a button on that message or the top view, no
slash command in a thread, the Slack client's own checks before a submission: views.py, which keeps
a modal's state; files people share or pick: file_shares.py). Events, a person's message and what a
workspace does to the app: events.py. Sending: transport.py.
"""

from __future__ import annotations

import copy
import urllib.parse
from typing import Any, cast

from . import directory, views
from .blockkit import iter_elements, validate_options_answer
from .delivery import Delivery
from .events import VERIFICATION_TOKEN, Events
from .file_shares import FileShares
from .state import ResponseUrl, ViewRecord
from .webapi import ApiError, WebApi


class Driver(FileShares, Events):
    """User gestures; a mixin of :class:`~slack_emulator.emulator.SlackEmulator`, whose constructor
    sets the attributes below and :class:`~slack_emulator.events.Events`' (``url`` once the emulator
    is served)."""

    url: str | None
    api: WebApi

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

    def _action_ts(self) -> str:
        return f"{self.clock():.6f}"

    def _response_url(self, info: ResponseUrl) -> str:
        rid = self.ws.new_response_url(info)
        return f"{self.url or 'http://127.0.0.1'}/response/{rid}"

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
                    "view": views.view_payload(record),
                }
            )
            return payload
        # a message surface always has a channel; the emulator built it
        channel = cast(str, surface.get("channel") if kind == "ephemeral" else self._channel_of(surface))
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
            state = views.to_state_value(element, value, record, self.ws.users)
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
                element = inputs[block_id][1]
                record.inputs[(block_id, element["action_id"])] = self._state_value(
                    block_id, element, value, record, user
                )
            views.client_side_checks(record, inputs)
            self._give_files_to_app(record)
            record.errors = {}
            trigger_id = self.ws.new_trigger(user)
            view_payload = views.view_payload(record)
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
        views.apply_submission_answer(self.ws, record, user, delivery)
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
                "view": views.view_payload(record),
                "is_cleared": clear,
                "is_enterprise_install": False,
                "enterprise": None,
            }
            views.forget(self.ws, self.ws.close_stack(user, count=None if clear else 1))
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
                payload["view"] = views.view_payload(record)
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
