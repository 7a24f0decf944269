"""The workspaces the app is installed in (OAuth), and the OAuth states of installs in progress.

:class:`InstallationStore` is slack_sdk's interface, so Bolt finds each request's bot token here
(``oauth_settings.installation_store``) and its token revocation listeners delete it here. A
workspace's bot is one row of ``slack_bots`` (the token every request of that team uses); the person
who installed, with their user token when one was granted, is one row of ``slack_installations``.
Keys are the enterprise id and the team id, '' standing for "none" (an org-wide install has no
team), so they can be primary keys on any database.

Every token (bot, user, refresh, the incoming webhook URL) is stored encrypted
(:class:`storage.secrets.TokenCipher`): the rest of a row is JSON in clear, so an operator can see
which workspaces are installed without the key.

:class:`OAuthStateStore` issues the ``state`` of an install link: random, signed with
``SLACK_STATE_SECRET`` (a state the bot never issued is refused before the database is read), kept
until used once or until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from slack_sdk.oauth.installation_store import InstallationStore as SlackInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store import OAuthStateStore as SlackOAuthStateStore

from storage.secrets import TokenCipher

log = logging.getLogger(__name__)

# the fields of slack_sdk's models that would let someone act as the app; never stored in clear
SECRET_KEYS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url")
BOT_KEYS = (
    "app_id",
    "enterprise_id",
    "enterprise_name",
    "team_id",
    "team_name",
    "bot_token",
    "bot_id",
    "bot_user_id",
    "bot_scopes",
    "bot_refresh_token",
    "bot_token_expires_at",
    "is_enterprise_install",
    "installed_at",
)
STATE_SECONDS = 600  # Bolt's default: an install link is good for ten minutes
STATE_MAX_CHARS = 200  # a state longer than any we issue is refused without a look


def create_installation_tables(db: Any) -> None:
    """Migration step: the bots and installers of each workspace, and pending OAuth states."""
    db.execute(
        "CREATE TABLE slack_bots (enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, "
        "data TEXT NOT NULL, installed_at REAL NOT NULL, PRIMARY KEY (enterprise_id, team_id))"
    )
    db.execute(
        "CREATE TABLE slack_installations (enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, "
        "user_id TEXT NOT NULL, data TEXT NOT NULL, installed_at REAL NOT NULL, "
        "PRIMARY KEY (enterprise_id, team_id, user_id))"
    )
    db.execute("CREATE TABLE oauth_states (state TEXT PRIMARY KEY, expires_at REAL NOT NULL)")
    db.execute("CREATE INDEX oauth_states_expiry ON oauth_states (expires_at)")


def _key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> tuple[str, str]:
    """Row key: an org-wide install is the enterprise's, whatever team a request came from."""
    return enterprise_id or "", "" if is_enterprise_install else team_id or ""


def _plain(key: str, value: Any) -> Any:
    """A model's value as JSON holds it: datetimes as Unix times, whole seconds for the expiries
    (slack_sdk's models take ``*_expires_at`` only as an int)."""
    if not isinstance(value, datetime):
        return value
    return int(value.timestamp()) if key.endswith("_expires_at") else value.timestamp()


