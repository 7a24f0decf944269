"""Workspaces and helpers for the /lead tests."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kit.worker import Backoff
from telecrm.sandbox.state import State
from telecrm.sandbox.workspace import compile_workspace, demo_workspace
from telecrm.schema import (
    WorkspaceSchema,
    identifier_from,
    parse_custom_actions,
    parse_custom_fields,
    parse_pipeline,
    parse_team_member,
)
from tests.conftest import ADMIN, CHANNEL, USER, Bot, start_bot

RAHUL_EMAIL = "rahul@telecrm-demo.example"  # U0RAHUL's Slack email


def with_rahul(workspace: dict[str, Any]) -> dict[str, Any]:
    """The workspace plus a TeleCRM team member whose email is U0RAHUL's Slack email."""
    ws = copy.deepcopy(workspace)
    ws.setdefault("team_members", []).append(
        {
            "name": "Rahul V",
            "email": RAHUL_EMAIL,
            "phone_number": "919800000001",
            "role": "CALLER",
            "status": "Active",
        }
    )
    if ws.get("seats") is not None:
        ws["seats"] = int(ws["seats"]) + 1
    return ws


def wide_workspace(total: int = 150) -> dict[str, Any]:
    """The demo workspace grown to ``total`` fields of mixed types (the last one is ``last_field``)."""
    ws = with_rahul(demo_workspace())
    kinds = ["TEXT", "NUMBER", "DATE", "MONEY", "DROPDOWN", "TAGS", "EMAIL", "WEBSITE"]
    for n in range(total - len(ws["fields"]) - 1):
        kind = kinds[n % len(kinds)]
        field: dict[str, Any] = {"apiName": f"extra_{n:03d}", "type": kind, "name": f"Extra {n:03d}"}
        if kind in ("DROPDOWN", "TAGS"):
            field["options"] = [f"Option {n}-{i}" for i in range(4)]
        ws["fields"].append(field)
    ws["fields"].append({"apiName": "last_field", "type": "TEXT", "name": "Last field"})
    return ws


def schema_of(workspace: dict[str, Any]) -> WorkspaceSchema:
    """The schema the bot would cache for a sandbox workspace (built in-process, no HTTP)."""
    state = State(compile_workspace(copy.deepcopy(workspace)), default_country_code="91")
    raw_fields = state.custom_fields(detail=True)["customFields"]
    fields = parse_custom_fields({"customFields": raw_fields})
    statuses, reasons = parse_pipeline(state.lead_stage_pipeline())
    members = state.list_members(skip=0, limit=1000, include_deleted=False)["data"]
    return WorkspaceSchema(
        fields=fields,
        identifier_api_name=identifier_from(state.metadata("e"), fields, raw_fields),
        statuses=statuses,
        lost_reasons=reasons,
        custom_actions=parse_custom_actions(state.custom_actions(detail=True)),
        team_members=tuple(parse_team_member(m) for m in members),
        enterprise_name="Demo",
    )


@pytest.fixture
def demo_schema() -> WorkspaceSchema:
    return schema_of(with_rahul(demo_workspace()))


@dataclass
class SharedBot(Bot):
    """One running bot shared by a module's tests; each test sees only what happened since it began.

    Starting the app, the emulator and the sandbox costs about a second, so tests that cannot disturb
    each other (their own phone numbers, no change to the workspace) share one.
    """

    marks: dict[Any, int] = field(default_factory=dict)

    def begin(self) -> None:
        self.settle()
        left = {"pending", "running"} & set(self.services.worker.outbox.counts())
        assert not left, "the previous test left TeleCRM writes unfinished; it must settle them"
        for user in (USER, ADMIN):
            while self.emulator.open_views(user):
                self.emulator.close_view(user=user, clear=True)
        self.sandbox.faults.clear()
        self.services.worker.backoff = Backoff()
        self.marks = {("m", c["id"]): len(Bot.messages(self, c["id"])) for c in self.emulator.channels()}
        self.marks.update({("e", u): len(Bot.ephemerals(self, u)) for u in (USER, ADMIN)})
        self.marks["r"] = len(self.sandbox.request_log)

    def messages(self, channel: str = CHANNEL) -> list[dict[str, Any]]:
        return super().messages(channel)[self.marks.get(("m", channel), 0) :]

    def ephemerals(self, user: str = USER) -> list[dict[str, Any]]:
        return super().ephemerals(user)[self.marks.get(("e", user), 0) :]

    def requests(self) -> list[Any]:
        return list(self.sandbox.request_log)[self.marks.get("r", 0) :]


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedBot]:
    started = start_bot(tmp_path_factory.mktemp("lead"), workspace=with_rahul(demo_workspace()))
    bot = SharedBot(started.runtime)
    yield bot
    bot.runtime.stop()


@pytest.fixture
def lead_bot(shared_bot: SharedBot) -> SharedBot:
    """The demo workspace, where U0RAHUL is a TeleCRM team member (shared within a module)."""
    shared_bot.begin()
    return shared_bot


@pytest.fixture
def own_bot(make_bot: Callable[..., Bot]) -> Bot:
    """A bot of its own, for tests that change what others would see."""
    return make_bot(workspace=with_rahul(demo_workspace()))


def cards(bot: Bot, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """Lead cards posted in the channel (messages whose buttons include Edit)."""
    return [m for m in bot.messages(channel) if "lead_card_edit" in str(m.get("blocks"))]


def text_of(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: its text and the text of every block."""
    parts = [message.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(parts)


def last_ephemeral(bot: Bot, user: str = USER) -> str:
    bot.settle()  # a typed line is answered by its job, right after the acknowledgement
    messages = bot.ephemerals(user)
    assert messages, "the user got no reply"
    return text_of(messages[-1])


def api_writes(bot: Bot) -> list[Any]:
    """TeleCRM requests that can change data (everything but reads and searches)."""
    log = bot.requests() if isinstance(bot, SharedBot) else bot.sandbox.request_log
    return [r for r in log if r.method == "POST" and not r.path.endswith("/search")]
