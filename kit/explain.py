"""TeleCRM's answers, in words a sales rep (or the admin) can act on — the one place they are worded.

Every answer about a TeleCRM failure says three things: what happened (the token was refused, TeleCRM
is not answering, it asked the bot to slow down…), what became of the person's request (nothing was
saved, it is queued, nothing was looked up) and what to do now. :func:`explain_error` writes those
sentences for every command, form and job; :func:`describe_failure` is the same reading in a few words
for one log line.

The sentences are mrkdwn; what TeleCRM said in them is escaped (an error message may echo a value).
"""

from __future__ import annotations

from typing import Literal

from kit.format import mrkdwn_escape
from telecrm.errors import (
    TeleCRMAuthError,
    TeleCRMBadRequest,
    TeleCRMConflict,
    TeleCRMError,
    TeleCRMForbidden,
    TeleCRMNotFound,
    TeleCRMNotReached,
    TeleCRMRateLimited,
    TeleCRMTimedOut,
    TeleCRMUnavailable,
    TeleCRMUnreadableAnswer,
)

#: what the person asked for, which decides what the answer says became of it:
#: ``write`` a write the bot gave up on; ``queued`` a write kept in the outbox to be retried;
#: ``read`` a search or a timeline (nothing to keep); ``form`` a form that could not be built.
Doing = Literal["write", "queued", "read", "form"]

_ADMIN_TOKEN = (
    "An admin must check `TELECRM_SYNC_TOKEN` and `TELECRM_ENTERPRISE_ID` (Settings → Website and API in "
    "TeleCRM; a Sync-typed token is needed) and restart the bot."
)
_TRY_LATER = "Try again in a minute; if it keeps happening, ask your admin to check `TELECRM_API_URL`."


def wait_note(when: float, now: float) -> str:
    """ " The next try is in about 40 minutes." for a wait worth mentioning; "" for a short one."""
    minutes = round((when - now) / 60)
    if minutes < 5:
        return ""
    if minutes < 90:
        return f" The next try is in about {minutes} minutes."
    return f" The next try is in about {round(minutes / 60)} hours."


