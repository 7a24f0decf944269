"""What a modal carries in ``private_metadata`` (a :class:`~kit.packed.Packed` value, like every
button value the bot sends), signed by the bot.

A view submission brings back the view's ``private_metadata``, and the bot acts on it: the New lead
form posts the card into the channel named there, the payment form replies in the thread named
there. Slack returns the metadata untouched, but a request signed with the signing secret can carry
anything, including a view the bot never opened. So the bot seals what it puts there with an HMAC
over the form (its ``callback_id``), the person it was opened for and the context itself, and only
acts on a submission whose seal checks out: the channel in it is then one that person opened the form
from.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kit.config import Settings
from kit.packed import Packed

log = logging.getLogger(__name__)

_KEY_LABEL = b"telecrm-slack view metadata v1"


@dataclass(frozen=True)
class ViewContext(Packed):
    """Where a modal was opened, and about which lead.

    ``channel`` is where the person was (answers only they see, and new lead cards, go there);
    ``thread_channel`` and ``thread_ts`` are the lead card the modal was opened on, whose thread
    receives the result.
    """

    channel: str | None = None
    lead_id: str | None = None
    thread_channel: str | None = None
    thread_ts: str | None = None
    import_id: str | None = None  # the bulk import a *Change mapping* form is about

    def to_metadata(self) -> str:
        """Compact JSON of what is set; the view builders put this in, :class:`ViewSeal` signs it."""
        return self.to_value()

    @classmethod
    def from_metadata(cls, text: str | None) -> ViewContext:
        """Read metadata WITHOUT checking its seal: only for views the bot itself stored or built.

        A submission from Slack goes through :meth:`ViewSeal.open` instead.
        """
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return cls()
        if isinstance(data, Mapping) and isinstance(data.get("d"), str):  # a sealed envelope
            try:
                data = json.loads(data["d"])
            except ValueError:
                return cls()
        return cls.from_data(data) or cls()


class ViewSeal:
    """Seals a view's metadata when the bot sends it and checks the seal when it comes back."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> ViewSeal:
        """The key needs both Slack secrets, so the signing secret alone cannot forge metadata."""
        secret = f"{settings.slack_signing_secret}\0{settings.slack_bot_token}".encode()
        return cls(hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest())

    def _signature(self, kind: str, user: str, data: str) -> str:
        message = json.dumps([kind, user, data], separators=(",", ":")).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def seal(self, view: Mapping[str, Any], *, user: str) -> dict[str, Any]:
        """A copy of ``view`` (as built) whose metadata only ``user`` can bring back, on this form."""
        data = ViewContext.from_metadata(view.get("private_metadata")).to_metadata()
        kind = str(view.get("callback_id") or "")
        envelope = {"d": data, "u": user, "s": self._signature(kind, user, data)}
        return {**view, "private_metadata": json.dumps(envelope, separators=(",", ":"))}

    def open(self, view: Mapping[str, Any], *, user: str) -> ViewContext | None:
        """The context of a submitted view, or None when the bot did not open this form for ``user``."""
        try:
            envelope = json.loads(view.get("private_metadata") or "")
        except (ValueError, TypeError):
            envelope = None
        if not isinstance(envelope, Mapping) or not isinstance(envelope.get("d"), str):
            log.warning("a submitted %s form carries no sealed metadata", view.get("callback_id"))
            return None
        kind = str(view.get("callback_id") or "")
        expected = self._signature(kind, user, envelope["d"])
        if envelope.get("u") != user or not hmac.compare_digest(expected, str(envelope.get("s") or "")):
            log.warning("a submitted %s form carries metadata the bot did not seal for this user", kind)
            return None
        return ViewContext.from_metadata(envelope["d"])


def refused_view(title: str = "Form expired") -> dict[str, Any]:
    """What a form shows when its metadata cannot be trusted: nothing is done, open it again."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":warning: This form could not be verified, so nothing was done. "
                    "Close it and open it again from Slack.",
                },
            }
        ],
    }
