"""What the /lead listeners stand on: who acted where, the cached schema, and sealed forms.

Listeners acknowledge first and never wait for TeleCRM (see :mod:`commands.lead.command`); the
helpers here only read Bolt's context, the schema cache and the view seal (:mod:`kit.view_context`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, BoltContext

from kit.services import Services
from kit.view_context import ViewContext, refused_view
from telecrm.schema import WorkspaceSchema


def user_of(context: BoltContext) -> str:
    """Who acted; ``""`` rather than ``None`` so it can key drafts and seals."""
    return context.user_id or ""


def channel_of(context: BoltContext, body: Mapping[str, Any]) -> str | None:
    """Where the gesture happened; a message's ``container`` names it when Bolt found no channel."""
    container = body.get("container") or {}
    return context.channel_id or container.get("channel_id")


def schema_or_refresh(services: Services) -> WorkspaceSchema | None:
    """The cached schema without waiting for TeleCRM; when none is cached, start fetching it."""
    schema = services.cache.cached()
    if schema is None:
        services.worker.background(services.cache.get)
    return schema


def member_email(services: Services, user: str) -> str | None:
    """The person's TeleCRM account email when they are an active team member (the default assignee)."""
    member, _ = services.member_for(user)
    return member.email if member is not None and member.is_active else None


def seal(services: Services, view: dict[str, Any], user: str) -> dict[str, Any]:
    """The view with its context signed for ``user``, so a forged submission is refused."""
    return services.view_seal.seal(view, user=user)


def open_sealed(services: Services, ack: Ack, view: Mapping[str, Any], user: str) -> ViewContext | None:
    """The submitted form's context; a form the bot did not open for this person is refused."""
    context = services.view_seal.open(view, user=user)
    if context is None:
        ack(response_action="update", view=refused_view())
    return context
