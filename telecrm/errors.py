"""Typed TeleCRM errors.

The bot decides what to do from the class (and ``transient``): a 4xx is the user's or the admin's to
fix and is never retried; network trouble, 5xx and 429 may be retried later. Every error carries
TeleCRM's own ``error.code``, message and per-field ``details`` so they can be shown in words.
"""

from __future__ import annotations

from typing import Any


class TeleCRMError(Exception):
    """Any failure talking to TeleCRM."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: list[Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details: list[Any] = list(details or [])
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """True when trying again later may succeed: no answer at all, a 5xx, or a 429."""
        return self.status is None or self.status >= 500 or self.status == 429

    @property
    def may_have_landed(self) -> bool:
        """Whether a write that failed this way may still have been applied by TeleCRM.

        Only a refusal TeleCRM explained (any 4xx, a 429 included) says for sure that nothing was
        written; a timeout, a dropped connection, a 5xx or an unreadable answer leave it unknown, and
        such a write must be reconciled before it is sent again.
        """
        return self.status is None or self.status < 400 or self.status >= 500

    def __str__(self) -> str:
        parts = [str(self.status)] if self.status is not None else []
        if self.code:
            parts.append(self.code)
        prefix = f"[{' '.join(parts)}] " if parts else ""
        return f"{prefix}{self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class TeleCRMAuthError(TeleCRMError):
    """401: the token (or enterprise id) was rejected. Retrying will not help; the admin must fix it.

    ``remedy``: what the admin does about it, when the credentials are not the environment's (a
    workspace's TeleCRM connection, kit/team_telecrm.py); None means the ``TELECRM_*`` settings.
    """

    def __init__(self, message: str, *, remedy: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.remedy = remedy


class TeleCRMBadRequest(TeleCRMError):
    """400: TeleCRM refused the values sent; ``message``/``details`` say why."""


class TeleCRMForbidden(TeleCRMError):
    """403: e.g. ``INVALID_LEAD`` when an update tries to change the lead identifier."""


class TeleCRMNotFound(TeleCRMError):
    """404 with a TeleCRM error body: lead, action, team member or definition does not exist."""


class TeleCRMConflict(TeleCRMError):
    """409 ``LEAD_ALREADY_EXISTS``: a lead with that identifier value exists already."""


class TeleCRMRateLimited(TeleCRMError):
    """429: too many requests; ``retry_after`` (seconds) says when to try again, if TeleCRM said."""


class TeleCRMUnavailable(TeleCRMError):
    """TeleCRM could not be reached or did not answer like TeleCRM (5xx, timeout, HTML page)."""


class TeleCRMTimedOut(TeleCRMUnavailable):
    """No answer within the request's timeout (``TELECRM_TIMEOUT_SECONDS``); ``seconds`` says how long
    the bot waited, so a message can say so."""

    def __init__(self, message: str, *, seconds: float | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds


class TeleCRMNotReached(TeleCRMUnavailable):
    """The connection could not even be opened: nothing was sent, so nothing can have landed."""

    @property
    def may_have_landed(self) -> bool:
        return False


class TeleCRMUnreadableAnswer(TeleCRMUnavailable):
    """A 2xx whose body is not JSON: the request may well have been applied, but what it did is
    unknown. Transient, so a write is reconciled against TeleCRM and then retried, never given up."""

    @property
    def transient(self) -> bool:
        return True


ERRORS_BY_STATUS: dict[int, type[TeleCRMError]] = {
    400: TeleCRMBadRequest,
    401: TeleCRMAuthError,
    403: TeleCRMForbidden,
    404: TeleCRMNotFound,
    409: TeleCRMConflict,
    429: TeleCRMRateLimited,
}


def error_class_for(status: int) -> type[TeleCRMError]:
    if status >= 500:
        return TeleCRMUnavailable
    return ERRORS_BY_STATUS.get(status, TeleCRMError)
