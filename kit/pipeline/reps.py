"""Who a report is about: a Slack user (``<@U…>``, or the person asking) or a TeleCRM name typed as
``@name``, as a :class:`~kit.pipeline.numbers.Rep` (their TeleCRM email and linked Slack users)."""

from __future__ import annotations

from kit.pipeline.numbers import Rep
from kit.services import Services
from storage.pipeline import slack_users_of
from telecrm.schema import TeamMember, WorkspaceSchema


def rep_of_member(services: Services, member: TeamMember, also: tuple[str, ...] = ()) -> Rep:
    linked = slack_users_of(services.store, member.email)
    return Rep(member.name or member.email, member.email, tuple(dict.fromkeys((*also, *linked))))


def rep_for_slack_user(services: Services, user_id: str) -> Rep | None:
    """The TeleCRM team member whose email is this Slack user's (see ``Services.member_for``)."""
    member, _email = services.member_for(user_id)
    return rep_of_member(services, member, (user_id,)) if member is not None else None


def member_by_name(schema: WorkspaceSchema, typed: str) -> TeamMember | None:
    """``@priya``, ``@priya.sharma``, ``@Priya Sharma``: the one member it names, else None."""
    wanted = typed.strip().lower().replace("_", " ")
    members = [m for m in schema.team_members if m.status.lower() != "deleted"]
    for test in (
        lambda m: m.email.lower() == wanted,
        lambda m: m.email.lower().split("@")[0] == wanted,
        lambda m: m.name.lower() == wanted,
        lambda m: m.name.lower().replace(" ", ".") == wanted,
        lambda m: m.name.lower().split(" ")[0] == wanted,
    ):
        found = [m for m in members if m.email and test(m)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return None
    return None
