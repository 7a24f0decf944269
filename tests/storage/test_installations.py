"""Installations on the bot's database: found by workspace, tokens encrypted with the first key of
TOKEN_ENCRYPTION_KEY and readable with any, keys rotated; OAuth states signed, single use, expiring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from storage.db import Store
from storage.installations import InstallationStore, OAuthStateStore
from storage.secrets import InvalidToken, TokenCipher, key_problem, new_key

BOT_TOKEN = "xoxb-team-a-secret-token"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "bot.sqlite3") as s:
        yield s


def installation(team: str = "TA", token: str = BOT_TOKEN, user: str = "U1", **kw: object) -> Installation:
    return Installation(
        app_id="A1",
        team_id=team,
        team_name=f"Team {team}",
        bot_token=token,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id=user,
        **kw,  # type: ignore[arg-type]
    )


def test_a_saved_installation_is_found_by_its_workspace(store: Store) -> None:
    installations = InstallationStore(store, TokenCipher(new_key()))
    installations.save(installation("TA"))
    installations.save(installation("TB", token="xoxb-team-b"))
    assert installations.find_bot(enterprise_id=None, team_id="TA").bot_token == BOT_TOKEN  # type: ignore[union-attr]
    found = installations.find_installation(enterprise_id=None, team_id="TB")
    assert found is not None and found.bot_token == "xoxb-team-b" and found.team_name == "Team TB"
    assert installations.find_bot(enterprise_id=None, team_id="TC") is None


def test_a_reinstall_replaces_the_token(store: Store) -> None:
    installations = InstallationStore(store, TokenCipher(new_key()))
    installations.save(installation(token="xoxb-old"))
    installations.save(installation(token="xoxb-new"))
    assert installations.find_bot(enterprise_id=None, team_id="TA").bot_token == "xoxb-new"  # type: ignore[union-attr]


def test_tokens_are_not_in_the_file(store: Store, tmp_path: Path) -> None:
    installations = InstallationStore(store, TokenCipher(new_key()))
    installations.save(installation(user_token="xoxp-user-secret", bot_refresh_token="xoxe-refresh-secret"))
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (BOT_TOKEN, "xoxp-user-secret", "xoxe-refresh-secret"):
        assert secret.encode() not in raw


def test_keys_rotate(store: Store) -> None:
    old, new = new_key(), new_key()
    InstallationStore(store, TokenCipher(old)).save(installation())
    both = InstallationStore(store, TokenCipher(f"{new},{old}"))
    assert both.find_bot(enterprise_id=None, team_id="TA").bot_token == BOT_TOKEN  # type: ignore[union-attr]
    assert both.rotate_keys() == 2  # the bot's row and the installer's
    only_new = InstallationStore(store, TokenCipher(new))
    assert only_new.find_bot(enterprise_id=None, team_id="TA").bot_token == BOT_TOKEN  # type: ignore[union-attr]
    with pytest.raises(InvalidToken):
        InstallationStore(store, TokenCipher(old)).find_bot(enterprise_id=None, team_id="TA")


def test_deleting_the_bot_keeps_the_installer_without_a_token(store: Store) -> None:
    installations = InstallationStore(store, TokenCipher(new_key()))
    installations.save(installation())
    installations.delete_bot(enterprise_id=None, team_id="TA")
    assert installations.find_bot(enterprise_id=None, team_id="TA") is None
    found = installations.find_installation(enterprise_id=None, team_id="TA")
    assert found is not None and found.bot_token is None
    installations.delete_all(enterprise_id=None, team_id="TA")
    assert installations.find_installation(enterprise_id=None, team_id="TA") is None


def test_an_org_wide_install_is_the_enterprises(store: Store) -> None:
    installations = InstallationStore(store, TokenCipher(new_key()))
    installations.save(installation(team="", enterprise_id="E1", is_enterprise_install=True))
    bot = installations.find_bot(enterprise_id="E1", team_id="T-any", is_enterprise_install=True)
    assert bot is not None and bot.bot_token == BOT_TOKEN


def test_a_state_is_good_once_and_only_until_it_expires(store: Store) -> None:
    now = [1000.0]
    states = OAuthStateStore(store, "state-secret", expiration_seconds=600, clock=lambda: now[0])
    state = states.issue()
    assert states.consume(state) and not states.consume(state)
    late = states.issue()
    now[0] += 601
    assert not states.consume(late)


def test_a_state_not_signed_with_the_secret_is_refused(store: Store) -> None:
    state = OAuthStateStore(store, "other-secret").issue()
    ours = OAuthStateStore(store, "state-secret")
    assert not ours.consume(state)
    assert not ours.consume("x" * 10_000)
    assert not ours.consume("")


def test_key_problems_say_which_key() -> None:
    assert key_problem(new_key()) is None
    assert key_problem("") == "no key"
    assert "key 2 of 2" in (key_problem(f"{new_key()},nope") or "")
