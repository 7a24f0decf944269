"""``link_shared`` → ``chat.unfurl``: a TeleCRM lead link pasted where the bot is unfurls into a
compact card of the lead as TeleCRM holds it now.

Slack sends ``link_shared`` for every message with a link on the app's unfurl domains (the host of
``TELECRM_LEAD_URL``, see ``manifest.yml``), in every conversation; the bot answers only where it is a
member (``is_bot_user_member``). A link to another workspace or another page of the web app, or to a
lead TeleCRM does not know, gets no unfurl (no ``chat.unfurl`` call at all). When TeleCRM does not
answer, nothing is posted and one line is logged. Reads never run on a listener thread: the lookup runs
in the background (:meth:`kit.worker.Worker.background`).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk.errors import SlackApiError

from commands.unfurl.links import lead_id_in
from commands.unfurl.render import unfurl_blocks
from kit.cards import thread_permalink
from kit.context import services_of
from kit.services import Services
from telecrm.errors import TeleCRMBadRequest, TeleCRMError, TeleCRMNotFound
from telecrm.redact import mask

log = logging.getLogger(__name__)

#: lead links of one message unfurled at most (each is one TeleCRM read)
MAX_LEADS = 5


def on_link_shared(event: dict[str, Any], context: BoltContext) -> None:
    """A message with links on the app's domains: unfurl the lead links, where the bot is a member."""
    if not event.get("is_bot_user_member"):
        return
    services = services_of(context)
    services.worker.background(unfurl_links, services, event)


def lead_links(services: Services, event: dict[str, Any]) -> dict[str, str]:
    """``{url: lead id}`` of the event's links that point to a lead of this workspace."""
    settings = services.settings
    found: dict[str, str] = {}
    for link in event.get("links") or []:
        url = str((link or {}).get("url") or "")
        lead_id = lead_id_in(url, settings.telecrm_lead_url, settings.telecrm_enterprise_id)
        if lead_id and url not in found:
            found[url] = lead_id
    return dict(list(found.items())[:MAX_LEADS])


def unfurl_links(services: Services, event: dict[str, Any]) -> int:
    """Read each linked lead and unfurl the ones TeleCRM knows; returns how many were unfurled."""
    wanted = lead_links(services, event)
    if not wanted:
        return 0
    schema = services.schema()
    unfurls: dict[str, dict[str, Any]] = {}
    for url, lead_id in wanted.items():
        try:
            lead = services.telecrm.get_lead(lead_id)
        except (TeleCRMNotFound, TeleCRMBadRequest):
            log.info("a pasted lead link names no lead TeleCRM knows; not unfurled")
            continue
        except TeleCRMError as exc:
            log.warning("lead links not unfurled: TeleCRM did not answer (%s)", mask(exc))
            return 0
        thread = services.threads.get(lead_id)
        blocks = unfurl_blocks(
            schema,
            lead_id,
            lead.fields,
            lead_url=services.settings.lead_url(lead_id),
            thread_link=thread_permalink(services, thread) if thread is not None else None,
        )
        unfurls[url] = {"blocks": blocks}
    if not unfurls:
        return 0
    try:
        if event.get("source") == "composer" and event.get("unfurl_id"):
            services.slack.chat_unfurl(unfurl_id=str(event["unfurl_id"]), source="composer", unfurls=unfurls)
        else:
            channel, ts = str(event.get("channel") or ""), str(event.get("message_ts") or "")
            services.slack.chat_unfurl(channel=channel, ts=ts, unfurls=unfurls)
    except SlackApiError as exc:
        log.warning("chat.unfurl failed: %s", exc.response.get("error"))
        return 0
    return len(unfurls)


def register(app: App, services: Services) -> None:
    app.event("link_shared")(on_link_shared)
