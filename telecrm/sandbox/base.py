"""What every part of the sandbox app shares, and the Python API for looking inside it.

`SandboxBase` holds the workspace state behind one lock, the faults, the request log and the Async
queue; the route groups (telecrm/sandbox/lead_routes.py, member_routes.py, metadata_routes.py,
admin_routes.py) are built on it and `Sandbox` (telecrm/sandbox/app.py) puts them together behind
the routing and auth. The methods here are what tests and the CLI call directly: thread-safe, and
returning copies.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from typing import Any, NamedTuple

from .async_queue import AsyncQueue
from .documented import strict_docs_from_env
from .errors import bad_request
from .faults import Faults, async_limit_from_env
from .state import State
from .values import DroppedValue, InvalidValue
from .workspace import (
    DEMO_ASYNC_TOKEN,
    DEMO_ENTERPRISE_ID,
    DEMO_SYNC_TOKEN,
    compile_workspace,
    demo_workspace,
)


class LoggedRequest(NamedTuple):
    """One served API request; `status` is 0 when the connection was aborted."""

    method: str
    path: str
    status: int


class SandboxBase:
    """The shared parts of the sandbox and its inspection helpers (see telecrm/sandbox/app.py)."""

    def __init__(
        self,
        workspace: dict[str, Any] | None = None,
        *,
        enterprise_id: str = DEMO_ENTERPRISE_ID,
        sync_token: str = DEMO_SYNC_TOKEN,
        async_token: str = DEMO_ASYNC_TOKEN,
        default_country_code: str = "91",
        strict_docs: bool | None = None,
        async_rate_limit: int | None = None,
        async_rate_window_seconds: float | None = None,
    ) -> None:
        self.enterprise_id = enterprise_id
        # answers with only the documented keys (telecrm/sandbox/documented.py); None: $SANDBOX_STRICT_DOCS
        self.strict_docs = strict_docs_from_env() if strict_docs is None else bool(strict_docs)
        self.sync_token = sync_token
        self.async_token = async_token
        self.default_country_code = str(default_country_code)
        self._workspace_src = copy.deepcopy(workspace) if workspace is not None else demo_workspace()
        self._lock = threading.RLock()
        self._state = self._build_state()
        # the Async limit: the arguments, else $SANDBOX_ASYNC_LIMIT / $SANDBOX_ASYNC_WINDOW_SECONDS,
        # else the documented 18,000 an hour; `faults.clear()` and `reset()` go back to it
        env_limit, env_window = async_limit_from_env()
        self.faults = Faults(
            async_limit=env_limit if async_rate_limit is None else async_rate_limit,
            async_window_seconds=env_window
            if async_rate_window_seconds is None
            else async_rate_window_seconds,
        )
        self._async_counts: Counter[str] = Counter()
        self.request_log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._async = AsyncQueue(self._apply_async, lambda: self.faults.async_delay)

    def _build_state(self) -> State:
        return State(compile_workspace(self._workspace_src), default_country_code=self.default_country_code)

    def _apply_async(self, body: Any) -> str:
        with self._lock:
            outcome = self._state.apply_async(body)
        self._count_async("applied", outcome.split(":")[0])
        return outcome

    def _count_async(self, *names: str) -> None:
        with self._log_lock:
            self._async_counts.update(names)

    def async_counts(self) -> dict[str, int]:
        """What the Async route did since start (or `reset()`): ``accepted`` (answered QUEUED),
        ``rate_limited`` (refused with 429 by the limiter; injected faults are not counted),
        ``applied`` and of those ``created`` / ``updated`` / ``dropped``, and ``pending`` (queued)."""
        with self._log_lock:
            counts = {k: self._async_counts[k] for k in ("accepted", "rate_limited", "applied")}
            counts.update({k: self._async_counts[k] for k in ("created", "updated", "dropped")})
        counts["pending"] = self._async.pending()
        return counts

    # -- inspection helpers (thread-safe, copies) ----------------------------------------------

    def leads(self) -> list[dict[str, Any]]:
        """Every lead, oldest first: {"id", "fields", "created_on", "modified_on"}."""
        with self._lock:
            ordered = sorted(self._state.leads.values(), key=lambda lead: lead["seq"])
            return [self._state.inspect_lead(lead) for lead in ordered]

    def lead(self, lead_id: str) -> dict[str, Any] | None:
        with self._lock:
            lead = self._state.leads.get(lead_id)
            return self._state.inspect_lead(lead) if lead else None

    def find_lead(self, identifier_value: Any) -> dict[str, Any] | None:
        """The lead whose identifier matches `identifier_value` (matched as telecrm/sandbox/__init__.py describes), if any."""
        with self._lock:
            key = self._state._identifier_key(identifier_value, checked=False)
            lead_id = self._state._by_identifier.get(key or "")
            return self._state.inspect_lead(self._state.leads[lead_id]) if lead_id else None

    def actions(self, lead_id: str) -> list[dict[str, Any]]:
        """Stored actions of a lead, oldest first, in the timeline-row shape."""
        with self._lock:
            return self._state.inspect_actions(lead_id)

    def add_builtin_action(
        self,
        lead_id: str,
        type: str,  # noqa: A002 - the documented name of the property
        *,
        created_on_ms: int | None = None,
        performed_by: str | None = None,
        **extra: Any,
    ) -> str:
        """Seed a timeline entry the API cannot write (calls, messages…); extra keys are stored as-is."""
        with self._lock:
            return self._state.add_builtin_action(
                lead_id, type, created_on_ms=created_on_ms, performed_by=performed_by, extra=extra
            )

    def change_lead(self, lead_id: str, fields: dict[str, Any], *, by: str | None = None) -> dict[str, Any]:
        """Change a lead as someone in the TeleCRM web app would (not through the API): each value is
        checked like an API value, ``modified_on`` moves to now, and a new assignee is recorded on
        the timeline as a ``LEAD_ASSIGNMENT`` action performed by ``by`` (a team member's email), as
        TeleCRM records assignments (the demo workspace's seeded timelines show the same). The API
        write counter does not move. Raises `ApiError` (404 unknown lead, 400 bad value)."""
        with self._lock:
            state = self._state
            lead = state._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
            performer = None
            if by is not None:
                member = state.members.get(str(by).strip().lower())
                if member is None:
                    raise bad_request(f"{by!r} is not a team member of this workspace")
                performer = member["email"]
            clean: dict[str, Any] = {}
            for api, value in fields.items():
                fdef = state.fields.get(api)
                if fdef is None or api == state.identifier:
                    raise bad_request(f"Field {api!r} cannot be changed here")
                try:
                    clean[api] = state._check_field(fdef, value)
                except InvalidValue as exc:
                    raise bad_request(f"Invalid value for field '{api}': {exc.remark}") from exc
                except DroppedValue:
                    continue
            assignee_fields = [a for a in clean if state.fields[a].type == "ACTIVE_USERS"]
            for api, value in clean.items():
                state._commit_options(state.fields[api], value)
                old = lead["fields"].get(api)
                lead["fields"][api] = value
                if api in assignee_fields and old != value:
                    state._add_action(lead, "LEAD_ASSIGNMENT", {"assigned_to": value}, performed_by=performer)
            lead["modified_on"] = max(state.clock(), lead["modified_on"] + 1)
            return state.inspect_lead(lead)

    def delete_lead(self, lead_id: str) -> bool:
        """Delete a lead and its timeline, as the TeleCRM web app can (the API cannot); False if unknown."""
        with self._lock:
            state = self._state
            lead = state.leads.pop(lead_id, None)
            if lead is None:
                return False
            for action_id in lead["action_ids"]:
                state.actions.pop(action_id, None)
            key = state._identifier_key(lead["fields"].get(state.identifier))
            if key and state._by_identifier.get(key) == lead_id:
                del state._by_identifier[key]
            return True

    def write_count(self) -> int:
        with self._lock:
            return self._state.write_count

    def team_members(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._state.render_member(m) for m in self._state.members.values()]

    def reset(self) -> None:
        """Back to the initial workspace: state, request log, faults and the Async queue."""
        self._async.discard_queued()
        self.drain_async()
        with self._lock:
            self._state = self._build_state()
        with self._log_lock:
            self.request_log.clear()
            self._async_counts.clear()
        self.faults.clear()

    # -- the Async queue ------------------------------------------------------------------------

    def drain_async(self, timeout: float = 10.0) -> bool:
        """Wait until every queued Async request has been applied; False on timeout."""
        return self._async.drain(timeout)

    def close(self) -> None:
        """Stop the Async worker (queued requests are discarded)."""
        self._async.close()
