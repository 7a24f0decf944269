"""The pipeline part of App Home: the week's chart and numbers, the whole team's for admins and
``MANAGER_USERS``, a rep's own otherwise (their TeleCRM account, matched by their Slack email).

Built at most once every :data:`HOME_REFRESH_SECONDS` per team or rep (opening the tab again within
that time shows the same blocks and costs neither TeleCRM searches nor an upload).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from kit.pipeline.numbers import gather, team_today
from kit.pipeline.period import Period, PipelineAsk
from kit.pipeline.render import first_day_text
from kit.pipeline.report import blocks_for, make_chart
from kit.pipeline.reps import rep_for_slack_user
from kit.services import Services

log = logging.getLogger(__name__)

HOME_REFRESH_SECONDS = 300.0

_built: dict[int, dict[str, tuple[float, list[dict[str, Any]]]]] = {}  # per running bot, per scope
_lock = threading.Lock()


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def pipeline_home_blocks(services: Services, user_id: str, *, manager: bool) -> list[dict[str, Any]]:
    """A divider, then the week for the team (``manager``) or for the user as a rep."""
    rep = None
    if not manager:
        rep = rep_for_slack_user(services, user_id)
        if rep is None:
            return [
                {"type": "divider"},
                _section(
                    "*Your pipeline:* your Slack account is not linked to a TeleCRM team member yet (they are "
                    "matched by email), so there are no numbers of yours to show. `/pipeline` shows the team's."
                ),
            ]
    scope = "team" if rep is None else rep.email.lower()
    now = services.clock()
    with _lock:
        hit = _built.get(id(services), {}).get(scope)
    if hit is not None and now - hit[0] < HOME_REFRESH_SECONDS:
        return hit[1]
    try:
        period = Period.of(PipelineAsk(word="week"), team_today(services), services.settings.digest_tz)
        numbers = gather(services, period, rep)
        if numbers.empty_workspace:
            blocks = [{"type": "divider"}, _section(first_day_text(numbers))]
        else:
            _text, report = blocks_for(numbers, make_chart(services, numbers, filename="pipeline-home.png"))
            blocks = [{"type": "divider"}, *report]
    except Exception:
        log.exception("the pipeline part of App Home could not be built")
        return [
            {"type": "divider"},
            _section(":warning: The pipeline could not be counted just now; try again soon."),
        ]
    with _lock:
        if id(services) not in _built:
            weakref.finalize(services, _built.pop, id(services), None)
        _built.setdefault(id(services), {})[scope] = (now, blocks)
    return blocks