def telecrm_error_in(error: BaseException | None) -> TeleCRMError | None:
    """The TeleCRM failure behind ``error``: itself, or the cause it was raised from (e.g. the schema
    cache's ``SchemaUnavailable``)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, TeleCRMError):
            return error
        error, seen = error.__cause__, seen + 1
    return None


def _seconds(value: float) -> str:
    """ "30 s", "5 minutes", "2 hours": a wait as people say it."""
    if value < 90:
        return f"{max(1, round(value))} s"
    if value < 90 * 60:
        return f"{round(value / 60)} minutes"
    return f"{round(value / 3600)} hours"


def _not_answering(error: TeleCRMUnavailable) -> str:
    """What "TeleCRM is not answering" was, exactly."""
    if isinstance(error, TeleCRMTimedOut):
        after = f" after {error.seconds:g} s" if error.seconds else ""
        return f":electric_plug: TeleCRM is not answering (timed out{after})."
    if isinstance(error, TeleCRMNotReached):
        return ":electric_plug: TeleCRM could not be reached (the connection was refused or failed)."
    if isinstance(error, TeleCRMUnreadableAnswer) or (error.status is not None and error.status < 500):
        return (
            ":electric_plug: TeleCRM answered with something that is not TeleCRM's API (is `TELECRM_API_URL` "
            "right?)."
        )
    if error.status is not None:
        return f":electric_plug: TeleCRM is not answering properly (it answered HTTP {error.status})."
    return ":electric_plug: TeleCRM is not answering (the connection dropped)."


def _happened(error: TeleCRMError, what: str) -> str:
    if isinstance(error, TeleCRMAuthError) and error.status is None:  # nothing sent: no credentials
        return f":lock: {mrkdwn_escape(error.message[:1].upper() + error.message[1:])}."
    if isinstance(error, TeleCRMAuthError):
        return ":lock: TeleCRM refused the bot's token (401)."
    if isinstance(error, TeleCRMForbidden):
        return f":no_entry: TeleCRM refused {what} (403): {mrkdwn_escape(error.message)}"
    if isinstance(error, TeleCRMRateLimited):
        asked = f", and asked the bot to wait {_seconds(error.retry_after)}" if error.retry_after else ""
        return (
            f":hourglass: TeleCRM is limiting how often the bot may call it (429 Too many requests){asked}."
        )
    if isinstance(error, TeleCRMUnavailable):
        return _not_answering(error)
    return f":x: TeleCRM answered with an error: {mrkdwn_escape(error)}"


def _became(error: TeleCRMError, what: str, doing: Doing) -> str:
    if doing == "read":
        return "Nothing was changed in TeleCRM."
    if doing == "queued":
        return f"{what[:1].upper()}{what[1:]} is saved and queued; it will be sent automatically."
    if doing == "write" and error.transient and error.may_have_landed:
        return (
            f"The bot has stopped trying, and {what} may or may not have reached TeleCRM: look in TeleCRM "
            "before you try again."
        )
    if doing == "write" and error.transient:
        return f"The bot has stopped trying; {what} was not saved."
    return "Nothing was saved."


def _to_do(error: TeleCRMError, doing: Doing) -> str:
    if isinstance(error, TeleCRMAuthError):
        return error.remedy or _ADMIN_TOKEN
    if isinstance(error, TeleCRMForbidden):
        return "Ask your admin whether the bot's TeleCRM token may do this."
    if doing == "queued":
        return ""
    if isinstance(error, TeleCRMRateLimited):
        return (
            f"Try again in {_seconds(error.retry_after)}." if error.retry_after else "Try again in a minute."
        )
    if isinstance(error, TeleCRMUnavailable):
        return _TRY_LATER
    return "Try again; if it keeps happening, tell your admin."


def explain_error(error: BaseException, *, what: str = "that", doing: Doing = "write") -> str:
    """What happened, what became of ``what`` (see :data:`Doing`), and what to do. Never contains a token."""
    found = telecrm_error_in(error)
    if found is None:
        return (
            f":warning: The bot hit an unexpected error ({type(error).__name__}), so {what} was not finished "
            "and nothing was sent twice. Please try again; if it happens again, tell your admin (the bot's "
            "log has the details)."
        )
    error = found
    if isinstance(error, TeleCRMForbidden) and error.code == "INVALID_LEAD":
        return (
            ":no_entry: TeleCRM does not allow changing a lead's identifier. Leave it out, or fix it by hand in "
            "the TeleCRM dashboard."
        )
    if isinstance(error, TeleCRMNotFound):
        return f":mag: TeleCRM could not find it: {mrkdwn_escape(error.message)}"
    if isinstance(error, TeleCRMConflict):
        return f":busts_in_silhouette: TeleCRM says this already exists: {mrkdwn_escape(error.message)}"
    if isinstance(error, TeleCRMBadRequest):
        details = "; ".join(
            f"{d.get('field')}: {d.get('message')}" if isinstance(d, dict) else str(d) for d in error.details
        )
        shown = f" ({mrkdwn_escape(details)})" if details else ""
        return f":x: TeleCRM did not accept {what}: {mrkdwn_escape(error.message)}" + shown
    parts = (_happened(error, what), _became(error, what, doing), _to_do(error, doing))
    return " ".join(p for p in parts if p)


def describe_failure(error: BaseException) -> str:
    """A failure in a few words, for one log line: "TeleCRM not reached (timeout after 10 s)"."""
    found = telecrm_error_in(error)
    if found is None:
        return f"{type(error).__name__}: {error}"
    if isinstance(found, TeleCRMTimedOut):
        after = f" after {found.seconds:g} s" if found.seconds else ""
        return f"TeleCRM not reached (timeout{after})"
    if isinstance(found, TeleCRMNotReached):
        return "TeleCRM not reached (connection failed)"
    if isinstance(found, TeleCRMAuthError):
        return "TeleCRM refused the token (401)"
    if isinstance(found, TeleCRMRateLimited):
        asked = f", Retry-After {_seconds(found.retry_after)}" if found.retry_after is not None else ""
        return f"TeleCRM rate limit (429{asked})"
    if isinstance(found, TeleCRMUnreadableAnswer):
        return f"TeleCRM answer unreadable (HTTP {found.status}, not JSON)"
    if isinstance(found, TeleCRMUnavailable):
        if found.status is not None:
            return f"TeleCRM unavailable (HTTP {found.status})"
        return "TeleCRM not reached (connection dropped)"
    return f"TeleCRM refused it ({found})"
