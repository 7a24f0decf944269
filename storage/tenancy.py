"""Which Slack workspace the work on this thread is for.

One deployment can serve many Slack workspaces (OAuth mode); everything a workspace owns is kept
apart by its Slack team id. The team of the Slack request being handled is set by the app's
middleware and carried into the listener's thread; a queued job runs with the team that queued it;
periodic work runs once for each workspace. Single-workspace mode has no team: its rows carry ''.

This sits in storage/ because the repositories key rows by it; kit/ and bot/ import it from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# the Slack workspace (team id) the work on this thread is for; None outside any request or job
current_team: ContextVar[str | None] = ContextVar("current_slack_team", default=None)


def team_key() -> str:
    """The current team as rows store it: its id, or '' in single-workspace mode and outside any."""
    return current_team.get() or ""


@contextmanager
def team_scope(team_id: str | None) -> Iterator[None]:
    """Run a block for one workspace (a periodic task's pass over each connected team, a test)."""
    token = current_team.set(team_id)
    try:
        yield
    finally:
        current_team.reset(token)