class InstallationStore(SlackInstallationStore):
    """slack_sdk's installation store on the bot's database, tokens encrypted."""

    def __init__(self, store: Any, cipher: TokenCipher) -> None:
        self._store, self._cipher = store, cipher

    @property
    def logger(self) -> logging.Logger:
        return log

    # --- rows ----------------------------------------------------------------------------------

    def _seal(self, values: Mapping[str, Any]) -> str:
        sealed = {k: _plain(k, v) for k, v in values.items() if k != "custom_values"}
        for key in SECRET_KEYS:
            if sealed.get(key) is not None:
                sealed[key] = self._cipher.encrypt(sealed[key])
        return json.dumps(sealed)

    def _open(self, data: str) -> dict[str, Any]:
        values: dict[str, Any] = json.loads(data)
        for key in SECRET_KEYS:
            if values.get(key) is not None:
                values[key] = self._cipher.decrypt(values[key])
        return values

    # --- InstallationStore -----------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        enterprise, team = _key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        now = time.time()
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO slack_installations (enterprise_id, team_id, user_id, data, installed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (enterprise_id, team_id, user_id) "
                "DO UPDATE SET data = excluded.data, installed_at = excluded.installed_at",
                [enterprise, team, installation.user_id or "", self._seal(installation.to_dict()), now],
            )
            if installation.bot_token:
                self._save_bot(db, installation.to_bot(), now)
        log.info("saved the installation of team %s (enterprise %s)", team or "-", enterprise or "-")

    def save_bot(self, bot: Bot) -> None:
        with self._store.transaction() as db:
            self._save_bot(db, bot, time.time())

    def _save_bot(self, db: Any, bot: Bot, now: float) -> None:
        enterprise, team = _key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        db.execute(
            "INSERT INTO slack_bots (enterprise_id, team_id, data, installed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (enterprise_id, team_id) DO UPDATE SET data = excluded.data, "
            "installed_at = excluded.installed_at",
            [enterprise, team, self._seal(bot.to_dict()), now],
        )

    def _bot_values(self, enterprise: str, team: str) -> dict[str, Any] | None:
        row = self._store.db.execute(
            "SELECT data FROM slack_bots WHERE enterprise_id = ? AND team_id = ?", [enterprise, team]
        ).fetchone()
        return self._open(row[0]) if row else None

    def teams(self) -> list[str]:
        """Every Slack workspace the app's bot is installed in, in team id order."""
        rows = self._store.db.execute("SELECT team_id FROM slack_bots ORDER BY team_id").fetchall()
        return [str(row[0]) for row in rows]

    def only_team(self) -> str | None:
        """The team id of the one workspace with a bot token, when there is exactly one."""
        rows = self._store.db.execute("SELECT team_id FROM slack_bots LIMIT 2").fetchall()
        if len(rows) != 1:
            return None
        return str(rows[0][0]) or None

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        values = self._bot_values(*_key(enterprise_id, team_id, is_enterprise_install))
        return Bot(**values) if values else None

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The latest installation of the team (or of ``user_id`` in it), with the team's bot as it
        is now: a revoked bot token is gone from the answer even if the installer's row stays."""
        enterprise, team = _key(enterprise_id, team_id, is_enterprise_install)
        sql = "SELECT data FROM slack_installations WHERE enterprise_id = ? AND team_id = ?"
        params = [enterprise, team]
        if user_id is not None:
            sql, params = sql + " AND user_id = ?", [*params, user_id]
        row = self._store.db.execute(sql + " ORDER BY installed_at DESC LIMIT 1", params).fetchone()
        if row is None:
            return None
        values = self._open(row[0])
        bot = self._bot_values(enterprise, team) or {}
        for key in BOT_KEYS:
            if key.startswith("bot_"):
                values[key] = bot.get(key)
        return Installation(**values)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        for key in {_key(enterprise_id, team_id, False), _key(enterprise_id, team_id, True)}:
            self._store.write("DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ?", list(key))
        log.info("deleted the bot token of team %s", team_id or "-")

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        for enterprise, team in {_key(enterprise_id, team_id, False), _key(enterprise_id, team_id, True)}:
            sql = "DELETE FROM slack_installations WHERE enterprise_id = ? AND team_id = ?"
            params = [enterprise, team]
            if user_id is not None:
                sql, params = sql + " AND user_id = ?", [*params, user_id]
            self._store.write(sql, params)
        log.info("deleted the installation of team %s", team_id or "-")

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    # --- keys ------------------------------------------------------------------------------------

    def rotate_keys(self) -> int:
        """Encrypt every stored token again with the first key of ``TOKEN_ENCRYPTION_KEY``; how many
        rows were rewritten. Run after putting a new key first, before dropping the old one."""
        rewritten = 0
        with self._store.transaction() as db:
            for table, key_columns in (
                ("slack_bots", ("enterprise_id", "team_id")),
                ("slack_installations", ("enterprise_id", "team_id", "user_id")),
            ):
                columns = ", ".join(key_columns)
                where = " AND ".join(f"{c} = ?" for c in key_columns)
                for row in db.execute(f"SELECT {columns}, data FROM {table}").fetchall():
                    values = json.loads(row[-1])
                    for key in SECRET_KEYS:
                        if values.get(key) is not None:
                            values[key] = self._cipher.rotate(values[key])
                    db.execute(f"UPDATE {table} SET data = ? WHERE {where}", [json.dumps(values), *row[:-1]])
                    rewritten += 1
        return rewritten


class OAuthStateStore(SlackOAuthStateStore):
    """Install links' ``state`` values: signed, single use, expiring."""

    def __init__(
        self,
        store: Any,
        secret: str,
        *,
        expiration_seconds: float = STATE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._secret = store, secret.encode()
        self._expiration, self._clock = expiration_seconds, clock

    @property
    def logger(self) -> logging.Logger:
        return log

    def _signature(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: Any, **kwargs: Any) -> str:
        nonce = secrets.token_urlsafe(24)
        state = f"{nonce}.{self._signature(nonce)}"
        now = self._clock()
        with self._store.transaction() as db:
            db.execute("DELETE FROM oauth_states WHERE expires_at <= ?", [now])
            db.execute(
                "INSERT INTO oauth_states (state, expires_at) VALUES (?, ?)", [state, now + self._expiration]
            )
        return state

    def consume(self, state: str) -> bool:
        """True once for a state this bot issued that has not expired; False ever after."""
        if not isinstance(state, str) or len(state) > STATE_MAX_CHARS:
            return False
        nonce, _, signature = state.partition(".")
        if not hmac.compare_digest(self._signature(nonce), signature):
            return False
        cursor = self._store.write(
            "DELETE FROM oauth_states WHERE state = ? AND expires_at > ?", [state, self._clock()]
        )
        return bool(cursor.rowcount == 1)
