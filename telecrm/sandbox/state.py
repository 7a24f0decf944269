"""The sandbox's workspace state and every TeleCRM operation on it, free of HTTP.

`State` is not thread-safe on its own: `Sandbox` serialises every call through one lock. Each
operation either returns the documented response body or raises `ApiError` carrying the
documented status, code and message.

The operations live by subject in telecrm/sandbox/actions.py, leads.py, members.py, metadata.py
and seeding.py, on the shared data and helpers of telecrm/sandbox/core.py; this module puts them
together and loads workspace files, which only a whole `State` can check completely.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .actions import CURRENCIES, PAYMENT_STATUSES
from .errors import (
    INVALID_FILTER,
    NOT_RETRIEVABLE,
    NOT_UPDATABLE,
    NOT_WRITABLE,
    PAYMENT_LOCKED,
    ApiError,
    bad_request,
    invalid_filter,
)
from .members import AVAILABILITY_STATES, ROLE_TEMPLATES, MemberOps
from .metadata import MetadataOps
from .seeding import Seeding
from .values import now_ms
from .workspace import Workspace, WorkspaceError, compile_workspace

# names other modules and tests import from here
__all__ = [
    "AVAILABILITY_STATES",
    "CURRENCIES",
    "INVALID_FILTER",
    "NOT_RETRIEVABLE",
    "NOT_UPDATABLE",
    "NOT_WRITABLE",
    "PAYMENT_LOCKED",
    "PAYMENT_STATUSES",
    "ROLE_TEMPLATES",
    "ApiError",
    "State",
    "bad_request",
    "invalid_filter",
    "load_workspace",
]


class State(Seeding, MemberOps, MetadataOps):
    """Leads, actions, team members and schema of one workspace."""

    def __init__(
        self, ws: Workspace, *, default_country_code: str, clock: Callable[[], int] = now_ms
    ) -> None:
        super().__init__(ws, default_country_code=default_country_code, clock=clock)
        for i, seed in enumerate(ws.leads):
            self._seed_lead(i, seed)


def load_workspace(path: str | Path) -> dict[str, Any]:
    """Read and fully validate a workspace JSON file; raises `WorkspaceError` naming the problem.

    Here rather than in telecrm/sandbox/workspace.py because the full check is building a `State`
    (seeded leads are checked like API input), and the state is built on the workspace module.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot read workspace file: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkspaceError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    try:
        State(compile_workspace(data), default_country_code="91")
    except WorkspaceError as exc:
        raise WorkspaceError(f"{path}: {exc}") from exc
    return data
