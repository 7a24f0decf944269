"""How the emulator reaches the app: a signed HTTP POST to its Request URL, or an envelope over its
Socket Mode connection. Either way the answer is recorded as a :class:`~slack_emulator.delivery.Delivery`,
with what Slack would have made of it (too slow, not HTTP 200).

A mixin of :class:`~slack_emulator.emulator.SlackEmulator`: the Request URL, the ack timeout and the
delivery mode are settings tests change on the emulator at any time, so they are read from it at
each send rather than copied into a separate object.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from typing import Any

import httpx

from .delivery import Delivery
from .signing import sign_request
from .socket_mode import SocketModeServer
from .state import Workspace

# the name this module's log lines had when they were written from slack_emulator/emulator.py
logger = logging.getLogger("slack_emulator.emulator")

# Slack gives up on an app that has not acknowledged within 3 seconds.
SLACK_TIMEOUT = 3.0


class Transport:
    """Sending to the app; the attributes below are set by the emulator's constructor."""

    ws: Workspace
    socket: SocketModeServer
    signing_secret: str
    app_url: str | None
    # None: deliver over Socket Mode when no app_url is set and an app is connected
    socket_mode: bool | None
    ack_timeout: float
    _http: httpx.Client

    @property
    def delivers_over_socket(self) -> bool:
        """Whether the driver sends to the app over its Socket Mode connection rather than its Request URL."""
        if self.socket_mode is not None:
            return self.socket_mode
        return not self.app_url and self.socket.connection_count > 0

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
