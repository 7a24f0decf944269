"""App unfurling as Slack does it: the links of a person's message on the app's unfurl domains go to
the app in a ``link_shared`` event (:func:`link_shared_event`, sent by the driver), and the app may
attach its previews to those links only, with ``chat.unfurl`` (:class:`UnfurlMethods`, a part of the
Web API). A registered domain covers its subdomains too.
"""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from . import directory
from .api_error import ApiError
from .blockkit import validate_message_blocks
from .state import Workspace, fill_ids

_ANGLED = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")
_BARE = re.compile(r"https?://[^\s<>|]+")


def links_in(text: str) -> list[str]:
    """The web links of a message's text, in order, once each: ``<url>`` / ``<url|label>`` links
    and bare addresses (without trailing punctuation). ``&amp;`` in a link is read as ``&``."""
    found = [m.group(1) for m in _ANGLED.finditer(text or "")]
    rest = _ANGLED.sub(" ", text or "")
    found += [m.group(0).rstrip(".,;:!?)]}'\"") for m in _BARE.finditer(rest)]
    return list(dict.fromkeys(html.unescape(url) for url in found))


def unfurl_domain(url: str, domains: Iterable[str]) -> str | None:
    """The registered domain ``url`` falls under (its host, or a parent of it), else ``None``."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    for domain in domains:
        wanted = domain.strip().lower().rstrip(".")
        if wanted and (host == wanted or host.endswith("." + wanted)):
            return wanted
    return None


def link_shared_event(ws: Workspace, channel: str, ts: str, domains: Iterable[str]) -> dict[str, Any] | None:
    """The ``link_shared`` event of a person's message, or None when none of its links falls under
    ``domains`` (never for the app's own messages). Remembers which links the app was told about.

    As in Slack, the event names each link with the registered domain it falls under, the message
    (``message_ts``, ``thread_ts``, an ``unfurl_id``), ``source: conversations_history`` and whether
    the bot is in the conversation: it is sent for every conversation, the bot's or not.
    """
    with ws.cond:
        message = ws.find_message(channel, ts)
        if message is None or message.get("bot_id"):
            return None
        links = []
        for url in links_in(str(message.get("text") or "")):
            domain = unfurl_domain(url, domains)
            if domain is not None:
                links.append({"domain": domain, "url": url})
        if not links:
            return None
        unfurl_id = f"{channel}.{ts}.{secrets.token_hex(32)}"
        ws.link_shares.setdefault((channel, ts), set()).update(link["url"] for link in links)
        ws.unfurl_ids[unfurl_id] = (channel, ts)
        event: dict[str, Any] = {
            "type": "link_shared",
            "channel": channel,
            "is_bot_user_member": bool(ws.channels[channel].get("is_member", True)),
            "user": message.get("user"),
            "message_ts": ts,
            "unfurl_id": unfurl_id,
            "source": "conversations_history",
            "links": links,
        }
        if message.get("thread_ts") and message["thread_ts"] != ts:
            event["thread_ts"] = message["thread_ts"]
        return event


class UnfurlMethods:
    """``chat.unfurl`` of the Web API (a mixin of :class:`~slack_emulator.webapi.WebApi`)."""

    ws: Workspace

    def chat_unfurl(self, args: dict[str, Any]) -> dict[str, Any]:
        """Attach the app's unfurls to a person's message: only for links Slack told the app about in
        a ``link_shared`` event of that message, addressed by ``channel`` + ``ts`` or by ``unfurl_id``
        + ``source``; ``unfurls`` maps each URL to its blocks (or attachment). A second call for the
        same URL replaces its unfurl rather than adding one."""
        channel_id, ts = args.get("channel"), args.get("ts")
        unfurl_id, source = args.get("unfurl_id"), args.get("source")
        if unfurl_id or source:
            if not (unfurl_id and source):
                raise ApiError(
                    "invalid_arguments", ["[ERROR] unfurl_id and source must be provided together"]
                )
            if source not in ("composer", "conversations_history"):
                raise ApiError(
                    "invalid_arguments", ["[ERROR] source must be composer or conversations_history"]
                )
            where = self.ws.unfurl_ids.get(str(unfurl_id))
            if where is None:
                raise ApiError("cannot_unfurl_url")
            channel_id, ts = where
        elif not channel_id:
            raise ApiError("missing_channel")
        elif not ts:
            raise ApiError("missing_ts")
        unfurls = self._unfurls(args)
        with self.ws.cond:
            channel = self.ws.channels.get(str(channel_id))
            if channel is None:
                raise ApiError("cannot_find_channel")
            message = self.ws.find_message(channel["id"], str(ts))
            if message is None:
                raise ApiError("cannot_find_message")
            in_message = set(links_in(str(message.get("text") or "")))
            shared = self.ws.link_shares.get((channel["id"], str(ts)), set())
            for url, unfurl in unfurls.items():
                if url not in in_message:
                    raise ApiError("cannot_unfurl_message")
                if url not in shared:
                    raise ApiError("cannot_unfurl_url")
                self._check_unfurl(url, unfurl)
            attachments = message.setdefault("attachments", [])
            for url, unfurl in unfurls.items():
                shown = {k: copy.deepcopy(v) for k, v in unfurl.items() if k != "blocks"}
                if unfurl.get("blocks"):
                    shown["blocks"] = fill_ids(unfurl["blocks"])
                shown.update(
                    {
                        "app_unfurl_url": url,
                        "is_app_unfurl": True,
                        "app_id": directory.APP_ID,
                        "from_url": url,
                    }
                )
                shown.setdefault("fallback", f"[no preview available] {url}")
                old = next((i for i, a in enumerate(attachments) if a.get("app_unfurl_url") == url), None)
                if old is None:
                    attachments.append({"id": len(attachments) + 1, **shown})
                else:
                    attachments[old] = {"id": attachments[old].get("id", old + 1), **shown}
            self.ws.changed()
        return {}

    @staticmethod
    def _unfurls(args: dict[str, Any]) -> dict[str, dict[str, Any]]:
        raw = args.get("unfurls")
        if raw is None or raw == "":
            raise ApiError("missing_unfurls")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise ApiError("invalid_unfurls_format") from exc
        if (
            not isinstance(raw, dict)
            or not raw
            or not all(isinstance(k, str) and isinstance(v, dict) for k, v in raw.items())
        ):
            raise ApiError("invalid_unfurls_format")
        return raw

    @staticmethod
    def _check_unfurl(url: str, unfurl: dict[str, Any]) -> None:
        """An unfurl is blocks (checked like a message's) or a legacy attachment with something to show."""
        blocks = unfurl.get("blocks")
        if blocks is not None:
            problems = validate_message_blocks(blocks) if isinstance(blocks, list) and blocks else None
            if problems is None:
                raise ApiError(
                    "cannot_parse_attachment", [f"[ERROR] blocks of {url} must be a non-empty array"]
                )
            if problems:
                raise ApiError("cannot_parse_attachment", problems)
            return
        if not any(unfurl.get(k) for k in ("text", "title", "fallback", "pretext", "fields", "image_url")):
            raise ApiError("cannot_parse_attachment", [f"[ERROR] the unfurl of {url} has nothing to show"])
