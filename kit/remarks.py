"""TeleCRM's remarks (why a value was not kept) put into words, one way for every feature.

A remark line is ``• <what> (sent “<value>”)[ was not saved]: <reason>``: which field or activity,
the value the person sent, and TeleCRM's reason (``no reason given`` when it gave none). Labels,
values and reasons come from the user or TeleCRM, so everything is escaped here
(tests/security/test_injection.py).
"""

from __future__ import annotations

from kit.format import mrkdwn_escape, truncate

#: the one wording for a remark TeleCRM sent without a reason
NO_REASON = "no reason given"


def quoted(value: object, n: int = 80) -> str:
    """A value people typed, shown in quotes on one line (escaped, shortened)."""
    return "“" + mrkdwn_escape(truncate(" ".join(str(value).split()), n)) + "”"


def bold(label: str) -> str:
    """A field or activity label, escaped and in bold, as the subject of a remark line."""
    return f"*{mrkdwn_escape(label)}*"


def reason_text(reason: str | None) -> str:
    """TeleCRM's reason, escaped; :data:`NO_REASON` when it gave none."""
    return mrkdwn_escape(reason or NO_REASON)


def remark_line(
    subject: str, reason: str | None, *, sent: object | None = None, not_saved: bool = False
) -> str:
    """One remark in words.

    ``subject`` is mrkdwn the caller built from escaped parts (e.g. :func:`bold`); ``sent`` is the
    value as a person reads it (quoted here), ``None`` when nothing was sent; ``not_saved`` adds
    "was not saved" where the heading does not already say so.
    """
    shown = f" (sent {quoted(sent)})" if sent is not None else ""
    verb = " was not saved" if not_saved else ""
    return f"• {subject}{shown}{verb}: {reason_text(reason)}"
