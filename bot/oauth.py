"""OAuth mode: the app installed into many workspaces through Slack's OAuth v2 flow.

With ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET`` and ``SLACK_STATE_SECRET`` set, Bolt serves the
install page at ``/slack/install`` and takes Slack's redirect at ``/slack/oauth_redirect``; each
workspace's bot token is stored encrypted on the bot's database (storage/installations.py) and Bolt
picks the right one for every request. The scopes asked for are the manifest's bot scopes
(manifest.yml), so the app created from the manifest and the install link never disagree.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from slack_bolt.oauth.oauth_settings import OAuthSettings

from kit.config import LOOPBACK_HOSTS, ConfigError, Settings
from kit.workspace_client import WorkspaceClient
from slack_emulator.web import find_manifest, read_app_features
from storage.dialect import BotStore
from storage.installations import InstallationStore, OAuthStateStore
from storage.secrets import TokenCipher

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
DEFAULT_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"


def manifest_scopes(manifest: Path | None = None) -> list[str]:
    """The bot scopes of manifest.yml; :class:`ConfigError` when there is no manifest to read."""
    path = manifest or find_manifest()
    scopes = read_app_features(path.read_text()).get("bot_scopes") if path else None
    if not scopes:
        raise ConfigError(
            "OAuth mode (SLACK_CLIENT_ID) asks for the bot scopes of manifest.yml, but no manifest.yml "
            "with oauth_config.scopes.bot was found next to the bot or in the working directory"
        )
    return list(scopes)


def authorize_url(settings: Settings) -> str:
    """Slack's install page, or the emulator's when the Web API is a local one (``SLACK_API_URL`` on
    loopback): the page sits at ``/oauth/v2/authorize`` beside ``/api/``."""
    api = settings.slack_api_url
    if urlsplit(api).hostname in LOOPBACK_HOSTS:
        return urljoin(api, "/oauth/v2/authorize")
    return DEFAULT_AUTHORIZE_URL


def installation_store(settings: Settings, store: BotStore) -> InstallationStore:
    """The installed workspaces on the bot's database, tokens encrypted with ``TOKEN_ENCRYPTION_KEY``."""
    return InstallationStore(store, TokenCipher(settings.token_encryption_key))


def workspace_client(settings: Settings, store: BotStore) -> WorkspaceClient:
    """``services.slack`` in OAuth mode: each call with its workspace's token."""
    return WorkspaceClient(base_url=settings.slack_api_url, installations=installation_store(settings, store))


def oauth_settings(settings: Settings, store: BotStore, *, manifest: Path | None = None) -> OAuthSettings:
    """Bolt's OAuth settings on the bot's database, tokens encrypted with ``TOKEN_ENCRYPTION_KEY``."""
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=manifest_scopes(manifest),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorize_url(settings),
        installation_store=installation_store(settings, store),
        state_store=OAuthStateStore(store, settings.slack_state_secret),
        logger=log,
    )
    # Bolt checks a stored token with auth.test on every request unless told to remember the answer:
    # a Slack round trip on the acknowledgement's path. Remembered per token, and only for a token
    # still stored (a revoked or uninstalled workspace's is deleted, so never looked up again).
    oauth.authorize.cache_enabled = True  # type: ignore[attr-defined]  # InstallationStoreAuthorize's
    return oauth
