"""Default workspace contents and Slack-looking identifiers.

The defaults give a newcomer a believable sales team to try the bot with, and give tests users with
time zones, admin flags and a `@sales-managers` user group (payment permissions are granted by group).
"""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

BOT_USER_ID = "U0TELECRMBOT"
BOT_ID = "B0TELECRMBOT"
APP_ID = "A0TELECRMAPP"
TEAM_DOMAIN = "telecrm-demo"
TEAM_NAME = "TeleCRM Demo"

_ALPHABET = string.ascii_uppercase + string.digits


def random_id(prefix: str, length: int = 10) -> str:
    """An id shaped like Slack's (`V0ABC123XYZ`): prefix letter plus upper-case alphanumerics."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def random_block_id() -> str:
    """Slack fills in a short random block_id / action_id for blocks and elements sent without one."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))


def _user(
    uid: str, name: str, real_name: str, email: str, tz: str, tz_label: str, tz_offset: int, *, admin: bool
) -> dict[str, Any]:
    first, _, last = real_name.partition(" ")
    return {
        "id": uid,
        "team_id": "",
        "name": name,
        "deleted": False,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": {
            "title": "",
            "phone": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "first_name": first,
            "last_name": last,
            "email": email,
            "status_text": "",
            "status_emoji": "",
            "team": "",
        },
        "is_admin": admin,
        "is_owner": admin,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": 1700000000,
        "is_email_confirmed": True,
    }


IST = ("Asia/Kolkata", "India Standard Time", 19800)

DEFAULT_USERS: list[dict[str, Any]] = [
    _user("U0PRIYA", "priya", "Priya Sharma", "priya@telecrm-demo.example", *IST, admin=True),
    _user("U0RAHUL", "rahul", "Rahul Verma", "rahul@telecrm-demo.example", *IST, admin=False),
    _user("U0ANITA", "anita", "Anita Desai", "anita@telecrm-demo.example", *IST, admin=False),
    _user(
        "U0OMAR",
        "omar",
        "Omar Haddad",
        "omar@telecrm-demo.example",
        "Asia/Dubai",
        "Gulf Standard Time",
        14400,
        admin=False,
    ),
    _user(
        "U0SARAH",
        "sarah",
        "Sarah Jones",
        "sarah@telecrm-demo.example",
        "Europe/London",
        "Greenwich Mean Time",
        0,
        admin=False,
    ),
]

DEFAULT_CHANNELS: list[dict[str, Any]] = [
    {"id": "C0SALES", "name": "sales-leads", "is_private": False, "is_member": True},
    {"id": "C0PAYMENTS", "name": "payments", "is_private": False, "is_member": True},
    {"id": "C0RANDOM", "name": "random", "is_private": False, "is_member": False},
]

DEFAULT_USERGROUPS: list[dict[str, Any]] = [
    {
        "id": "S0SALESMGR",
        "handle": "sales-managers",
        "name": "Sales Managers",
        "users": ["U0PRIYA", "U0OMAR"],
    },
]


def bot_user(team_id: str) -> dict[str, Any]:
    """The app's bot user as users.info / users.list show it."""
    return {
        "id": BOT_USER_ID,
        "team_id": team_id,
        "name": "telecrm",
        "deleted": False,
        "real_name": "TeleCRM",
        "tz": "America/Los_Angeles",
        "tz_label": "Pacific Standard Time",
        "tz_offset": -28800,
        "profile": {
            "real_name": "TeleCRM",
            "display_name": "",
            "bot_id": BOT_ID,
            "api_app_id": APP_ID,
            "always_active": True,
            "team": team_id,
        },
        "is_admin": False,
        "is_owner": False,
        "is_bot": True,
        "is_app_user": False,
        "updated": 1700000000,
    }


def complete_user(user: dict[str, Any], team_id: str) -> dict[str, Any]:
    """Fill a caller-supplied user with the fields the Web API always returns."""
    uid = user["id"]
    name = user.get("name", uid.lower())
    real_name = user.get("real_name", name)
    profile = user.get("profile", {})
    base = _user(
        uid,
        name,
        real_name,
        profile.get("email", f"{name}@telecrm-demo.example"),
        user.get("tz", IST[0]),
        user.get("tz_label", IST[1]),
        user.get("tz_offset", IST[2]),
        admin=bool(user.get("is_admin", False)),
    )
    merged = {**base, **copy.deepcopy(user)}
    merged["profile"] = {**base["profile"], **profile}
    merged["team_id"] = team_id
    merged["profile"]["team"] = team_id
    return merged


def complete_channel(channel: dict[str, Any], created: int) -> dict[str, Any]:
    """Fill a caller-supplied channel with the conversation fields conversations.info returns."""
    private = bool(channel.get("is_private", False))
    base = {
        "id": channel["id"],
        "name": channel.get("name", channel["id"].lower()),
        "is_channel": not private,
        "is_group": private,
        "is_im": False,
        "is_mpim": False,
        "is_private": private,
        "created": created,
        "is_archived": False,
        "is_general": False,
        "unlinked": 0,
        "name_normalized": channel.get("name", channel["id"].lower()),
        "is_shared": False,
        "is_org_shared": False,
        "is_member": True,
        "creator": DEFAULT_USERS[0]["id"],
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "previous_names": [],
    }
    base.update(copy.deepcopy(channel))
    return base
