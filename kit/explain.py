"""TeleCRM's answers, in words a sales rep (or the admin) can act on.

The sentences are mrkdwn; what TeleCRM said in them is escaped (an error message may echo a value).
"""

from __future__ import annotations

from kit.format import mrkdwn_escape
from telecrm.errors import (
    TeleCRMAuthError,
    TeleCRMBadRequest,
    TeleCRMConflict,
    TeleCRMError,
    TeleCRMForbidden,
    TeleCRMNotFound,
    TeleCRMRateLimited,
    TeleCRMUnavailable,
)


def wait_note(when: float, now: float) -> str:
    """ " The next try is in about 40 minutes." for a wait worth mentioning; "" for a short one."""
    minutes = round((when - now) / 60)
    if minutes < 5:
        return ""
    if minutes < 90:
        return f" The next try is in about {minutes} minutes."
    return f" The next try is in about {round(minutes / 60)} hours."


def explain_error(error: BaseException, *, what: str = "that") -> str:
    """One or two sentences: what happened and what to do. Never contains a token."""
    if isinstance(error, TeleCRMAuthError):
        return (
            ":lock: The TeleCRM token was rejected, so nothing was saved. An admin must check "
            "`TELECRM_SYNC_TOKEN` and `TELECRM_ENTERPRISE_ID` (Settings → Website and API in TeleCRM; a Sync-typed "
            "token is needed) and restart the bot."
        )
    if isinstance(error, TeleCRMForbidden):
        if error.code == "INVALID_LEAD":
            return (
                ":no_entry: TeleCRM does not allow changing a lead's identifier. Leave it out, or fix it by hand in "
                "the TeleCRM dashboard."
            )
        return f":no_entry: TeleCRM refused {what}: {mrkdwn_escape(error.message)}"
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
    if isinstance(error, TeleCRMRateLimited):
        return ":hourglass: TeleCRM asked us to slow down; it will be retried automatically."
    if isinstance(error, TeleCRMUnavailable):
        return ":electric_plug: TeleCRM is not answering right now; it will be retried automatically."
    if isinstance(error, TeleCRMError):
        return f":x: TeleCRM answered with an error: {mrkdwn_escape(error)}"
    return ":warning: Something went wrong on our side; nothing was saved twice. Please try again."
