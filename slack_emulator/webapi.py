"""The Slack Web API methods the bot uses, with Slack's response shapes and error names."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import Any

from . import directory
from .api_error import ApiError
from .blockkit import MESSAGE_TEXT_MAX, validate_message_blocks, validate_view
from .files import FileError, StoredFile
from .paging import _bool, _page
from .state import RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL, ResponseUrl, ViewRecord, Workspace, fill_ids
from .unfurls import UnfurlMethods
from .usergroups import UsergroupMethods

logger = logging.getLogger(__name__)

__all__ = ["ApiError", "WebApi"]  # ApiError lives in slack_emulator/api_error.py; it is raised from here

MAX_VIEW_STACK = 3
JSON_ARGS = ("blocks", "attachments", "view", "metadata")


def _with_metadata(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of ``messages``; Slack includes their ``metadata`` only when ``include_all_metadata`` is set."""
    copies = copy.deepcopy(messages)
    if not _bool(args.get("include_all_metadata")):
        for message in copies:
            message.pop("metadata", None)
    return copies


class WebApi(UnfurlMethods, UsergroupMethods):
    """Dispatches `/api/<method>` calls against a Workspace (``chat.unfurl``: slack_emulator/unfurls.py)."""

    def __init__(self, ws: Workspace, *, base_url: Callable[[], str | None], trigger_ttl: float) -> None:
        self.ws = ws
        self.trigger_ttl = trigger_ttl
        self.base_url = base_url
        ws.files.base_url = base_url
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "api.test": self.api_test,
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "chat.delete": self.chat_delete,
            "chat.unfurl": self.chat_unfurl,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.push": self.views_push,
            "views.publish": self.views_publish,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "users.list": self.users_list,
            "conversations.info": self.conversations_info,
            "conversations.replies": self.conversations_replies,
            "conversations.history": self.conversations_history,
            "conversations.open": self.conversations_open,
            "usergroups.list": self.usergroups_list,
            "usergroups.users.list": self.usergroups_users_list,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
            "files.info": self.files_info,
        }

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def decode_json_args(args: dict[str, Any]) -> None:
        """Form-encoded calls carry blocks / view as JSON strings; Slack decodes them."""
        for key in JSON_ARGS:
            value = args.get(key)
            if isinstance(value, str):
                try:
                    args[key] = json.loads(value)
                except ValueError as exc:
                    raise ApiError(
                        "invalid_blocks_format" if key == "blocks" else "invalid_arguments",
                        [f"[ERROR] must be valid JSON [json-pointer:/{key}]"],
                    ) from exc

    def _channel(self, args: dict[str, Any], key: str = "channel") -> dict[str, Any]:
        cid = args.get(key)
        if not cid:
            raise ApiError("channel_not_found")
        channel = self.ws.channels.get(str(cid))
        if channel is None and str(cid) in self.ws.users:
            channel = self.ws.direct_message_channel(str(cid))
        if channel is None:
            # Slack accepts a channel name too (`#sales-leads` or `sales-leads`).
            name = str(cid).lstrip("#")
            channel = next((c for c in self.ws.channels.values() if c["name"] == name), None)
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def _user(self, uid: Any) -> dict[str, Any]:
        user = self.ws.users.get(str(uid or ""))
        if user is None:
            raise ApiError("user_not_found")
        return user

    def check_content(self, args: dict[str, Any], *, required: bool = True) -> list[str]:
        """Validate text/blocks of a message; returns warnings (Slack's, for a missing fallback text)."""
        text = args.get("text")
        blocks = args.get("blocks")
        if text is not None and not isinstance(text, str):
            args["text"] = text = str(text)
        if text is not None and len(text) > MESSAGE_TEXT_MAX:
            raise ApiError("msg_too_long")
        if blocks is not None:
            problems = validate_message_blocks(blocks) or self.ws.files.image_problems(
                blocks, directory.BOT_USER_ID
            )
            if problems:
                raise ApiError("invalid_blocks", problems)
        if required and not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        if blocks and not text:
            return ["missing_text_or_fallback_or_attachments"]
        return []

    def bot_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": directory.BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": directory.BOT_ID,
            "app_id": directory.APP_ID,
            "text": args.get("text") or "",
            "team": self.ws.team_id,
            "bot_profile": {
                "id": directory.BOT_ID,
                "app_id": directory.APP_ID,
                "name": "TeleCRM",
                "deleted": False,
                "team_id": self.ws.team_id,
            },
        }
        if args.get("blocks"):
            message["blocks"] = fill_ids(args["blocks"])
        if args.get("attachments"):
            message["attachments"] = copy.deepcopy(args["attachments"])
        if args.get("metadata"):
            message["metadata"] = copy.deepcopy(args["metadata"])
        return message

    def _view_spec(self, args: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        view = args.get("view")
        if view is None:
            raise ApiError("invalid_arguments", ["[ERROR] missing required field: view [json-pointer:/view]"])
        errors, warnings = validate_view(view)
        errors = errors or self.ws.files.image_problems(
            view.get("blocks"), directory.BOT_USER_ID, "/view/blocks"
        )
        if errors:
            raise ApiError("invalid_arguments", errors)
        if len(json.dumps(view)) > 250_000:
            raise ApiError("view_too_large")
        return view, warnings

    def _use_trigger(self, args: dict[str, Any]) -> str:
        tid = args.get("trigger_id") or args.get("interactivity_pointer")
        if not tid:
            raise ApiError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        trigger = self.ws.triggers.get(str(tid))
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if self.ws.clock() - trigger.issued_at > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        trigger.used = True
        return trigger.user

    def _permalink(self, channel: str, ts: str, thread_ts: str | None) -> str:
        base = self.base_url() or "http://127.0.0.1"
        link = f"{base}/archives/{channel}/p{ts.replace('.', '')}"
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return link

    # --- auth ----------------------------------------------------------------------------------

    def api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"args": {k: v for k, v in args.items() if k != "token"}}

    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": (self.base_url() or "http://127.0.0.1") + "/",
            "team": directory.TEAM_NAME,
            "user": "telecrm",
            "team_id": self.ws.team_id,
            "user_id": directory.BOT_USER_ID,
            "bot_id": directory.BOT_ID,
            "is_enterprise_install": False,
        }

    # --- chat ----------------------------------------------------------------------------------

    def chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if not channel.get("is_member", True):
            raise ApiError("not_in_channel")
        warnings = self.check_content(args)
        with self.ws.cond:
            thread_ts = args.get("thread_ts") or None
            if thread_ts and self.ws.find_message(channel["id"], str(thread_ts)) is None:
                raise ApiError("thread_not_found")
            message = self.bot_message(args, self.ws.next_ts())
            if thread_ts:
                message["thread_ts"] = str(thread_ts)
            self.ws.add_message(channel["id"], message, broadcast=_bool(args.get("reply_broadcast")))
            result = {"channel": channel["id"], "ts": message["ts"], "message": copy.deepcopy(message)}
        return self._with_warnings(result, warnings)

    @staticmethod
    def _with_warnings(result: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        if warnings:
            result["warning"] = ",".join(warnings)
            result["response_metadata"] = {"warnings": warnings}
        return result

    def chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("ts") or "")
        with self.ws.cond:
            message = self.ws.find_message(channel["id"], ts)
            if message is None:
                raise ApiError("message_not_found")
            if message.get("bot_id") != directory.BOT_ID:
                raise ApiError("cant_update_message")
            warnings = self.check_content(args, required=False)
            if args.get("text") is not None:
                message["text"] = args["text"]
            if args.get("blocks") is not None:
                if args["blocks"]:
                    message["blocks"] = fill_ids(args["blocks"])
                else:
                    message.pop("blocks", None)
            if args.get("attachments") is not None:
                message["attachments"] = copy.deepcopy(args["attachments"])
            message["edited"] = {"user": directory.BOT_USER_ID, "ts": self.ws.next_ts()}
            self.ws.changed()
            shown = {k: v for k, v in message.items() if k not in ("ts",)}
            result = {
                "channel": channel["id"],
                "ts": ts,
                "text": message["text"],
                "message": copy.deepcopy(shown),
            }
        return self._with_warnings(result, warnings)

    def chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        user = self._user(args.get("user"))
        members = channel.get("members")
        if members is not None and user["id"] not in members:
            raise ApiError("user_not_in_channel")
        warnings = self.check_content(args)
        with self.ws.cond:
            ts = self.ws.next_ts()
            msg = self.bot_message(args, ts)
            msg.update({"channel": channel["id"], "recipient": user["id"]})
            if args.get("thread_ts"):
                msg["thread_ts"] = str(args["thread_ts"])
            self.ws.ephemeral.append(msg)
            self.ws.changed()
        return self._with_warnings({"message_ts": ts}, warnings)

    def chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("message_ts") or "")
        with self.ws.cond:
            message = self.ws.find_message(channel["id"], ts)
            if message is None:
                raise ApiError("message_not_found")
            link = self._permalink(channel["id"], ts, message.get("thread_ts"))
        return {"channel": channel["id"], "permalink": link}

    def chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("ts") or "")
        with self.ws.cond:
            message = self.ws.find_message(channel["id"], ts)
            if message is None:
                raise ApiError("message_not_found")
            if message.get("bot_id") != directory.BOT_ID:
                raise ApiError("cant_delete_message")
            self.ws.delete_message(channel["id"], ts)
        return {"channel": channel["id"], "ts": ts}

    # --- views ---------------------------------------------------------------------------------

    def views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        spec, _warnings = self._view_spec(args)
        if spec.get("type") != "modal":
            raise ApiError(
                "invalid_arguments", ["[ERROR] views.open only opens modals [json-pointer:/view/type]"]
            )
        with self.ws.cond:
            self._check_external_id(spec)
            user = self._use_trigger(args)
            for old in self.ws.stacks.get(user, []):
                self.ws.views.pop(old, None)
            record = self.ws.make_view(spec, user=user)
            self.ws.stacks[user] = [record.view["id"]]
            self.ws.changed()
            return {"view": copy.deepcopy(record.view)}

    def _check_external_id(self, spec: dict[str, Any], *, current: str | None = None) -> None:
        ext = spec.get("external_id")
        other = self.ws.find_view_by_external_id(ext) if ext else None
        if other is not None and other.view["id"] != current:
            raise ApiError("duplicate_external_id")

    def _find_view(self, args: dict[str, Any]) -> ViewRecord:
        if args.get("view_id"):
            record = self.ws.views.get(str(args["view_id"]))
        elif args.get("external_id"):
            record = self.ws.find_view_by_external_id(str(args["external_id"]))
        else:
            raise ApiError("invalid_arguments", ["[ERROR] either view_id or external_id is required"])
        if record is None:
            raise ApiError("not_found")
        return record

    def views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        spec, _warnings = self._view_spec(args)
        with self.ws.cond:
            record = self._find_view(args)
            if spec.get("type") != record.view["type"]:
                raise ApiError(
                    "invalid_arguments", ["[ERROR] cannot change the view type [json-pointer:/view/type]"]
                )
            if args.get("hash") and args["hash"] != record.view["hash"]:
                raise ApiError("hash_conflict")
            self._check_external_id(spec, current=record.view["id"])
            fresh = self.ws.replace_view(record, spec)
            return {"view": copy.deepcopy(fresh.view)}

    def views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        spec, _warnings = self._view_spec(args)
        if spec.get("type") != "modal":
            raise ApiError(
                "invalid_arguments", ["[ERROR] only modals can be pushed [json-pointer:/view/type]"]
            )
        with self.ws.cond:
            self._check_external_id(spec)
            tid = args.get("trigger_id") or args.get("interactivity_pointer")
            trigger = self.ws.triggers.get(str(tid)) if tid else None
            user = trigger.user if trigger else None
            stack = self.ws.stacks.get(user or "", [])
            if trigger is not None and not stack:
                raise ApiError("not_found", ["[ERROR] no modal is open to push onto"])
            if len(stack) >= MAX_VIEW_STACK:
                raise ApiError("push_limit_reached")
            user = self._use_trigger(args)
            top = self.ws.views[stack[-1]].view
            record = self.ws.make_view(
                spec, user=user, root_view_id=top["root_view_id"], previous_view_id=top["id"]
            )
            stack.append(record.view["id"])
            self.ws.changed()
            return {"view": copy.deepcopy(record.view)}

    def views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        spec, _warnings = self._view_spec(args)
        if spec.get("type") != "home":
            raise ApiError(
                "invalid_arguments", ["[ERROR] views.publish takes a home view [json-pointer:/view/type]"]
            )
        user = self._user(args.get("user_id"))
        with self.ws.cond:
            current_id = self.ws.homes.get(user["id"])
            current = self.ws.views.get(current_id) if current_id else None
            if current is not None and args.get("hash") and args["hash"] != current.view["hash"]:
                raise ApiError("hash_conflict")
            if current is not None:
                record = self.ws.replace_view(current, spec)
            else:
                record = self.ws.make_view(spec, user=user["id"])
            self.ws.homes[user["id"]] = record.view["id"]
            self.ws.changed()
            return {"view": copy.deepcopy(record.view)}

    # --- users ---------------------------------------------------------------------------------

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"user": copy.deepcopy(self._user(args.get("user")))}

    def users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for user in self.ws.users.values():
            if user.get("profile", {}).get("email", "").lower() == email and email:
                return {"user": copy.deepcopy(user)}
        raise ApiError("users_not_found")

    def users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members, cursor = _page(list(self.ws.users.values()), args, default_limit=200)
        return {
            "members": copy.deepcopy(members),
            "cache_ts": int(self.ws.clock()),
            "response_metadata": {"next_cursor": cursor},
        }

    # --- conversations -------------------------------------------------------------------------

    def conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": copy.deepcopy(self._channel(args))}

    @staticmethod
    def _in_range(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
        inclusive = _bool(args.get("inclusive"))
        oldest, latest = args.get("oldest"), args.get("latest")
        result = []
        for msg in messages:
            ts = float(msg["ts"])
            if oldest and (ts < float(oldest) or (not inclusive and ts == float(oldest))):
                continue
            if latest and (ts > float(latest) or (not inclusive and ts == float(latest))):
                continue
            result.append(msg)
        return result

    def conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("ts") or "")
        with self.ws.cond:
            message = self.ws.find_message(channel["id"], ts)
            if message is None:
                raise ApiError("thread_not_found")
            parent_ts = message.get("thread_ts") or message["ts"]
            parent = self.ws.find_message(channel["id"], parent_ts)
            candidates = [parent] + self.ws.replies_by_thread.get((channel["id"], parent_ts), [])
            thread = self._in_range([m for m in candidates if m is not None], args)
            page, cursor = _page(thread, args, default_limit=1000)
            return {
                "messages": _with_metadata(page, args),
                "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor},
            }

    def conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        with self.ws.cond:
            newest_first = list(reversed(self._in_range(self.ws.messages[channel["id"]], args)))
            page, cursor = _page(newest_first, args)
            return {
                "messages": _with_metadata(page, args),
                "has_more": bool(cursor),
                "pin_count": 0,
                "response_metadata": {"next_cursor": cursor},
            }

    def conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """The app's DM with one person, opened if needed (``return_im``: the whole channel)."""
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise ApiError("invalid_arguments", ["[ERROR] the emulator opens DMs with one person only"])
        user = self._user(users[0])
        if user.get("is_bot") or user.get("deleted"):
            raise ApiError("cannot_dm_bot" if user.get("is_bot") else "user_disabled")
        opened = "D" + user["id"][1:] in self.ws.channels
        channel = self.ws.direct_message_channel(user["id"])
        shown = copy.deepcopy(channel) if _bool(args.get("return_im")) else {"id": channel["id"]}
        return {"channel": shown, "already_open": opened, "no_op": opened}

    # --- files (slack_emulator/files.py) -------------------------------------------------------

    def files_get_upload_url_external(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.ws.cond:
            return self._files(lambda: self.ws.files.get_upload_url(args, directory.BOT_USER_ID))

    def files_complete_upload_external(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [c.strip() for c in str(args.get("channels") or "").split(",") if c.strip()]
        if args.get("channel_id"):
            channels.append(str(args["channel_id"]))
        for cid in channels:  # every channel is checked before anything is shared
            if not self._channel({"channel": cid}).get("is_member", True):
                raise ApiError("not_in_channel")
        if args.get("thread_ts") and len(channels) != 1:
            raise ApiError("invalid_arguments", ["[ERROR] thread_ts needs exactly one channel"])
        with self.ws.cond:
            thread = str(args.get("thread_ts") or "")
            if thread and self.ws.find_message(self._channel({"channel": channels[0]})["id"], thread) is None:
                raise ApiError("thread_not_found")
            return self._files(
                lambda: self.ws.files.complete(
                    args, directory.BOT_USER_ID, share=lambda f, cid: self._share_file(f, cid, args)
                )
            )

    def files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.ws.cond:
            return self._files(lambda: self.ws.files.info(args, directory.BOT_USER_ID))

    @staticmethod
    def _files(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return call()
        except FileError as exc:
            raise ApiError(exc.error, exc.messages) from None

    def _share_file(self, stored: StoredFile, channel: str, args: dict[str, Any]) -> None:
        """The message that shares an uploaded file in a channel (initial_comment as its text)."""
        cid = self._channel({"channel": channel})["id"]
        message = self.bot_message({"text": args.get("initial_comment") or ""}, self.ws.next_ts())
        message["files"] = [self.ws.files.file_object(stored)]
        message["upload"] = True
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
        self.ws.add_message(cid, message)

    # --- response_url --------------------------------------------------------------------------

    def response_url(self, rid: str, body: dict[str, Any]) -> dict[str, Any]:
        """A POST to a response_url: reply, replace or delete, within Slack's 5 uses / 30 minutes."""
        with self.ws.cond:
            info = self.ws.response_urls.get(rid)
            if info is None or self.ws.clock() - info.created_at > RESPONSE_URL_TTL:
                raise ApiError("expired_url")
            if info.uses >= RESPONSE_URL_MAX_USES:
                raise ApiError("used_url")
            info.uses += 1
            if _bool(body.get("delete_original")):
                self._delete_original(info)
                return {}
            self.check_content(body)
            if _bool(body.get("replace_original")) and info.message_ts:
                self._replace_original(info, body)
                return {}
            thread_ts = body.get("thread_ts") or info.thread_ts
            if body.get("response_type") == "in_channel":
                message = self.bot_message(body, self.ws.next_ts())
                if thread_ts:
                    message["thread_ts"] = str(thread_ts)
                self.ws.add_message(info.channel, message)
            else:
                msg = self.bot_message(body, self.ws.next_ts())
                msg.update({"channel": info.channel, "recipient": info.user})
                if thread_ts:
                    msg["thread_ts"] = str(thread_ts)
                self.ws.ephemeral.append(msg)
                self.ws.changed()
            return {}

    def _delete_original(self, info: ResponseUrl) -> None:
        if not info.message_ts:
            return
        if info.is_ephemeral:
            self.ws.ephemeral = [m for m in self.ws.ephemeral if m["ts"] != info.message_ts]
            self.ws.changed()
        else:
            self.ws.delete_message(info.channel, info.message_ts)

    def _replace_original(self, info: ResponseUrl, body: dict[str, Any]) -> None:
        if info.is_ephemeral:
            target = self.ws.find_ephemeral(info.message_ts or "")
        else:
            target = self.ws.find_message(info.channel or "", info.message_ts or "")
        if target is None:
            raise ApiError("message_not_found")
        target["text"] = body.get("text") or ""
        if body.get("blocks"):
            target["blocks"] = fill_ids(body["blocks"])
        else:
            target.pop("blocks", None)
        if not info.is_ephemeral:
            target["edited"] = {"user": directory.BOT_USER_ID, "ts": self.ws.next_ts()}
        self.ws.changed()

    # --- dispatch ------------------------------------------------------------------------------

    def call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = self.methods.get(method)
        if handler is None:
            raise ApiError("unknown_method", req_method=method)
        self.decode_json_args(args)
        return {"ok": True, **handler(args)}
