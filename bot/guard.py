"""Is this Slack request for this installation? Team, app and response_url checks.

A valid signature proves a request was signed with our signing secret, not that it is about our
workspace and our app: a leaked secret, or a secret shared between apps, would let anyone send
payloads naming another team, another app, or a ``response_url`` on a host of their choosing (the
bot would then POST its answers there). Every request is checked against what ``auth.test`` said
about the bot token (and ``SLACK_APP_ID`` when set) before any listener runs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

# Shortcut payloads are the only ones Slack sends without ``api_app_id``; every other names the app.
_WITHOUT_APP_ID = frozenset({"shortcut", "message_action"})


@dataclass(frozen=True)
class Installation:
    """The workspace and app the bot token belongs to."""

    team_id: str | None
    enterprise_id: str | None = None
    app_id: str | None = None  # None: not known, so not checked

    @classmethod
    def from_auth_test(cls, answer: Mapping[str, Any], *, app_id: str = "") -> Installation:
        """From ``auth.test`` of the bot token; a configured ``SLACK_APP_ID`` wins over what it says."""
        return cls(
            team_id=answer.get("team_id") or None,
            enterprise_id=answer.get("enterprise_id") or None,
            app_id=app_id or answer.get("app_id") or None,
        )


def request_teams(body: Mapping[str, Any]) -> set[str | None]:
    """Every workspace a request names, where each payload type puts it.

    Slash commands and events: ``team_id``; interactions: ``team.id`` and ``user.team_id`` (``team``
    is null for org-wide installs). A person from another workspace (a Slack Connect guest) is not
    part of this installation either, so all of them must be the installed workspace.
    """
    named: list[object] = [body.get("team_id")]
    team = body.get("team")
    named.append(team.get("id") if isinstance(team, Mapping) else team)
    user = body.get("user")
    if isinstance(user, Mapping):
        named.append(user.get("team_id"))
    return {str(t) for t in named if t} or {None}


def response_urls(body: Mapping[str, Any]) -> Iterator[str]:
    """Every URL in the request the bot may later POST to."""
    if body.get("response_url"):
        yield str(body["response_url"])
    for entry in body.get("response_urls") or []:
        if isinstance(entry, Mapping) and entry.get("response_url"):
            yield str(entry["response_url"])


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:  # a port that is not a number
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


@functools.lru_cache(maxsize=8)  # one hooks URL per bot: parsed once, not on every request
def _hooks_base(hooks_url: str) -> tuple[tuple[str, str, int | None], str, str]:
    """The hooks URL's origin and path, and the prefix every URL Slack sends starts with."""
    parts = urlsplit(hooks_url)
    path = parts.path or "/"
    return _origin(parts), path, f"{parts.scheme}://{parts.netloc}{path}"


def is_hook_url(url: str, hooks_url: str) -> bool:
    """Whether ``url`` is on the hooks host (same scheme, host and port) and under its path.

    Slack's own URLs start with the hooks URL as written (``https://hooks.slack.com/…``), and a
    URL that does is on that host: its authority ends at the ``/`` that starts the prefix's path.
    Only another spelling (a capital letter, an explicit default port) is parsed: this runs on
    every request, before its acknowledgement.
    """
    origin, path, prefix = _hooks_base(hooks_url)
    if url.startswith(prefix):
        return True
    parts = urlsplit(url)
    return _origin(parts) == origin and parts.path.startswith(path)


@dataclass(frozen=True)
class RequestGuard:
    installation: Installation
    hooks_url: str

    def refusal(self, body: Mapping[str, Any]) -> str | None:
        """Why this request is not for this installation (a short reason for the log), or None."""
        teams = request_teams(body)
        if self.installation.team_id and teams != {self.installation.team_id}:
            return f"team {sorted(teams, key=str)!r} is not the installed workspace"
        if not self.installation.team_id and self.installation.enterprise_id:
            enterprise = body.get("enterprise_id") or (body.get("enterprise") or {}).get("id")
            if enterprise != self.installation.enterprise_id:
                return f"enterprise {enterprise!r} is not the installed organisation"
        app = body.get("api_app_id")
        expected = self.installation.app_id
        if expected and app != expected and (app is not None or body.get("type") not in _WITHOUT_APP_ID):
            return f"app {app!r} is not this app"
        for url in response_urls(body):
            if not is_hook_url(url, self.hooks_url):
                return f"response_url on {urlsplit(url).hostname!r} is not Slack's"
        return None
