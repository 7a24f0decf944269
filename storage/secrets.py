"""Tokens at rest: encrypted with Fernet keys from ``TOKEN_ENCRYPTION_KEY``, so a copy of the database
file (a backup, a stolen disk) holds no usable Slack token.

The variable is a comma-separated list of Fernet keys: the first encrypts, every one decrypts, so a
new key is put first, :meth:`TokenCipher.rotate` re-encrypts what is stored, and the old key is then
dropped (``cryptography``'s :class:`~cryptography.fernet.MultiFernet`).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["InvalidToken", "TokenCipher", "key_problem", "new_key"]


def new_key() -> str:
    """A fresh key, as an operator puts it in ``TOKEN_ENCRYPTION_KEY``."""
    return Fernet.generate_key().decode()


def _keys(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def key_problem(raw: str) -> str | None:
    """What is wrong with a ``TOKEN_ENCRYPTION_KEY`` value (never repeating it), or None."""
    keys = _keys(raw)
    if not keys:
        return "no key"
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return f"key {position} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded bytes)"
    return None


class TokenCipher:
    """Encrypts and decrypts token strings; one instance per ``TOKEN_ENCRYPTION_KEY``."""

    def __init__(self, keys: str) -> None:
        problem = key_problem(keys)
        if problem:
            raise ValueError(f"TOKEN_ENCRYPTION_KEY: {problem}")
        self._fernet = MultiFernet([Fernet(key) for key in _keys(keys)])

    def encrypt(self, token: str | None) -> str | None:
        return None if token is None else self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, stored: str | None) -> str | None:
        """The token; :class:`InvalidToken` when no key of the list encrypted it."""
        return None if stored is None else self._fernet.decrypt(stored.encode()).decode()

    def rotate(self, stored: str) -> str:
        """``stored`` encrypted again with the first key (it may have been encrypted with any)."""
        return self._fernet.rotate(stored.encode()).decode()

    def __repr__(self) -> str:
        return "TokenCipher(***)"
