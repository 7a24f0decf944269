"""Did an earlier, unanswered attempt of a write create this action? Found on the lead's timeline
without relying on keys TeleCRM's documentation does not show.

A write whose answer was lost (timeout, dropped connection, 5xx, unreadable 2xx) may have landed, so
before it is sent again its job looks for it with ``POST …/action/search`` (docs/RELIABILITY.md).
The documented search rows are the action itself — ``{"type", "fields"}`` for a custom action,
``{"type", "status", "currency", "amount"}`` for a PAYMENT; no documented example shows an
``action_id``, a ``created_on`` or a ``performed_by`` on them (docs/TELECRM.md). So an earlier
attempt's action is matched by what was sent, and each undocumented key only sharpens the match when
TeleCRM sends it:

* **type and values** — the caller's ``same`` (type, amount and currency of a payment; type and
  field values of an activity);
* **time** — the search's documented ``created_on`` range filter keeps only actions since the job
  began (:func:`search_window`); a row's own ``created_on``, when present, is checked again;
* **performer** — when rows carry ``performed_by``, the performer of the bot's own known writes
  (rows whose id the bot has on record) is the performer of an earlier attempt, and a row performed
  by anyone else is not it;
* **identity** — with ids, a row another job of the bot has on record is skipped by its id; without
  them, by count: an earlier attempt landed when more actions match than other jobs of the bot
  account for in the window.

Pure: unit tested with plain search rows (tests/unit/test_reconcile.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: how far past "now" the window's inclusive ``to`` bound reaches, for clocks that differ
CLOCK_SLACK_MS = 3_600_000


@dataclass(frozen=True)
class EarlierAttempt:
    """The action an earlier attempt created; ``action_id`` is None when TeleCRM's rows carry no id."""

    action_id: str | None


def row_id(row: Mapping[str, Any]) -> str | None:
    """The action's id, if the row carries one (``action_id``; ``actionId``/``id`` in looser shapes)."""
    value = row.get("action_id") or row.get("actionId") or row.get("id")
    return str(value) if value not in (None, "") else None


def row_time_ms(row: Mapping[str, Any]) -> float | None:
    """The row's ``created_on`` (epoch ms, as TeleCRM's timestamps are), if it carries a number."""
    value = row.get("created_on", row.get("createdOn"))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def search_window(since_ms: float, now_s: float) -> tuple[int, int]:
    """The ``created_on`` ``(from, to)`` of the reconciling search, both bounds inclusive epoch ms."""
    return int(since_ms), int(now_s * 1000) + CLOCK_SLACK_MS


def _performer(row: Mapping[str, Any]) -> str | None:
    value = row.get("performed_by", row.get("performedBy"))
    if isinstance(value, Mapping):
        value = value.get("email") or value.get("id") or value.get("name")
    return str(value).strip().casefold() if value not in (None, "") else None


def find_earlier_attempt(
    rows: Iterable[Mapping[str, Any]],
    *,
    same: Callable[[Mapping[str, Any]], bool],
    since_ms: float,
    others_ids: Iterable[str] = (),
    others_count: int = 0,
) -> EarlierAttempt | None:
    """The earlier attempt's action among action-search ``rows`` (newest first), or None.

    ``same`` says whether a row is the action that was sent; ``others_ids`` are the ids of the
    bot's other writes that ``same`` would match (known to be someone else's), and ``others_count``
    how many of those fall in the searched window (used when rows carry no ids).
    """
    rows = list(rows)
    others = set(others_ids)
    bot_performers = {_performer(r) for r in rows if "performed_by" in r and row_id(r) in others}
    bot_performer = next(iter(bot_performers)) if len(bot_performers) == 1 else None

    def candidate(row: Mapping[str, Any]) -> bool:
        if not same(row):
            return False
        when = row_time_ms(row)
        if when is not None and when < since_ms:
            return False
        return bot_performer is None or "performed_by" not in row or _performer(row) == bot_performer

    candidates = [r for r in rows if candidate(r)]
    with_ids = [r for r in candidates if row_id(r)]
    mine = [r for r in with_ids if row_id(r) not in others]
    if mine:  # newest first: the earliest is the last, unless rows say when
        earliest = (
            min(mine, key=lambda r: row_time_ms(r) or 0.0) if all(row_time_ms(r) for r in mine) else mine[-1]
        )
        return EarlierAttempt(row_id(earliest))
    unidentified = [r for r in candidates if not row_id(r)]
    others_unseen = max(0, others_count - (len(with_ids) - len(mine)))
    if len(unidentified) > others_unseen:
        return EarlierAttempt(None)
    return None
