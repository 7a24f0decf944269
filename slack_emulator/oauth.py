"""OAuth v2 as Slack does it: the install page, ``oauth.v2.access``, and the tokens it grants.

The app's side is what its settings page holds: the client id and secret, its redirect URLs and the
bot scopes it may ask for (the manifest's). A person opens ``GET /oauth/v2/authorize?client_id=…&
scope=…&state=…[&redirect_uri=…]``, picks the workspace and approves (``POST``); Slack sends their
browser to the redirect URL with ``code`` and ``state`` (or ``error=access_denied``). The app then
trades the code, once and within ten minutes, for a bot token of that workspace with
``oauth.v2.access`` (client credentials by HTTP Basic authentication or as parameters).

Errors are Slack's: on the page, an unknown ``client_id`` or a redirect URL the app does not list is
shown and nobody is sent anywhere; ``oauth.v2.access`` answers ``invalid_client_id``,
``bad_client_secret``, ``invalid_code`` (unknown, used or expired), ``bad_redirect_uri`` (not the
one the code was issued for) and ``invalid_grant_type``.

The emulated teams share the emulator's channels and people; each has its own id, name and tokens,
and ``auth.test`` with a team's token answers that team.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from . import directory
from .api_error import ApiError

CODE_SECONDS = 600  # Slack's codes expire after ten minutes
SECOND_TEAM = ("T0SECOND", "Second Sales Team")
FIELD_MAX_CHARS = 2000  # any parameter of the page longer than this is not a real install link


@dataclass
class Grant:
    """A token Slack issued to the app for one workspace."""

    team_id: str
    user_id: str
    scope: str
    revoked: bool = False


@dataclass
class PendingCode:
    team_id: str
    user_id: str
    scope: str
    redirect_uri: str | None  # the one sent to the page, which oauth.v2.access must repeat
    issued_at: float
    used: bool = False


class PageError(Exception):
    """The install page refuses; shown to the person, no redirect."""


@dataclass
class OAuthServer:
    """Slack's OAuth side for one app, with the teams it can be installed into."""

    client_id: str
    client_secret: str
    redirect_urls: list[str] = field(default_factory=list)
    teams: dict[str, str] = field(default_factory=dict)  # id -> name
    bot_scopes: set[str] | None = None  # None: any scope may be asked for
    clock: Callable[[], float] = lambda: 0.0
    codes: dict[str, PendingCode] = field(default_factory=dict)
    tokens: dict[str, Grant] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the install page ------------------------------------------------------------------------

    def _redirect_target(self, redirect_uri: str | None) -> str:
        """The URL the person is sent back to: the one asked for when the app lists it (or one under
        a listed URL, as Slack allows), else the app's first redirect URL."""
        if not self.redirect_urls:
            raise PageError("bad_redirect_uri: the app has no redirect URL")
        if not redirect_uri:
            return self.redirect_urls[0]
        asked = urlsplit(redirect_uri)
        for listed in map(urlsplit, self.redirect_urls):
            same_origin = (asked.scheme, asked.netloc) == (listed.scheme, listed.netloc)
            if same_origin and asked.path.startswith(listed.path):
                return redirect_uri
        raise PageError("bad_redirect_uri: the redirect_uri is not one of the app's redirect URLs")

    def check_request(self, args: dict[str, str]) -> str:
        """The redirect target of a valid install link; :class:`PageError` otherwise."""
        if any(len(v) > FIELD_MAX_CHARS for v in args.values()):
            raise PageError("invalid_arguments: a parameter is too long")
        if not self.client_id or args.get("client_id") != self.client_id:
            raise PageError("invalid_client_id: this link is for an app that does not exist")
        asked = {s for s in (args.get("scope") or "").split(",") if s}
        if not asked:
            raise PageError("invalid_scope: the link asks for no bot scope")
        if self.bot_scopes is not None and not asked <= self.bot_scopes:
            extra = ", ".join(sorted(asked - self.bot_scopes))
            raise PageError(f"invalid_scope: the app's settings do not allow {extra}")
        return self._redirect_target(args.get("redirect_uri"))

    def approve(self, args: dict[str, str], *, team_id: str, user_id: str) -> str:
        """The person approves for ``team_id``: where their browser goes, with a fresh code."""
        target = self.check_request(args)
        if team_id not in self.teams:
            raise PageError("team_not_found: pick one of the workspaces on this page")
        code = f"{int(self.clock())}.{secrets.token_hex(20)}"
        with self.lock:
            self.codes[code] = PendingCode(
                team_id=team_id,
                user_id=user_id,
                scope=",".join(sorted({s for s in args["scope"].split(",") if s})),
                redirect_uri=args.get("redirect_uri") or None,
                issued_at=self.clock(),
            )
        return _with_query(target, {"code": code, "state": args.get("state", "")})

    def deny(self, args: dict[str, str]) -> str:
        target = self.check_request(args)
        return _with_query(target, {"error": "access_denied", "state": args.get("state", "")})

    def page(self, args: dict[str, str], users: Iterable[dict[str, Any]]) -> str:
        """The install page: which app, which scopes, a button per workspace."""
        try:
            self.check_request(args)
        except PageError as exc:
            return _html("Installation failed", f"<p>{html.escape(str(exc))}</p>")
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in args.items()
            if k in {"client_id", "scope", "state", "redirect_uri"}
        )
        people = "".join(
            f'<option value="{html.escape(u["id"])}">{html.escape(u.get("real_name") or u["name"])}</option>'
            for u in users
            if not u.get("is_bot") and u.get("id") != "USLACKBOT"
        )
        buttons = "".join(
            f'<button name="team" value="{html.escape(tid)}">Allow in {html.escape(name)}</button> '
            for tid, name in self.teams.items()
        )
        scopes = ", ".join(html.escape(s) for s in args.get("scope", "").split(",") if s)
        body = (
            f"<p>TeleCRM is asking for: {scopes}</p>"
            f'<form method="post" action="/oauth/v2/authorize">{hidden}'
            f'<label>You are <select name="user">{people}</select></label> {buttons}'
            '<button name="deny" value="1">Cancel</button></form>'
        )
        return _html("Install TeleCRM", body)

    # --- oauth.v2.access -------------------------------------------------------------------------

    def access(self, args: dict[str, Any], authorization: str) -> dict[str, Any]:
        client_id, client_secret = _client_credentials(args, authorization)
        if not self.client_id or client_id != self.client_id:
            raise ApiError("invalid_client_id")
        if not secrets.compare_digest(client_secret.encode(), self.client_secret.encode()):
            raise ApiError("bad_client_secret")
        if (args.get("grant_type") or "authorization_code") != "authorization_code":
            raise ApiError("invalid_grant_type")
        with self.lock:
            pending = self.codes.get(str(args.get("code") or ""))
            if pending is None or pending.used or self.clock() - pending.issued_at > CODE_SECONDS:
                raise ApiError("invalid_code")
            if (args.get("redirect_uri") or None) != pending.redirect_uri:
                raise ApiError("bad_redirect_uri")
            pending.used = True
            token = f"xoxb-{pending.team_id}-{secrets.token_hex(12)}"
            self.tokens[token] = Grant(pending.team_id, pending.user_id, pending.scope)
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": pending.scope,
            "bot_user_id": directory.BOT_USER_ID,
            "app_id": directory.APP_ID,
            "team": {"id": pending.team_id, "name": self.teams[pending.team_id]},
            "enterprise": None,
            "authed_user": {"id": pending.user_id},
            "is_enterprise_install": False,
        }

    # --- tokens --------------------------------------------------------------------------------

    def grant(self, token: str | None) -> Grant | None:
        with self.lock:
            return self.tokens.get(token or "")

    def remember(self, token: str, *, team_id: str, user_id: str, scope: str) -> None:
        """A bot token Slack issued before this emulator started: Slack keeps an app's installs when
        the app restarts, so a local bot started again finds its workspaces still installed."""
        if team_id not in self.teams:
            raise LookupError(f"unknown team {team_id!r}; known: {sorted(self.teams)}")
        with self.lock:
            self.tokens.setdefault(token, Grant(team_id, user_id, scope))

    def revoke(self, team_id: str) -> list[str]:
        """Every token of ``team_id`` stops working (``token_revoked``); the revoked ones."""
        with self.lock:
            revoked = [t for t, g in self.tokens.items() if g.team_id == team_id and not g.revoked]
            for token in revoked:
                self.tokens[token].revoked = True
        return revoked


def _client_credentials(args: dict[str, Any], authorization: str) -> tuple[str, str]:
    """(client_id, client_secret) from HTTP Basic authentication, else from the parameters."""
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError("invalid_client_id") from None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(args.get("client_id") or ""), str(args.get("client_secret") or "")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _html(title: str, body: str) -> str:
    return f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}"
